-- +goose Up
-- Data sources and sync: the accounts a user connects (their credentials
-- sealed by internal/secrets), where each table came from, and the pulls and
-- publishes that move records between a table and its source.

CREATE TABLE data_sources (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The connector that speaks to it: postgres, mysql, airtable, ...
    service      text NOT NULL CHECK (service ~ '^[a-z][a-z0-9_]{0,31}$'),
    name         text NOT NULL CHECK (name <> '' AND length(name) <= 200),
    -- The credentials as JSON, sealed by internal/secrets (AES-256-GCM);
    -- the key's id travels in the ciphertext, so keys can be rotated.
    credentials  bytea NOT NULL,
    -- The outcome of the last check of the credentials.
    health       text NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'ok', 'failing')),
    health_error text CHECK (length(health_error) <= 2000),
    checked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX data_sources_owner_idx ON data_sources (owner_id, lower(name), id);

-- A pull or a publish of some tables of one workbook, run by one job.
CREATE TABLE syncs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workbook_id uuid NOT NULL REFERENCES workbooks (id) ON DELETE CASCADE,
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('pull', 'publish')),
    status      text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    job_id      bigint,
    -- Why a failed sync failed, in words fit for the user.
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz
);
CREATE INDEX syncs_workbook_idx ON syncs (workbook_id, created_at DESC, id);
CREATE INDEX syncs_job_idx ON syncs (job_id) WHERE job_id IS NOT NULL;

-- Each table of a sync, in order, with its progress and counts.
CREATE TABLE sync_tables (
    sync_id     uuid NOT NULL REFERENCES syncs (id) ON DELETE CASCADE,
    workbook_id uuid NOT NULL,
    table_id    uuid NOT NULL,
    position    int NOT NULL,
    phase       text NOT NULL DEFAULT 'waiting'
                CHECK (phase IN ('waiting', 'pulling', 'sweeping', 'creating', 'updating', 'deleting', 'done', 'failed', 'cancelled')),
    -- Records handled so far, and the total when known.
    done        bigint NOT NULL DEFAULT 0,
    total       bigint,
    created     int NOT NULL DEFAULT 0,
    updated     int NOT NULL DEFAULT 0,
    deleted     int NOT NULL DEFAULT 0,
    conflicts   int NOT NULL DEFAULT 0,
    failed      int NOT NULL DEFAULT 0,
    error       text,
    PRIMARY KEY (sync_id, table_id)
);

-- Where a table came from. sync_id is the pull or publish that holds the
-- table: a pull and a publish of one table never run at once. pull_cursor
-- is the connector's cursor after the last page the running pull committed,
-- so a pull resumes there after a crash.
ALTER TABLE workbook_tables
    ADD COLUMN data_source_id   uuid REFERENCES data_sources (id) ON DELETE SET NULL,
    ADD COLUMN remote_table_id  text CHECK (length(remote_table_id) <= 1000),
    ADD COLUMN remote_read_only text,
    ADD COLUMN pull_cursor      text,
    ADD COLUMN last_pulled_at   timestamptz,
    ADD COLUMN sync_id          uuid REFERENCES syncs (id) ON DELETE SET NULL;
CREATE INDEX workbook_tables_data_source_idx ON workbook_tables (data_source_id) WHERE data_source_id IS NOT NULL;

-- A record's sync state, NULL when there is nothing to say:
--   publish_errors: why the last publish could not write it, by column id
--     ("" for the record as a whole); apart from errors, which holds what a
--     CSV import could not read;
--   conflicts: the source's value of each field that changed there since
--     the pull and was also edited here (JSON null for no value);
--   source_deleted_at: the source deleted the record while it was edited
--     here, for the user to re-create or drop;
--   inflight_sync_id: the publish that is creating it at the source.
ALTER TABLE records
    ADD COLUMN publish_errors    jsonb CHECK (jsonb_typeof(publish_errors) = 'object'),
    ADD COLUMN conflicts         jsonb CHECK (jsonb_typeof(conflicts) = 'object'),
    ADD COLUMN source_deleted_at timestamptz,
    ADD COLUMN inflight_sync_id  uuid;
CREATE INDEX records_sync_attention_idx ON records (workbook_id, table_id)
    WHERE conflicts IS NOT NULL OR publish_errors IS NOT NULL OR source_deleted_at IS NOT NULL OR inflight_sync_id IS NOT NULL;

-- The remote ids a pull has met, so that once it has read every page it can
-- tell which records the source deleted. Rows go with their sync.
CREATE TABLE sync_seen (
    sync_id   uuid NOT NULL REFERENCES syncs (id) ON DELETE CASCADE,
    table_id  uuid NOT NULL,
    remote_id text NOT NULL,
    PRIMARY KEY (sync_id, table_id, remote_id)
);

-- What a publish changed at the source, so it can be reverted: for an
-- update the source's values it overwrote (before) and what it wrote
-- (after); for a create what it wrote; for a delete the values it deleted.
CREATE TABLE publish_changes (
    sync_id     uuid NOT NULL REFERENCES syncs (id) ON DELETE CASCADE,
    workbook_id uuid NOT NULL,
    table_id    uuid NOT NULL,
    record_id   uuid NOT NULL,
    remote_id   text,
    action      text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    before      jsonb,
    after       jsonb,
    PRIMARY KEY (sync_id, table_id, record_id)
);

-- sp_sparse_original keeps of a record's values as pulled (full, by column
-- id) those of the fields still edited, as records store them (00010): NULL
-- when none is left.
-- +goose StatementBegin
CREATE FUNCTION sp_sparse_original(full_original jsonb, edited text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT nullif((SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}')
                   FROM jsonb_each(full_original) e WHERE e.key = ANY(edited)), '{}')
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION sp_sparse_original(jsonb, text[]);
DROP TABLE publish_changes;
DROP TABLE sync_seen;
DROP INDEX records_sync_attention_idx;
ALTER TABLE records
    DROP COLUMN publish_errors,
    DROP COLUMN conflicts,
    DROP COLUMN source_deleted_at,
    DROP COLUMN inflight_sync_id;
DROP INDEX workbook_tables_data_source_idx;
ALTER TABLE workbook_tables
    DROP COLUMN data_source_id,
    DROP COLUMN remote_table_id,
    DROP COLUMN remote_read_only,
    DROP COLUMN pull_cursor,
    DROP COLUMN last_pulled_at,
    DROP COLUMN sync_id;
DROP TABLE sync_tables;
DROP TABLE syncs;
DROP TABLE data_sources;
