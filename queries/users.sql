-- name: CreateUser :one
-- The first account ever created becomes an admin; the count runs inside the
-- same statement so two simultaneous sign-ups cannot both miss it.
INSERT INTO users (email, name, password_hash, clerk_user_id, role)
VALUES (
    @email, @name, sqlc.narg(password_hash), sqlc.narg(clerk_user_id),
    CASE WHEN @force_admin::bool OR NOT EXISTS (SELECT 1 FROM users) THEN 'admin' ELSE 'user' END
)
RETURNING *;

-- name: GetUserByID :one
SELECT * FROM users WHERE id = @id;

-- name: GetUserByEmail :one
SELECT * FROM users WHERE lower(email) = lower(@email);

-- name: GetUserByClerkID :one
SELECT * FROM users WHERE clerk_user_id = @clerk_user_id;

-- name: LockUser :one
SELECT * FROM users WHERE id = @id FOR UPDATE;

-- name: UpdateUserProfile :one
UPDATE users SET name = @name, updated_at = now() WHERE id = @id RETURNING *;

-- name: UpdateUserFromClerk :one
UPDATE users SET email = @email, name = @name, updated_at = now() WHERE id = @id RETURNING *;

-- name: LinkClerkUser :one
UPDATE users SET clerk_user_id = @clerk_user_id, updated_at = now() WHERE id = @id RETURNING *;

-- name: UpdateUserPassword :exec
UPDATE users SET password_hash = @password_hash, updated_at = now() WHERE id = @id;

-- name: SetUserRole :one
UPDATE users SET role = @role, updated_at = now() WHERE id = @id RETURNING *;

-- name: SetUserDisabled :one
UPDATE users
SET disabled_at = CASE WHEN @disabled::bool THEN coalesce(disabled_at, now()) ELSE NULL END,
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: LockActiveAdmins :many
-- Locks every active admin row so "is this the last admin?" cannot race with
-- another demotion.
SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id FOR UPDATE;

-- name: SearchUsers :many
-- Keyset page of users, newest first, optionally filtered by a substring of
-- email or name.
SELECT * FROM users
WHERE (@query::text = '' OR email ILIKE '%' || @query || '%' OR name ILIKE '%' || @query || '%')
  AND (sqlc.narg(after_created)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(after_created)::timestamptz, sqlc.narg(after_id)::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: CountUsers :one
SELECT count(*) FROM users
WHERE (@query::text = '' OR email ILIKE '%' || @query || '%' OR name ILIKE '%' || @query || '%');

-- name: RecordLoginFailure :exec
INSERT INTO login_failures (email, ip) VALUES (lower(@email), @ip);

-- name: CountRecentLoginFailures :one
-- Failures for this email or from this address since @since.
SELECT
    count(*) FILTER (WHERE email = lower(@email))::int AS by_email,
    count(*) FILTER (WHERE ip = @ip)::int AS by_ip,
    coalesce(min(failed_at) FILTER (WHERE email = lower(@email)), now())::timestamptz AS oldest_by_email
FROM login_failures
WHERE failed_at > @since AND (email = lower(@email) OR ip = @ip);

-- name: ClearLoginFailures :exec
DELETE FROM login_failures WHERE email = lower(@email);

-- name: PurgeLoginFailures :execrows
DELETE FROM login_failures WHERE failed_at < @before;
