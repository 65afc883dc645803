-- +goose Up
-- The record store with many big tables in one database (issue 11; README,
-- "Many big tables in one database").
--
-- 1. records is partitioned by hash of (workbook_id, table_id) into 64
-- partitions. A big table's on-demand indexes and their statistics are
-- built on the one partition that holds it (internal/recordindex),
-- and every statement names a table's two ids, so the planner prunes to
-- that partition before it looks at indexes: one table's indexes no longer
-- cost every other table's statements planning time, and building one reads
-- one partition. Keys and unique indexes lead with the partition key. The
-- on-demand indexes of the old table go with it; their registrations are
-- forgotten, and the grid asks for them again.
--
-- 2. Exact record counts per table. A table was sized from the
-- planner's estimate for workbook_id = $1 AND table_id = $2, which multiplies
-- the two selectivities: with 21 tables in a database a 100,000-record table
-- was estimated at 47,267 records and never got its on-demand indexes. The
-- count is kept by two statement-level triggers over the rows each statement
-- inserted or deleted (transition tables), so every writer of records, the
-- COPY of imports and pulls included, keeps it exact in its own transaction
-- without knowing of it. Updates never move a record between tables.
CREATE TABLE table_sizes (
    workbook_id uuid NOT NULL,
    table_id    uuid NOT NULL,
    records     bigint NOT NULL DEFAULT 0 CHECK (records >= 0),
    PRIMARY KEY (workbook_id, table_id),
    FOREIGN KEY (workbook_id, table_id) REFERENCES workbook_tables (workbook_id, id) ON DELETE CASCADE
);

-- +goose StatementBegin
CREATE FUNCTION sp_table_sizes_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO table_sizes AS s (workbook_id, table_id, records)
    SELECT n.workbook_id, n.table_id, count(*) FROM sp_inserted_records n GROUP BY 1, 2
    ON CONFLICT (workbook_id, table_id) DO UPDATE SET records = s.records + excluded.records;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- A deleted table's size row went first (its foreign key's cascade runs
-- before the trigger that deletes its records): nothing is updated then.
-- +goose StatementBegin
CREATE FUNCTION sp_table_sizes_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE table_sizes s SET records = s.records - d.n
    FROM (SELECT o.workbook_id, o.table_id, count(*) AS n FROM sp_deleted_records o GROUP BY 1, 2) d
    WHERE s.workbook_id = d.workbook_id AND s.table_id = d.table_id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

LOCK TABLE records IN ACCESS EXCLUSIVE MODE;

CREATE TABLE records_by_table (
    workbook_id       uuid NOT NULL,
    table_id          uuid NOT NULL,
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    seq               bigint GENERATED ALWAYS AS IDENTITY,
    remote_id         text,
    fields            jsonb COMPRESSION lz4 NOT NULL DEFAULT '{}'
                      CONSTRAINT records_fields_check CHECK (jsonb_typeof(fields) = 'object'),
    original          jsonb COMPRESSION lz4,
    state             text NOT NULL DEFAULT 'clean'
                      CONSTRAINT records_state_check CHECK (state IN ('clean', 'created', 'updated', 'deleted')),
    edited_fields     text[] NOT NULL DEFAULT '{}',
    errors            jsonb NOT NULL DEFAULT '{}',
    version           int NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    publish_errors    jsonb CONSTRAINT records_publish_errors_check CHECK (jsonb_typeof(publish_errors) = 'object'),
    conflicts         jsonb CONSTRAINT records_conflicts_check CHECK (jsonb_typeof(conflicts) = 'object'),
    source_deleted_at timestamptz,
    inflight_sync_id  uuid
) PARTITION BY HASH (workbook_id, table_id);

