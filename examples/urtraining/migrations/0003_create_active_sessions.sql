-- migrate:up
-- 0003_create_active_sessions.sql: JWT sessions stored server side, so a token can be revoked
-- (POST /auth/logout deletes its row) and expired ones cleaned up.

CREATE TABLE active_sessions (
    id         SERIAL PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token      VARCHAR(512) NOT NULL UNIQUE,     -- the JWT (or its hash)
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

-- A user's sessions (list them, log out everywhere).
CREATE INDEX idx_active_sessions_user_id ON active_sessions (user_id);
-- The periodic cleanup:  DELETE FROM active_sessions WHERE expires_at < NOW();
CREATE INDEX idx_active_sessions_expires_at ON active_sessions (expires_at);

-- migrate:down
DROP TABLE active_sessions;
