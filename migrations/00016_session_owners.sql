-- +goose Up
-- Sessions know their user, so a password change, "sign out everywhere
-- else" or a disabled account can end every session of that user without
-- decoding them all, and settings can list them (internal/sessionstore
-- writes these columns). An ended session stays as a row with ended_at set
-- until the purge job removes it, so that a request still in flight on it
-- cannot write it back into life.
--
-- Sessions written before this migration name no user: nothing could end
-- them on their user's behalf, so they end now and everyone signs in once
-- more.
DELETE FROM sessions;
ALTER TABLE sessions
    ADD COLUMN id           uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    ADD COLUMN user_id      uuid REFERENCES users (id) ON DELETE CASCADE,
    ADD COLUMN created_at   timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN user_agent   text NOT NULL DEFAULT '',
    ADD COLUMN ip           text NOT NULL DEFAULT '',
    ADD COLUMN ended_at     timestamptz;
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE ended_at IS NULL;

-- +goose Down
DELETE FROM sessions WHERE ended_at IS NOT NULL;
DROP INDEX sessions_user_idx;
ALTER TABLE sessions
    DROP COLUMN id,
    DROP COLUMN user_id,
    DROP COLUMN created_at,
    DROP COLUMN last_seen_at,
    DROP COLUMN user_agent,
    DROP COLUMN ip,
    DROP COLUMN ended_at;
