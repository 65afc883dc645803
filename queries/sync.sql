-- Pulls and publishes: the record store's side. The record store is the only
-- writer of records; internal/syncs drives these statements in transactions
-- of its own, one page or batch at a time.
--
-- A batch's record ids come as (@record_ids::text[])::uuid[]: sqlc gives
-- uuids as Go strings, which pgx cannot send as a binary uuid[]; it tried,
-- formatted an error quoting the whole array (thousands of ids a batch, a
-- good part of a publish's own CPU) and fell back to text. As text[] they
-- go in binary at once, and PostgreSQL reads them as uuids.

-- name: CreateSourcedTable :one
-- A table pulled from a data source; the new table goes last.
INSERT INTO workbook_tables (workbook_id, name, position, columns, source, data_source_id, remote_table_id, remote_read_only)
VALUES (
    @workbook_id, @name,
    (SELECT coalesce(max(position) + 1, 0) FROM workbook_tables WHERE workbook_id = @workbook_id),
    @columns, @source, @data_source_id, @remote_table_id, sqlc.narg(remote_read_only)
)
RETURNING *;

-- name: ClaimTableForSync :one
-- Gives the table to a sync unless another sync that has not finished holds
-- it; returns the holder after the claim (the sync itself when it got it).
UPDATE workbook_tables t SET sync_id = @sync_id
WHERE t.workbook_id = @workbook_id AND t.id = @id
  AND (t.sync_id IS NULL OR t.sync_id = @sync_id OR NOT EXISTS (
      SELECT 1 FROM syncs s WHERE s.id = t.sync_id AND s.status IN ('queued', 'running')))
RETURNING t.sync_id;

-- name: TableSyncHolder :one
SELECT coalesce(t.sync_id::text, '')::text AS sync_id, coalesce(s.kind, '')::text AS kind
FROM workbook_tables t LEFT JOIN syncs s ON s.id = t.sync_id
WHERE t.workbook_id = @workbook_id AND t.id = @id;

-- name: ReleaseTableFromSync :exec
UPDATE workbook_tables SET sync_id = NULL
WHERE workbook_id = @workbook_id AND id = @id AND sync_id = @sync_id;

-- name: SetPullCursor :exec
UPDATE workbook_tables SET pull_cursor = sqlc.narg(pull_cursor)
WHERE workbook_id = @workbook_id AND id = @id;

-- name: FinishTablePull :exec
UPDATE workbook_tables SET pull_cursor = NULL, last_pulled_at = now(), remote_read_only = sqlc.narg(remote_read_only),
    updated_at = now()
WHERE workbook_id = @workbook_id AND id = @id;

-- name: ListStalePulled :many
-- The positions (from 1) of the page rows a merge may change: rows of remote
-- records the table lacks, and of records that are not clean records
-- holding exactly the pulled fields (given as jsonb prints them) and
-- problems. The others, most of a re-pull, are left out without being
-- locked, parsed or written: a clean record holding the pulled values stays
-- as it is. A row whose text differs from the record's only in form (a
-- number written otherwise, say) is merely merged. Each row finds its
-- record through records_remote_id_key (the LATERAL subquery keeps that
-- probe whatever the planner believes of the table's size).
SELECT p.ord::int AS ord
FROM (SELECT unnest(@remote_ids::text[]) AS remote_id, unnest(@fields_texts::text[]) AS fields_text,
             unnest(@problems_texts::text[]) AS problems_text, generate_subscripts(@remote_ids::text[], 1) AS ord) p
LEFT JOIN LATERAL (
    -- LIMIT 1: a remote id appears once per table; it also keeps this a probe.
    SELECT r.state, r.fields, r.original, r.conflicts, r.errors, r.source_deleted_at FROM records r
    WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.remote_id = p.remote_id
    LIMIT 1) r ON true
WHERE r.state IS NULL
   OR (r.state IN ('clean', 'updated')
       AND NOT (r.state = 'clean' AND r.original IS NULL AND r.conflicts IS NULL AND r.source_deleted_at IS NULL
                AND r.errors::text = p.problems_text AND r.fields::text = p.fields_text))
ORDER BY p.ord;

-- name: RecordSeen :exec
-- Records the remote ids of a page a pull met, for the sweep that ends it.
INSERT INTO sync_seen_pages (sync_id, table_id, remote_ids) VALUES (@sync_id, @table_id, @remote_ids::text[]);

-- name: MergePulledPage :one
-- Merges one page of a re-pull into the table, as DESIGN §5 says:
--   - a remote record the table lacks is inserted;
--   - a clean record takes the pulled values of the source's columns
--     (its scratch values stay);
--   - an edited record keeps its edited fields and takes the rest; an edited
--     field the source changed too becomes a conflict holding the source's
--     value, unless the source now holds the edited value, which then counts
--     as pulled (the edit is no longer one);
--   - records created or deleted here are left alone.
-- A record changes (and its version moves) only when something in it does.
-- Returns how many records were inserted, changed and are in conflict.
--
-- Most of a re-pull is clean records the source did not change: those are
-- told apart first, without locking them (a clean record stays the same
-- when its pulled fields are already its fields), so that only records that
-- may change are locked and merged. A record edited meanwhile is one the
-- merge would have left alone before the edit. Each page row finds its
-- record through records_remote_id_key, and each candidate is locked by its
-- key: the LATERAL subqueries keep those probes whatever the planner
-- believes of the table's size (its statistics lag behind a first pull).
WITH page AS (
    SELECT unnest(@remote_ids::text[]) AS remote_id, unnest(@fields::jsonb[]) AS fields,
           unnest(@problems::jsonb[]) AS problems
),
matched AS MATERIALIZED (
    SELECT p.remote_id, p.fields AS pulled, p.problems, r.id, r.seq,
           r.id IS NOT NULL AND r.state IN ('clean', 'updated')
           AND NOT (r.state = 'clean' AND r.original IS NULL AND r.conflicts IS NULL AND r.source_deleted_at IS NULL
                    AND r.errors = p.problems
                    AND (r.fields = p.fields OR r.fields = (r.fields - @source_keys::text[]) || p.fields)) AS stale
    FROM page p
    LEFT JOIN LATERAL (
        -- LIMIT 1: a remote id appears once per table; it also keeps this a probe.
        SELECT r.id, r.seq, r.state, r.fields, r.original, r.conflicts, r.errors, r.source_deleted_at FROM records r
        WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.remote_id = p.remote_id
        LIMIT 1) r ON true
),
inserted AS (
    INSERT INTO records (workbook_id, table_id, remote_id, fields, errors)
    SELECT @workbook_id, @table_id, m.remote_id, m.pulled, m.problems FROM matched m
    WHERE m.id IS NULL
    RETURNING id
),
current AS (
    SELECT r.workbook_id, r.table_id, r.id, r.state, r.fields, r.original, r.edited_fields, r.conflicts, r.errors, r.source_deleted_at, m.pulled,
           m.problems,
           -- Edited fields whose source value is now the edited one.
           ARRAY(SELECT k FROM unnest(r.edited_fields) k
                 WHERE k = ANY(@source_keys::text[]) AND m.pulled -> k = r.fields -> k) AS agreed
    FROM matched m
    CROSS JOIN LATERAL (
        -- By seq and id, so that whichever index the planner takes, it probes.
        SELECT r.* FROM records r
        WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.seq = m.seq AND r.id = m.id
          AND r.state IN ('clean', 'updated')
        FOR UPDATE) r
    WHERE m.stale
),
merged AS (
    SELECT c.workbook_id, c.table_id, c.id, c.fields AS old_fields, c.conflicts AS old_conflicts, c.original AS old_original,
           c.errors AS old_errors, c.problems, c.source_deleted_at,
           -- Scratch values and edited fields stay; the rest is the source's.
           (c.fields - ARRAY(SELECT k FROM unnest(@source_keys::text[]) k WHERE k <> ALL(c.edited_fields)))
               || (c.pulled - c.edited_fields) AS new_fields,
           sp_sparse_original(coalesce(c.original, '{}') || (SELECT coalesce(jsonb_object_agg(k, c.pulled -> k), '{}') FROM unnest(c.agreed) k),
               ARRAY(SELECT k FROM unnest(c.edited_fields) k WHERE k <> ALL(c.agreed))) AS new_original,
           ARRAY(SELECT k FROM unnest(c.edited_fields) k WHERE k <> ALL(c.agreed)) AS new_edited,
           nullif((SELECT coalesce(jsonb_object_agg(k, coalesce(c.pulled -> k, 'null')), '{}')
                   FROM unnest(c.edited_fields) k
                   WHERE k = ANY(@source_keys::text[]) AND k <> ALL(c.agreed)
                     AND nullif(c.pulled -> k, 'null') IS DISTINCT FROM sp_pulled(c.state, c.fields, c.original, k)), '{}') AS new_conflicts,
           c.state
    FROM current c
),
changed AS (
    UPDATE records r SET
        fields = m.new_fields,
        original = m.new_original,
        edited_fields = m.new_edited,
        state = sp_record_state(m.state, m.new_edited),
        conflicts = m.new_conflicts,
        errors = m.problems,
        source_deleted_at = NULL,
        version = r.version + 1,
        updated_at = now()
    FROM merged m
    -- The key comes from the merged rows, not from the parameters: the
    -- planner then probes for each merged row, where a table's key could
    -- tempt it into scanning the table's records for each.
    WHERE r.workbook_id = m.workbook_id AND r.table_id = m.table_id AND r.id = m.id
      AND (m.old_fields IS DISTINCT FROM m.new_fields OR m.old_conflicts IS DISTINCT FROM m.new_conflicts
           OR m.old_original IS DISTINCT FROM m.new_original OR m.old_errors IS DISTINCT FROM m.problems
           OR m.source_deleted_at IS NOT NULL)
    RETURNING r.id, r.conflicts IS NOT NULL AS conflicted
)
SELECT
    (SELECT count(*) FROM inserted)::int AS inserted,
    (SELECT count(*) FROM changed)::int AS changed,
    (SELECT count(*) FROM changed WHERE conflicted)::int AS conflicted;

-- name: SweepUnseenRecords :one
-- Ends a re-pull: the table's pulled records the pull did not meet were
-- deleted at the source. Clean ones, and ones deleted here too, go; edited
-- ones are flagged for the user to re-create or drop. Records created here
-- have no remote id and are left alone. The remote ids not met are found
-- with EXCEPT, which hashes or sorts both sides: an anti join could loop
-- over the ids seen once per record when the planner, whose statistics lag
-- behind a pull, takes either side for a few rows.
WITH unseen AS (
    SELECT r.remote_id FROM records r
    WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.remote_id IS NOT NULL AND r.state <> 'created'
    EXCEPT
    SELECT unnest(s.remote_ids) FROM sync_seen_pages s WHERE s.sync_id = @sync_id AND s.table_id = @table_id
),
gone AS (
    SELECT r.id, r.state FROM unseen u
    CROSS JOIN LATERAL (
        SELECT r.id, r.state FROM records r
        WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.remote_id = u.remote_id
        LIMIT 1) r
),
removed AS (
    DELETE FROM records r USING gone g
    WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = g.id AND g.state IN ('clean', 'deleted')
    RETURNING r.id
),
flagged AS (
    UPDATE records r SET source_deleted_at = now(), version = r.version + 1, updated_at = now()
    FROM gone g
    WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = g.id AND g.state = 'updated'
      AND r.source_deleted_at IS NULL
    RETURNING r.id
)
SELECT (SELECT count(*) FROM removed)::int AS removed, (SELECT count(*) FROM flagged)::int AS flagged;

-- name: ForgetSeen :exec
DELETE FROM sync_seen_pages WHERE sync_id = @sync_id AND table_id = @table_id;

-- name: ListPublishCreates :many
-- Records created here and accepted (not drafts of a pending suggestion),
-- not yet being created by a publish, in order.
SELECT r.* FROM records r
WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.state = 'created'
  AND r.seq > @after_seq::bigint AND r.inflight_sync_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM suggestions s
                  WHERE s.workbook_id = r.workbook_id AND s.table_id = r.table_id AND s.record_id = r.id AND s.action = 'create')
