//! `up`, `down`, `status` and friends against a real PostgreSQL, for every migration layout.

use crate::common;

use common::{shown, Project};

fn dht(p: &Project) {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/dht/migrations");
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        p.write(entry.file_name().to_str().unwrap(), &std::fs::read_to_string(entry.path()).unwrap());
    }
}

#[test]
fn up_status_noop_down_all_and_up_again() {
    let p = Project::new("cli_updown");
    dht(&p);
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["history_exists"], false);
    assert!(status["migrations"].as_array().unwrap().iter().all(|m| m["state"] == "pending"));

    let up = p.shale(&["up", "--json"]).ok().json();
    assert_eq!(up["steps"].as_array().unwrap().len(), 4);
    // As the files write it, as each step's version is.
    assert_eq!(up["current_version"], "004");
    assert_eq!(up["steps"][3]["version"], "004");
    assert_eq!(p.shale(&["status", "--json"]).ok().json()["current_version"], "004");
    assert_eq!(
        p.tables().iter().filter(|t| !t.starts_with("usage_records_")).cloned().collect::<Vec<_>>(),
        ["api_keys", "sessions", "shale_migrations", "usage_records", "users"]
    );
    // Partitions exist and route rows; cascading and SET NULL foreign keys behave as the document says.
    p.psql("INSERT INTO users (email, username, password_hash) VALUES ('a@x', 'a', 'h');
            INSERT INTO api_keys (user_id, name, key_prefix, key_hash, scopes) VALUES (1, 'k', 'sk_', 'hash', '{read,write}');
            INSERT INTO usage_records (user_id, api_key_id, endpoint, method, status_code, duration_ms) VALUES (1, 1, '/x', 'GET', 200, 5);
            DELETE FROM api_keys;");
    assert_eq!(p.psql("SELECT count(*) FROM usage_records WHERE api_key_id IS NULL"), "1");
    assert_eq!(p.psql("SELECT tableoid::regclass::text LIKE 'usage_records_2%' FROM usage_records"), "t");

    let again = p.shale(&["up"]).ok();
    assert!(again.stdout.contains("nothing to apply"), "{}", again.stdout);
    assert_eq!(p.history().len(), 4, "a no-op up writes nothing");

    let down = p.shale(&["down", "--all", "--json"]).ok().json();
    assert_eq!(down["steps"].as_array().unwrap().len(), 4);
    assert_eq!(down["steps"][0]["name"], "create_usage_records_table");
    assert_eq!(p.tables(), ["shale_migrations"]);
    p.shale(&["up", "-q"]).ok();
    assert_eq!(p.shale(&["version"]).ok().stdout.trim(), "004");
    assert_eq!(p.history().last().unwrap(), "4|versioned|succeeded");
}

#[test]
fn down_step_to_redo_goto() {
    let p = Project::new("cli_goto");
    dht(&p);
    p.shale(&["up", "--to", "3"]).ok();
    assert_eq!(p.shale(&["version"]).ok().stdout.trim(), "003");
    p.shale(&["down", "--step", "1"]).ok();
    assert_eq!(p.shale(&["version"]).ok().stdout.trim(), "002");
    // A preview either way, as up's and down's (golang-migrate trial: refused as an unknown flag).
    let ahead = p.shale(&["goto", "4", "--dry-run", "--json"]).ok().json();
    assert_eq!(ahead["steps"].as_array().map(Vec::len), Some(2), "{ahead}");
    let back = p.shale(&["goto", "1", "--dry-run"]).ok();
    assert!(back.stdout.contains("002") && back.stdout.contains("down"), "{}", back.stdout);
    assert_eq!(p.shale(&["version"]).ok().stdout.trim(), "002", "nothing ran");
    p.shale(&["goto", "4"]).ok();
    assert_eq!(p.shale(&["version"]).ok().stdout.trim(), "004");
    p.shale(&["goto", "1"]).ok();
    assert_eq!(p.tables(), ["shale_migrations", "users"]);
    let redo = p.shale(&["redo", "--json"]).ok().json();
    let directions: Vec<_> =
        redo["steps"].as_array().unwrap().iter().map(|s| s["direction"].as_str().unwrap().to_string()).collect();
    assert_eq!(directions, ["down", "up"]);
    let redo = p.shale(&["redo"]).ok();
    assert!(redo.stdout.contains("redone 1 migration(s) in"), "{}", redo.stdout);
    p.shale(&["down", "--to", "0", "-q"]).ok();
    assert_eq!(p.tables(), ["shale_migrations"]);
    // down needs to be told how far.
    assert_eq!(p.shale(&["down"]).code, 2);
}

/// Up files only, as many golang-migrate directories have them, and one down among them.
pub fn mostly_without_downs(p: &Project) {
    for v in 1..=12 {
        p.write(&format!("{v:04}_t{v}.up.sql"), &format!("CREATE TABLE t{v} (id int);\n"));
    }
    p.write("0007_t7.down.sql", "DROP TABLE t7;\n");
}

/// A down over many migrations that have no down is refused in one message naming them all,
/// consecutive versions as ranges, with the ways out said once.
#[test]
fn down_over_many_migrations_without_downs_names_them_in_one_message() {
    let p = Project::new("cli_no_downs");
    mostly_without_downs(&p);
    p.shale(&["up"]).ok();
    let refused = p.shale(&["down", "--all"]);
    snapshot!("down_without_downs_in_one_message", shown(&p, &refused));
    assert_eq!(p.tables().len(), 13, "nothing was reverted");
}

/// `down --to` a version no migration has names the known versions nearest to it: on either side,
/// and spelled like it (a timestamp cut short); nothing is reverted.
#[test]
fn down_to_an_unknown_version_names_the_nearest_known_ones() {
    let p = Project::new("cli_down_to_unknown");
    for (version, table) in [("20240101120000", "a"), ("20240115093000", "b"), ("20240201000000", "c")] {
        p.write(
            &format!("{version}_{table}.sql"),
            &format!("-- migrate:up\nCREATE TABLE {table} (id int);\n-- migrate:down\nDROP TABLE {table};\n"),
        );
    }
    p.shale(&["up"]).ok();
    let between = p.shale(&["down", "--to", "20240120000000"]);
    let cut_short = p.shale(&["down", "--to", "20240115"]);
    let goto = p.shale(&["goto", "20240201"]);
    snapshot!("down_to_an_unknown_version", [&between, &cut_short, &goto].map(|run| shown(&p, run)).join("\n"));
    assert_eq!(p.tables(), ["a", "b", "c", "shale_migrations"], "nothing was reverted");
}

/// `up --to` a version no migration has names the nearest known ones as `down --to` does, before
/// anything runs: applied or pending, and with --dry-run too.
#[test]
fn up_to_an_unknown_version_names_the_nearest_known_ones() {
    let p = Project::new("cli_up_to_unknown");
    for (version, table) in [("20240101120000", "a"), ("20240115093000", "b"), ("20240201000000", "c")] {
        p.write(&format!("{version}_{table}.sql"), &format!("CREATE TABLE {table} (id int);\n"));
    }
    p.shale(&["up", "--to", "20240101120000"]).ok();
    let between = p.shale(&["up", "--to", "20240120000000"]);
    let cut_short = p.shale(&["up", "--to", "20240201"]);
    let dry_run = p.shale(&["up", "--to", "20240115", "--dry-run"]);
    snapshot!("up_to_an_unknown_version", [&between, &cut_short, &dry_run].map(|run| shown(&p, run)).join("\n"));
    assert_eq!(p.tables(), ["a", "shale_migrations"], "nothing was applied");
}

