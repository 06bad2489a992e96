-- migrate:up
-- 002_add_username_nullable_password.sql: bring the table to the current User model.
--   AttributeError: 'User' object has no attribute 'username'
--   IntegrityError: null value in column "password_hash" violates not-null constraint
-- Safe whichever state the database is in (the document's "may exist" / "unknown" columns):
-- ADD COLUMN IF NOT EXISTS skips a column that is already there, and DROP NOT NULL on a
-- nullable column does nothing.

ALTER TABLE users ADD COLUMN IF NOT EXISTS username VARCHAR(255);    -- nullable: backward compatible
ALTER TABLE users ADD COLUMN IF NOT EXISTS full_name VARCHAR(255);   -- nullable
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;          -- MVP users without a password

-- migrate:down
-- NOT NULL can only come back once no row breaks it: users created without a password get an
-- empty hash, which matches no password. full_name stays: 001 already has it.
UPDATE users SET password_hash = '' WHERE password_hash IS NULL;
ALTER TABLE users ALTER COLUMN password_hash SET NOT NULL;
ALTER TABLE users DROP COLUMN IF EXISTS username;
