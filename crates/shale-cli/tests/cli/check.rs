//! `shale check` on a throwaway server.

use crate::common;

use common::{Project, Run};

#[test]
fn check_applies_everything_and_proves_each_down() {
    let p = Project::new("check");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/dht/migrations");
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        p.write(entry.file_name().to_str().unwrap(), &std::fs::read_to_string(entry.path()).unwrap());
    }
    // No database needed: check brings its own.
    let run: Run = p.bare().args(["check", "--json"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["ok"], true);
    let restores: Vec<_> =
        json["migrations"].as_array().unwrap().iter().map(|m| m["down_restores_schema"].clone()).collect();
    assert_eq!(restores, vec![serde_json::json!(true); 4]);

    // A down that forgets something is caught, and the leftover is named.
    p.write(
        "005_more.sql",
        "-- migrate:up\nCREATE TABLE b (id int);\nCREATE TABLE c (id int);\n-- migrate:down\nDROP TABLE b;\n",
    );
    let run: Run = p.bare().arg("check").output().unwrap().into();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("FAIL  005 more: down does not restore the schema"), "{}", run.stdout);
    assert!(run.stdout.contains("table public.c: before up (absent), after down table"), "{}", run.stdout);

    // Against a live database that has none of it: drift is reported.
    p.write("005_more.sql", "-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n");
    let run: Run = p.bare().args(["check", "--against", &p.db.url]).output().unwrap().into();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("the live database differs"), "{}", run.stdout);
    p.shale(&["up"]).ok();
    let run: Run = p.bare().args(["check", "--against", &p.db.url]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("the live database matches the migrations"), "{}", run.stdout);
}

/// Neighbours with no down to check are one line each run, and one note names them all.
#[test]
fn migrations_without_downs_are_grouped() {
    let p = Project::new("check_no_downs");
    crate::migrate::mostly_without_downs(&p);
    let run: Run = p.bare().arg("check").output().unwrap().into();
    snapshot!("check_without_downs", common::shown(&p, &run.ok()));
}

/// A migration that needs something made by hand fails on the throwaway database: check and a
/// generated down say it was the replay there, not a migration of the user's database.
#[test]
fn a_replay_that_fails_says_it_ran_on_the_throwaway_database() {
    let p = Project::new("check_replay_fails");
    p.psql("CREATE TABLE outside_t (id int)");
    p.write("001_a.sql", "ALTER TABLE outside_t ADD COLUMN x int;");
    p.write("002_b.sql", "CREATE TABLE b (id int);");
    p.shale(&["up"]).ok();
    let check = p.shale(&["check"]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stderr.contains("replaying the migrations on a throwaway database, to check that they apply in order")
            && check.stderr.contains("nothing ran on your database")
            && !check.stderr.contains("later migrations did not run"),
        "{}",
        check.stderr
    );
    let down = p.shale(&["down", "--step", "1", "--generate", "--dry-run"]);
    assert_eq!(down.code, 1, "{}{}", down.stdout, down.stderr);
    assert!(
        down.stderr.contains("the migration whose down is generated") && down.stderr.contains("write the down by hand"),
        "{}",
        down.stderr
    );
    assert_eq!(p.history().len(), 2, "nothing was reverted");
}

