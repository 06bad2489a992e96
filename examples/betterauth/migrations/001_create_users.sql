-- 001_create_users.sql: the core user authentication table.
-- Every other table hangs off users.id with ON DELETE CASCADE, so deleting a user
-- deletes their sessions and background rows with it.
--
-- Idempotent (IF NOT EXISTS), like the files run by hand with `psql -f`.

CREATE TABLE IF NOT EXISTS users (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),  -- built in since PostgreSQL 13
    email         VARCHAR(255) NOT NULL UNIQUE,
    password_hash VARCHAR(255) NOT NULL,                        -- bcrypt/argon2 hash, never the password
    created_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT NOW()           -- kept current by 006_create_triggers.sql
);

COMMENT ON TABLE users IS 'BetterAuth accounts: one row per user';