ORDER BY r.seq
LIMIT @max_records;

-- name: ListInflightCreates :many
-- Records a publish marked as being created and whose outcome it never
-- recorded (it was cut off), in order.
SELECT * FROM records
WHERE workbook_id = @workbook_id AND table_id = @table_id AND state = 'created' AND inflight_sync_id IS NOT NULL
ORDER BY seq
LIMIT @max_records;

-- name: MarkInflight :exec
UPDATE records SET inflight_sync_id = @sync_id
WHERE workbook_id = @workbook_id AND table_id = @table_id AND id = ANY((@record_ids::text[])::uuid[]);

-- name: ClearInflight :exec
UPDATE records SET inflight_sync_id = NULL
WHERE workbook_id = @workbook_id AND table_id = @table_id AND id = ANY((@record_ids::text[])::uuid[]);

-- name: MarkCreated :many
-- Records a publish created at the source: their remote ids; they are now
-- clean, holding what was written. source_values (an object by column id,
-- one per record, '{}' when unknown) are the source's values of the new
-- record: they fill the fields left empty here, such as the key the source
-- assigned and its defaults.
UPDATE records r SET
    remote_id = c.remote_id,
    fields = c.source_values || r.fields,
    state = 'clean', original = NULL, edited_fields = '{}', inflight_sync_id = NULL,
    publish_errors = NULL, version = r.version + 1, updated_at = now()
