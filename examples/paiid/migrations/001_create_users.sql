-- migrate:up
-- 001_create_users.sql: the users table as SQLAlchemy's Base.metadata.create_all() made it
-- for the older model (no username column, password_hash NOT NULL).
--
-- Idempotent on purpose: on a database create_all already built, every statement is a no-op,
-- so `shale up` adopts that database without failing on "relation already exists".
-- (Otherwise mark it as applied without running it: `shale baseline 1`.)

CREATE TABLE IF NOT EXISTS users (
    id            SERIAL PRIMARY KEY,
    email         VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    full_name     VARCHAR(255),
    role          VARCHAR(50) NOT NULL DEFAULT 'personal_only',  -- role-based access control
    is_active     BOOLEAN NOT NULL DEFAULT true
);

-- create_all's names for Column(..., index=True); unique=True + index=True gives a UNIQUE index.
CREATE UNIQUE INDEX IF NOT EXISTS ix_users_email ON users (email);
CREATE INDEX IF NOT EXISTS ix_users_id ON users (id);
CREATE INDEX IF NOT EXISTS ix_users_role ON users (role);
CREATE INDEX IF NOT EXISTS ix_users_is_active ON users (is_active);

-- migrate:down
-- WARNING: deletes every user account.
DROP TABLE IF EXISTS users;
