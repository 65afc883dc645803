-- +goose Up
-- A lazy original. A record pulled or imported and not edited since holds
-- the same values in fields and original, so writing both doubles the JSON an
-- import or a pull writes (and pushes long rows past the TOAST threshold,
-- into compression). From now on a NULL original on a record whose state is
-- not 'created' means "the original equals the current fields"; records
-- created here keep a NULL original meaning "none". sp_original reads the
-- original under that convention, and every statement that changes fields
-- first materializes it (original = sp_original(state, fields, original),
-- reading the old row) and compares against it, so an edit never loses the
-- values as pulled. Statements that leave fields alone (delete, restore) need
-- nothing. Existing rows with an explicit original stay valid as they are.

-- +goose StatementBegin
CREATE FUNCTION sp_original(state text, fields jsonb, original jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN original IS NULL AND state <> 'created' THEN fields ELSE original END $$;
-- +goose StatementEnd

-- Imports now COPY straight into records (one JSON value per row, nothing
-- to copy twice), so the staging table of 00005 has no use left.
DROP TABLE import_batches;

-- +goose Down
CREATE UNLOGGED TABLE import_batches (
    upload_id uuid NOT NULL,
    n         int NOT NULL,
    fields    jsonb NOT NULL,
    errors    jsonb NOT NULL,
    remote_id text,
    PRIMARY KEY (upload_id, n)
);
-- Rolling back must not lose the values as pulled of untouched records.
UPDATE records SET original = fields WHERE original IS NULL AND state <> 'created';
DROP FUNCTION sp_original(text, jsonb, jsonb);
