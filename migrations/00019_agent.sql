-- +goose Up
-- The agent (DESIGN §7): a session is a chat with the agent about one
-- workbook, owned by the workbook's owner; its messages are the user's
-- questions and the agent's turns. An assistant message is one turn: it is
-- written while the turn runs (status running), step by step, so a turn
-- resumed after a crash carries on from its last committed step.
CREATE TABLE agent_sessions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workbook_id uuid NOT NULL REFERENCES workbooks (id) ON DELETE CASCADE,
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       text NOT NULL CHECK (length(title) <= 200),
    -- Totals of the session's messages, kept with each step's commit.
    tokens_in   bigint NOT NULL DEFAULT 0,
    tokens_out  bigint NOT NULL DEFAULT 0,
    cost        double precision NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_sessions_workbook_idx ON agent_sessions (workbook_id, owner_id, updated_at DESC, id);

CREATE TABLE agent_messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES agent_sessions (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('user', 'assistant')),
    content     text NOT NULL DEFAULT '',
    -- For an assistant turn: its steps, a JSON array of
    -- {"text", "tool_calls": [{"id", "name", "arguments", "result", "error"}]}.
    steps       jsonb NOT NULL DEFAULT '[]',
    -- For a user message: what the user asked with it (model, scope,
    -- record ids, field, tools, assets, view filter).
    request     jsonb NOT NULL DEFAULT '{}',
    model       text NOT NULL DEFAULT '',
    tokens_in   bigint NOT NULL DEFAULT 0,
    tokens_out  bigint NOT NULL DEFAULT 0,
    cost        double precision NOT NULL DEFAULT 0,
    status      text NOT NULL CHECK (status IN ('running', 'done', 'failed', 'stopped')),
    error_code  text,
    error       text,
    job_id      bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX agent_messages_session_idx ON agent_messages (session_id, id);
-- At most one running turn per session.
CREATE UNIQUE INDEX agent_messages_running_key ON agent_messages (session_id) WHERE status = 'running';

-- A tool call's effect is written at most once: the key is the turn and the
-- model's id of the call, so a step replayed after a crash skips it.
CREATE TABLE agent_tool_effects (
    message_id   bigint NOT NULL REFERENCES agent_messages (id) ON DELETE CASCADE,
    tool_call_id text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, tool_call_id)
);

-- Which model proposed an agent's suggestion.
ALTER TABLE suggestions ADD COLUMN agent_model text;

-- +goose Down
ALTER TABLE suggestions DROP COLUMN agent_model;
DROP TABLE agent_tool_effects;
DROP TABLE agent_messages;
DROP TABLE agent_sessions;
