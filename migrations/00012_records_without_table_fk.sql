-- +goose Up
-- Records check their table from the parent side, as the audit trail does
-- since 00010. The foreign key from records to workbook_tables looked the
-- table up for every inserted row, at the end of each statement: 5,000
-- lookups at the end of each import batch, during which the importer could
-- only wait (about 15% of an import of 100,000 rows; README, Benchmarks).
-- Every writer of records holds its table's row lock instead: the record
-- store's statements through workbooks.lockTable, each import batch with
-- LockImportTable. Neither can then add records to a table being deleted,
-- and a table's deletion takes its records along (the trigger below does
-- what ON DELETE CASCADE did).
ALTER TABLE records DROP CONSTRAINT records_workbook_id_table_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION sp_records_table_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM records WHERE workbook_id = OLD.workbook_id AND table_id = OLD.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER records_table_deleted AFTER DELETE ON workbook_tables
    FOR EACH ROW EXECUTE FUNCTION sp_records_table_deleted();

-- +goose Down
DROP TRIGGER records_table_deleted ON workbook_tables;
DROP FUNCTION sp_records_table_deleted();
DELETE FROM records r
WHERE NOT EXISTS (SELECT 1 FROM workbook_tables t WHERE t.workbook_id = r.workbook_id AND t.id = r.table_id);
ALTER TABLE records ADD CONSTRAINT records_workbook_id_table_id_fkey
    FOREIGN KEY (workbook_id, table_id) REFERENCES workbook_tables (workbook_id, id) ON DELETE CASCADE;
