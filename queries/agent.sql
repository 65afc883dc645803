-- Agent sessions and their messages (internal/agent). Every query a user's
-- request reaches is scoped to the owner.

-- name: CreateAgentSession :one
INSERT INTO agent_sessions (workbook_id, owner_id, title)
SELECT w.id, w.owner_id, @title FROM workbooks w WHERE w.id = @workbook_id AND w.owner_id = @owner_id
RETURNING *;

-- name: GetAgentSession :one
SELECT * FROM agent_sessions WHERE id = @id AND workbook_id = @workbook_id AND owner_id = @owner_id;

-- name: ListAgentSessions :many
-- Newest first, keyset paged by (updated_at, id).
SELECT * FROM agent_sessions
WHERE workbook_id = @workbook_id AND owner_id = @owner_id
  AND (sqlc.narg(before_at)::timestamptz IS NULL OR (updated_at, id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::uuid))
ORDER BY updated_at DESC, id DESC
LIMIT @max_sessions;

-- name: RenameAgentSession :one
UPDATE agent_sessions SET title = @title, updated_at = now()
WHERE id = @id AND workbook_id = @workbook_id AND owner_id = @owner_id
RETURNING *;

-- name: DeleteAgentSession :execrows
DELETE FROM agent_sessions WHERE id = @id AND workbook_id = @workbook_id AND owner_id = @owner_id;

-- name: ListAgentMessages :many
-- The newest max_messages messages of a session up to before_id, oldest
-- first.
SELECT * FROM (
    SELECT * FROM agent_messages
    WHERE session_id = @session_id AND id <= @before_id
    ORDER BY id DESC LIMIT @max_messages
) m ORDER BY id;

-- name: InsertAgentMessage :one
INSERT INTO agent_messages (session_id, role, content, request, model, status)
VALUES (@session_id, @role, @content, @request, @model, @status)
RETURNING *;

-- name: SetAgentMessageJob :exec
UPDATE agent_messages SET job_id = @job_id WHERE id = @id;

-- name: GetAgentTurn :one
-- A turn with its session, for the job that runs it (not owner scoped: the
-- job carries only the message id, and the session names the owner).
SELECT sqlc.embed(m), s.workbook_id, s.owner_id
FROM agent_messages m JOIN agent_sessions s ON s.id = m.session_id
WHERE m.id = @id;

-- name: GetAgentMessage :one
SELECT m.* FROM agent_messages m JOIN agent_sessions s ON s.id = m.session_id
WHERE m.id = @id AND s.owner_id = @owner_id;

-- name: RunningAgentTurn :one
SELECT * FROM agent_messages WHERE session_id = @session_id AND status = 'running';

-- name: RecordAgentStep :execrows
-- Appends a committed step to a running turn and adds its usage to the turn
-- and its session.
WITH m AS (
    UPDATE agent_messages
    SET steps = steps || jsonb_build_array(@step::jsonb),
        content = content || @text::text,
        model = CASE WHEN @model::text = '' THEN model ELSE @model::text END,
        tokens_in = tokens_in + @tokens_in, tokens_out = tokens_out + @tokens_out, cost = cost + @cost
    WHERE agent_messages.id = @message_id AND status = 'running'
    RETURNING session_id
)
UPDATE agent_sessions s
SET tokens_in = s.tokens_in + @tokens_in, tokens_out = s.tokens_out + @tokens_out, cost = s.cost + @cost, updated_at = now()
FROM m WHERE s.id = m.session_id;

-- name: FinishAgentTurn :one
-- Ends a running turn; the partial text of an unfinished step (kept when a
-- turn is stopped) is appended. Returns nothing when the turn has ended
-- already.
UPDATE agent_messages
SET status = @status, content = content || @text::text, error_code = sqlc.narg(error_code), error = sqlc.narg(error),
    tokens_in = tokens_in + @tokens_in, tokens_out = tokens_out + @tokens_out, cost = cost + @cost,
    finished_at = now()
WHERE id = @id AND status = 'running'
RETURNING *;

