-- +goose Up
-- The expression indexes the record store builds on demand for big tables
-- (internal/recordindex). Each is a partial index on records over
-- one column's typed value (filter.ValueExpr) for one table, built with
-- CREATE INDEX CONCURRENTLY by a River job, so this table is the only record
-- of which exist and in what state. Rows outlive their table on purpose: a
-- deleted table or column marks its indexes 'dropping' (triggers below) and
-- the drop job removes them with DROP INDEX CONCURRENTLY, which cannot run
-- in the deleting transaction.
CREATE TABLE record_indexes (
    workbook_id uuid NOT NULL,
    table_id    uuid NOT NULL,
    column_id   text NOT NULL,
    -- asc and desc are btree indexes on (value, seq) serving sorts in that
    -- direction (and equality or range filters); trgm is a GIN trigram index
    -- for LIKE, ILIKE and contains on text.
    kind        text NOT NULL CHECK (kind IN ('asc', 'desc', 'trgm')),
    -- The column type the index expression was built for.
    column_type text NOT NULL,
    -- The index name, derived from the ids above: never user text.
    name        text NOT NULL UNIQUE CHECK (name ~ '^ri_[0-9a-f]{24}$'),
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'ready', 'failed', 'dropping')),
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    ready_at    timestamptz,
    PRIMARY KEY (workbook_id, table_id, column_id, kind)
);
CREATE INDEX record_indexes_dropping_idx ON record_indexes (name) WHERE status = 'dropping';

-- A deleted table (also by its workbook's deletion) takes its indexes along.
-- +goose StatementBegin
CREATE FUNCTION sp_record_indexes_table_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE record_indexes SET status = 'dropping'
    WHERE workbook_id = OLD.workbook_id AND table_id = OLD.id AND status <> 'dropping';
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER record_indexes_table_deleted AFTER DELETE ON workbook_tables
    FOR EACH ROW EXECUTE FUNCTION sp_record_indexes_table_deleted();

-- A removed column, or one whose type changed, takes its indexes along.
-- +goose StatementBegin
CREATE FUNCTION sp_record_indexes_columns_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE record_indexes ri SET status = 'dropping'
    WHERE ri.workbook_id = NEW.workbook_id AND ri.table_id = NEW.id AND ri.status <> 'dropping'
      AND NOT EXISTS (
          SELECT 1 FROM jsonb_array_elements(NEW.columns) c
          WHERE c ->> 'id' = ri.column_id AND c ->> 'type' = ri.column_type);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER record_indexes_columns_changed AFTER UPDATE OF columns ON workbook_tables
    FOR EACH ROW WHEN (OLD.columns IS DISTINCT FROM NEW.columns)
    EXECUTE FUNCTION sp_record_indexes_columns_changed();

-- The "has suggestions" quick filter starts from a table's suggestions.
CREATE INDEX suggestions_record_idx ON suggestions (workbook_id, table_id, record_id);

-- +goose Down
DROP INDEX suggestions_record_idx;
DROP TRIGGER record_indexes_columns_changed ON workbook_tables;
DROP FUNCTION sp_record_indexes_columns_changed();
DROP TRIGGER record_indexes_table_deleted ON workbook_tables;
DROP FUNCTION sp_record_indexes_table_deleted();
DROP TABLE record_indexes;
