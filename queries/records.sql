-- name: CreateRecord :one
-- A record created here: no original; its set non-scratch fields are edited.
INSERT INTO records (workbook_id, table_id, fields, state, edited_fields)
VALUES (@workbook_id, @table_id, @fields, 'created', @edited_fields::text[])
RETURNING *;

-- name: GetRecord :one
SELECT * FROM records WHERE workbook_id = @workbook_id AND table_id = @table_id AND id = @id;

-- name: LockRecord :one
SELECT * FROM records
WHERE workbook_id = @workbook_id AND table_id = @table_id AND id = @id
FOR UPDATE;

-- name: UpdateRecordFields :one
-- Applies an edit: the new fields, edited fields re-derived over the old
-- edited fields plus the changed (non-scratch) keys, the state derived from
-- them, and the version bumped. The values the changed keys had are recorded
-- in the original first (sp_touch_original, a sparse original): the
-- right-hand sides all read the row as it was.
UPDATE records SET
    original = sp_touch_original(state, fields, original, @changed::text[]),
    fields = @fields,
    edited_fields = sp_edited_fields(state, @fields, sp_touch_original(state, fields, original, @changed::text[]),
        edited_fields || @changed::text[]),
    state = sp_record_state(state, sp_edited_fields(state, @fields, sp_touch_original(state, fields, original, @changed::text[]),
        edited_fields || @changed::text[])),
    version = version + 1,
    updated_at = now()
WHERE workbook_id = @workbook_id AND table_id = @table_id AND id = @id
RETURNING *;

-- name: MarkRecordDeleted :one
UPDATE records SET state = 'deleted', version = version + 1, updated_at = now()
WHERE workbook_id = @workbook_id AND table_id = @table_id AND id = @id
RETURNING *;

-- name: RestoreRecord :one
UPDATE records SET
    state = sp_record_state('clean', edited_fields),
    version = version + 1,
    updated_at = now()
WHERE workbook_id = @workbook_id AND table_id = @table_id AND id = @id
RETURNING *;

-- name: RemoveRecord :exec
DELETE FROM records WHERE workbook_id = @workbook_id AND table_id = @table_id AND id = @id;

-- name: RemoveFieldFromRecords :execrows
-- Drops a (scratch) column's value from every record of a table at once,
-- with any value as pulled recorded for it. Versions stay: no one's pending
-- edit of another field becomes stale.
UPDATE records SET
    fields = fields - @field::text,
    original = original - @field::text,
    edited_fields = array_remove(edited_fields, @field::text)
WHERE workbook_id = @workbook_id AND table_id = @table_id
  AND (fields ? @field::text OR original ? @field::text);

-- name: CountTableRecordsUpTo :one
-- Counts a table's records, stopping at max_count: cheap however big it is.
SELECT count(*) FROM (
    SELECT 1 FROM records WHERE workbook_id = @workbook_id AND table_id = @table_id LIMIT @max_count
) r;

-- name: InsertRecordChanges :exec
-- One audit entry per element of changes, a JSON array of {"field",
-- "before", "after"}; an entry without a field is about the whole record.
INSERT INTO record_changes (workbook_id, table_id, record_id, actor_id, action, field, before, after)
SELECT @workbook_id, @table_id, @record_id, sqlc.narg(actor_id)::uuid, @action::text,
       nullif(c ->> 'field', ''), nullif(c -> 'before', 'null'), nullif(c -> 'after', 'null')
FROM jsonb_array_elements(@changes::jsonb) AS c;

-- name: LastRecordChange :one
-- Who last changed a record and when, to explain a stale edit.
SELECT c.created_at, c.action, coalesce(nullif(u.name, ''), u.email, '')::text AS actor_name
FROM record_changes c
LEFT JOIN users u ON u.id = c.actor_id
WHERE c.workbook_id = @workbook_id AND c.table_id = @table_id AND c.record_id = @record_id
ORDER BY c.id DESC
LIMIT 1;

-- name: CountRecordsWithIDs :one
SELECT count(*) FROM records
WHERE workbook_id = @workbook_id AND table_id = @table_id AND id = ANY(@record_ids::uuid[]);

-- name: ListRecordsByIDs :many
-- Some records of a table by id, in no particular order; ids that name no
-- record of the table are left out.
SELECT * FROM records
WHERE workbook_id = @workbook_id AND table_id = @table_id AND id = ANY(@record_ids::uuid[]);

-- name: LockTableForRecords :one
-- A writer adding records holds its table's row while it does, so the table
-- cannot be deleted under it (records have no foreign key to their table:
-- migration 00012). No row: the table is gone.
SELECT true FROM workbook_tables
WHERE workbook_id = @workbook_id AND id = @id
FOR KEY SHARE;

-- name: TableSize :one
-- A table's exact number of records, kept by the triggers of migration
-- 00021 on every insert and delete.
SELECT coalesce((SELECT records FROM table_sizes WHERE workbook_id = @workbook_id AND table_id = @table_id), 0)::bigint;