FROM (SELECT unnest((@record_ids::text[])::uuid[]) AS id, unnest(@remote_ids::text[]) AS remote_id,
             unnest(@source_values::jsonb[]) AS source_values) c
WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = c.id AND r.state = 'created'
RETURNING r.id;

-- name: ListPublishUpdates :many
-- Records edited here, waiting to publish and still at the source, in
-- order; with edited_only, their fields hold only the edited fields'
-- values: all a publish reads of them (a record's other values are most of
-- its bytes). A record with one field edited, the usual case, gets it
-- without the subquery that gathers several (run once per record, it cost
-- more than reading the record).
SELECT r.workbook_id, r.table_id, r.id, r.seq, r.remote_id,
       (CASE WHEN NOT @edited_only::bool THEN r.fields
             WHEN cardinality(r.edited_fields) = 1 AND r.fields ? r.edited_fields[1]
             THEN jsonb_build_object(r.edited_fields[1], r.fields -> r.edited_fields[1])
             WHEN cardinality(r.edited_fields) = 1 THEN '{}'
             ELSE (SELECT coalesce(jsonb_object_agg(k, r.fields -> k), '{}') FROM unnest(r.edited_fields) k WHERE r.fields ? k)
        END)::jsonb AS fields,
       r.original, r.state, r.edited_fields, r.errors, r.version, r.created_at, r.updated_at,
       r.publish_errors, r.conflicts, r.source_deleted_at, r.inflight_sync_id
