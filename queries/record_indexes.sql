-- name: ListTableRecordIndexes :many
-- The on-demand indexes of one table that are not being dropped.
SELECT * FROM record_indexes
WHERE workbook_id = @workbook_id AND table_id = @table_id AND status <> 'dropping';

-- name: RequestRecordIndex :execrows
-- Registers an index to build; a second request for the same one does nothing.
INSERT INTO record_indexes (workbook_id, table_id, column_id, kind, column_type, name)
VALUES (@workbook_id, @table_id, @column_id, @kind, @column_type, @name)
ON CONFLICT DO NOTHING;

-- name: GetRecordIndex :one
SELECT * FROM record_indexes WHERE name = @name;

-- name: MarkRecordIndexReady :exec
UPDATE record_indexes SET status = 'ready', error = NULL, ready_at = now()
WHERE name = @name AND status <> 'dropping';

-- name: MarkRecordIndexFailed :exec
UPDATE record_indexes SET status = 'failed', error = @error
WHERE name = @name AND status <> 'dropping';

-- name: ListDroppingRecordIndexes :many
SELECT * FROM record_indexes WHERE status = 'dropping' ORDER BY name;

-- name: CountColumnRecordIndexes :one
-- How many indexes a column still has, in any state.
SELECT count(*) FROM record_indexes
WHERE workbook_id = @workbook_id AND table_id = @table_id AND column_id = @column_id;

-- name: DeleteRecordIndex :exec
DELETE FROM record_indexes WHERE name = @name AND status = 'dropping';
