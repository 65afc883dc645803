-- +goose Up
-- A person's own agent settings. cost_warning is the cost of a chat, in US
-- dollars, past which the chat panel warns them (0: never); without a row,
-- the server's AGENT_COST_WARNING_USD applies.
CREATE TABLE agent_preferences (
    user_id      uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    cost_warning numeric(10, 2) NOT NULL CHECK (cost_warning >= 0 AND cost_warning <= 100000),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE agent_preferences;
