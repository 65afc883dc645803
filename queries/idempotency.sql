-- name: ClaimIdempotencyKey :execrows
-- Inserts the key as in progress. A row left from an expired key, or by a
-- request in progress so long that it must have died, is taken over; any
-- other existing row is left alone and 0 rows are affected.
INSERT INTO idempotency_keys (user_id, key, request_hash)
VALUES (@user_id, @key, @request_hash)
ON CONFLICT (user_id, key) DO UPDATE
SET request_hash = excluded.request_hash, status = NULL, content_type = NULL, response = NULL, created_at = now()
WHERE idempotency_keys.created_at < now() - make_interval(secs => @ttl_seconds::float8)
   OR (idempotency_keys.status IS NULL
       AND idempotency_keys.created_at < now() - make_interval(secs => @abandon_after_seconds::float8));

-- name: GetIdempotencyKey :one
SELECT * FROM idempotency_keys WHERE user_id = @user_id AND key = @key;

-- name: CompleteIdempotencyKey :execrows
UPDATE idempotency_keys
SET status = @status::int, content_type = @content_type::text, response = @response::bytea
WHERE user_id = @user_id AND key = @key AND request_hash = @request_hash AND status IS NULL;

-- name: ReleaseIdempotencyKey :exec
-- Forgets a key whose request failed, so that it can be retried.
DELETE FROM idempotency_keys
WHERE user_id = @user_id AND key = @key AND request_hash = @request_hash AND status IS NULL;

-- name: PurgeIdempotencyKeys :execrows
DELETE FROM idempotency_keys WHERE created_at < @before;
