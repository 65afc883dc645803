-- name: PurgeExpiredSessions :execrows
DELETE FROM sessions WHERE expiry < now();
