-- migrate:up
-- 0005_create_user_course_progress.sql: how far each user is in each course.
-- Deleting a user or a course deletes the progress rows with it.

CREATE TABLE user_course_progress (
    id               SERIAL PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    course_id        INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
    progress_percent INTEGER NOT NULL DEFAULT 0
                     CHECK (progress_percent BETWEEN 0 AND 100),
    completed_at     TIMESTAMP WITH TIME ZONE,   -- set when progress reaches 100
    updated_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    UNIQUE (user_id, course_id)                  -- also serves lookups by user_id
);

-- "Who is taking this course": the UNIQUE index above starts with user_id, not course_id.
CREATE INDEX idx_user_course_progress_course_id ON user_course_progress (course_id);

-- migrate:down
DROP TABLE user_course_progress;
