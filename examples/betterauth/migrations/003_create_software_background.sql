-- 003_create_software_background.sql: a user's software development background,
-- asked for at sign-up to personalise content. At most one row per user (user_id UNIQUE).

CREATE TABLE IF NOT EXISTS software_background (
    id                   UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id              UUID NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    experience_level     VARCHAR(20) NOT NULL
                         CHECK (experience_level IN ('beginner', 'intermediate', 'advanced')),
    preferred_languages  TEXT[] NOT NULL DEFAULT '{}',   -- e.g. {python,rust}; GIN-indexed in 005
    preferred_frameworks TEXT[] NOT NULL DEFAULT '{}',   -- e.g. {ros2,pytorch}; GIN-indexed in 005
    created_at           TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