FROM records r
WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.state = 'updated'
  AND r.seq > @after_seq::bigint AND r.source_deleted_at IS NULL AND r.remote_id IS NOT NULL
ORDER BY r.seq
LIMIT @max_records;

-- name: MarkPublished :many
-- Records whose fields a publish wrote at the source: published (an object
-- by column id, one per record) is now what the source holds, so those
-- fields count as pulled; they stay edited only if they were edited again
-- meanwhile. Conflicts and errors of the published fields go.
--
-- A batch is hundreds of records of a table that may hold millions: each
-- record is found by its key, in a LATERAL subquery for the read and with
-- the key taken from the read rows for the write, so that the plan probes
-- records_pkey whatever the planner believes of the batch's and the
-- table's sizes (a hash join over the table's records was its choice, a
-- scan of every record per batch). The bodies of sp_edited_fields and
-- sp_sparse_original are written out: SQL functions that are not one
-- expression run through a function call of their own for each record,
-- about half of the statement's time. No row lock is taken first: the
-- caller holds the table's lock (workbooks.lockForRecords), as every writer
-- of records does, so no record changes between the read and the write.
WITH next AS MATERIALIZED (
    SELECT r.workbook_id, r.table_id, r.id, p.published, o.full_original, e.edited
    FROM (SELECT unnest((@record_ids::text[])::uuid[]) AS id, unnest(@published::jsonb[]) AS published) p
    CROSS JOIN LATERAL (
        SELECT r.workbook_id, r.table_id, r.id, r.state, r.fields, r.original, r.edited_fields FROM records r
        WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = p.id AND r.state = 'updated'
        LIMIT 1) r
    CROSS JOIN LATERAL (SELECT coalesce(r.original, '{}') || p.published AS full_original) o
    -- sp_edited_fields(r.state, r.fields, o.full_original, r.edited_fields)
    CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(c.k ORDER BY c.k), '{}') AS edited
        FROM (SELECT DISTINCT unnest(r.edited_fields) AS k) c
        WHERE nullif(r.fields -> c.k, 'null') IS DISTINCT FROM sp_pulled(r.state, r.fields, o.full_original, c.k)) e
)
UPDATE records r SET
    -- sp_sparse_original(n.full_original, n.edited)
    original = (SELECT nullif(coalesce(jsonb_object_agg(f.key, f.value), '{}'), '{}')
                FROM jsonb_each(n.full_original) f WHERE f.key = ANY(n.edited)),
    edited_fields = n.edited,
    state = sp_record_state(r.state, n.edited),
    conflicts = nullif(coalesce(r.conflicts, '{}') - ARRAY(SELECT jsonb_object_keys(n.published)), '{}'),
    publish_errors = nullif(coalesce(r.publish_errors, '{}') - ARRAY(SELECT jsonb_object_keys(n.published)) - '', '{}'),
    version = r.version + 1,
    updated_at = now()
