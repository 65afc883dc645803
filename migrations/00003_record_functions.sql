-- +goose Up
-- Typed accessors for record values. Records keep their values as JSONB keyed
-- by column id; filters, ORDER BY and the expression indexes the record store
-- builds on demand all read a number or boolean through these functions, so
-- the expressions match textually and a stray value of the wrong JSON type
-- reads as NULL instead of failing the whole query.

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION sp_num(v jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN jsonb_typeof(v) = 'number' THEN (v #>> '{}')::numeric END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION sp_bool(v jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN jsonb_typeof(v) = 'boolean' THEN (v #>> '{}')::boolean END $$;
-- +goose StatementEnd

-- Trigram indexes make contains/ILIKE filters on text columns fast.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- +goose Down
DROP FUNCTION IF EXISTS sp_bool(jsonb);
DROP FUNCTION IF EXISTS sp_num(jsonb);
-- pg_trgm stays: other objects may depend on it and it is harmless.
