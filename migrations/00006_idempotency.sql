-- +goose Up
-- Idempotency keys of API creates: a client that retries a POST with the same
-- Idempotency-Key and body within 24 hours gets the first response back and
-- nothing is done twice. A row is inserted before the request runs (status
-- NULL: in progress), so a concurrent duplicate finds it and is refused, and
-- completed with the response the request produced. A request that fails
-- removes its row, so the client can retry with the same key.
CREATE TABLE idempotency_keys (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          text NOT NULL CHECK (key <> ''),
    -- sha256 of the method, path and body of the first request.
    request_hash bytea NOT NULL,
    -- The first response's status, content type and body; NULL in progress.
    status       int,
    content_type text,
    response     bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
-- The purge removes keys past their 24 hours.
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
