-- migrate:up
-- 0001_create_users.sql: user accounts with authentication (app/models/database_models.py).

CREATE TABLE users (
    id              SERIAL PRIMARY KEY,
    username        VARCHAR(50) UNIQUE NOT NULL,
    email           VARCHAR(255) UNIQUE NOT NULL,
    hashed_password VARCHAR(255) NOT NULL,       -- bcrypt ($2a$12$...), see seeds/0001_default_users.sql
    full_name       VARCHAR(100) NOT NULL,
    is_active       BOOLEAN DEFAULT true,
    is_admin        BOOLEAN DEFAULT false,
    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at      TIMESTAMP WITH TIME ZONE     -- set by the application on update
);

-- migrate:down
DROP TABLE users;