#[test]
fn plain_numbered_files_and_dbmate_sections() {
    let p = Project::new("cli_plain");
    p.write("001_create_users.sql", "CREATE TABLE IF NOT EXISTS users (id SERIAL PRIMARY KEY, email TEXT);\n");
    p.write(
        "002_create_sessions.sql",
        "-- migrate:up\nCREATE TABLE sessions (id int);\n\n-- migrate:down\nDROP TABLE sessions;\n",
    );
    p.write("10_empty.sql", "");
    p.write("9_nine.sql", "ALTER TABLE users ADD COLUMN nine int;");
    let up = p.shale(&["up", "--json"]).ok().json();
    let names: Vec<_> =
        up["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["create_users", "create_sessions", "nine", "empty"]);
    assert_eq!(p.tables(), ["sessions", "shale_migrations", "users"]);
    // 10 has no down: down --all stops there and says so; nothing is reverted.
    let refused = p.shale(&["down", "--all"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "3 of the migrations to revert have no down migration, in their files or in the history: 001, 9-10;"
        ),
        "{}",
        refused.stderr
    );
    assert_eq!(
        refused.stderr.matches("shale down --generate").count(),
        1,
        "the way out is said once: {}",
        refused.stderr
    );
    assert_eq!(p.tables(), ["sessions", "shale_migrations", "users"]);
}

#[test]
fn diesel_folders_and_flyway_names() {
    let p = Project::new("cli_diesel");
    p.write("2017-09-23-182408_create users/up.sql", "CREATE TABLE users (id int);");
    p.write("2017-09-23-182408_create users/down.sql", "DROP TABLE users;");
    p.write("2017-09-24-000000_index/up.sql", "CREATE INDEX CONCURRENTLY users_id ON users (id);");
    p.write("2017-09-24-000000_index/down.sql", "DROP INDEX CONCURRENTLY users_id;");
    p.write("2017-09-24-000000_index/metadata.toml", "run_in_transaction = false\n");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM pg_indexes WHERE indexname = 'users_id'"), "1");
    // An empty down.sql, which diesel refuses to run: refused, not recorded as a revert that left
    // the column (breadth trial: Lemmy's next `up` failed on it).
    p.write("2017-09-25-000000_pronouns/up.sql", "ALTER TABLE users ADD COLUMN pronouns text;");
    p.write("2017-09-25-000000_pronouns/down.sql", "");
    p.shale(&["up"]).ok();
    let empty = p.shale(&["down", "--step", "1"]);
    assert_eq!(empty.code, 2, "{}", empty.stderr);
    assert!(
        empty.stderr.contains("down.sql: the down of 2017-09-25-000000 pronouns is an empty file"),
        "{}",
        empty.stderr
    );
    p.write("2017-09-25-000000_pronouns/down.sql", "ALTER TABLE users DROP COLUMN pronouns;");
    p.shale(&["down", "--all"]).ok();
    assert_eq!(p.tables(), ["shale_migrations"]);

    let f = Project::new("cli_flyway");
    f.write("V1__init.sql", "CREATE TABLE a (id int);");
    f.write("V1.1__b.sql", "CREATE TABLE b (id int);");
    f.write("U1.1__b.sql", "DROP TABLE b;");
    f.write("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT count(*) AS n FROM a;");
    f.shale(&["up"]).ok();
    assert_eq!(f.psql("SELECT n FROM v"), "0");
    // A repeatable is re-applied when it changes, after the versioned ones.
    f.write("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT count(*) + 1 AS n FROM a;");
    f.write("V2__c.sql", "INSERT INTO a VALUES (1);");
    f.write("U2__c.sql", "DELETE FROM a;");
    let up = f.shale(&["up", "--json"]).ok().json();
    let names: Vec<_> =
        up["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["c", "view"]);
    assert_eq!(f.psql("SELECT n FROM v"), "2");
    f.shale(&["down", "--step", "2"]).ok();
    assert_eq!(f.tables(), ["a", "shale_migrations"]);
}

#[test]
fn a_failing_migration_is_rolled_back_whole_and_reported_at_its_line() {
    let p = Project::new("cli_fail");
    p.write("001_ok.sql", "CREATE TABLE ok (id int);");
    p.write("002_bad.sql", "CREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\nSELECT * FROM missing_table;\n");
    p.write("003_later.sql", "CREATE TABLE later (id int);");
    snapshot!("failing_migration", shown(&p, &p.shale(&["up"])));
    assert_eq!(p.tables(), ["ok", "shale_migrations"], "002 left nothing, 003 did not run");
    assert_eq!(p.history(), ["1|versioned|succeeded", "2|versioned|failed"]);
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][1]["state"], "failed");
    assert!(status["migrations"][1]["error"].as_str().unwrap().contains("missing_table"));
    // Fixed, it applies.
    p.write("002_bad.sql", "CREATE TABLE half (id int);\n");
    p.shale(&["up"]).ok();
    assert_eq!(p.tables(), ["half", "later", "ok", "shale_migrations"]);
}

#[test]
fn errors_inside_function_bodies_point_into_the_file() {
    let p = Project::new("cli_fn");
    p.write(
        "001_fn.sql",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    NEW.updated_at := now() +;\n    RETURN NEW;\nEND\n$$;\n",
    );
    snapshot!("error_in_function_body", shown(&p, &p.shale(&["up"])));
}

#[test]
fn modified_and_missing_files_are_refused_before_anything_runs() {
    let p = Project::new("cli_modified");
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    p.write("002_b.sql", "CREATE TABLE b (id int);");
    p.shale(&["up"]).ok();
    p.write("001_a.sql", "CREATE TABLE a (id bigint);");
    p.write("003_c.sql", "CREATE TABLE c (id int);");
    snapshot!("modified", shown(&p, &p.shale(&["up"])));
    assert!(!p.tables().contains(&"c".to_string()));
    assert_eq!(p.shale(&["validate"]).code, 1);
    // A human decides the edited file is what the database holds: recorded, with the reason.
    p.shale(&["repair", "1", "--applied", "--reason", "widened by hand in production"]).ok();
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"c".to_string()));
    assert_eq!(p.psql("SELECT reason FROM shale_migrations WHERE kind = 'repair'"), "widened by hand in production");

    p.remove("002_b.sql");
    snapshot!("missing", shown(&p, &p.shale(&["up"])));
    let status = p.shale(&["status", "--json"]).ok().json();
    assert!(status["migrations"].as_array().unwrap().iter().any(|m| m["state"] == "missing"));
}