/// A down that fails on the throwaway database is that migration's failure, on its line, not a
/// replay that does not apply in order.
#[test]
fn a_down_that_fails_is_named_on_its_line() {
    let p = Project::new("check_down_fails");
    p.write("001_tables.up.sql", "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (a_id int REFERENCES a);\n");
    p.write("001_tables.down.sql", "DROP TABLE a;\nDROP TABLE b;\n");
    let check = p.shale(&["check"]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("FAIL  001 tables: down fails: cannot drop table a because other objects depend on it"),
        "{}",
        check.stdout
    );
    assert!(check.stdout.contains("001_tables.down.sql:1"), "{}", check.stdout);
    assert!(!check.stderr.contains("do not apply in order"), "{}", check.stderr);
    let json = p.shale(&["check", "--json"]).json();
    assert!(json["migrations"][0]["down_failed"].as_str().unwrap().contains("cannot drop table a"), "{json}");

    // An adopted history with several broken downs: --keep-going lists each in one run (a down
    // that fails, one that leaves a table), and -q prints only what failed.
    // (Its down leaves d, as an old down leaves an extension: applied again, it goes on.)
    p.write("002_c.up.sql", "CREATE TABLE c (id int);\nCREATE TABLE IF NOT EXISTS d (id int);\n");
    p.write("002_c.down.sql", "DROP TABLE c;\n");
    p.write("003_e.up.sql", "CREATE TABLE e (id int);\n");
    p.write("003_e.down.sql", "DROP TABLE e;\n");
    let stops = p.shale(&["check"]);
    assert!(
        !stops.stdout.contains("002 c") && stops.stdout.contains("`--keep-going` checks past it"),
        "{}",
        stops.stdout
    );
    let all = p.shale(&["check", "--keep-going", "-q"]);
    assert_eq!(all.code, 1, "{}{}", all.stdout, all.stderr);
    assert!(all.stdout.contains("FAIL  001 tables: down fails"), "{}", all.stdout);
    assert!(all.stdout.contains("FAIL  002 c: down does not restore the schema"), "{}", all.stdout);
    assert!(!all.stdout.contains("ok    003 e") && !all.stdout.contains("not checked"), "{}", all.stdout);
    let json = p.shale(&["check", "--keep-going", "--json"]).json();
    assert_eq!(json["migrations"][2]["down_restores_schema"], true, "003 was checked: {json}");
    // A down that leaves what its up then cannot make again: why it stops is said, with the
    // error (golang-migrate trial: only "applying the migration again ... fails").
    p.write(
        "003_e.down.sql",
        "SELECT 1;
",
    );
    let stopped = p.shale(&["check", "--keep-going"]);
    assert!(
        stopped.stdout.contains(
            "later migrations were not checked: applying the migration again over what its down left fails ("
        ) && stopped.stdout.contains("already exists"),
        "{}",
        stopped.stdout
    );
}

