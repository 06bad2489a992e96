-- migrate:up
-- 0004_create_courses.sql: training courses/programs. Sample rows: seeds/0002_sample_courses.sql.

CREATE TABLE courses (
    id             SERIAL PRIMARY KEY,
    title          VARCHAR(200) NOT NULL,
    description    TEXT,
    level          VARCHAR(20) NOT NULL DEFAULT 'beginner'
                   CHECK (level IN ('beginner', 'intermediate', 'advanced')),
    duration_weeks INTEGER NOT NULL CHECK (duration_weeks > 0),
    created_at     TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

-- migrate:down
DROP TABLE courses;
