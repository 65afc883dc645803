-- name: NewDataSourceID :one
SELECT gen_random_uuid()::text;

-- name: CreateDataSource :one
INSERT INTO data_sources (id, owner_id, service, name, credentials)
VALUES (@id, @owner_id, @service, @name, @credentials)
RETURNING *;

-- name: GetDataSource :one
-- Scoped to the owner: another user's data source is not found.
SELECT * FROM data_sources WHERE id = @id AND owner_id = @owner_id;

-- name: ListDataSources :many
SELECT * FROM data_sources WHERE owner_id = @owner_id
ORDER BY lower(name), id
LIMIT @max_count;

-- name: RenameDataSource :one
UPDATE data_sources SET name = @name, updated_at = now()
WHERE id = @id AND owner_id = @owner_id
RETURNING *;

-- name: ReplaceDataSourceCredentials :one
-- New credentials have not been checked yet.
UPDATE data_sources
SET credentials = @credentials, health = 'unknown', health_error = NULL, checked_at = NULL, updated_at = now()
WHERE id = @id AND owner_id = @owner_id
RETURNING *;

-- name: SaveRefreshedCredentials :exec
-- A connector refreshed an expired token: the health stays as it is.
UPDATE data_sources SET credentials = @credentials WHERE id = @id;

-- name: SetDataSourceHealth :one
UPDATE data_sources SET health = @health, health_error = sqlc.narg(health_error), checked_at = now()
WHERE id = @id AND owner_id = @owner_id
RETURNING *;

-- name: DeleteDataSource :execrows
DELETE FROM data_sources WHERE id = @id AND owner_id = @owner_id;

-- name: DataSourceUsers :many
-- The owner's workbooks with tables pulled from the data source.
SELECT DISTINCT w.id, w.name FROM workbook_tables t
JOIN workbooks w ON w.id = t.workbook_id
WHERE t.data_source_id = @data_source_id AND w.owner_id = @owner_id
ORDER BY w.name, w.id;

-- name: DataSourcesToRotate :many
-- Batches of sealed credentials, for `scratchpad secrets rotate`.
SELECT id, credentials FROM data_sources WHERE id > @after_id ORDER BY id LIMIT 200;

-- name: ResealDataSource :exec
UPDATE data_sources SET credentials = @credentials WHERE id = @id AND credentials = @old_credentials;
