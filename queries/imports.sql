-- name: CreateUpload :one
-- The workbook must belong to the owner; no row means not found.
INSERT INTO uploads (owner_id, workbook_id, filename)
SELECT @owner_id, w.id, @filename FROM workbooks w WHERE w.id = @workbook_id AND w.owner_id = @owner_id
RETURNING *;

-- name: AddUploadChunk :exec
INSERT INTO upload_chunks (upload_id, seq, data) VALUES (@upload_id, @seq, @data);

-- name: CompleteUpload :one
UPDATE uploads SET status = 'uploaded', size_bytes = @size_bytes, chunk_count = @chunk_count, updated_at = now()
WHERE id = @id AND status = 'uploading'
RETURNING *;

-- name: DeleteUpload :exec
DELETE FROM uploads WHERE id = @id;

-- name: DeleteAbandonedUploads :execrows
-- Uploads never imported (the preview left unconfirmed, or the upload cut
-- off) and untouched since before; their chunks go with them. An upload a
-- start has locked is waited for and then, importing, kept.
DELETE FROM uploads
WHERE status IN ('uploading', 'uploaded') AND updated_at < @before::timestamptz;

-- name: GetUpload :one
-- Scoped to the owner and workbook: another user's upload is not found.
SELECT * FROM uploads WHERE id = @id AND workbook_id = @workbook_id AND owner_id = @owner_id;

-- name: GetUploadByID :one
SELECT * FROM uploads WHERE id = @id;

-- name: LockUpload :one
SELECT * FROM uploads WHERE id = @id AND workbook_id = @workbook_id AND owner_id = @owner_id FOR UPDATE;

-- name: LockUploadByID :one
SELECT * FROM uploads WHERE id = @id FOR UPDATE;

-- name: ListUploadChunks :many
-- The next chunks of a file in order, a few at a time, so reading a file
-- needs memory for a few chunks whatever its size.
SELECT seq, data FROM upload_chunks
WHERE upload_id = @upload_id AND seq >= @from_seq
ORDER BY seq
LIMIT @max_chunks;

-- name: StartUploadImport :one
UPDATE uploads SET status = 'importing', table_id = @table_id, mapping = @mapping, job_id = @job_id, updated_at = now()
WHERE id = @id AND status = 'uploaded'
RETURNING *;

-- name: CheckpointUpload :exec
-- Runs in the transaction that commits a batch of records.
UPDATE uploads SET
    last_row = @last_row, bytes_done = @bytes_done,
    rows_imported = rows_imported + @rows_added::bigint,
    rows_rejected = rows_rejected + @rejected_added::bigint,
    cell_errors = cell_errors + @cell_errors_added::bigint,
    problems = CASE WHEN jsonb_array_length(problems) >= 100 THEN problems
                    ELSE problems || @new_problems::jsonb END,
    updated_at = now()
WHERE id = @id;

-- name: FinishUpload :one
-- Only a running import finishes, and only once.
UPDATE uploads SET status = @status, error = @error, finished_at = now(), updated_at = now()
WHERE id = @id AND status = 'importing'
RETURNING *;

-- name: DeleteUploadChunks :exec
DELETE FROM upload_chunks WHERE upload_id = @upload_id;

-- name: ListWorkbookUploads :many
SELECT * FROM uploads WHERE workbook_id = @workbook_id AND owner_id = @owner_id
ORDER BY created_at DESC LIMIT 20;

-- name: FindRecordsByKey :many
-- The records of a table whose value for one column (an id from the table's
-- specs, passed as a parameter, never as SQL text) is among keys.
SELECT id, (fields ->> @field::text)::text AS key, fields FROM records
WHERE workbook_id = @workbook_id AND table_id = @table_id AND state <> 'deleted'
  AND fields ->> @field::text = ANY (@keys::text[]);

-- name: ListTableRemoteIDs :many
SELECT remote_id FROM records
WHERE workbook_id = @workbook_id AND table_id = @table_id AND remote_id IS NOT NULL;

-- name: ListOwnerUploadsByJobs :many
-- The owner's uploads filled by the given import jobs, for the jobs API:
-- another user's upload is not found, whatever its job.
SELECT * FROM uploads WHERE owner_id = @owner_id AND job_id = ANY (@job_ids::bigint[]);

-- name: ListUploadsByJobs :many
-- The uploads the given import jobs fill, whoever owns them (the admin's
-- jobs list).
SELECT * FROM uploads WHERE job_id = ANY (@job_ids::bigint[]);

-- name: GetUploadByJobID :one
-- The upload an import job fills, whoever owns it (admin cancels).
SELECT * FROM uploads WHERE job_id = @job_id;
