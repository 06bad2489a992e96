-- 005_create_indexes.sql: performance indexes.
-- (users.email, sessions.token and the background user_id columns already have the
-- indexes behind their UNIQUE constraints.)

-- Sessions: all sessions of a user (sign out everywhere), and the expiry cleanup
--   DELETE FROM sessions WHERE expires_at < NOW();
CREATE INDEX IF NOT EXISTS idx_sessions_user_id    ON sessions (user_id);
CREATE INDEX IF NOT EXISTS idx_sessions_expires_at ON sessions (expires_at);

-- Array searches such as  WHERE preferred_languages @> ARRAY['rust']  (also && and <@).
CREATE INDEX IF NOT EXISTS idx_software_background_languages
    ON software_background USING GIN (preferred_languages);
CREATE INDEX IF NOT EXISTS idx_software_background_frameworks
    ON software_background USING GIN (preferred_frameworks);
CREATE INDEX IF NOT EXISTS idx_hardware_background_platforms
    ON hardware_background USING GIN (preferred_platforms);
CREATE INDEX IF NOT EXISTS idx_hardware_background_device_types
    ON hardware_background USING GIN (device_types);

-- Reporting by experience level.
CREATE INDEX IF NOT EXISTS idx_software_background_experience
    ON software_background (experience_level);
CREATE INDEX IF NOT EXISTS idx_hardware_background_experience
    ON hardware_background (experience_level);