/// A repeatable's view over a column a later migration adds: reverting that migration alone
/// passes, but on a database `up` built the view is there and the down fails. `check` reverts
/// again with the repeatables' objects in place and says so; the real down fails whole, with a
/// way out that is not CASCADE.
#[test]
fn a_down_a_repeatable_s_view_depends_on_fails_in_check_as_on_the_database() {
    let p = Project::new("check_repeatable_view");
    p.write("V1__jobs.sql", "CREATE TABLE jobs (id int);\n");
    p.write("V2__run.sql", "ALTER TABLE jobs ADD COLUMN run_id int;\n");
    p.write("R__views.sql", "CREATE OR REPLACE VIEW jobs_view AS SELECT id, run_id FROM jobs;\n");
    let check = p.shale(&["check", "--generate-downs"]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(check.stdout.contains("ok    1 jobs: applies; its generated down restores the schema"), "{}", check.stdout);
    assert!(
        check.stdout.contains(
            "FAIL  2 run: its generated down fails once the repeatable migrations ran: cannot drop column run_id of table jobs"
        ) && check.stdout.contains("view jobs_view depends on column run_id"),
        "{}",
        check.stdout
    );
    let json = p.shale(&["check", "--generate-downs", "--json"]).json();
    assert_eq!(json["migrations"][1]["down_failed_after_repeatables"], true, "{json}");
    p.shale(&["up"]).ok();
    let down = p.shale(&["down", "--generate", "--step", "1", "--allow-destructive"]);
    assert_eq!(down.code, 1, "{}{}", down.stdout, down.stderr);
    assert!(down.stderr.contains("drop or change them first, in this migration"), "{}", down.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM jobs_view"), "0", "the view and the column stay");
}

/// Generated downs revert the schema, not rows. A migration that only writes rows changes no
/// schema object: its down does nothing and is not run (applying it again would only insert its
/// rows twice). One that also changes the schema, and whose rows stay where its down leaves them,
/// fails to apply again: said as that migration's failure, not as migrations that do not apply
/// in order.
#[test]
fn generated_downs_and_migrations_that_write_rows() {
    let p = Project::new("check_rows");
    p.write("001_t.sql", "CREATE TABLE t (id int PRIMARY KEY);\n");
    p.write("002_seed.sql", "INSERT INTO t VALUES (1);\n");
    p.write("003_u.sql", "CREATE TABLE u (id int);\nINSERT INTO t VALUES (2);\n");
    let check = p.shale(&["check", "--generate-downs"]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("ok    002 seed: applies; changes no schema object, so its generated down does nothing"),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("FAIL  003 u: its generated down restores the schema, but applying it again fails")
            && check.stdout.contains("duplicate key value"),
        "{}",
        check.stdout
    );
    assert!(!check.stderr.contains("do not apply in order"), "{}", check.stderr);
    let json = p.shale(&["check", "--generate-downs", "--json"]).json();
    assert_eq!(json["migrations"][1]["changes_no_schema"], true, "{json}");
    assert!(json["migrations"][2]["reapply_failed"].as_str().unwrap().contains("duplicate key"), "{json}");
}

/// dbmate writes `-- migrate:down` into every new file, and teams leave it empty: such a down is
/// none to check (check passes, and --generate-downs computes one), `down --generate` computes
/// one, and redo refuses before anything runs (it would apply the migration over itself).
#[test]
fn an_empty_dbmate_down_is_no_down() {
    let p = Project::new("check_empty_down");
    p.write("20240101000000_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\n\n");
    p.write("20240102000000_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n\n-- migrate:down\nDROP TABLE b;\n");
    let check = p.shale(&["check"]).ok();
    assert!(check.stdout.contains("ok    20240101000000 a: applies (no down to check)"), "{}", check.stdout);
    let generated = p.shale(&["check", "--generate-downs"]).ok();
    assert!(
        generated.stdout.contains("ok    20240101000000 a: applies; its generated down restores the schema"),
        "{}",
        generated.stdout
    );
    p.shale(&["up"]).ok();
    p.shale(&["down", "--step", "1"]).ok();
    let redo = p.shale(&["redo"]);
    assert_eq!(redo.code, 2, "{}{}", redo.stdout, redo.stderr);
    assert!(redo.stderr.contains("the down of migration 20240101000000 a holds no statement"), "{}", redo.stderr);
    assert_eq!(p.shale(&["version"]).ok().stdout.trim(), "20240101000000", "nothing changed");
    let dry = p.shale(&["down", "--step", "1", "--generate", "--dry-run"]);
    assert!(dry.stdout.contains("DROP TABLE public.a"), "{}{}", dry.stdout, dry.stderr);
    p.shale(&["down", "--step", "1", "--generate", "--allow-destructive"]).ok();
    assert_eq!(p.tables(), ["shale_migrations"]);
}

/// With repeatables, the second revert stops at a migration that only writes rows (its generated
/// down does nothing and was not run): it used to ask for its down and fail the whole check.
#[test]
fn the_revert_with_repeatables_stops_at_a_migration_that_only_writes_rows() {
    let p = Project::new("check_repeatable_rows");
    p.write("V1__jobs.sql", "CREATE TABLE jobs (id int);\n");
    p.write("V2__seed.sql", "INSERT INTO jobs VALUES (1);\n");
    p.write("V3__run.sql", "ALTER TABLE jobs ADD COLUMN run_id int;\n");
    p.write("R__views.sql", "CREATE OR REPLACE VIEW job_ids AS SELECT id FROM jobs;\n");
    let check = p.shale(&["check", "--generate-downs"]).ok();
    assert!(check.stdout.contains("ok    2 seed: applies; changes no schema object"), "{}", check.stdout);
    assert!(check.stdout.contains("check passed"), "{}", check.stdout);
}

/// Migrations that need what a platform makes (Supabase's `auth.users`, `auth.uid()`, its
/// `authenticated` role) replay on each scratch database after `replay_setup` (Supabase trial,
/// chatbot-ui: check, drift and generated downs all stopped at the first migration, the advice's
/// --dev-url could not help, since each scratch database starts empty).
#[test]
fn replay_setup_makes_what_the_platform_makes_on_each_scratch_database() {
    let p = Project::new("check_replay_setup");
    let base = "CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.users (id uuid PRIMARY KEY);
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS 'SELECT NULL::uuid';
DO $$ BEGIN CREATE ROLE check_replay_authenticated NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
";
    p.write("20240101000000_profiles.sql", "CREATE TABLE profiles (id uuid PRIMARY KEY REFERENCES auth.users (id), name text);\nALTER TABLE profiles ENABLE ROW LEVEL SECURITY;\nCREATE POLICY own ON profiles TO check_replay_authenticated USING (auth.uid() = id);\n");
    p.write("20240101000000_profiles.down.sql", "DROP TABLE profiles;\n");
    p.psql(base);
    p.shale(&["up"]).ok();
    // Without it: the first migration fails there, and the advice names replay_setup.
    let check = p.shale(&["check"]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(check.stderr.contains("`replay_setup` in shale.toml"), "{}", check.stderr);
    std::fs::create_dir_all(p.path().join("supabase")).unwrap();
    std::fs::write(p.path().join("supabase/replay_setup.sql"), base).unwrap();
    std::fs::write(p.path().join("shale.toml"), "replay_setup = \"supabase/replay_setup.sql\"\n").unwrap();
    p.shale(&["check"]).ok();
    let drift = p.shale(&["drift"]).ok();
    assert!(drift.stdout.contains("no drift"), "{}", drift.stdout);
    // baseline's check compares as drift does (Hasura re-check: what the setup made, down to
    // plpgsql, was a difference there, and `--force` the only way past).
    let q = Project::new("check_replay_setup_baseline");
    let profiles = "CREATE TABLE profiles (id uuid PRIMARY KEY REFERENCES auth.users (id), name text);\nALTER TABLE profiles ENABLE ROW LEVEL SECURITY;\nCREATE POLICY own ON profiles TO check_replay_authenticated USING (auth.uid() = id);\n";
    q.write("20240101000000_profiles.sql", profiles);
    q.psql(base);
    q.psql(profiles);
    std::fs::create_dir_all(q.path().join("supabase")).unwrap();
    std::fs::write(q.path().join("supabase/replay_setup.sql"), base).unwrap();
    std::fs::write(q.path().join("shale.toml"), "replay_setup = \"supabase/replay_setup.sql\"\n").unwrap();
    q.shale(&["baseline", "20240101000000"]).ok();
    // What the setup made is the environment's, not what the migrations build (second re-check
    // trial: squash wrote `CREATE SCHEMA auth` into the squashed migration).
    std::fs::write(p.path().join("empty.sql"), "").unwrap();
    let built = p.shale(&["diff", "--from", "empty.sql", "--to", "migrations"]).ok();
    assert!(
        built.stdout.contains("CREATE TABLE public.profiles")
            && !built.stdout.contains("CREATE SCHEMA auth")
            && !built.stdout.contains("auth.users ("),
        "{}",
        built.stdout
    );
    // A setup that fails names its file, line and column.
    std::fs::write(
        p.path().join("supabase/replay_setup.sql"),
        "CREATE SCHEMA auth;\nCREATE TABLE auth.users (id uuidd);\n",
    )
    .unwrap();
    let check = p.shale(&["check"]);
    assert_eq!(check.code, 2, "{}{}", check.stdout, check.stderr);
    assert!(check.stderr.contains("replay_setup supabase/replay_setup.sql:2:"), "{}", check.stderr);
}

/// A directory with no downs at all (a Prisma project's) is said in a few words, not with every
/// version it holds (Prisma trial: one line of 163 timestamps).
#[test]
fn a_directory_with_no_downs_is_said_so_in_a_few_words() {
    let p = Project::new("check_no_downs");
    p.write("20240101000000_a/migration.sql", "CREATE TABLE a (id int);\n");
    p.write("20240205000000_b/migration.sql", "CREATE TABLE b (id int);\n");
    p.write("20240307000000_c/migration.sql", "CREATE TABLE c (id int);\n");
    let run = p.shale(&["check"]).ok();
    assert!(run.stdout.contains("no down to check for 3 migration(s): none of them has one;"), "{}", run.stdout);
}
