-- +goose Up
-- Sign-in failures are kept under bounded keys (internal/accounts,
-- throttleKeys): the lowercased email, or a digest of it when it is longer
-- than any address can be, and the client's address (an IPv6 client's /64).
-- A 3 KB email or X-Forwarded-For used to fail the index insert, so the
-- failure went unrecorded and the throttle never engaged; the checks keep
-- the table to the bounded shape. Failures are now counted per email and
-- address together, per address, and per email, so the lookup index leads
-- with the email and then the address.
DELETE FROM login_failures WHERE length(email) > 254 OR length(ip) > 64;
ALTER TABLE login_failures
    ADD CONSTRAINT login_failures_email_len CHECK (length(email) <= 254),
    ADD CONSTRAINT login_failures_ip_len CHECK (length(ip) <= 64);
DROP INDEX login_failures_email_idx;
CREATE INDEX login_failures_email_ip_idx ON login_failures (email, ip, failed_at);

-- +goose Down
DROP INDEX login_failures_email_ip_idx;
CREATE INDEX login_failures_email_idx ON login_failures (lower(email), failed_at);
ALTER TABLE login_failures
    DROP CONSTRAINT login_failures_ip_len,
    DROP CONSTRAINT login_failures_email_len;
