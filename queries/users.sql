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

-- name: RecordLoginFailure :one
-- A sign-in attempt is recorded as a failure before its password is
-- checked, so concurrent attempts see each other; the row is deleted again
-- when the attempt is refused or succeeds.
INSERT INTO login_failures (email, ip, failed_at) VALUES (@email, @ip, @failed_at)
RETURNING id;

-- name: LoginFailuresBefore :one
-- The failures recorded before attempt @attempt_id that bear on it: for this
-- email from this address since @pair_since, from this address since
-- @ip_since, and for this email from anywhere since @email_since.
SELECT
    count(*) FILTER (WHERE email = @email AND ip = @ip AND failed_at > @pair_since)::int AS pair_count,
    coalesce(max(failed_at) FILTER (WHERE email = @email AND ip = @ip AND failed_at > @pair_since), @pair_since)::timestamptz AS pair_latest,
    count(*) FILTER (WHERE ip = @ip AND failed_at > @ip_since)::int AS ip_count,
    coalesce(min(failed_at) FILTER (WHERE ip = @ip AND failed_at > @ip_since), @ip_since)::timestamptz AS ip_oldest,
    count(*) FILTER (WHERE email = @email AND failed_at > @email_since)::int AS email_count,
    coalesce(min(failed_at) FILTER (WHERE email = @email AND failed_at > @email_since), @email_since)::timestamptz AS email_oldest
FROM login_failures
WHERE id < @attempt_id
  AND (email = @email OR ip = @ip)
  AND failed_at > least(@pair_since, @ip_since, @email_since);

-- name: DeleteLoginFailure :exec
DELETE FROM login_failures WHERE id = @id;

-- name: ClearLoginFailures :exec
-- A successful sign-in forgives the failures for its email from its
-- address, and no others: an attacker's failures elsewhere keep counting.
DELETE FROM login_failures WHERE email = @email AND ip = @ip;

-- name: PurgeLoginFailures :execrows
DELETE FROM login_failures WHERE failed_at < @before;
