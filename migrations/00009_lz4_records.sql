-- +goose Up
-- Record values are compressed with LZ4 instead of PostgreSQL's default pglz.
-- A record's values (a few kilobytes of JSON with bodies of prose) are
-- compressed on every write that changes them (an import, an edit, accepting
-- suggestions) and decompressed on every read (a grid page, a filter that
-- PostgreSQL evaluates row by row): LZ4 does both several times faster, which
-- the import, accept-all and grid benchmarks measure (README, Benchmarks).
-- Values already stored keep their compression until they are next written.
-- A server built without LZ4 keeps pglz: the change is a speed-up, not a
-- requirement.
-- +goose StatementBegin
DO $$
BEGIN
    ALTER TABLE records ALTER COLUMN fields SET COMPRESSION lz4,
                        ALTER COLUMN original SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL server has no LZ4 support: record values stay compressed with pglz';
END
$$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE records ALTER COLUMN fields SET COMPRESSION default,
                    ALTER COLUMN original SET COMPRESSION default;
