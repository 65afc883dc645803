-- +goose Up
-- CSV uploads and their imports. A file is stored in the database as 1 MiB
-- chunks, so any instance can preview it and any instance's worker can import
-- it: PostgreSQL is the only shared state. One upload feeds at most one
-- import, whose state and checkpoint live on the same row.

CREATE TABLE uploads (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workbook_id   uuid NOT NULL REFERENCES workbooks (id) ON DELETE CASCADE,
    filename      text NOT NULL,
    size_bytes    bigint NOT NULL DEFAULT 0,
    chunk_count   int NOT NULL DEFAULT 0,
    -- uploading: chunks arriving; uploaded: complete, waiting for the preview
    -- form; importing: a job owns it; done, failed, cancelled: finished.
    status        text NOT NULL DEFAULT 'uploading'
                  CHECK (status IN ('uploading', 'uploaded', 'importing', 'done', 'failed', 'cancelled')),
    -- The import: the table it fills, its job, and the column mapping chosen
    -- on the preview page.
    table_id      uuid,
    job_id        bigint,
    mapping       jsonb,
    -- The checkpoint: the file row number (header = 1) of the last row whose
    -- records are committed, and the bytes read up to it. A retried job skips
    -- rows up to it, so rows are never imported twice.
    last_row      bigint NOT NULL DEFAULT 0,
    bytes_done    bigint NOT NULL DEFAULT 0,
    rows_imported bigint NOT NULL DEFAULT 0,
    -- Rows the reader rejected (bad quotes, invalid UTF-8, ...) and cells that
    -- did not convert to their column's type; the first problems are kept
    -- with their row and column so nothing is lost silently.
    rows_rejected bigint NOT NULL DEFAULT 0,
    cell_errors   bigint NOT NULL DEFAULT 0,
    problems      jsonb NOT NULL DEFAULT '[]',
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX uploads_workbook_idx ON uploads (workbook_id, created_at);
CREATE INDEX uploads_owner_idx ON uploads (owner_id);

CREATE TABLE upload_chunks (
    upload_id uuid NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    seq       int NOT NULL,
    data      bytea NOT NULL,
    PRIMARY KEY (upload_id, seq)
);
-- Chunks are written once, read in order and deleted: compressing them would
-- only cost CPU (CSV text compresses, but the chunks live minutes).
ALTER TABLE upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- A batch of an import on its way into records. The JSON of a row is parsed
-- once, here, and copied into both fields and original by one INSERT ...
-- SELECT; unlogged because a batch lives inside one transaction, and a crash
-- loses it together with its checkpoint.
CREATE UNLOGGED TABLE import_batches (
    upload_id uuid NOT NULL,
    n         int NOT NULL,
    fields    jsonb NOT NULL,
    errors    jsonb NOT NULL,
    remote_id text,
    PRIMARY KEY (upload_id, n)
);

-- +goose Down
DROP TABLE import_batches;
DROP TABLE upload_chunks;
DROP TABLE uploads;
