-- +goose Up
-- Prompt assets (style guides, reference text people give the agent) and
-- the model keys of users: the ones they add themselves and the ones
-- provisioned for them through LLM_PROVISIONING_KEY. Keys are sealed by
-- internal/secrets (llm.SealUserKey, bound to the user) and never shown
-- again: only their hint is.

CREATE TABLE prompt_assets (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (name <> '' AND length(name) <= 200),
    -- Markdown, at most 200 KB.
    body         text NOT NULL CHECK (octet_length(body) <= 204800),
    -- Included in every agent message of the owner, not only when picked.
    auto_include boolean NOT NULL DEFAULT false,
    -- The page it was imported from, when it was.
    source_url   text CHECK (length(source_url) <= 2048),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prompt_assets_owner_idx ON prompt_assets (owner_id, lower(name), id);

-- A key a user added for the model endpoint (LLM_BASE_URL).
CREATE TABLE user_llm_keys (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed_key bytea NOT NULL,
    hint       text NOT NULL CHECK (length(hint) <= 64),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The key provisioned for a user; hash names it in the provisioning API,
-- where its monthly credit limit lives.
CREATE TABLE provisioned_llm_keys (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    key_hash   text NOT NULL CHECK (key_hash <> '' AND length(key_hash) <= 200),
    sealed_key bytea NOT NULL,
    hint       text NOT NULL CHECK (length(hint) <= 64),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE provisioned_llm_keys;
DROP TABLE user_llm_keys;
DROP TABLE prompt_assets;
