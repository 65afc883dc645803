-- +goose Up
-- An admin cancelling an import job finds its upload by job id
-- (GetUploadByJobID); uploads stay after their import, one per file ever
-- imported, so the lookup gets an index instead of a scan.
CREATE INDEX uploads_job_idx ON uploads (job_id) WHERE job_id IS NOT NULL;

-- +goose Down
DROP INDEX uploads_job_idx;