FROM next n
WHERE r.workbook_id = n.workbook_id AND r.table_id = n.table_id AND r.id = n.id
RETURNING r.id;

-- name: MarkPublishedAsListed :many
-- MarkPublished for records still at the version a publish listed them at:
-- their published fields are then exactly the values they hold, so those
-- fields stop being edited without comparing a value, and the record is
-- clean when no other field is edited. The records not returned changed
-- since, and go through MarkPublished.
--
-- keys are each record's published column ids as an array literal
-- ('{"c_a","c_b"}'), read with a cast rather than taken from a jsonb
-- object by a subquery: a subquery, and the one that drops published
-- fields from edited_fields, run for every record, and made the settling
-- statement about half again as slow as its writes alone. Only records
-- with other fields still edited, conflicts or errors take the longer way.
UPDATE records r SET
    original = CASE WHEN r.original IS NOT NULL THEN nullif(r.original - p.keys, '{}') END,
    edited_fields = CASE WHEN r.edited_fields <@ p.keys THEN '{}'
                         ELSE ARRAY(SELECT k FROM unnest(r.edited_fields) k WHERE k <> ALL(p.keys) ORDER BY k) END,
    state = CASE WHEN r.edited_fields <@ p.keys THEN 'clean' ELSE 'updated' END,
    conflicts = CASE WHEN r.conflicts IS NOT NULL THEN nullif(r.conflicts - p.keys, '{}') END,
    publish_errors = CASE WHEN r.publish_errors IS NOT NULL THEN nullif(r.publish_errors - p.keys - '', '{}') END,
    version = r.version + 1,
    updated_at = now()
FROM (SELECT unnest((@record_ids::text[])::uuid[]) AS id, unnest(@versions::int[]) AS version,
             unnest(@keys::text[])::text[] AS keys) p
WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = p.id
  AND r.version = p.version AND r.state = 'updated'
RETURNING r.id;

-- name: SetConflicts :many
-- Fields a publish found changed at the source since the pull: their
-- source values become the records' conflicts (one object per record).
UPDATE records r SET
    conflicts = coalesce(r.conflicts, '{}') || c.conflicts,
    version = r.version + 1,
    updated_at = now()
FROM (SELECT unnest((@record_ids::text[])::uuid[]) AS id, unnest(@conflicts::jsonb[]) AS conflicts) c
WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = c.id
RETURNING r.id;

-- name: SetPublishErrors :many
-- Why records could not be written (an object per record, by column id, ""
-- for the record as a whole); the changes stay for a retry.
UPDATE records r SET
    publish_errors = c.errors, inflight_sync_id = NULL,
    version = r.version + 1,
    updated_at = now()
FROM (SELECT unnest((@record_ids::text[])::uuid[]) AS id, unnest(@errors::jsonb[]) AS errors) c
WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = c.id
RETURNING r.id;

-- name: MarkSourceDeleted :many
-- Edited records a publish found gone at the source.
UPDATE records SET source_deleted_at = now(), version = version + 1, updated_at = now()
WHERE workbook_id = @workbook_id AND table_id = @table_id AND id = ANY((@record_ids::text[])::uuid[]) AND source_deleted_at IS NULL
RETURNING id;

-- name: ListPublishDeletes :many
-- Records deleted here, in order.
SELECT r.* FROM records r
WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.state = 'deleted'
  AND r.seq > @after_seq::bigint
ORDER BY r.seq
LIMIT @max_records;

-- name: RemoveRecords :many
DELETE FROM records
WHERE workbook_id = @workbook_id AND table_id = @table_id AND id = ANY((@record_ids::text[])::uuid[])
RETURNING id;