/// Teams delete old files once a squash or a baseline covers them (golang-migrate and dbmate never
/// look back): a repair records each as applied with no file, and `up` goes on.
#[test]
fn files_removed_on_purpose_are_recorded_as_applied_with_no_file() {
    let p = Project::new("cli_removed");
    for (file, table) in [("001_a.sql", "a"), ("002_b.sql", "b"), ("003_c.sql", "c")] {
        p.write(file, &format!("CREATE TABLE {table} (id int);"));
    }
    p.shale(&["up"]).ok();
    let repairs = || p.psql("SELECT count(*) FROM shale_migrations WHERE kind = 'repair'");
    // Applied with its file unchanged: nothing to record, and nothing is.
    let run = p.shale(&["repair", "3", "--applied", "--reason", "just checking"]).ok();
    assert!(run.stderr.contains("nothing to record: migration 003 is applied as it is"), "{}", run.stderr);
    assert_eq!(repairs(), "0");
    p.remove("001_a.sql");
    p.remove("002_b.sql");
    p.write("004_d.sql", "CREATE TABLE d (id int);");
    let refused = p.shale(&["up"]);
    assert_eq!(refused.code, 2);
    // Said once for the two, with both ways out (a wrong directory misses every applied one).
    assert!(
        refused.stderr.contains(
            "2 migrations are applied in the database but have no file in the migrations directory: 001-002;"
        ) && refused.stderr.contains("point --dir")
            && refused.stderr.contains("`shale repair --all-missing --applied --reason ...`"),
        "{}",
        refused.stderr
    );

    let json =
        p.shale(&["repair", "--all-missing", "--applied", "--reason", "squashed into 003", "--json"]).ok().json();
    let repaired: Vec<&str> = json.as_array().unwrap().iter().map(|r| r["version"].as_str().unwrap()).collect();
    assert_eq!(repaired, ["1", "2"]);
    assert_eq!(json[0]["without_file"], true);
    let status = p.shale(&["status", "--json"]).ok().json();
    let states: Vec<&str> =
        status["migrations"].as_array().unwrap().iter().map(|m| m["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["applied", "applied", "applied", "pending"]);
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"d".to_string()));
    p.shale(&["validate"]).ok();
    // Asked again: nothing is missing, and a removed file already recorded is not recorded twice.
    let again = p.shale(&["repair", "--all-missing", "--applied", "--reason", "again"]).ok();
    assert!(again.stdout.contains("nothing to repair"), "{}", again.stdout);
    p.shale(&["repair", "1", "--applied", "--reason", "again"]).ok();
    assert_eq!(repairs(), "2");
    // A file of that version that comes back is checked again: changed, it is refused.
    p.write("001_a.sql", "CREATE TABLE a (id bigint);");
    assert_eq!(p.shale(&["validate"]).code, 1);
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    p.shale(&["validate"]).ok();
    // Several versions at once (the Sqitch re-check: 17 commands for 17 reverts), each recorded;
    // one mistyped records none; --resume-at is one migration's.
    let typo = p.shale(&["repair", "3", "nope", "--rolled-back", "--force", "--reason", "x"]);
    assert_eq!(typo.code, 2, "{}", typo.stderr);
    let several =
        p.shale(&["repair", "3", "4", "--rolled-back", "--force", "--reason", "undone by hand", "--json"]).ok();
    let json = several.json();
    let versions: Vec<&str> = json.as_array().unwrap().iter().map(|r| r["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["003", "004"]);
    let resume = p.shale(&["repair", "3", "4", "--resume-at", "2", "--reason", "x"]);
    assert_eq!(resume.code, 2, "{}", resume.stderr);
}

#[test]
fn out_of_order_is_refused_unless_allowed() {
    let p = Project::new("cli_ooo");
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    p.write("003_c.sql", "CREATE TABLE c (id int);");
    p.shale(&["up"]).ok();
    p.write("002_b.sql", "CREATE TABLE b (id int);");
    snapshot!("out_of_order", shown(&p, &p.shale(&["up"])));
    assert_eq!(p.shale(&["status", "--json"]).ok().json()["migrations"][1]["state"], "out-of-order");
    p.shale(&["up", "--allow-out-of-order"]).ok();
    assert!(p.tables().contains(&"b".to_string()));
    p.write("0025_d.sql", "-- shale:out-of-order\nCREATE TABLE d (id int);");
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"d".to_string()));
}

#[test]
fn bad_files_are_all_reported_and_nothing_is_applied() {
    let p = Project::new("cli_badfiles");
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    p.write("01_dup.sql", "CREATE TABLE dup (id int);");
    p.write("notes.sql", "select 1;");
    p.write("V2_missing_underscore.sql", "select 2;");
    p.write("003_c.sql", "CREATE TABLE c (txt text DEFAULT 'unterminated);");
    std::fs::write(p.migrations().join("004_latin1.sql"), b"-- caf\xe9\nselect 1;").unwrap();
    let run = p.shale(&["up"]);
    assert_eq!(run.code, 2);
    for expected in [
        "duplicate version",
        "`V2_missing_underscore.sql` fits no migration naming convention",
        "003_c.sql:1:34: unterminated quoted string",
        "004_latin1.sql: is not UTF-8",
    ] {
        assert!(run.stderr.contains(expected), "missing {expected:?} in\n{}", run.stderr);
    }
    // A script named like no migration is passed over, as the other tools do: not a problem.
    assert!(!run.stderr.contains("notes.sql"), "{}", run.stderr);
    assert!(p.tables().is_empty(), "nothing applied, not even the history table");
    let json = p.shale(&["up", "--json"]).json();
    assert_eq!(json["exit_code"], 2);
    assert_eq!(json["problems"].as_array().unwrap().len(), 4);
}

#[test]
fn dry_run_prints_the_plan_and_runs_nothing() {
    let p = Project::new("cli_dry");
    dht(&p);
    p.write("005_idx.sql", "CREATE INDEX CONCURRENTLY idx_users_created ON users (created_at);\n");
    snapshot!("dry_run", shown(&p, &p.shale(&["up", "--dry-run"]).ok()));
    assert!(p.tables().is_empty());
    let json = p.shale(&["up", "--dry-run", "--json"]).ok().json();
    assert_eq!(json["steps"][4]["transaction"], "none");
    // users is created earlier in the run: no one waits on its locks, so none is listed.
    assert_eq!(json["steps"][4]["locks"], serde_json::json!([]));
    assert_eq!(json["steps"][0]["statements"].as_array().unwrap().len(), 5);
}

/// A migration that runs outside a transaction because the file asks for it is shown with the
/// file's own words and line, whichever tool's they are.
#[test]
fn dry_run_names_the_line_that_asks_for_no_transaction() {
    let p = Project::new("cli_dry_no_tx");
    p.write("00001_mood.sql", "-- +goose Up\nCREATE TYPE mood AS ENUM ('ok');\n\n-- +goose Down\nDROP TYPE mood;\n");
    p.write(
        "00002_mood_meh.sql",
        "-- +goose NO TRANSACTION\n-- +goose Up\nALTER TYPE mood ADD VALUE 'meh';\n\n-- +goose Down\nSELECT 1;\n",
    );
    p.write("00003_note.sql", "-- +goose Up\n-- shale:no-transaction\nCREATE TABLE notes (id int);\n");
    let run = p.shale(&["up", "--dry-run"]).ok();
    snapshot!("dry_run_no_transaction_in_the_file_s_words", shown(&p, &run));
    let json = p.shale(&["up", "--dry-run", "--json"]).ok().json();
    assert_eq!(json["steps"][1]["no_transaction_reason"], "`-- +goose NO TRANSACTION` (line 1)");
}

