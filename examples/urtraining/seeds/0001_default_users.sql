-- 0001_default_users.sql: the document's two default accounts (what init_db.py created).
--
--   admin / 123        admin@example.com   administrator
--   user  / password   user@example.com    regular user
--
-- WARNING: these are well-known passwords. Use them on a development machine only, and change
-- them (or delete the accounts) on anything reachable from outside.
--
-- Passwords are hashed in the database with pgcrypto's bcrypt at cost 12 ($2a$12$...), which
-- passlib/bcrypt in the application verify as usual. Re-running this file changes nothing:
-- existing usernames are left alone.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

INSERT INTO users (username, email, hashed_password, full_name, is_active, is_admin)
VALUES
    ('admin', 'admin@example.com', crypt('123', gen_salt('bf', 12)), 'Administrator', true, true),
    ('user', 'user@example.com', crypt('password', gen_salt('bf', 12)), 'Regular User', true, false)
ON CONFLICT (username) DO NOTHING;
