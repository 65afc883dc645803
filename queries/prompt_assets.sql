-- name: CreatePromptAsset :one
INSERT INTO prompt_assets (owner_id, name, body, auto_include, source_url)
VALUES (@owner_id, @name, @body, @auto_include, sqlc.narg(source_url))
RETURNING *;

-- name: GetPromptAsset :one
-- Scoped to the owner: another user's asset is not found.
SELECT * FROM prompt_assets WHERE id = @id AND owner_id = @owner_id;

-- name: ListPromptAssets :many
SELECT * FROM prompt_assets WHERE owner_id = @owner_id
ORDER BY lower(name), id
LIMIT @max_count;

-- name: CountPromptAssets :one
SELECT count(*) FROM prompt_assets WHERE owner_id = @owner_id;

-- name: UpdatePromptAsset :one
UPDATE prompt_assets
SET name = @name, body = @body, auto_include = @auto_include, updated_at = now()
WHERE id = @id AND owner_id = @owner_id
RETURNING *;

-- name: DeletePromptAsset :execrows
DELETE FROM prompt_assets WHERE id = @id AND owner_id = @owner_id;

-- name: PromptAssetsForMessage :many
-- The assets picked for a message and the auto-included ones, picked
-- first, then by name.
SELECT * FROM prompt_assets
WHERE owner_id = @owner_id AND (auto_include OR id = ANY(@ids::uuid[]))
ORDER BY (id = ANY(@ids::uuid[])) DESC, lower(name), id
LIMIT 200;
