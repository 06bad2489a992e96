-- 0002_sample_courses.sql: a few courses to click through in development.
-- Idempotent: a course whose title exists already is not inserted again.

INSERT INTO courses (title, description, level, duration_weeks)
SELECT v.title, v.description, v.level, v.duration_weeks
FROM (VALUES
    ('Strength Foundations', 'Full-body strength training three times a week: squat, hinge, push, pull.', 'beginner', 8),
    ('Couch to 5K', 'Run-walk intervals building up to a continuous 5 km run.', 'beginner', 9),
    ('HIIT Express', 'Twenty-minute high-intensity interval sessions, no equipment needed.', 'intermediate', 4),
    ('Mobility and Yoga Flow', 'Daily stretching and yoga to ease joints and back.', 'beginner', 6),
    ('Hypertrophy Split', 'Four-day upper/lower split for muscle gain.', 'advanced', 12)
) AS v (title, description, level, duration_weeks)
WHERE NOT EXISTS (SELECT 1 FROM courses c WHERE c.title = v.title);
