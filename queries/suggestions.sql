-- Suggestions are proposed and decided in sets: each statement handles every
-- selected suggestion of one kind at once, writes its audit entries with
-- INSERT ... SELECT, and returns the affected record ids for the live event.
--
-- The selector is the same everywhere: all of the table's suggestions, or
-- those of record_ids, or those of the cells named "record_id/field" in
-- cell_keys, or those of the columns in fields; several combine with OR.

-- name: UpsertUpdateSuggestions :many
-- items is a JSON array of {"record_id", "field", "value"}. A value equal to
-- the record's current one is not stored, and drops an older suggestion for
-- the cell; otherwise it replaces any older suggestion for the cell.
WITH items AS (
    SELECT (i ->> 'record_id')::uuid AS record_id, i ->> 'field' AS field, i -> 'value' AS value
    FROM jsonb_array_elements(@items::jsonb) AS i
), same AS (
    DELETE FROM suggestions s
    USING items i, records r
    WHERE s.workbook_id = @workbook_id AND s.table_id = @table_id AND s.action = 'update'
      AND s.record_id = i.record_id AND s.field = i.field
      AND r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = i.record_id
      AND nullif(r.fields -> i.field, 'null') IS NOT DISTINCT FROM nullif(i.value, 'null')
)
INSERT INTO suggestions (workbook_id, table_id, record_id, action, field, value, source,
                         created_by, agent_session_id, agent_message_id, agent_model)
SELECT @workbook_id, @table_id, i.record_id, 'update', i.field, i.value, @source,
       sqlc.narg(created_by)::uuid, sqlc.narg(agent_session_id)::uuid, sqlc.narg(agent_message_id)::bigint, sqlc.narg(agent_model)::text
FROM items i
JOIN records r ON r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = i.record_id
WHERE nullif(r.fields -> i.field, 'null') IS DISTINCT FROM nullif(i.value, 'null')
ON CONFLICT (workbook_id, table_id, record_id, field) WHERE action = 'update'
DO UPDATE SET value = excluded.value, source = excluded.source, created_by = excluded.created_by,
              agent_session_id = excluded.agent_session_id, agent_message_id = excluded.agent_message_id,
              agent_model = excluded.agent_model,
              created_at = now()
RETURNING record_id;

-- name: InsertCreateSuggestions :many
-- items is a JSON array of {"fields", "edited_fields"}: each becomes a draft
-- record (state created) with a pending create suggestion.
WITH items AS (
    SELECT i -> 'fields' AS fields,
           ARRAY(SELECT jsonb_array_elements_text(i -> 'edited_fields')) AS edited_fields
    FROM jsonb_array_elements(@items::jsonb) WITH ORDINALITY AS e(i, n)
    ORDER BY n
), drafts AS (
    INSERT INTO records (workbook_id, table_id, fields, state, edited_fields)
    SELECT @workbook_id, @table_id, fields, 'created', edited_fields FROM items
    RETURNING id
)
INSERT INTO suggestions (workbook_id, table_id, record_id, action, source,
                         created_by, agent_session_id, agent_message_id, agent_model)
SELECT @workbook_id, @table_id, d.id, 'create', @source,
       sqlc.narg(created_by)::uuid, sqlc.narg(agent_session_id)::uuid, sqlc.narg(agent_message_id)::bigint, sqlc.narg(agent_model)::text
FROM drafts d
RETURNING record_id;

-- name: InsertDeleteSuggestions :many
-- Proposes deleting records; records already deleted, drafts and records
-- with a pending delete are left alone.
INSERT INTO suggestions (workbook_id, table_id, record_id, action, source,
                         created_by, agent_session_id, agent_message_id, agent_model)
SELECT @workbook_id, @table_id, r.id, 'delete', @source,
       sqlc.narg(created_by)::uuid, sqlc.narg(agent_session_id)::uuid, sqlc.narg(agent_message_id)::bigint, sqlc.narg(agent_model)::text
FROM records r
WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id
  AND r.id = ANY(@record_ids::uuid[]) AND r.state <> 'deleted'
ON CONFLICT (workbook_id, table_id, record_id) WHERE action IN ('create', 'delete') DO NOTHING
RETURNING record_id;

