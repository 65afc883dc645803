-- +goose Up
-- Exact record counts per table (issue 11). A table was sized from the
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

LOCK TABLE records IN SHARE MODE;
INSERT INTO table_sizes (workbook_id, table_id, records)
SELECT r.workbook_id, r.table_id, count(*) FROM records r
WHERE EXISTS (SELECT 1 FROM workbook_tables t WHERE t.workbook_id = r.workbook_id AND t.id = r.table_id)
GROUP BY 1, 2;

CREATE TRIGGER table_sizes_inserted AFTER INSERT ON records
    REFERENCING NEW TABLE AS sp_inserted_records
    FOR EACH STATEMENT EXECUTE FUNCTION sp_table_sizes_inserted();
CREATE TRIGGER table_sizes_deleted AFTER DELETE ON records
    REFERENCING OLD TABLE AS sp_deleted_records
    FOR EACH STATEMENT EXECUTE FUNCTION sp_table_sizes_deleted();

-- +goose Down
DROP TRIGGER table_sizes_deleted ON records;
DROP TRIGGER table_sizes_inserted ON records;
DROP FUNCTION sp_table_sizes_deleted();
DROP FUNCTION sp_table_sizes_inserted();
DROP TABLE table_sizes;