/// sqlx runs a file whose first line is `-- no-transaction` outside a transaction: so does shale,
/// and a new enum value can then be used after the statement that adds it.
#[test]
fn sqlx_no_transaction_first_line_is_honoured() {
    let p = Project::new("cli_sqlx_no_tx");
    p.write(
        "20240101000000_mood.sql",
        "CREATE TYPE mood AS ENUM ('sad', 'ok');\nCREATE TABLE person (name text, current_mood mood);\n",
    );
    p.write(
        "20240102000000_add_happy.sql",
        "-- no-transaction\nALTER TYPE mood ADD VALUE 'happy';\nUPDATE person SET current_mood = 'happy' WHERE current_mood = 'ok';\n",
    );
    let run = p.shale(&["up", "--dry-run"]).ok();
    snapshot!("dry_run_sqlx_no_transaction", shown(&p, &run));
    p.shale(&["up", "--to", "20240101000000"]).ok();
    p.psql("INSERT INTO person VALUES ('ann', 'ok')");
    p.shale(&["up"]).ok();
    assert_eq!(p.history(), ["20240101000000|versioned|succeeded", "20240102000000|versioned|succeeded"]);
    assert_eq!(p.psql("SELECT current_mood FROM person").trim(), "happy", "the UPDATE used the new value");

    // The same file without its first line runs in a transaction, where PostgreSQL refuses the
    // new value until the ALTER TYPE commits: nothing of it is applied.
    let q = Project::new("cli_sqlx_tx");
    q.write(
        "20240101000000_mood.sql",
        "CREATE TYPE mood AS ENUM ('sad', 'ok');\nCREATE TABLE person (name text, current_mood mood);\n",
    );
    q.write(
        "20240102000000_add_happy.sql",
        "ALTER TYPE mood ADD VALUE 'happy';\nUPDATE person SET current_mood = 'happy' WHERE current_mood = 'ok';\n",
    );
    let run = q.shale(&["up"]);
    assert_eq!(run.code, 1, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("unsafe use of new value"), "{}", run.stderr);
    assert_eq!(q.psql("SELECT count(*) FROM pg_enum WHERE enumlabel = 'happy'").trim(), "0");
}

#[test]
fn baseline_marks_an_existing_database() {
    let p = Project::new("cli_baseline");
    p.psql("CREATE TABLE a (id int); CREATE TABLE b (id int);");
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    p.write("002_b.sql", "CREATE TABLE b (id int);");
    p.write("003_c.sql", "CREATE TABLE c (id int);");
    p.shale(&["baseline", "2", "--reason", "schema created by hand before shale"]).ok();
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][0]["state"], "baseline");
    p.shale(&["up"]).ok();
    assert_eq!(p.history(), ["2|baseline|succeeded", "|audit|succeeded", "3|versioned|succeeded"]);
    assert_eq!(p.shale(&["baseline", "3"]).code, 2, "baseline refuses a database with history");
}

/// A file dated under the baseline but added after it (a branch's `shale new` from before the
/// switch, merged after it) never ran on the baselined database: it used to count as applied
/// there, silently, while every new database ran it.
#[test]
fn a_file_added_under_the_baseline_after_it_was_recorded_is_out_of_order() {
    let p = Project::new("cli_baseline_late");
    p.psql("CREATE TABLE a (id int); CREATE TABLE b (id int);");
    p.write("010_a.sql", "CREATE TABLE a (id int);");
    p.write("020_b.sql", "CREATE TABLE b (id int);");
    p.write("030_c.sql", "CREATE TABLE c (id int);");
    p.shale(&["baseline", "20", "--reason", "schema created by hand before shale"]).ok();
    p.write("015_late.sql", "CREATE TABLE late (id int);");
    let status = p.shale(&["status", "--json"]).json();
    let states: Vec<_> = status["migrations"].as_array().unwrap().iter().map(|m| m["state"].clone()).collect();
    assert_eq!(states, ["baseline", "out-of-order", "baseline", "pending"], "{status}");
    let run = p.shale(&["up"]);
    assert_eq!(run.code, 2, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("015_late.sql: migration 015 late is under the baseline 20 but was added after"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("give it a version above the baseline"), "{}", run.stderr);
    assert!(!p.tables().contains(&"c".to_string()), "nothing applied: {:?}", p.tables());
    let validate = p.shale(&["validate"]);
    assert_eq!(validate.code, 1);
    assert!(
        validate.stderr.contains("015 late: under the baseline 20 but added after it was recorded"),
        "{}",
        validate.stderr
    );
    // Renumbered above the baseline, it runs in its place; the files the baseline covered do not.
    std::fs::rename(p.migrations().join("015_late.sql"), p.migrations().join("040_late.sql")).unwrap();
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"late".to_string()), "{:?}", p.tables());
    assert_eq!(p.history()[2..], ["30|versioned|succeeded", "40|versioned|succeeded"]);
}

