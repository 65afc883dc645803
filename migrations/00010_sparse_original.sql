-- +goose Up
-- A sparse original. Since 00008 a record not edited since its pull stores
-- no original; the first edit then copied all of its values (a few
-- kilobytes of JSON) into original, so accepting a suggestion or filling a
-- column wrote every record twice over. From now on original holds only
-- the values as pulled of the fields changed since the pull, by column id
-- (JSON null for a field that had no value): the value as pulled of any
-- other field is its current value. For a record created here original
-- stays NULL, meaning "never pulled". A NULL original on any other record is
-- the empty object: nothing changed since the pull. Statements that change
-- fields record the values they replace first (sp_touch_original), reading
-- the old row; a field recorded once keeps its recorded value.

-- sp_pulled reads the value as pulled of field k (NULL: no value, or never
-- pulled). A plain expression, so PostgreSQL inlines it where it is used.
-- +goose StatementBegin
CREATE FUNCTION sp_pulled(state text, fields jsonb, original jsonb, k text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT nullif(CASE
        WHEN state = 'created' THEN NULL
        WHEN original ? k THEN original -> k
        ELSE fields -> k
    END, 'null')
$$;
-- +goose StatementEnd

-- sp_original returns all the values as pulled (NULL for a record created
-- here), for reads that want the whole picture, such as publishing.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION sp_original(state text, fields jsonb, original jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN state = 'created' THEN NULL
                ELSE fields || coalesce(original, '{}') END
$$;
-- +goose StatementEnd

-- sp_add_original records befores (the values some fields had before a
-- change, by column id, JSON null for none) in a record's original, except
-- for fields it has recorded already: those keep the value as pulled. With
-- nothing to record (a change of scratch columns only) the original stays
-- as it is, NULL included.
-- +goose StatementBegin
CREATE FUNCTION sp_add_original(state text, original jsonb, befores jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN state = 'created' OR befores = '{}' THEN original
                ELSE befores || coalesce(original, '{}') END
$$;
-- +goose StatementEnd

-- sp_touch_original is sp_add_original with the befores read from fields,
-- the values before the change, for the fields named in keys.
-- +goose StatementBegin
CREATE FUNCTION sp_touch_original(state text, fields jsonb, original jsonb, keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT sp_add_original(state, original, coalesce(
        (SELECT jsonb_object_agg(k, coalesce(fields -> k, 'null')) FROM unnest(keys) k), '{}'))
$$;
-- +goose StatementEnd

-- sp_edited_fields returns, sorted, the keys among candidates whose current
-- value differs from the value as pulled (a JSON null counts as no value),
-- given the record's original as it is after the change. The rule "edited
-- means different from what was pulled" lives here and in sp_pulled, and
-- is written out once more in AcceptUpdateSuggestions (queries/
-- suggestions.sql), where calling this function cost 4 us a record.
DROP FUNCTION sp_edited_fields(jsonb, jsonb, text[]);
-- +goose StatementBegin
CREATE FUNCTION sp_edited_fields(state text, fields jsonb, original jsonb, candidates text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(k ORDER BY k), '{}')
    FROM (SELECT DISTINCT unnest(candidates) AS k) c
    WHERE nullif(fields -> k, 'null') IS DISTINCT FROM sp_pulled(state, fields, original, k)
$$;
-- +goose StatementEnd

-- Stored full originals become sparse: only the fields that differ.
UPDATE records r SET original = (
    SELECT nullif(coalesce(jsonb_object_agg(k, coalesce(r.original -> k, 'null')), '{}'), '{}')
    FROM (SELECT jsonb_object_keys(r.fields) UNION SELECT jsonb_object_keys(r.original)) ks (k)
    WHERE nullif(r.fields -> k, 'null') IS DISTINCT FROM nullif(r.original -> k, 'null'))
WHERE r.original IS NOT NULL AND r.state <> 'created';

-- The audit trail checks its table and actor from the parent side. A foreign
-- key checks every inserted row, which for a bulk accept or fill of 100,000
-- cells was two lookups a row (about an eighth of the statement); every
-- writer of record_changes holds its table's row lock (workbooks.lockTable),
-- so the table cannot go away under it, and the actor is the signed-in user.
ALTER TABLE record_changes DROP CONSTRAINT record_changes_workbook_id_table_id_fkey,
                           DROP CONSTRAINT record_changes_actor_id_fkey;
-- The actor's entries are found when the user is deleted. Most entries of a
-- table share one actor, which btree deduplication stores compactly.
CREATE INDEX record_changes_actor_idx ON record_changes (actor_id) WHERE actor_id IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION sp_record_changes_table_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM record_changes WHERE workbook_id = OLD.workbook_id AND table_id = OLD.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER record_changes_table_deleted AFTER DELETE ON workbook_tables
    FOR EACH ROW EXECUTE FUNCTION sp_record_changes_table_deleted();

-- +goose StatementBegin
CREATE FUNCTION sp_record_changes_actor_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE record_changes SET actor_id = NULL WHERE actor_id = OLD.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER record_changes_actor_deleted AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION sp_record_changes_actor_deleted();

-- +goose Down
DROP TRIGGER record_changes_actor_deleted ON users;
DROP FUNCTION sp_record_changes_actor_deleted();
DROP TRIGGER record_changes_table_deleted ON workbook_tables;
DROP FUNCTION sp_record_changes_table_deleted();
DROP INDEX record_changes_actor_idx;
UPDATE record_changes c SET actor_id = NULL
WHERE actor_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = c.actor_id);
DELETE FROM record_changes c
WHERE NOT EXISTS (SELECT 1 FROM workbook_tables t WHERE t.workbook_id = c.workbook_id AND t.id = c.table_id);
ALTER TABLE record_changes
    ADD FOREIGN KEY (workbook_id, table_id) REFERENCES workbook_tables (workbook_id, id) ON DELETE CASCADE,
    ADD FOREIGN KEY (actor_id) REFERENCES users (id) ON DELETE SET NULL;

-- Sparse originals become full ones again (00008's convention).
UPDATE records SET original = fields || original
WHERE original IS NOT NULL AND state <> 'created';

DROP FUNCTION sp_edited_fields(text, jsonb, jsonb, text[]);
-- +goose StatementBegin
CREATE FUNCTION sp_edited_fields(fields jsonb, original jsonb, candidates text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(k ORDER BY k), '{}')
    FROM (SELECT DISTINCT unnest(candidates) AS k) c
    WHERE nullif(fields -> k, 'null') IS DISTINCT FROM nullif(original -> k, 'null')
$$;
-- +goose StatementEnd
DROP FUNCTION sp_touch_original(text, jsonb, jsonb, text[]);
DROP FUNCTION sp_add_original(text, jsonb, jsonb);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION sp_original(state text, fields jsonb, original jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN original IS NULL AND state <> 'created' THEN fields ELSE original END $$;
-- +goose StatementEnd
DROP FUNCTION sp_pulled(text, jsonb, jsonb, text);
