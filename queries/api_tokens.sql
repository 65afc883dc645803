-- name: CreateAPIToken :one
INSERT INTO api_tokens (user_id, name, token_hash, prefix, scopes, expires_at)
VALUES (@user_id, @name, @token_hash, @prefix, @scopes, sqlc.narg(expires_at))
RETURNING *;

-- name: ListAPITokens :many
SELECT * FROM api_tokens WHERE user_id = @user_id AND revoked_at IS NULL ORDER BY created_at DESC;

-- name: GetAPITokenForUser :one
SELECT * FROM api_tokens WHERE id = @id AND user_id = @user_id;

-- name: RevokeAPIToken :execrows
UPDATE api_tokens SET revoked_at = now() WHERE id = @id AND user_id = @user_id AND revoked_at IS NULL;

-- name: AuthenticateAPIToken :one
-- A token works only while it is unrevoked, unexpired and its user enabled.
SELECT sqlc.embed(api_tokens), sqlc.embed(users)
FROM api_tokens JOIN users ON users.id = api_tokens.user_id
WHERE api_tokens.token_hash = @token_hash
  AND api_tokens.revoked_at IS NULL
  AND (api_tokens.expires_at IS NULL OR api_tokens.expires_at > now())
  AND users.disabled_at IS NULL;

-- name: TouchAPIToken :exec
-- last_used_at is refreshed at most once a minute to keep API reads cheap.
UPDATE api_tokens SET last_used_at = now()
WHERE id = @id AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: PurgeDeadAPITokens :execrows
-- Expired or revoked tokens are kept a while for the settings page, then removed.
DELETE FROM api_tokens
WHERE (expires_at IS NOT NULL AND expires_at < @before::timestamptz) OR (revoked_at IS NOT NULL AND revoked_at < @before::timestamptz);

-- name: RevokeUserAPITokens :execrows
UPDATE api_tokens SET revoked_at = now() WHERE user_id = @user_id AND revoked_at IS NULL;

-- name: ActiveAPITokenUser :one
-- The user of a token that still works: unrevoked, unexpired, its user
-- enabled (as AuthenticateAPIToken, by id).
SELECT api_tokens.user_id FROM api_tokens JOIN users ON users.id = api_tokens.user_id
WHERE api_tokens.id = @id
  AND api_tokens.revoked_at IS NULL
  AND (api_tokens.expires_at IS NULL OR api_tokens.expires_at > now())
  AND users.disabled_at IS NULL;