-- name: AcceptUpdateSuggestions :many
-- Applies the selected update suggestions as edits, one UPDATE for all the
-- records they touch. scratch_ids lists the table's scratch columns, whose
-- values never make a record dirty.
WITH picked AS (
    DELETE FROM suggestions s
    WHERE s.workbook_id = @workbook_id AND s.table_id = @table_id AND s.action = 'update'
      AND (@select_all::bool
           OR s.record_id = ANY(@record_ids::uuid[])
           OR s.field = ANY(@fields::text[])
           OR s.record_id::text || '/' || s.field = ANY(@cell_keys::text[]))
    RETURNING s.record_id, s.field, s.value
), located AS (
    -- Each picked suggestion with its record's position in the table and the
    -- value it replaces, read once for the audit trail and for the order of
    -- the UPDATE. Statements in one WITH see the same snapshot, so r.fields
    -- is the value before.
    SELECT p.record_id, p.field, p.value, r.seq, r.fields -> p.field AS before
    FROM picked p
    JOIN records r ON r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = p.record_id
), per_record AS (
    -- In the table's order (seq), which is close to the order of the rows on
    -- disk: the UPDATE then reads and rewrites pages one after another
    -- instead of jumping around the table in record id order, which on a
    -- table bigger than the buffer cache costs a page read, and after each
    -- checkpoint a full-page image in the WAL, for nearly every record.
    -- befores are the values the changed (non-scratch) fields had, for the
    -- record's sparse original (sp_add_original).
    SELECT l.record_id, min(l.seq) AS seq,
           coalesce(jsonb_object_agg(l.field, l.value) FILTER (WHERE l.value IS NOT NULL AND l.value <> 'null'), '{}') AS vals,
           coalesce(array_agg(l.field) FILTER (WHERE l.value IS NULL OR l.value = 'null'), '{}') AS cleared,
           coalesce(array_agg(l.field) FILTER (WHERE NOT l.field = ANY(@scratch_ids::text[])), '{}') AS changed,
           coalesce(jsonb_object_agg(l.field, coalesce(l.before, 'null')) FILTER (WHERE NOT l.field = ANY(@scratch_ids::text[])), '{}') AS befores
    FROM located l
    GROUP BY l.record_id
    ORDER BY min(l.seq)
), applied AS (
    -- Each record's new values are computed once, in a sub-select per row:
    -- the new fields (one concatenation), the original with the befores
    -- added (a value recorded before keeps its place: see sp_add_original),
    -- the edited fields derived from both, and the state derived from those.
    -- The edited fields are sp_edited_fields written out: a SQL function
    -- with a FROM is not inlined, and calling it cost about 4 µs a record.
    -- OFFSET 0 keeps the planner from inlining the inner sub-selects, which
    -- would repeat each expression wherever its column is used. The
    -- sub-select reads r, so a record changed concurrently is recomputed
    -- from its new version; its befores were read in this statement's
    -- snapshot, and only matter for fields its original has not recorded,
    -- whose current value is their value as pulled, which edits leave alone.
    UPDATE records r SET (original, fields, edited_fields, state, version, updated_at) = (
        SELECT e.original, e.fields, e.edited_fields, sp_record_state(r.state, e.edited_fields), r.version + 1, now()
        FROM (
            SELECT n.original, n.fields,
                   ARRAY(SELECT DISTINCT k FROM unnest(r.edited_fields || pr.changed) k
                         WHERE nullif(n.fields -> k, 'null') IS DISTINCT FROM sp_pulled(r.state, n.fields, n.original, k)
                         ORDER BY k) AS edited_fields
            FROM (
                SELECT sp_add_original(r.state, r.original, pr.befores) AS original, (r.fields || pr.vals) - pr.cleared AS fields
                OFFSET 0
            ) n
            OFFSET 0
        ) e
    )
    FROM per_record pr
    WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = pr.record_id
    RETURNING r.id
), audit AS (
    INSERT INTO record_changes (workbook_id, table_id, record_id, actor_id, action, field, before, after)
    SELECT @workbook_id, @table_id, l.record_id, sqlc.narg(actor_id)::uuid, 'accept', l.field, l.before, l.value
    FROM located l
)
SELECT record_id FROM picked;

