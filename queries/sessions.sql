-- Browser sessions: internal/sessionstore reads and writes them for scs;
-- internal/accounts lists and ends a user's sessions.

-- name: FindSession :one
SELECT data FROM sessions WHERE token = @token AND ended_at IS NULL AND expiry > now();

-- name: SaveSession :exec
-- An ended session is never written back: a request that loaded it before it
-- ended must not bring it back when it commits. Client details that are not
-- known (empty) keep what was stored.
INSERT INTO sessions (token, data, expiry, user_id, user_agent, ip)
VALUES (@token, @data, @expiry, sqlc.narg(user_id), @user_agent, @ip)
ON CONFLICT (token) DO UPDATE
SET data = EXCLUDED.data,
    expiry = EXCLUDED.expiry,
    user_id = EXCLUDED.user_id,
    user_agent = coalesce(nullif(EXCLUDED.user_agent, ''), sessions.user_agent),
    ip = coalesce(nullif(EXCLUDED.ip, ''), sessions.ip),
    last_seen_at = now()
WHERE sessions.ended_at IS NULL;

-- name: EndSessionByToken :one
-- Ends one session, returning its user (NULL for a signed-out session).
UPDATE sessions SET ended_at = now(), data = ''::bytea
WHERE token = @token AND ended_at IS NULL
RETURNING user_id;

-- name: ListUserSessions :many
SELECT id, token, created_at, last_seen_at, user_agent, ip FROM sessions
WHERE user_id = @user_id::uuid AND ended_at IS NULL AND expiry > now()
ORDER BY last_seen_at DESC, id;

-- name: EndUserSession :execrows
UPDATE sessions SET ended_at = now(), data = ''::bytea
WHERE id = @id AND user_id = @user_id::uuid AND ended_at IS NULL;

-- name: EndUserSessions :execrows
-- Ends every session of the user except the one with token @keep_token (an
-- empty @keep_token keeps none). Expired ones are ended too: it costs
-- nothing and leaves nothing to find.
UPDATE sessions SET ended_at = now(), data = ''::bytea
WHERE user_id = @user_id::uuid AND ended_at IS NULL AND token <> @keep_token;

-- name: ActiveSessionUser :one
-- The user of a session that still lets its browser in: not ended, not
-- expired, its user not disabled.
SELECT users.id FROM sessions JOIN users ON users.id = sessions.user_id
WHERE sessions.token = @token AND sessions.ended_at IS NULL AND sessions.expiry > now()
  AND users.disabled_at IS NULL;

-- name: PurgeExpiredSessions :execrows
-- An ended session's row only has to outlive the requests that were in
-- flight when it ended.
DELETE FROM sessions WHERE expiry < now() OR ended_at < now() - interval '1 hour';
