-- name: CreateWorkbook :one
INSERT INTO workbooks (owner_id, name) VALUES (@owner_id, @name) RETURNING *;

-- name: GetWorkbook :one
-- Scoped to the owner: another user's workbook is not found.
SELECT * FROM workbooks WHERE id = @id AND owner_id = @owner_id;

-- name: LockWorkbook :one
SELECT * FROM workbooks WHERE id = @id AND owner_id = @owner_id FOR UPDATE;

-- name: ListWorkbooks :many
-- sort is 'name', 'created' or 'updated' (newest first for the dates).
SELECT * FROM workbooks
WHERE owner_id = @owner_id
ORDER BY
    CASE WHEN @sort::text = 'name' THEN lower(name) END ASC,
    CASE WHEN @sort::text = 'created' THEN created_at END DESC,
    CASE WHEN @sort::text = 'updated' THEN updated_at END DESC,
    id;

-- name: RenameWorkbook :one
UPDATE workbooks SET name = @name, updated_at = now()
WHERE id = @id AND owner_id = @owner_id
RETURNING *;

-- name: TouchWorkbook :exec
UPDATE workbooks SET updated_at = now() WHERE id = @id;

-- name: DeleteWorkbook :execrows
DELETE FROM workbooks WHERE id = @id AND owner_id = @owner_id;

-- name: CreateTable :one
-- The new table goes last.
INSERT INTO workbook_tables (workbook_id, name, position, columns, source)
VALUES (
    @workbook_id, @name,
    (SELECT coalesce(max(position) + 1, 0) FROM workbook_tables WHERE workbook_id = @workbook_id),
    @columns, @source
)
RETURNING *;

-- name: ListTables :many
SELECT * FROM workbook_tables WHERE workbook_id = @workbook_id ORDER BY position, created_at, id;

-- name: GetTable :one
-- Scoped to the owner through the workbook.
SELECT t.* FROM workbook_tables t
JOIN workbooks w ON w.id = t.workbook_id
WHERE t.workbook_id = @workbook_id AND t.id = @id AND w.owner_id = @owner_id;

-- name: LockTable :one
-- Locks the table row against column changes for the rest of the transaction;
-- exclusive when the caller changes the table itself.
SELECT t.* FROM workbook_tables t
JOIN workbooks w ON w.id = t.workbook_id
WHERE t.workbook_id = @workbook_id AND t.id = @id AND w.owner_id = @owner_id
FOR UPDATE OF t;

-- name: ShareLockTable :one
-- Locks the table row in share mode: records may change concurrently, the
-- column specs may not.
SELECT t.* FROM workbook_tables t
JOIN workbooks w ON w.id = t.workbook_id
WHERE t.workbook_id = @workbook_id AND t.id = @id AND w.owner_id = @owner_id
FOR SHARE OF t;

-- name: RenameTable :one
UPDATE workbook_tables SET name = @name, updated_at = now()
WHERE workbook_id = @workbook_id AND id = @id
RETURNING *;

-- name: SetTableHidden :one
UPDATE workbook_tables SET hidden = @hidden, updated_at = now()
WHERE workbook_id = @workbook_id AND id = @id
RETURNING *;

-- name: SetTableColumns :one
UPDATE workbook_tables
SET columns = @columns, hidden_columns = @hidden_columns::text[], updated_at = now()
WHERE workbook_id = @workbook_id AND id = @id
RETURNING *;

-- name: SetTablePositions :exec
-- Numbers the workbook's tables in the order of table_ids.
UPDATE workbook_tables t SET position = o.pos - 1, updated_at = now()
FROM unnest(@table_ids::uuid[]) WITH ORDINALITY AS o(id, pos)
WHERE t.workbook_id = @workbook_id AND t.id = o.id AND t.position <> o.pos - 1;

-- name: DeleteTable :execrows
DELETE FROM workbook_tables WHERE workbook_id = @workbook_id AND id = @id;

-- name: SetTableLayout :exec
-- The grid's layout of a table; presentation only, so it neither touches
-- the workbook nor tells other tabs the table changed.
UPDATE workbook_tables SET layout = @layout
WHERE workbook_id = @workbook_id AND id = @id;