-- name: AcceptCreateSuggestions :many
-- Accepting a proposed create makes the draft a normal created record.
WITH picked AS (
    DELETE FROM suggestions s
    WHERE s.workbook_id = @workbook_id AND s.table_id = @table_id AND s.action = 'create'
      AND (@select_all::bool OR s.record_id = ANY(@record_ids::uuid[]))
    RETURNING s.record_id
), applied AS (
    UPDATE records r SET version = r.version + 1, updated_at = now()
    FROM picked p
    WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = p.record_id
), audit AS (
    INSERT INTO record_changes (workbook_id, table_id, record_id, actor_id, action, after)
    SELECT @workbook_id, @table_id, p.record_id, sqlc.narg(actor_id)::uuid, 'accept_create', r.fields
    FROM picked p
    JOIN records r ON r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = p.record_id
)
SELECT record_id FROM picked;

-- name: AcceptDeleteSuggestions :many
-- Accepting a proposed delete deletes the record as a person would: a record
-- created here is removed outright, any other is marked deleted until publish.
WITH picked AS (
    DELETE FROM suggestions s
    WHERE s.workbook_id = @workbook_id AND s.table_id = @table_id AND s.action = 'delete'
      AND (@select_all::bool OR s.record_id = ANY(@record_ids::uuid[]))
    RETURNING s.record_id
), removed AS (
    DELETE FROM records r
    USING picked p
    WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = p.record_id
      AND r.state = 'created'
), marked AS (
    UPDATE records r SET state = 'deleted', version = r.version + 1, updated_at = now()
    FROM picked p
    WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = p.record_id
      AND r.state <> 'created'
), audit AS (
    INSERT INTO record_changes (workbook_id, table_id, record_id, actor_id, action, before)
    SELECT @workbook_id, @table_id, p.record_id, sqlc.narg(actor_id)::uuid, 'accept_delete', r.fields
    FROM picked p
    JOIN records r ON r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = p.record_id
)
SELECT record_id FROM picked;

-- name: RejectSuggestions :many
-- Deletes the selected suggestions of every kind; rejecting a proposed create
-- also removes its draft record. Cells and fields select update suggestions
-- only.
WITH picked AS (
    DELETE FROM suggestions s
    WHERE s.workbook_id = @workbook_id AND s.table_id = @table_id
      AND (@select_all::bool
           OR s.record_id = ANY(@record_ids::uuid[])
           OR (s.action = 'update' AND s.field = ANY(@fields::text[]))
           OR (s.action = 'update' AND s.record_id::text || '/' || s.field = ANY(@cell_keys::text[])))
    RETURNING s.record_id, s.action, s.field, s.value
), drafts AS (
    DELETE FROM records r
    USING picked p
    WHERE p.action = 'create'
      AND r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = p.record_id
), audit AS (
    INSERT INTO record_changes (workbook_id, table_id, record_id, actor_id, action, field, before, after)
    SELECT @workbook_id, @table_id, p.record_id, sqlc.narg(actor_id)::uuid, 'reject_' || p.action, p.field,
           NULL, p.value
    FROM picked p
)
SELECT record_id, action FROM picked;

-- name: ListRecordSuggestions :many
-- The pending suggestions of a page of records, in one query.
SELECT record_id, action, field, value FROM suggestions
WHERE workbook_id = @workbook_id AND table_id = @table_id AND record_id = ANY(@record_ids::uuid[])
ORDER BY id;

-- name: CountTableBadges :one
-- Both counters of a table in one round trip: the records waiting to be
-- published (drafts still proposed for creation are suggestions, not
-- changes), read from records_dirty_idx with suggestions_record_key for the
-- drafts, and the pending suggestions, an index-only scan of
-- suggestions_record_idx. Neither reads the table's clean records.
SELECT
    (SELECT count(*) FROM records r
     WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.state <> 'clean'
       AND NOT EXISTS (
           SELECT 1 FROM suggestions s
           WHERE s.workbook_id = r.workbook_id AND s.table_id = r.table_id AND s.record_id = r.id
             AND s.action = 'create'
       ))::bigint AS unpublished_changes,
    (SELECT count(*) FROM suggestions s
     WHERE s.workbook_id = @workbook_id AND s.table_id = @table_id)::bigint AS pending_suggestions;

-- name: DeleteFieldSuggestions :exec
DELETE FROM suggestions
WHERE workbook_id = @workbook_id AND table_id = @table_id AND action = 'update' AND field = @field::text;
