-- +goose Up
-- On-demand trigram indexes are now built on lower(value), the expression
-- ILIKE, contains and starts_with compile to (filter.Compile writes
-- lower(x) LIKE lower(pattern), which is what PostgreSQL runs for ILIKE in
-- a UTF-8 database, without lowering the pattern for every row). Indexes
-- built on the bare value no longer serve any filter: they are dropped here,
-- and the next page that filters a column that way asks for the new one.
-- +goose StatementBegin
DO $$
DECLARE
    idx record;
BEGIN
    FOR idx IN SELECT name FROM record_indexes WHERE kind = 'trgm' LOOP
        EXECUTE format('DROP INDEX IF EXISTS %I', idx.name);
    END LOOP;
    DELETE FROM record_indexes WHERE kind = 'trgm';
END
$$;
-- +goose StatementEnd

-- +goose Down
-- The same the other way: trigram indexes on lower(value), and the
-- statistics on lower(value) that come with them (rl_…), serve nothing the
-- older compiler writes.
-- +goose StatementBegin
DO $$
DECLARE
    idx record;
BEGIN
    FOR idx IN SELECT name FROM record_indexes WHERE kind = 'trgm' LOOP
        EXECUTE format('DROP INDEX IF EXISTS %I', idx.name);
    END LOOP;
    DELETE FROM record_indexes WHERE kind = 'trgm';
    FOR idx IN SELECT stxname AS name FROM pg_statistic_ext WHERE stxname ~ '^rl_[0-9a-f]{24}$' LOOP
        EXECUTE format('DROP STATISTICS IF EXISTS %I', idx.name);
    END LOOP;
END
$$;
-- +goose StatementEnd
