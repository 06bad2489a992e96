//! Acceptance tests for the example projects under examples/ (the seed documents), against a real
//! PostgreSQL: apply from empty, run each document's own verification queries, re-apply as a
//! no-op, revert where the layout has downs, apply again. (examples/dht is covered in migrate.rs.)
//! And each example's README shows the schema picture `shale erd` draws of its migrations now.

use crate::common;

use std::path::Path;

use common::Project;
use shale_testkit::shared_cluster;

fn example_dir(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name)
}

/// Copies every file of `examples/<name>/<sub>` into the project's `<sub>` directory.
fn copy(p: &Project, name: &str, sub: &str) {
    let to = p.path().join(sub);
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(example_dir(name).join(sub)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn project(name: &str) -> Project {
    let p = Project::new(&format!("ex_{name}"));
    copy(&p, name, "migrations");
    p
}

fn steps(run: common::Run) -> Vec<String> {
    run.ok().json()["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
}

/// A second `up` runs nothing and writes nothing.
#[track_caller]
fn up_again_is_a_noop(p: &Project) {
    let before = p.history().len();
    let again = p.shale(&["up"]).ok();
    assert!(again.stdout.contains("nothing to apply"), "{}", again.stdout);
    assert_eq!(p.history().len(), before, "a no-op up writes nothing");
}

/// `down --all` leaves only the history; `up` rebuilds the same tables.
#[track_caller]
fn down_all_then_up(p: &Project, migrations: usize) {
    let tables = p.tables();
    assert_eq!(steps(p.shale(&["down", "--all", "--json"])).len(), migrations);
    assert_eq!(p.tables(), ["shale_migrations"]);
    assert_eq!(steps(p.shale(&["up", "--json"])).len(), migrations);
    assert_eq!(p.tables(), tables);
}

#[test]
fn textbook_profile_queries_from_the_document() {
    let p = project("textbook");
    assert_eq!(steps(p.shale(&["up", "--json"])), ["add_profile"]);
    assert_eq!(p.tables(), ["sessions", "shale_migrations", "users"]);
    assert_eq!(
        p.psql(
            "SELECT table_name FROM information_schema.tables
             WHERE table_schema = 'public' AND table_name = 'users'"
        ),
        "users"
    );
    assert_eq!(
        p.psql(
            "SELECT column_name, data_type FROM information_schema.columns
             WHERE table_name = 'users' AND column_name = 'profile'"
        ),
        "profile|jsonb"
    );
    assert_eq!(
        p.psql("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%USING gin (profile)%'"),
        "idx_users_profile"
    );

    let profile = |rtx: bool, jetson: bool, robot: bool, level: &str| {
        format!(
            r#"{{"hasRTX": {rtx}, "hasJetson": {jetson}, "hasRobot": {robot}, "experience": "{level}", "profile_version": 1, "created_at": "2025-12-06T10:00:00Z"}}"#
        )
    };
    p.psql(&format!(
        "INSERT INTO users (email, password_hash, profile) VALUES
           ('a@example.com', 'h', '{}'), ('b@example.com', 'h', '{}'), ('c@example.com', 'h', '{}'),
           ('d@example.com', 'h', '{}'), ('e@example.com', 'h', '{}')",
        profile(true, false, false, "beginner"),
        profile(true, true, false, "advanced"),
        profile(false, true, true, "advanced"),
        profile(false, false, false, "intermediate"),
        profile(true, false, true, "advanced"),
    ));
    // The document's example queries.
    assert_eq!(
        p.psql(
            "SELECT email, profile->>'hasRTX' as has_rtx FROM users
             WHERE profile->>'hasRTX' = 'true' ORDER BY email"
        ),
        "a@example.com|true\nb@example.com|true\ne@example.com|true"
    );
    assert_eq!(
        p.psql(
            "SELECT email, profile->>'experience' as experience FROM users
             WHERE profile->>'experience' = 'advanced' AND profile->>'hasJetson' = 'true'
             ORDER BY email"
        ),
        "b@example.com|advanced\nc@example.com|advanced"
    );
    assert_eq!(
        p.psql(
            "SELECT profile->>'experience' as level, COUNT(*) FROM users
             GROUP BY profile->>'experience' ORDER BY 1"
        ),
        "advanced|3\nbeginner|1\nintermediate|1"
    );
    assert_eq!(
        p.psql(
            "SELECT COUNT(*) FILTER (WHERE profile->>'hasRTX' = 'true') as rtx_users,
                    COUNT(*) FILTER (WHERE profile->>'hasJetson' = 'true') as jetson_users,
                    COUNT(*) FILTER (WHERE profile->>'hasRobot' = 'true') as robot_users
             FROM users"
        ),
        "3|2|2"
    );
    // A user's sessions go with the user.
    p.psql(
        "INSERT INTO sessions (user_id, token, expires_at)
           SELECT id, 'jwt-' || email, now() + interval '1 day' FROM users WHERE email < 'c';
         DELETE FROM users WHERE email = 'a@example.com'",
    );
    assert_eq!(p.psql("SELECT token FROM sessions"), "jwt-b@example.com");

    up_again_is_a_noop(&p);
    down_all_then_up(&p, 1);
}

#[test]
fn betterauth_verification_from_the_document() {
    let p = project("betterauth");
    // The example's shale.toml takes the URL from NEON_DB_URL, as the document's .env does.
    std::fs::copy(example_dir("betterauth").join("shale.toml"), p.path().join("shale.toml")).unwrap();
    let out = p.bare().env("NEON_DB_URL", &p.db.url).args(["up", "--json"]).output().unwrap();
    assert_eq!(
        steps(out.into()),
        [
            "create_users",
            "create_sessions",
            "create_software_background",
            "create_hardware_background",
            "create_indexes",
            "create_triggers"
        ]
    );
    assert_eq!(p.tables(), ["hardware_background", "sessions", "shale_migrations", "software_background", "users"]);
    // \di: GIN on the four arrays, and the session token and expiry indexes.
    assert_eq!(
        p.psql(
            "SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%USING gin%' OR tablename = 'sessions' ORDER BY 1"
        ),
        "idx_hardware_background_device_types\nidx_hardware_background_platforms\nidx_sessions_expires_at\n\
         idx_sessions_user_id\nidx_software_background_frameworks\nidx_software_background_languages\n\
         sessions_pkey\nsessions_token_key"
    );
    assert_eq!(
        p.psql("SELECT tgname, tgrelid::regclass FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"),
        "update_hardware_background_updated_at|hardware_background\n\
         update_sessions_updated_at|sessions\n\
         update_software_background_updated_at|software_background\n\
         update_users_updated_at|users"
    );
    assert_eq!(
        p.psql(
            "SELECT count(*) FROM pg_trigger WHERE pg_get_triggerdef(oid)
             LIKE '% BEFORE UPDATE ON % FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()'"
        ),
        "4"
    );

    p.psql(
        "INSERT INTO users (email, password_hash, created_at, updated_at) VALUES
           ('ada@example.com', 'h', '2020-01-01', '2020-01-01'),
           ('bob@example.com', 'h', '2020-01-01', '2020-01-01');
         INSERT INTO software_background (user_id, experience_level, preferred_languages, preferred_frameworks)
           SELECT id, 'advanced', '{rust,python}', '{ros2}' FROM users WHERE email = 'ada@example.com';
         INSERT INTO software_background (user_id, experience_level, preferred_languages)
           SELECT id, 'beginner', '{python}' FROM users WHERE email = 'bob@example.com';
         INSERT INTO hardware_background (user_id, experience_level, preferred_platforms, device_types)
           SELECT id, 'intermediate', '{jetson}', '{gpu}' FROM users WHERE email = 'ada@example.com';
         INSERT INTO sessions (user_id, token, expires_at)
           SELECT id, 'tok-ada', now() + interval '7 days' FROM users WHERE email = 'ada@example.com'",
    );
    // The trigger sets updated_at on UPDATE; the rows not updated keep theirs.
    p.psql("UPDATE users SET email = 'ada@lovelace.dev' WHERE email = 'ada@example.com'");
    assert_eq!(
        p.psql(
            "SELECT email, updated_at > created_at, updated_at > now() - interval '1 hour'
             FROM users ORDER BY email"
        ),
        "ada@lovelace.dev|t|t\nbob@example.com|f|f"
    );
    assert_eq!(
        p.psql(
            "SELECT u.email FROM users u JOIN software_background s ON s.user_id = u.id
             WHERE s.preferred_languages @> ARRAY['rust']"
        ),
        "ada@lovelace.dev"
    );
    let plan = p.psql(
        "SET enable_seqscan = off;
         EXPLAIN SELECT user_id FROM software_background WHERE preferred_languages @> ARRAY['rust']",
    );
    assert!(plan.contains("idx_software_background_languages"), "{plan}");
    // ON DELETE CASCADE: backgrounds and sessions go with the user.
    p.psql("DELETE FROM users WHERE email = 'ada@lovelace.dev'");
    assert_eq!(
        p.psql(
            "SELECT (SELECT count(*) FROM software_background), (SELECT count(*) FROM hardware_background),
                    (SELECT count(*) FROM sessions)"
        ),
        "1|0|0"
    );

    up_again_is_a_noop(&p);
    // No down files in the document: down refuses, nothing is reverted.
    let tables = p.tables();
    let refused = p.shale(&["down", "--all"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("have no down migration"), "{}", refused.stderr);
    assert_eq!(p.tables(), tables);
    assert_eq!(p.history().len(), 6);
}

/// The users table as an older model's create_all made it: no username, no full_name,
/// password_hash NOT NULL, and one account in it.
const PAIID_OLD: &str = "
    CREATE TABLE users (
        id SERIAL PRIMARY KEY,
        email VARCHAR(255) NOT NULL,
        password_hash VARCHAR(255) NOT NULL,
        role VARCHAR(50) NOT NULL DEFAULT 'personal_only',
        is_active BOOLEAN NOT NULL DEFAULT true
    );
    CREATE UNIQUE INDEX ix_users_email ON users (email);
    CREATE INDEX ix_users_id ON users (id);
    CREATE INDEX ix_users_role ON users (role);
    CREATE INDEX ix_users_is_active ON users (is_active);
    INSERT INTO users (email, password_hash) VALUES ('old@example.com', '$2b$12$oldhash')";

/// Columns of users with their nullability, as the current model wants them.
const PAIID_MODEL: &str = "email|NO\nfull_name|YES\nid|NO\nis_active|NO\npassword_hash|YES\nrole|NO\nusername|YES";

fn paiid_columns(p: &Project) -> String {
    p.psql(
        "SELECT column_name, is_nullable FROM information_schema.columns
         WHERE table_name = 'users' ORDER BY 1",
    )
}

#[test]
fn paiid_new_database_and_reverting_the_fix() {
    let p = project("paiid");
    assert_eq!(steps(p.shale(&["up", "--json"])), ["create_users", "add_username_nullable_password"]);
    assert_eq!(paiid_columns(&p), PAIID_MODEL);
    assert_eq!(
        p.psql("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_users_%' ORDER BY 1"),
        "ix_users_email\nix_users_id\nix_users_is_active\nix_users_role"
    );
    // The MVP user without a password, which used to fail with IntegrityError.
    p.psql("INSERT INTO users (email, username, password_hash) VALUES ('mvp@example.com', 'mvp', NULL)");
    assert_eq!(p.psql("SELECT username, password_hash IS NULL, role, is_active FROM users"), "mvp|t|personal_only|t");
    up_again_is_a_noop(&p);

    // Reverting 002 gives the password-less user an empty hash before NOT NULL comes back.
    p.shale(&["down", "--step", "1"]).ok();
    assert_eq!(p.psql("SELECT quote_literal(password_hash) FROM users"), "''");
    assert_eq!(paiid_columns(&p), "email|NO\nfull_name|YES\nid|NO\nis_active|NO\npassword_hash|NO\nrole|NO");
    p.shale(&["up", "-q"]).ok();
    down_all_then_up(&p, 2);
    assert_eq!(paiid_columns(&p), PAIID_MODEL);
}

#[test]
fn paiid_adopting_a_create_all_database() {
    // shale up directly: 001 is a no-op on the existing table, 002 fixes it; the row stays.
    let p = project("paiid");
    p.psql(PAIID_OLD);
    assert_eq!(steps(p.shale(&["up", "--json"])).len(), 2);
    assert_eq!(paiid_columns(&p), PAIID_MODEL);
    assert_eq!(
        p.psql("SELECT id, email, password_hash, username IS NULL, full_name IS NULL FROM users"),
        "1|old@example.com|$2b$12$oldhash|t|t"
    );
    assert_eq!(p.history(), ["1|versioned|succeeded", "2|versioned|succeeded"]);

    // baseline 1, then up: only 002 runs. create_all's table lacks 001's full_name (002 adds it
    // where missing), so the baseline is recorded with --force past its schema check.
    let b = project("paiid");
    b.psql(PAIID_OLD);
    let refused = b.shale(&["baseline", "1", "--reason", "created by create_all"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("column public.users.full_name"), "{}", refused.stderr);
    b.shale(&["baseline", "1", "--reason", "created by create_all", "--force"]).ok();
    assert_eq!(steps(b.shale(&["up", "--json"])), ["add_username_nullable_password"]);
    assert_eq!(b.history(), ["1|baseline|succeeded", "|audit|succeeded", "2|versioned|succeeded"]);
    assert_eq!(b.psql("SELECT reason FROM shale_migrations WHERE kind = 'baseline'"), "created by create_all");
    assert_eq!(paiid_columns(&b), PAIID_MODEL);
    assert_eq!(b.psql("SELECT email, password_hash FROM users"), "old@example.com|$2b$12$oldhash");
    b.psql("INSERT INTO users (email, password_hash) VALUES ('new@example.com', NULL)");
    assert_eq!(b.psql("SELECT count(*) FROM users"), "2");
}

#[test]
fn urtraining_schema_sessions_and_profiles() {
    let p = project("urtraining");
    assert_eq!(
        steps(p.shale(&["--wait", "30s", "up", "--json"])),
        [
            "create_users",
            "create_training_profiles",
            "create_active_sessions",
            "create_courses",
            "create_user_course_progress"
        ]
    );
    assert_eq!(
        p.tables(),
        ["active_sessions", "courses", "shale_migrations", "training_profiles", "user_course_progress", "users"]
    );
    p.psql(
        "INSERT INTO users (username, email, hashed_password, full_name) VALUES ('kim', 'kim@example.com', 'h', 'Kim');
         INSERT INTO training_profiles (user_id, gender, age, weight_kg, training_goals, strength_training, cardio, hiit)
           VALUES (1, 'female', 31, 62.5, '[\"muscle_gain\", \"endurance\"]', 5, 3, 4);
         INSERT INTO courses (title, level, duration_weeks) VALUES ('Couch to 5K', 'beginner', 9);
         INSERT INTO user_course_progress (user_id, course_id, progress_percent) VALUES (1, 1, 40);
         INSERT INTO active_sessions (user_id, token, expires_at) VALUES
           (1, 'expired-1', now() - interval '1 hour'),
           (1, 'expired-2', now() - interval '1 second'),
           (1, 'valid', now() + interval '30 minutes')",
    );
    assert_eq!(
        p.psql(
            "SELECT training_goals->>0, json_array_length(training_goals), weight_kg, is_active, is_admin
             FROM training_profiles JOIN users ON users.id = user_id"
        ),
        "muscle_gain|2|62.5|t|f"
    );
    // The document's cleanup deletes only the expired sessions.
    p.psql("DELETE FROM active_sessions WHERE expires_at < NOW()");
    assert_eq!(p.psql("SELECT token FROM active_sessions"), "valid");
    // Constraints the document's model implies.
    let db = &p.db.name;
    let cluster = shared_cluster();
    for bad in [
        "INSERT INTO user_course_progress (user_id, course_id, progress_percent) VALUES (1, 1, 50)",
        "UPDATE user_course_progress SET progress_percent = 101",
        "INSERT INTO training_profiles (user_id) VALUES (1)",
        "INSERT INTO users (username, email, hashed_password, full_name) VALUES ('kim', 'k2@x', 'h', 'K')",
    ] {
        assert!(cluster.psql(db, bad).is_err(), "accepted: {bad}");
    }
    // Deleting the user deletes everything that is theirs.
    p.psql("DELETE FROM users");
    assert_eq!(
        p.psql(
            "SELECT (SELECT count(*) FROM training_profiles), (SELECT count(*) FROM active_sessions),
                    (SELECT count(*) FROM user_course_progress), (SELECT count(*) FROM courses)"
        ),
        "0|0|0|1"
    );

    up_again_is_a_noop(&p);
    down_all_then_up(&p, 5);
}

/// `shale seed`: seeds/ next to migrations/, each file once, again only when it changes.
#[test]
fn urtraining_seed_default_users_and_courses() {
    let p = project("urtraining");
    copy(&p, "urtraining", "seeds");
    p.shale(&["up", "-q"]).ok();
    p.shale(&["seed"]).ok();
    assert_eq!(
        p.psql(
            "SELECT username, email, is_admin, left(hashed_password, 7),
                    crypt(CASE username WHEN 'admin' THEN '123' ELSE 'password' END, hashed_password) = hashed_password,
                    crypt('wrong', hashed_password) = hashed_password
             FROM users ORDER BY id"
        ),
        "admin|admin@example.com|t|$2a$12$|t|f\nuser|user@example.com|f|$2a$12$|t|f"
    );
    assert_eq!(p.psql("SELECT count(*) FROM courses"), "5");
    let seeds = "SELECT count(*) FROM shale_migrations WHERE kind = 'seed'";
    assert_eq!(p.psql(seeds), "2");

    // Unchanged files do not run again: the deleted admin stays deleted.
    p.psql("DELETE FROM users WHERE username = 'admin'");
    p.shale(&["seed"]).ok();
    assert_eq!(p.psql("SELECT username FROM users"), "user");
    assert_eq!(p.psql(seeds), "2");

    // A changed file runs again, and only it.
    let courses = p.path().join("seeds/0002_sample_courses.sql");
    let text = std::fs::read_to_string(&courses).unwrap().replace(
        "('Couch to 5K',",
        "('Kettlebell Basics', 'Swings, goblet squats and get-ups.', 'beginner', 4),\n    ('Couch to 5K',",
    );
    std::fs::write(&courses, text).unwrap();
    p.shale(&["seed"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM courses"), "6");
    assert_eq!(p.psql("SELECT username FROM users"), "user");
    assert_eq!(p.psql(seeds), "3");

    // --force runs everything again; the files are idempotent.
    p.shale(&["seed", "--force"]).ok();
    assert_eq!(p.psql("SELECT username FROM users ORDER BY username"), "admin\nuser");
    assert_eq!(p.psql("SELECT count(*) FROM courses"), "6");
}

/// The BetterAuth project has no down files; its rollback was a hand-written "drop everything"
/// script. `down --all --generate` computes each down from the schemas before and after its
/// migration: it removes exactly what the migrations created (the trigger function too) and
/// nothing else in the database.
#[test]
fn betterauth_rollback_is_a_generated_down() {
    let p = project("betterauth");
    p.shale(&["up"]).ok();
    p.psql("CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1); CREATE FUNCTION keep_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'");
    // A user signed up: dropping users loses a row (of empty tables, nothing is lost).
    p.psql("INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x')");
    let tables = p.tables();

    let refused = p.shale(&["down", "--all", "--generate"]);
    assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stdout.contains("-- down of 006 create_triggers (generated):"), "{}", refused.stdout);
    assert!(refused.stdout.contains("DROP TABLE"), "{}", refused.stdout);
    assert!(refused.stderr.contains("--allow-destructive"), "{}", refused.stderr);
    assert_eq!(p.tables(), tables, "nothing ran");

    let run = p.shale(&["down", "--all", "--generate", "--allow-destructive"]).ok();
    assert!(run.stdout.contains("reverted"), "{}", run.stdout);
    assert_eq!(p.tables(), ["keep_me", "shale_migrations"]);
    assert_eq!(
        p.psql(
            "SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
        ),
        "keep_fn"
    );
    assert_eq!(p.psql("SELECT count(*) FROM keep_me"), "1");
    // Each rolled_back row keeps the SQL that reverted it.
    assert_eq!(
        p.psql("SELECT count(*) FROM shale_migrations WHERE status = 'rolled_back' AND down_sql LIKE '-- Generated by shale%'"),
        "6"
    );
    assert_eq!(steps(p.shale(&["up", "--json"])).len(), 6);
    assert_eq!(p.tables(), tables);
}

/// On every example, the down `shale down --generate` computes for each migration without one
/// restores the schema before it, and the migration applies again after it (`shale check`).
#[test]
fn generated_downs_restore_every_example_s_schema() {
    for name in ["textbook", "betterauth", "dht", "paiid", "urtraining"] {
        let p = project(name);
        let run = p.shale(&["--json", "check", "--generate-downs"]);
        let report = run.json();
        assert_eq!(report["ok"], true, "{name}: {}", run.stdout);
        for m in report["migrations"].as_array().unwrap() {
            assert_eq!(m["down_restores_schema"], true, "{name}: {m}");
        }
    }
}

/// The Mermaid picture under the `## Schema` heading of `readme`.
fn readme_picture(readme: &str) -> Option<&str> {
    let section = &readme[readme.find("\n## Schema\n")?..];
    let start = section.find("```mermaid\n")? + "```mermaid\n".len();
    let end = start + section[start..].find("```\n")?;
    Some(&section[start..end])
}

/// Each example's README shows its schema as `shale erd` draws what its migrations build, now.
#[test]
fn every_readme_shows_the_picture_shale_erd_draws_of_its_migrations() {
    let p = Project::new("ex_erd");
    let dev_url = shared_cluster().url("postgres");
    for name in ["betterauth", "dht", "paiid", "textbook", "urtraining"] {
        let dir = example_dir(name);
        let migrations = dir.join("migrations");
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
        let picture = readme_picture(&readme)
            .unwrap_or_else(|| panic!("examples/{name}/README.md has no ```mermaid picture under `## Schema`"));
        let run: common::Run = p
            .bare()
            .args(["erd", "--from", migrations.to_str().unwrap(), "--dev-url", &dev_url])
            .output()
            .unwrap()
            .into();
        assert_eq!(
            picture,
            run.ok().stdout,
            "examples/{name}/README.md: the picture is not what the migrations build now; paste the output of \
             `cargo run -q -p shale-cli -- erd --from examples/{name}/migrations` under `## Schema`"
        );
    }
}
