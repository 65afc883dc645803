-- name: InsertAuditEntry :exec
INSERT INTO audit_log (actor_id, target_user_id, action, before, after)
VALUES (sqlc.narg(actor_id), sqlc.narg(target_user_id), @action, @before, @after);

-- name: ListAuditForUser :many
SELECT audit_log.*, coalesce(actor.email, '') AS actor_email
FROM audit_log LEFT JOIN users actor ON actor.id = audit_log.actor_id
WHERE audit_log.target_user_id = @target_user_id
ORDER BY audit_log.created_at DESC, audit_log.id DESC
LIMIT @lim;
