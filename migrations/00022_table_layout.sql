-- +goose Up
-- How a person lays out a table's grid: column widths, column order and row
-- height, kept with the table next to its hidden columns. It is
-- presentation only: records, the API's column order and exports ignore it.
ALTER TABLE workbook_tables ADD COLUMN layout jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE workbook_tables DROP COLUMN layout;