#[test]
fn single_transaction_applies_all_or_nothing() {
    let p = Project::new("cli_single");
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    p.write("002_b.sql", "CREATE TABLE b (id int);");
    p.write("003_bad.sql", "CREATE TABLE c (id nosuchtype);");
    let run = p.shale(&["up", "--single-transaction"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("003_bad.sql:1:20"), "{}", run.stderr);
    assert!(p.tables().iter().all(|t| t == "shale_migrations"), "{:?}", p.tables());
    p.write("003_bad.sql", "CREATE TABLE c (id int);");
    let run = p.shale(&["up", "--single-transaction"]).ok();
    assert_eq!(p.tables(), ["a", "b", "c", "shale_migrations"]);
    // One transaction has one duration, the summary's, not the batch's on every line.
    assert!(run.stdout.contains("up   002 b  (in the batch)"), "{}", run.stdout);
}

/// A pair whose SQL went into the down file by mistake: its up, empty, is applied and said so,
/// with the way on, which works (Kysely trial: applied unsaid).
#[test]
fn an_applied_up_with_no_statement_beside_a_down_with_some_is_warned_about() {
    let p = Project::new("cli_empty_up");
    p.write("001_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY);");
    p.write("002_locale.up.sql", "-- up: locale\n");
    p.write("002_locale.down.sql", "-- down: locale\n\nALTER TABLE users ADD COLUMN locale text;\n");
    let up = p.shale(&["up"]).ok();
    assert!(up.stderr.contains("its up holds no statement while its down does"), "{}", up.stderr);
    // In the JSON too, which the packages read (review: said by the command line alone); and, with
    // a migration applied after it in the same run, the way on allows it out of order (review: the
    // advice's `shale up` refused it).
    let later = Project::new("cli_empty_up_later");
    later.copy_from(&p, &["001_users.sql", "002_locale.up.sql", "002_locale.down.sql"]);
    later.write("003_tags.up.sql", "CREATE TABLE tags (id int);");
    let json = later.shale(&["up", "--json"]).ok().json();
    assert_eq!(json["empty_ups"][0]["label"], "002 locale", "{json}");
    assert_eq!(json["empty_ups"][0]["later_applied"], true, "{json}");
    let fresh = Project::new("cli_empty_up_later_text");
    fresh.copy_from(&later, &["001_users.sql", "002_locale.up.sql", "002_locale.down.sql", "003_tags.up.sql"]);
    let up = fresh.shale(&["up"]).ok();
    assert!(up.stderr.contains("and `shale up --allow-out-of-order` run it"), "{}", up.stderr);
    p.write("002_locale.up.sql", "-- up: locale\n\nALTER TABLE users ADD COLUMN locale text;\n");
    p.write("002_locale.down.sql", "-- down: locale\n\nALTER TABLE users DROP COLUMN locale;\n");
    p.shale(&["repair", "002", "--rolled-back", "--reason", "its SQL was in the down file"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users'"), "2");
    // A down that only checks or cleans data, its up left empty on purpose (re-check: docs.rs'
    // "we only have a down-migration as validation", whose DELETEs the advice would have run).
    let check = Project::new("cli_empty_up_check");
    check.write("001_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY);");
    check.write("002_check.up.sql", "-- no up-migration, we only have a down-migration as validation\n");
    check.write("002_check.down.sql", "DELETE FROM users WHERE id < 0;\n");
    let up = check.shale(&["up"]).ok();
    assert!(!up.stderr.contains("holds no statement"), "{}", up.stderr);
    // pop's file for PostgreSQL alone, left empty: popx does nothing there on purpose (breadth
    // trial, Ory Kratos: sixteen warnings).
    let pop = Project::new("cli_empty_up_pop");
    pop.write("20200101000000000000_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY);");
    pop.write("20200101000000000001_unique.postgres.up.sql", "");
    pop.write("20200101000000000001_unique.postgres.down.sql", "ALTER TABLE users ADD COLUMN x int;\n");
    // And one with only a down, for every database (re-check: Kratos' `session_token_length`).
    pop.write("20200101000000000002_shorten.up.sql", "--\n");
    pop.write("20200101000000000002_shorten.down.sql", "UPDATE users SET id = id;\n");
    let up = pop.shale(&["up"]).ok();
    assert!(!up.stderr.contains("holds no statement"), "{}", up.stderr);
    // The next migration is named for PostgreSQL alone where the newest up is, and numbered as
    // pop's are, the second now and a number within it (re-check: its newest plus one).
    pop.remove("20200101000000000002_shorten.up.sql");
    pop.remove("20200101000000000002_shorten.down.sql");
    let new = pop.shale(&["new", "add_widget"]).ok();
    assert!(new.stdout.contains("000000_add_widget.postgres.up.sql"), "{}", new.stdout);
    assert!(!new.stdout.contains("20200101000000000002"), "{}", new.stdout);
}

#[test]
fn seeds_run_after_migrations_and_again_only_when_changed() {
    let p = Project::new("cli_seed");
    p.write("001_users.sql", "CREATE TABLE users (name text PRIMARY KEY, n int NOT NULL DEFAULT 0);");
    // No seeds written yet: `up --seed` migrates, and says so (FastAPI round 3: it refused).
    let early = Project::new("cli_seed_none_yet");
    early.write("001_users.sql", "CREATE TABLE users (name text PRIMARY KEY);");
    let none = early.shale(&["up", "--seed"]).ok();
    assert!(none.stderr.contains("no seeds to run"), "{}", none.stderr);
    assert_eq!(early.tables(), ["shale_migrations", "users"]);
    let seeds = p.path().join("seeds");
    std::fs::create_dir_all(&seeds).unwrap();
    std::fs::write(seeds.join("10_later.sql"), "UPDATE users SET n = n + 1;").unwrap();
    std::fs::write(seeds.join("2_admin.sql"), "INSERT INTO users (name) VALUES ('admin') ON CONFLICT DO NOTHING;")
        .unwrap();
    let refused = p.shale(&["seed"]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("1 migration(s) are pending"), "{}", refused.stderr);
    // One JSON document: the run's, with the seeds' under `seeds` (FastAPI re-check: two).
    let up = p.shale(&["up", "--seed", "--json"]).ok();
    let json = up.json();
    assert_eq!(json["steps"][0]["version"], "001", "{json}");
    assert_eq!(json["seeds"]["steps"][0]["name"], "2_admin", "{json}");
    assert_eq!(p.psql("SELECT name || ':' || n FROM users"), "admin:1", "numeric order: 2 before 10");
    let again = p.shale(&["seed"]).ok();
    assert!(again.stdout.contains("seeds unchanged"), "{}", again.stdout);
    // A seed in code (Knex's, in its default `seeds/` too) is said not to run (Knex trial: silent).
    std::fs::write(seeds.join("00_users.js"), "exports.seed = async () => {};").unwrap();
    let noted = p.shale(&["seed"]).ok();
    assert!(noted.stderr.contains("00_users.js: ignored: a seed written in JavaScript"), "{}", noted.stderr);
    std::fs::remove_file(seeds.join("00_users.js")).unwrap();
    std::fs::write(seeds.join("10_later.sql"), "UPDATE users SET n = n + 10;").unwrap();
    let seeded = p.shale(&["seed"]).ok();
    assert!(seeded.stdout.contains("seeded 1 seed file(s)"), "{}", seeded.stdout);
    assert_eq!(p.psql("SELECT n FROM users"), "11", "only the changed file ran");
    p.shale(&["seed", "--force"]).ok();
    assert_eq!(p.psql("SELECT n FROM users"), "21");
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations WHERE kind = 'seed'"), "5");
    // A failing seed is rolled back whole and reported at its line.
    std::fs::write(seeds.join("11_bad.sql"), "UPDATE users SET n = 0;\nINSERT INTO users VALUES (NULL);\n").unwrap();
    let run = p.shale(&["seed"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("seeds/11_bad.sql:2:1"), "{}", run.stderr);
    assert_eq!(p.psql("SELECT n FROM users"), "21");
    // With --json, after migrations ran: one document, the error's, with what `up` applied.
    p.write("002_more.sql", "ALTER TABLE users ADD COLUMN note text;");
    let run = p.shale(&["up", "--seed", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["ok"], false, "{json}");
    assert_eq!(json["failure"]["location"]["line"], 2, "{json}");
    assert_eq!(json["up"]["steps"][0]["version"], "002", "{json}");
    assert_eq!(json["up"]["current_version"], "002", "{json}");
    // So where the schema file refreshed after `up` cannot be written (review: two documents).
    std::fs::write(p.path().join("shale.toml"), "dump_after_up = \"missing_dir/schema.sql\"\n").unwrap();
    p.write("003_more.sql", "ALTER TABLE users ADD COLUMN more text;");
    let run = p.shale(&["up", "--json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stdout.trim().lines().filter(|l| l.starts_with('{')).count(), 1, "{}", run.stdout);
    let json = run.json();
    assert_eq!(
        (&json["ok"], &json["up"]["steps"][0]["version"]),
        (&serde_json::json!(false), &serde_json::json!("003"))
    );
}

/// The Supabase CLI's one seed file, `supabase/seed.sql` beside `supabase/migrations`: read where
/// there is no seeds/ directory; `--seeds` names a file as well as a directory.
#[test]
fn a_supabase_seed_file_beside_the_migrations_is_the_seeds() {
    let p = Project::new("cli_seed_file");
    p.write("001_users.sql", "CREATE TABLE users (name text PRIMARY KEY, n int NOT NULL DEFAULT 0);");
    std::fs::write(p.path().join("seed.sql"), "INSERT INTO users (name) VALUES ('admin');").unwrap();
    let up = p.shale(&["up", "--seed"]).ok();
    assert!(up.stdout.contains("seed"), "{}", up.stdout);
    assert_eq!(p.psql("SELECT string_agg(name, ',') FROM users"), "admin");
    std::fs::write(p.path().join("more.sql"), "INSERT INTO users (name) VALUES ('guest');").unwrap();
    p.shale(&["seed", "--seeds", "more.sql"]).ok();
    assert_eq!(p.psql("SELECT string_agg(name, ',' ORDER BY name) FROM users"), "admin,guest");
    assert_eq!(
        p.psql("SELECT string_agg(name, ',' ORDER BY name) FROM shale_migrations WHERE kind = 'seed'"),
        "more,seed"
    );
}

/// A down that fails is rolled back (or stops part-way outside a transaction): the migration is
/// still applied, and the next `up` must not run its up again. Its attempt stays in the history
/// as an audit row beside the migration's own rows.
#[test]
fn a_failed_down_leaves_the_migration_applied_and_up_does_not_run_it_again() {
    let p = Project::new("cli_down_fails");
    p.psql("CREATE TABLE runs (n int)");
    p.write("0001_t.up.sql", "INSERT INTO runs VALUES (1);\nCREATE TABLE t (id int);");
    p.write("0001_t.down.sql", "DROP TABLE t;\nDROP TABLE nope;");
    p.shale(&["up"]).ok();
    snapshot!("down_fails_in_its_transaction", shown(&p, &p.shale(&["down", "--step", "1"])));
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][0]["state"], "applied", "{status}");
    assert_eq!(p.shale(&["version"]).ok().stdout.trim(), "0001");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM runs"), "1", "the up did not run again");
    assert_eq!(
        p.psql("SELECT string_agg(kind || ' ' || status, ', ' ORDER BY id) FROM shale_migrations"),
        "versioned succeeded, audit failed"
    );
    // Fixed, the down reverts it, and only then does up run it again.
    p.write("0001_t.down.sql", "DROP TABLE t;");
    p.shale(&["down", "--step", "1"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM runs"), "2");

    // Outside a transaction, a down that stops part-way leaves the migration applied too: the
    // next `up` does not resume the up at the down's statement count.
    p.write("0002_idx.up.sql", "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY t_a ON t (id);\nCREATE INDEX CONCURRENTLY t_b ON t (id);\nINSERT INTO runs VALUES (3);");
    p.write("0002_idx.down.sql", "-- shale:no-transaction\nDROP INDEX CONCURRENTLY t_b;\nDROP INDEX CONCURRENTLY nope;\nDROP INDEX CONCURRENTLY t_a;");
    p.shale(&["up"]).ok();
    snapshot!("down_stops_part_way", shown(&p, &p.shale(&["down", "--step", "1"])));
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][1]["state"], "applied", "{status}");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM runs WHERE n = 3"), "1", "the up did not run again");
    // The rest reverted by hand, the decision recorded; then up builds it again whole.
    p.psql("DROP INDEX t_a");
    p.shale(&["repair", "2", "--rolled-back", "--force", "--reason", "reverted by hand"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM pg_indexes WHERE tablename = 't'"), "2");
    // A down outside a transaction that succeeds is recorded as the revert it is.
    p.write("0002_idx.down.sql", "-- shale:no-transaction\nDROP INDEX CONCURRENTLY t_b;\nDROP INDEX CONCURRENTLY t_a;");
    p.shale(&["down", "--step", "1"]).ok();
    assert_eq!(p.shale(&["status", "--json"]).ok().json()["migrations"][1]["state"], "pending");
}

/// `down --dry-run` shows what the safety check says of each statement, but does not call an
/// unsafe one "refused": the check holds back ups only, and a down runs what it says.
#[test]
fn a_down_dry_run_does_not_call_what_it_will_run_refused() {
    let p = Project::new("cli_down_dry_run");
    p.write("0001_t.up.sql", "CREATE TABLE t (id int);");
    p.write("0001_t.down.sql", "DROP TABLE t;");
    p.shale(&["up"]).ok();
    // (With rows: a down of an empty table is judged fine, as an up's would be.)
    p.psql("INSERT INTO t VALUES (1)");
    let plan = p.shale(&["down", "--step", "1", "--dry-run"]).ok();
    assert!(plan.stdout.contains("unsafe, and a down runs it anyway (review it): [destructive]"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("refused"), "{}", plan.stdout);
    assert_eq!(p.psql("SELECT to_regclass('t') IS NOT NULL"), "t", "a dry run runs nothing");
}

/// `shale up | head -1`: once the reader is gone, the run goes on to its end (its output dropped),
/// rather than being ended between two migrations; a command that only reads stops quietly.
#[test]
fn a_reader_gone_away_does_not_end_a_run_half_way() {
    use std::io::{BufRead, BufReader};
    let p = Project::new("migrate_pipe");
    for i in 1..=20 {
        p.write(&format!("{i:03}_t{i}.sql"), &format!("CREATE TABLE t{i} (id int);\nSELECT pg_sleep(0.02);\n"));
    }
    let mut child = p.spawn(&["up"]);
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.contains("001"), "{first}");
    // The pipe's reading end is closed here, with 19 migrations to go.
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations WHERE status = 'succeeded'"), "20");
}

/// A dbmate file holds its down beside its up: fixing the down of an applied migration (dbmate
/// users do, where a down has a mistake) does not make it a changed migration, and the fixed down
/// is the one a revert runs. A change to its up section still is one.
#[test]
fn a_fixed_down_section_is_not_a_changed_migration() {
    let p = Project::new("cli_fixed_down");
    p.write(
        "20240101000000_a.sql",
        "-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\nREVOKE SELECT ON a TO public;\n",
    );
    p.shale(&["up"]).ok();
    p.write("20240101000000_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\nDROP TABLE a;\n");
    let up = p.shale(&["up"]).ok();
    assert!(up.stdout.contains("nothing to apply"), "{}", up.stdout);
    p.shale(&["validate"]).ok();
    assert_eq!(p.shale(&["status", "--json"]).ok().json()["migrations"][0]["state"], "applied");
    p.shale(&["down", "--step", "1"]).ok();
    assert_eq!(p.tables(), ["shale_migrations"]);
    p.shale(&["up"]).ok();
    p.write("20240101000000_a.sql", "-- migrate:up\nCREATE TABLE a (id bigint);\n\n-- migrate:down\nDROP TABLE a;\n");
    p.write(
        "20240101000000_a.sql",
        "-- migrate:up\nCREATE TABLE a (id bigint);\n\n-- migrate:down\nDROP TABLE IF EXISTS a;\n",
    );
    assert_eq!(p.shale(&["up"]).code, 2, "an up section changed is a changed migration");
}

/// Every down of a revert is read before the first runs: one that does not parse (dbmate's
/// `revoke ... to` where `from` was meant) refuses the whole revert, dry run included, instead of
/// stopping it part-way.
#[test]
fn a_down_that_does_not_parse_refuses_the_revert_before_it_starts() {
    let p = Project::new("cli_down_syntax");
    p.write(
        "20240101000000_a.sql",
        "-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\nREVOKE SELECT ON a TO public;\n",
    );
    p.write("20240102000000_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n\n-- migrate:down\nDROP TABLE b;\n");
    p.shale(&["up"]).ok();
    for args in [&["down", "--step", "2", "--dry-run"][..], &["down", "--step", "2"]] {
        let run = p.shale(args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        let shown = format!("{}{}", run.stdout, run.stderr);
        assert!(shown.contains("20240101000000_a.sql:5:"), "{args:?}: {shown}");
        assert!(shown.contains("would stop the revert part-way"), "{args:?}: {shown}");
    }
    assert_eq!(p.tables(), ["a", "b", "shale_migrations"], "nothing was reverted");
    p.shale(&["down", "--step", "1"]).ok();
}

/// A down's dry run is judged on the database it would run on, as an up's: dropping an empty
/// table is fine, one with rows is marked, and a dropped index's lock names its table.
#[test]
fn a_down_dry_run_is_judged_by_the_tables_it_acts_on() {
    let p = Project::new("cli_down_dry_facts");
    p.write(
        "001_a.up.sql",
        "CREATE TABLE kept (id int);\nCREATE TABLE empty (id int);\nCREATE INDEX kept_id ON kept (id);\n",
    );
    p.write("001_a.down.sql", "DROP INDEX kept_id;\nDROP TABLE empty;\nDROP TABLE kept;\n");
    p.shale(&["up"]).ok();
    p.fill("kept", 20_000);
    let dry = p.shale(&["down", "--step", "1", "--dry-run"]).ok();
    assert!(dry.stdout.contains("DROP INDEX kept_id\n       takes ACCESS EXCLUSIVE on public.kept"), "{}", dry.stdout);
    assert!(dry.stdout.contains("fine: empty is empty ([destructive]"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("unsafe, and a down runs it anyway (review it): [destructive] DROP TABLE kept"),
        "{}",
        dry.stdout
    );
}

/// A database something else built, with no history shale recognizes (dbmate's under another
/// name: a lone `version` column says too little): `up` refuses before anything runs, where it
/// ran again the first migration, whose table a later one had dropped, and recorded it (Flyway
/// trial). A migration written `IF NOT EXISTS` expects its table may be there, and runs.
#[test]
fn tables_the_migrations_create_there_already_with_no_history_refuse_up() {
    let p = Project::new("mig_tables_no_history");
    p.write("0001_sak.sql", "CREATE TABLE sak (id bigint PRIMARY KEY);\n");
    p.write("0002_fagsak.sql", "CREATE TABLE fagsak (id bigint PRIMARY KEY);\nDROP TABLE sak;\n");
    p.psql("CREATE TABLE app_versions (version varchar PRIMARY KEY); INSERT INTO app_versions VALUES ('0001'), ('0002'); CREATE TABLE fagsak (id bigint PRIMARY KEY)");
    for args in [&["up", "--dry-run"][..], &["up"]] {
        let run = p.shale(args);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("public.fagsak (made by 0002 fagsak)")
                && run.stderr.contains("`shale adopt --from TOOL --table NAME`"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(p.tables(), ["app_versions", "fagsak"], "nothing ran");
    // goto forward is an up to that version, with all of up's checks (re-check trial: it ran
    // 0001 here, past every one of them).
    let goto = p.shale(&["goto", "0002"]);
    assert_eq!(goto.code, 2, "{}", goto.stderr);
    assert!(goto.stderr.contains("public.fagsak (made by 0002 fagsak)"), "{}", goto.stderr);
    assert_eq!(p.tables(), ["app_versions", "fagsak"], "nothing ran");
    let json = p.shale(&["up", "--json"]).json();
    assert_eq!(json["exit_code"], 2, "{json}");
    // Taken over, the history says what ran: nothing runs again.
    p.shale(&["adopt", "--from", "dbmate", "--table", "app_versions"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.tables(), ["app_versions", "fagsak", "shale_migrations"]);

    // Written to run over a schema built otherwise (create_all's), a migration says so.
    let q = Project::new("mig_tables_if_not_exists");
    q.write("0001_users.sql", "CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY);\n");
    q.psql("CREATE TABLE users (id bigint PRIMARY KEY)");
    q.shale(&["up"]).ok();

    // And the linter's vet: goto refuses what up refuses.
    let r = Project::new("mig_goto_vet");
    r.write("0001_t.sql", "CREATE TABLE t (id bigint PRIMARY KEY, secret text);\n");
    r.write("0002_drop.sql", "ALTER TABLE t DROP COLUMN secret;\n");
    r.shale(&["up", "--to", "0001"]).ok();
    r.psql("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 1000) g; ANALYZE t");
    let goto = r.shale(&["goto", "0002"]);
    assert_eq!(goto.code, 2, "{}", goto.stderr);
    assert!(goto.stderr.contains("destructive"), "{}", goto.stderr);
    assert_eq!(r.psql("SELECT count(*) FROM information_schema.columns WHERE column_name = 'secret'"), "1");
    // The flag the refusal names is goto's too.
    r.shale(&["goto", "0002", "--force-unsafe"]).ok();
    assert_eq!(r.psql("SELECT count(*) FROM information_schema.columns WHERE column_name = 'secret'"), "0");
}

/// An applied migration's file changed in its comments and white space alone (a typo fixed in a
/// comment, as a Prisma team did): refused as any change, but said so, with the repair that
/// records it, since nothing of what ran differs (Prisma trial). A change of its SQL is not.
#[test]
fn a_file_changed_in_comments_only_is_said_so() {
    let p = Project::new("mig_comments_only");
    p.write("001_users.sql", "-- users\nCREATE TABLE users (id bigint PRIMARY KEY);\n");
    p.shale(&["up"]).ok();
    p.write(
        "001_users.sql",
        "-- The users, fixed typo.\nCREATE TABLE users (\n    id bigint PRIMARY KEY\n);\n/* done */\n",
    );
    for args in [&["up"][..], &["validate"]] {
        let run = p.shale(args);
        assert_ne!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stderr.contains("in its comments and white space only")
                && run.stderr.contains("shale repair 001 --applied --reason \"comments only\""),
            "{args:?}: {}",
            run.stderr
        );
    }
    p.write("001_users.sql", "-- users\nCREATE TABLE users (id bigint PRIMARY KEY, email text);\n");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("was changed after it was applied") && !up.stderr.contains("comments"), "{}", up.stderr);
}

/// A new partition whose rows sit in the default partition fails as PostgreSQL fails it, with the
/// way out: move them out first (partitioned tables trial: "fix the data first", no more).
#[test]
fn a_partition_whose_rows_are_in_the_default_partition_says_how_to_move_them() {
    let p = Project::new("migrate_default_partition_rows");
    p.write(
        "001_events.sql",
        "CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at);\nCREATE TABLE events_rest PARTITION OF events DEFAULT;\n",
    );
    p.shale(&["up"]).ok();
    p.psql("INSERT INTO events VALUES (1, '2027-03-01')");
    p.write(
        "002_2027.sql",
        "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\n",
    );
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 1, "{}", up.stderr);
    assert!(up.stderr.contains("are in the default partition: move them out first"), "{}", up.stderr);
}

/// A goose Go migration the baseline covered, ported to SQL afterwards as shale asks, ran here as
/// Go: it counts as applied, not as a late file (review: "never ran here", and both ways out
/// would have created its table again).
#[test]
fn a_go_migration_the_baseline_covered_stays_covered_once_ported_to_sql() {
    let p = Project::new("cli_baseline_go_ported");
    p.psql("CREATE TABLE a (id int); CREATE TABLE b (id int); CREATE TABLE c (id int);");
    p.write("001_a.sql", "-- +goose Up\nCREATE TABLE a (id int);\n");
    p.write("002_b.go", "package migrations\n");
    p.write("003_c.sql", "-- +goose Up\nCREATE TABLE c (id int);\n");
    p.shale(&["baseline", "3", "--force", "--reason", "migrated by goose"]).ok();
    // Not ported yet: under the baseline, it ran as Go (trial: it stopped `up`).
    let run = p.shale(&["up"]);
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(p.shale(&["status", "--json"]).ok().json()["migrations"][1]["state"], "baseline");
    std::fs::remove_file(p.migrations().join("002_b.go")).unwrap();
    p.write("002_b.sql", "-- +goose Up\nCREATE TABLE b (id int);\n");
    let run = p.shale(&["up"]);
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][1]["state"], "baseline", "{status}");
}

/// A down to a version under the baseline is refused, naming the baseline (yoyo trial: `goto
/// 0040` on a database baselined at 0042 said "already there", exit 0, and a rollback script
/// believed it); a down with nothing above the baseline says why nothing was reverted.
#[test]
fn a_down_under_the_baseline_is_refused_and_says_why() {
    let p = Project::new("cli_down_under_baseline");
    p.psql("CREATE TABLE a (id int); CREATE TABLE b (id int);");
    p.write("0001_a.up.sql", "CREATE TABLE a (id int);\n");
    p.write("0001_a.down.sql", "DROP TABLE a;\n");
    p.write("0002_b.up.sql", "CREATE TABLE b (id int);\n");
    p.write("0002_b.down.sql", "DROP TABLE b;\n");
    p.shale(&["baseline", "0002"]).ok();
    for args in [&["goto", "0001"][..], &["down", "--to", "0001"]] {
        let run = p.shale(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("version 0001 is under the baseline 0002"), "{}", run.stderr);
    }
    let down = p.shale(&["down", "--step", "1"]).ok();
    assert!(down.stderr.contains("the history starts at the baseline 0002"), "{}", down.stderr);
    assert_eq!(p.tables(), ["a", "b", "shale_migrations"]);
}

/// A migration's `RAISE WARNING` is said, as psql says it, with `-q` too, naming the migration; a
/// NOTICE is not (a baseline's materialized view left empty went unsaid: re-check).
#[test]
fn the_server_s_warnings_are_said() {
    let p = Project::new("cli_server_warning");
    p.write(
        "001_w.sql",
        "DO $$ BEGIN RAISE WARNING 'rows left behind: %', 3; RAISE NOTICE 'only a notice'; END $$;\nCREATE TABLE t (id int);\n",
    );
    let up = p.shale(&["up", "-q"]).ok();
    assert!(up.stderr.contains("warning: 001 w: the server says: rows left behind: 3"), "{}", up.stderr);
    assert!(!up.stderr.contains("only a notice"), "{}", up.stderr);
}

/// Of a `--single-transaction` batch, the server's warnings are said as the batch's; of a
/// migration that fails, before its error (review: said under the batch's first, or never).
#[test]
fn the_server_s_warnings_of_a_batch_and_of_a_failure_are_said() {
    let p = Project::new("cli_server_warning_batch");
    p.write("001_a.sql", "CREATE TABLE a (id int);\n");
    p.write("002_b.sql", "DO $$ BEGIN RAISE WARNING 'warned by two'; END $$;\n");
    let up = p.shale(&["up", "--single-transaction"]).ok();
    assert!(up.stderr.contains("the batch 001 a to 002 b: the server says: warned by two"), "{}", up.stderr);
    p.write("003_c.sql", "DO $$ BEGIN RAISE WARNING 'about to fail'; END $$;\nSELECT 1/0;\n");
    let failed = p.shale(&["up"]);
    assert_ne!(failed.code, 0, "{}", failed.stderr);
    assert!(failed.stderr.contains("003 c: the server says: about to fail"), "{}", failed.stderr);
    // A failing batch's warnings are the batch's too.
    p.write("004_d.sql", "CREATE TABLE d (id int);\n");
    let failed = p.shale(&["up", "--single-transaction"]);
    assert_ne!(failed.code, 0, "{}", failed.stderr);
    assert!(failed.stderr.contains("the batch 003 c to 004 d: the server says: about to fail"), "{}", failed.stderr);
    // The migrations of a failing batch before the one that failed are rolled back with it: said.
    p.write("003_c.sql", "CREATE TABLE c (id int);\n");
    p.write("004_d.sql", "CREATE TABLE d (id int REFERENCES missing);\n");
    let failed = p.shale(&["up", "--single-transaction", "--json"]);
    assert_ne!(failed.code, 0, "{}", failed.stderr);
    assert_eq!(failed.json()["failure"]["rolled_back_with"], serde_json::json!(["003 c"]), "{}", failed.stdout);
    let failed = p.shale(&["up", "--single-transaction"]);
    assert!(failed.stderr.contains("nothing of it was applied, 003 c with it (pending again)"), "{}", failed.stderr);
}

/// A batch that fails as it commits (a deferred constraint) names all its migrations as rolled
/// back (review: blamed on the first, none said).
#[test]
fn a_batch_failing_at_commit_names_all_it_rolled_back() {
    let p = Project::new("cli_batch_commit");
    p.write(
        "001_a.sql",
        "CREATE TABLE parent (id int PRIMARY KEY);\nCREATE TABLE child (id int, p int REFERENCES parent DEFERRABLE INITIALLY DEFERRED);\n",
    );
    p.write("002_b.sql", "INSERT INTO child VALUES (1, 42);\n");
    p.write("003_c.sql", "CREATE TABLE c (id int);\n");
    let failed = p.shale(&["up", "--single-transaction", "--json"]);
    assert_ne!(failed.code, 0, "{}", failed.stdout);
    assert_eq!(
        failed.json()["failure"]["rolled_back_with"],
        serde_json::json!(["001 a", "002 b", "003 c"]),
        "{}",
        failed.stdout
    );
    assert!(
        failed.json()["message"].as_str().unwrap().contains("the batch 001 a to 003 c failed"),
        "{}",
        failed.stdout
    );
    // No migration of it recorded as the one that failed: all pending again.
    assert_eq!(p.tables(), ["shale_migrations"], "nothing stayed");
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations WHERE status = 'failed'"), "0");
}