-- name: RecordPublishChanges :exec
INSERT INTO publish_changes (sync_id, workbook_id, table_id, record_id, remote_id, action, before, after)
SELECT @sync_id, @workbook_id, @table_id, c.record_id, c.remote_id, c.action, c.before, c.after
FROM (SELECT unnest((@record_ids::text[])::uuid[]) AS record_id, unnest(@remote_ids::text[]) AS remote_id,
             unnest(@actions::text[]) AS action, unnest(@befores::jsonb[]) AS before, unnest(@afters::jsonb[]) AS after) c
ON CONFLICT (sync_id, table_id, record_id) DO UPDATE SET before = excluded.before, after = excluded.after;

-- name: ListPublishChanges :many
SELECT * FROM publish_changes
WHERE sync_id = @sync_id AND workbook_id = @workbook_id
ORDER BY table_id, record_id;

-- name: ResolveConflicts :many
-- Settles conflicts of the selected cells (keys: "record_id/column_id") or
-- of all the table's records. keep_mine: the source's value becomes the
-- pulled one, so the edit is published over it knowingly; otherwise the
-- record takes the source's value and the field is no longer edited.
WITH target AS (
    SELECT r.id, k AS field, r.conflicts -> k AS theirs
    FROM records r, jsonb_object_keys(r.conflicts) k
    WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.conflicts IS NOT NULL
      AND (@all_cells::bool OR (r.id::text || '/' || k) = ANY(@cell_keys::text[]))
    FOR UPDATE OF r
),
per_record AS (
    SELECT id, jsonb_object_agg(field, theirs) AS theirs, array_agg(field) AS fields FROM target GROUP BY id
),
next AS (
    SELECT r.id, t.fields AS resolved,
           CASE WHEN @keep_mine::bool THEN r.fields
                ELSE (r.fields - ARRAY(SELECT e.key FROM jsonb_each(t.theirs) e WHERE e.value = 'null'))
                     || (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}') FROM jsonb_each(t.theirs) e WHERE e.value <> 'null')
           END AS new_fields,
           coalesce(r.original, '{}') || t.theirs AS full_original,
           r.state, r.edited_fields, r.conflicts
    FROM records r JOIN per_record t ON t.id = r.id
    WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id
)
UPDATE records r SET
    fields = n.new_fields,
    original = sp_sparse_original(n.full_original, sp_edited_fields(n.state, n.new_fields, n.full_original, n.edited_fields)),
    edited_fields = sp_edited_fields(n.state, n.new_fields, n.full_original, n.edited_fields),
    state = sp_record_state(n.state, sp_edited_fields(n.state, n.new_fields, n.full_original, n.edited_fields)),
    conflicts = nullif(n.conflicts - n.resolved, '{}'),
    version = r.version + 1,
    updated_at = now()
FROM next n
WHERE r.workbook_id = @workbook_id AND r.table_id = @table_id AND r.id = n.id
RETURNING r.id, cardinality(n.resolved)::int AS cells;

-- name: RecreateSourceDeleted :many
-- Records deleted at the source while edited here, that the user wants
-- created again by the next publish.
UPDATE records SET
    state = 'created', remote_id = NULL, original = NULL, conflicts = NULL, source_deleted_at = NULL,
    edited_fields = ARRAY(SELECT k FROM jsonb_object_keys(fields) k WHERE k <> ALL(@scratch_ids::text[]) ORDER BY k),
    version = version + 1, updated_at = now()
WHERE workbook_id = @workbook_id AND table_id = @table_id AND source_deleted_at IS NOT NULL
  AND (@all_records::bool OR id = ANY((@record_ids::text[])::uuid[]))
RETURNING id;

-- name: DropSourceDeleted :many
DELETE FROM records
WHERE workbook_id = @workbook_id AND table_id = @table_id AND source_deleted_at IS NOT NULL
  AND (@all_records::bool OR id = ANY((@record_ids::text[])::uuid[]))
RETURNING id;

-- name: ListConflictRecords :many
-- Records in conflict with their source, or deleted there while edited
-- here, in order.
SELECT * FROM records
WHERE workbook_id = @workbook_id AND table_id = @table_id
  AND (conflicts IS NOT NULL OR source_deleted_at IS NOT NULL)
ORDER BY seq
LIMIT @max_records;
