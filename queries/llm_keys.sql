-- name: SetUserLLMKey :exec
INSERT INTO user_llm_keys (user_id, sealed_key, hint) VALUES (@user_id, @sealed_key, @hint)
ON CONFLICT (user_id) DO UPDATE SET sealed_key = EXCLUDED.sealed_key, hint = EXCLUDED.hint, created_at = now();

-- name: GetUserLLMKey :one
SELECT * FROM user_llm_keys WHERE user_id = @user_id;

-- name: DeleteUserLLMKey :execrows
DELETE FROM user_llm_keys WHERE user_id = @user_id;

-- name: InsertProvisionedLLMKey :execrows
-- Two requests may provision at once: the first row stays, and the loser
-- deletes its key at the provider.
INSERT INTO provisioned_llm_keys (user_id, key_hash, sealed_key, hint) VALUES (@user_id, @key_hash, @sealed_key, @hint)
ON CONFLICT (user_id) DO NOTHING;

-- name: GetProvisionedLLMKey :one
SELECT * FROM provisioned_llm_keys WHERE user_id = @user_id;

-- name: ListProvisionedLLMKeys :many
SELECT * FROM provisioned_llm_keys WHERE user_id = ANY(@user_ids::uuid[]);

-- name: UserLLMKeysToRotate :many
-- Batches of sealed keys, for `scratchpad secrets rotate`.
SELECT user_id, sealed_key FROM user_llm_keys WHERE user_id > @after_id ORDER BY user_id LIMIT 200;

-- name: ResealUserLLMKey :exec
UPDATE user_llm_keys SET sealed_key = @sealed_key WHERE user_id = @user_id AND sealed_key = @old_sealed_key;

-- name: ProvisionedLLMKeysToRotate :many
SELECT user_id, sealed_key FROM provisioned_llm_keys WHERE user_id > @after_id ORDER BY user_id LIMIT 200;

-- name: ResealProvisionedLLMKey :exec
UPDATE provisioned_llm_keys SET sealed_key = @sealed_key WHERE user_id = @user_id AND sealed_key = @old_sealed_key;
