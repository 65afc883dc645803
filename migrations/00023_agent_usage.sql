-- +goose Up
-- The usage page sums the agent's turns over a period: these indexes keep
-- that to the period's rows (every user's, for admins; one owner's sessions
-- otherwise).
CREATE INDEX agent_messages_usage_idx ON agent_messages (created_at) WHERE role = 'assistant';
CREATE INDEX agent_sessions_owner_idx ON agent_sessions (owner_id);

-- +goose Down
DROP INDEX agent_sessions_owner_idx;
DROP INDEX agent_messages_usage_idx;
