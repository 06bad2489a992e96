-- 004_create_hardware_background.sql: a user's hardware development background.
-- At most one row per user (user_id UNIQUE).

CREATE TABLE IF NOT EXISTS hardware_background (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             UUID NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    experience_level    VARCHAR(20) NOT NULL
                        CHECK (experience_level IN ('beginner', 'intermediate', 'advanced')),
    preferred_platforms TEXT[] NOT NULL DEFAULT '{}',    -- e.g. {arduino,raspberry-pi,jetson}
    device_types        TEXT[] NOT NULL DEFAULT '{}',    -- e.g. {microcontroller,fpga,gpu}
    created_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
