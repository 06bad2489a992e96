-- migrate:up
-- 0002_create_training_profiles.sql: a user's training preferences and health information,
-- one profile per user. The columns are the document's; deleting a user deletes the profile.

CREATE TABLE training_profiles (
    id                      SERIAL PRIMARY KEY,
    user_id                 INTEGER UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    gender                  VARCHAR(10),
    age                     INTEGER,
    height_cm               INTEGER,
    weight_kg               FLOAT,
    training_goals          JSON,                -- e.g. ["muscle_gain", "endurance"]
    training_level          VARCHAR(20),
    frequency_last_3_months VARCHAR(30),
    training_location       VARCHAR(20),
    location_details        VARCHAR(30),
    session_duration        VARCHAR(20),
    joint_back_problems     BOOLEAN,
    chronic_conditions      BOOLEAN,
    health_details          TEXT,
    -- How much the user likes each kind of training (the questionnaire's rating scale).
    strength_training       INTEGER,
    cardio                  INTEGER,
    hiit                    INTEGER,
    yoga_pilates            INTEGER,
    functional_training     INTEGER,
    stretching              INTEGER,
    created_at              TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at              TIMESTAMP WITH TIME ZONE
);

-- migrate:down
DROP TABLE training_profiles;
