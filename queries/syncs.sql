-- Pulls and publishes as jobs: the syncs, their tables and their progress.

-- name: CreateSync :one
INSERT INTO syncs (workbook_id, owner_id, kind) VALUES (@workbook_id, @owner_id, @kind)
RETURNING *;

-- name: AddSyncTable :exec
INSERT INTO sync_tables (sync_id, workbook_id, table_id, position, total)
VALUES (@sync_id, @workbook_id, @table_id, @position, sqlc.narg(total));

-- name: SetSyncJob :exec
UPDATE syncs SET job_id = @job_id WHERE id = @id;

-- name: GetSync :one
SELECT * FROM syncs WHERE id = @id;

-- name: GetOwnedSync :one
SELECT * FROM syncs WHERE id = @id AND owner_id = @owner_id;

-- name: GetSyncByJob :one
SELECT * FROM syncs WHERE job_id = @job_id;

-- name: ListSyncTables :many
SELECT st.*, coalesce(t.name, '')::text AS table_name
FROM sync_tables st
LEFT JOIN workbook_tables t ON t.workbook_id = st.workbook_id AND t.id = st.table_id
WHERE st.sync_id = @sync_id
ORDER BY st.position;

-- name: ListSyncTablesOf :many
-- The tables of several syncs, for lists.
SELECT st.*, coalesce(t.name, '')::text AS table_name
FROM sync_tables st
LEFT JOIN workbook_tables t ON t.workbook_id = st.workbook_id AND t.id = st.table_id
WHERE st.sync_id = ANY(@sync_ids::uuid[])
ORDER BY st.sync_id, st.position;

-- name: ListWorkbookSyncs :many
-- A workbook's syncs of one kind (all kinds when empty), newest first.
SELECT * FROM syncs
WHERE workbook_id = @workbook_id AND owner_id = @owner_id AND (@kind::text = '' OR kind = @kind)
ORDER BY created_at DESC, id
LIMIT @max_syncs;

-- name: ListSyncsByJobs :many
SELECT * FROM syncs WHERE owner_id = @owner_id AND job_id = ANY(@job_ids::bigint[]);

-- name: StartSync :one
-- Marks a sync running when its job starts; a finished one stays finished.
UPDATE syncs SET status = 'running', started_at = coalesce(started_at, now())
WHERE id = @id AND status IN ('queued', 'running')
RETURNING *;

-- name: FinishSync :one
-- Records the end of a sync, once.
UPDATE syncs SET status = @status, error = sqlc.narg(error), finished_at = now()
WHERE id = @id AND status IN ('queued', 'running')
RETURNING *;

-- name: UpdateSyncTable :exec
-- Adds a step's counts to a sync's table and sets its phase.
UPDATE sync_tables SET
    phase = @phase,
    done = done + @done_added,
    total = coalesce(sqlc.narg(total), total),
    created = created + @created_added,
    updated = updated + @updated_added,
    deleted = deleted + @deleted_added,
    conflicts = conflicts + @conflicts_added,
    failed = failed + @failed_added,
    error = coalesce(sqlc.narg(error), error)
WHERE sync_id = @sync_id AND table_id = @table_id;

-- name: CountPublishWork :one
-- What a publish of a table would do: its creates, updates, deletes and the
-- records it cannot publish until the user settles them.
SELECT
    count(*) FILTER (WHERE r.state = 'created' AND NOT EXISTS (
        SELECT 1 FROM suggestions s WHERE s.workbook_id = r.workbook_id AND s.table_id = r.table_id
          AND s.record_id = r.id AND s.action = 'create'))::int AS creates,
    count(*) FILTER (WHERE r.state = 'updated' AND r.source_deleted_at IS NULL)::int AS updates,
    count(*) FILTER (WHERE r.state = 'deleted')::int AS deletes,
    count(*) FILTER (WHERE r.conflicts IS NOT NULL)::int AS conflicts,
    count(*) FILTER (WHERE r.source_deleted_at IS NOT NULL)::int AS source_deleted,
    count(*) FILTER (WHERE r.publish_errors IS NOT NULL)::int AS failed
FROM records r
WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND (r.state <> 'clean' OR r.conflicts IS NOT NULL);