-- +goose StatementBegin
DO $$
BEGIN
    FOR r IN 0..63 LOOP
        EXECUTE format('CREATE TABLE records_p%s PARTITION OF records_by_table
            FOR VALUES WITH (MODULUS 64, REMAINDER %s) WITH (toast_tuple_target = 4080)', lpad(r::text, 2, '0'), r);
    END LOOP;
END
$$;
-- +goose StatementEnd

INSERT INTO records_by_table (workbook_id, table_id, id, seq, remote_id, fields, original, state, edited_fields, errors,
                              version, created_at, updated_at, publish_errors, conflicts, source_deleted_at, inflight_sync_id)
OVERRIDING SYSTEM VALUE
SELECT workbook_id, table_id, id, seq, remote_id, fields, original, state, edited_fields, errors,
       version, created_at, updated_at, publish_errors, conflicts, source_deleted_at, inflight_sync_id
FROM records;
-- Its registrations go with the on-demand indexes (and their statistics)
-- the old table takes along.
DELETE FROM record_indexes;
-- New records continue the order where the old sequence left it.
SELECT setval('records_by_table_seq_seq', last_value, is_called) FROM records_seq_seq;
DROP TABLE records CASCADE;
ALTER TABLE records_by_table RENAME TO records;
ALTER TABLE records ADD PRIMARY KEY (workbook_id, table_id, id);
CREATE INDEX records_seq_idx ON records (workbook_id, table_id, seq);
CREATE UNIQUE INDEX records_remote_id_key ON records (workbook_id, table_id, remote_id) WHERE remote_id IS NOT NULL;
CREATE INDEX records_dirty_idx ON records (workbook_id, table_id, seq) WHERE state <> 'clean';
CREATE INDEX records_sync_attention_idx ON records (workbook_id, table_id)
    WHERE conflicts IS NOT NULL OR publish_errors IS NOT NULL OR source_deleted_at IS NOT NULL OR inflight_sync_id IS NOT NULL;
-- A partition's indexes are named after the partition and the index they
-- are part of (records_p07_seq_idx), not after their columns.
-- +goose StatementBegin
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT ci.relname AS child, pi.relname AS parent, t.relname AS part
             FROM pg_inherits i
             JOIN pg_class ci ON ci.oid = i.inhrelid
             JOIN pg_class pi ON pi.oid = i.inhparent
             JOIN pg_index x ON x.indexrelid = ci.oid
             JOIN pg_class t ON t.oid = x.indrelid
             WHERE pi.relname IN ('records_pkey', 'records_seq_idx', 'records_remote_id_key', 'records_dirty_idx',
                                  'records_sync_attention_idx')
    LOOP
        IF c.child <> c.part || substr(c.parent, length('records') + 1) THEN
            EXECUTE format('ALTER INDEX %I RENAME TO %I', c.child, c.part || substr(c.parent, length('records') + 1));
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd
ALTER TABLE suggestions ADD CONSTRAINT suggestions_workbook_id_table_id_record_id_fkey
    FOREIGN KEY (workbook_id, table_id, record_id) REFERENCES records (workbook_id, table_id, id) ON DELETE CASCADE;
ALTER SEQUENCE records_by_table_seq_seq RENAME TO records_seq_seq;

INSERT INTO table_sizes (workbook_id, table_id, records)
SELECT r.workbook_id, r.table_id, count(*) FROM records r
WHERE EXISTS (SELECT 1 FROM workbook_tables t WHERE t.workbook_id = r.workbook_id AND t.id = r.table_id)
GROUP BY 1, 2;

CREATE TRIGGER table_sizes_inserted AFTER INSERT ON records
    REFERENCING NEW TABLE AS sp_inserted_records
    FOR EACH STATEMENT EXECUTE FUNCTION sp_table_sizes_inserted();
-- The bulk path COPYs into a table's partition, where a COPY keeps
-- inserting rows in batches (a statement trigger with a transition table on
-- a partitioned table makes COPY insert one row at a time): each partition
-- takes the next seq and counts what it is given directly.
-- +goose StatementBegin
DO $$
BEGIN
    FOR r IN 0..63 LOOP
        EXECUTE format('ALTER TABLE records_p%1$s ALTER COLUMN seq SET DEFAULT nextval(''records_seq_seq'');
            CREATE TRIGGER table_sizes_inserted AFTER INSERT ON records_p%1$s
                REFERENCING NEW TABLE AS sp_inserted_records
                FOR EACH STATEMENT EXECUTE FUNCTION sp_table_sizes_inserted()', lpad(r::text, 2, '0'));
    END LOOP;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER table_sizes_deleted AFTER DELETE ON records
    REFERENCING OLD TABLE AS sp_deleted_records
    FOR EACH STATEMENT EXECUTE FUNCTION sp_table_sizes_deleted();

-- +goose Down
LOCK TABLE records IN ACCESS EXCLUSIVE MODE;
CREATE TABLE records_unpartitioned (
    workbook_id       uuid NOT NULL,
    table_id          uuid NOT NULL,
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    seq               bigint GENERATED ALWAYS AS IDENTITY,
    remote_id         text,
    fields            jsonb COMPRESSION lz4 NOT NULL DEFAULT '{}'
                      CONSTRAINT records_fields_check CHECK (jsonb_typeof(fields) = 'object'),
    original          jsonb COMPRESSION lz4,
    state             text NOT NULL DEFAULT 'clean'
                      CONSTRAINT records_state_check CHECK (state IN ('clean', 'created', 'updated', 'deleted')),
    edited_fields     text[] NOT NULL DEFAULT '{}',
    errors            jsonb NOT NULL DEFAULT '{}',
    version           int NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    publish_errors    jsonb CONSTRAINT records_publish_errors_check CHECK (jsonb_typeof(publish_errors) = 'object'),
    conflicts         jsonb CONSTRAINT records_conflicts_check CHECK (jsonb_typeof(conflicts) = 'object'),
    source_deleted_at timestamptz,
    inflight_sync_id  uuid
) WITH (toast_tuple_target = 4080);
INSERT INTO records_unpartitioned (workbook_id, table_id, id, seq, remote_id, fields, original, state, edited_fields, errors,
                                   version, created_at, updated_at, publish_errors, conflicts, source_deleted_at, inflight_sync_id)
OVERRIDING SYSTEM VALUE
SELECT workbook_id, table_id, id, seq, remote_id, fields, original, state, edited_fields, errors,
       version, created_at, updated_at, publish_errors, conflicts, source_deleted_at, inflight_sync_id
FROM records;
DELETE FROM record_indexes;
-- New records continue the order where the old sequence left it.
SELECT setval('records_unpartitioned_seq_seq', last_value, is_called) FROM records_seq_seq;
DROP TABLE records CASCADE;
ALTER TABLE records_unpartitioned RENAME TO records;
ALTER TABLE records ADD PRIMARY KEY (workbook_id, table_id, id);
CREATE INDEX records_seq_idx ON records (workbook_id, table_id, seq);
CREATE UNIQUE INDEX records_remote_id_key ON records (workbook_id, table_id, remote_id) WHERE remote_id IS NOT NULL;
CREATE INDEX records_dirty_idx ON records (workbook_id, table_id, seq) WHERE state <> 'clean';
CREATE INDEX records_sync_attention_idx ON records (workbook_id, table_id)
    WHERE conflicts IS NOT NULL OR publish_errors IS NOT NULL OR source_deleted_at IS NOT NULL OR inflight_sync_id IS NOT NULL;
ALTER TABLE suggestions ADD CONSTRAINT suggestions_workbook_id_table_id_record_id_fkey
    FOREIGN KEY (workbook_id, table_id, record_id) REFERENCES records (workbook_id, table_id, id) ON DELETE CASCADE;
ALTER SEQUENCE records_unpartitioned_seq_seq RENAME TO records_seq_seq;
DROP FUNCTION sp_table_sizes_deleted();
DROP FUNCTION sp_table_sizes_inserted();
DROP TABLE table_sizes;