-- name: AddAgentSessionUsage :exec
UPDATE agent_sessions SET tokens_in = tokens_in + @tokens_in, tokens_out = tokens_out + @tokens_out,
    cost = cost + @cost, updated_at = now()
WHERE id = @id;

-- name: ClaimAgentToolEffect :execrows
-- Claims the one write of a tool call; 0 rows means it was written before.
INSERT INTO agent_tool_effects (message_id, tool_call_id) VALUES (@message_id, @tool_call_id)
ON CONFLICT DO NOTHING;

-- The usage queries aggregate the agent's turns (assistant messages, which
-- carry the tokens and cost) started in [from, to). owner_id NULL means
-- every user's (the admin page); the handlers pass the signed-in user's id
-- otherwise.

-- name: AgentUsageByDay :many
SELECT (date_trunc('day', m.created_at AT TIME ZONE 'UTC'))::date AS day,
       sum(m.tokens_in)::bigint AS tokens_in, sum(m.tokens_out)::bigint AS tokens_out,
       sum(m.cost)::float8 AS cost, count(*)::bigint AS turns
FROM agent_messages m JOIN agent_sessions s ON s.id = m.session_id
WHERE m.role = 'assistant' AND m.created_at >= @from_at AND m.created_at < @to_at
  AND (sqlc.narg(owner_id)::uuid IS NULL OR s.owner_id = sqlc.narg(owner_id)::uuid)
GROUP BY 1 ORDER BY 1;

-- name: AgentUsageByModel :many
SELECT m.model, sum(m.tokens_in)::bigint AS tokens_in, sum(m.tokens_out)::bigint AS tokens_out,
       sum(m.cost)::float8 AS cost, count(*)::bigint AS turns
FROM agent_messages m JOIN agent_sessions s ON s.id = m.session_id
WHERE m.role = 'assistant' AND m.created_at >= @from_at AND m.created_at < @to_at
  AND (sqlc.narg(owner_id)::uuid IS NULL OR s.owner_id = sqlc.narg(owner_id)::uuid)
GROUP BY m.model ORDER BY 4 DESC, 1
LIMIT @max_rows;

-- name: AgentUsageBySession :many
SELECT s.id, s.title, s.workbook_id, w.name AS workbook_name, u.email AS owner_email,
       sum(m.tokens_in)::bigint AS tokens_in, sum(m.tokens_out)::bigint AS tokens_out,
       sum(m.cost)::float8 AS cost, count(*)::bigint AS turns, max(m.created_at)::timestamptz AS last_at
FROM agent_messages m JOIN agent_sessions s ON s.id = m.session_id
JOIN workbooks w ON w.id = s.workbook_id JOIN users u ON u.id = s.owner_id
WHERE m.role = 'assistant' AND m.created_at >= @from_at AND m.created_at < @to_at
  AND (sqlc.narg(owner_id)::uuid IS NULL OR s.owner_id = sqlc.narg(owner_id)::uuid)
GROUP BY s.id, w.name, u.email ORDER BY 8 DESC, 1
LIMIT @max_rows;

-- name: AgentUsageByUser :many
SELECT u.id, u.email, sum(m.tokens_in)::bigint AS tokens_in, sum(m.tokens_out)::bigint AS tokens_out,
       sum(m.cost)::float8 AS cost, count(*)::bigint AS turns
FROM agent_messages m JOIN agent_sessions s ON s.id = m.session_id JOIN users u ON u.id = s.owner_id
WHERE m.role = 'assistant' AND m.created_at >= @from_at AND m.created_at < @to_at
GROUP BY u.id ORDER BY 5 DESC, 2
LIMIT @max_rows;

-- name: GetAgentCostWarning :one
SELECT cost_warning::float8 FROM agent_preferences WHERE user_id = @user_id;

-- name: SetAgentCostWarning :exec
INSERT INTO agent_preferences (user_id, cost_warning) VALUES (@user_id, @cost_warning::float8)
ON CONFLICT (user_id) DO UPDATE SET cost_warning = excluded.cost_warning, updated_at = now();

-- name: ClearAgentCostWarning :exec
DELETE FROM agent_preferences WHERE user_id = @user_id;
