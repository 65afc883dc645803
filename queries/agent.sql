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
