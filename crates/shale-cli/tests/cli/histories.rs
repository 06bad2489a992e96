//! Histories as real projects write them: `up` judges each statement by the database it runs on,
//! so years of history build a fresh database without a refusal, while the same statements on a
//! table with data are stopped.

use crate::common;

use common::{shown, Project, Run};

/// Patterns of real histories: tables created, renamed, retyped, indexed without CONCURRENTLY,
/// columns added and dropped, a diesel folder running CONCURRENTLY outside a transaction.
fn write_history(p: &Project) {
    p.write("001_accounts.sql", "CREATE TABLE accounts (id serial PRIMARY KEY, email varchar(100));\n");
    p.write(
        "002_rename.sql",
        "CREATE INDEX accounts_email ON accounts (email);\nALTER TABLE accounts RENAME TO users;\nALTER INDEX accounts_email RENAME TO users_email;\n",
    );
    p.write(
        "003_retype.sql",
        "ALTER TABLE users ALTER COLUMN email TYPE text;\n\
         ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();\n\
         ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);\n\
         ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n\
         ALTER TABLE users ADD COLUMN n int NOT NULL;\n\
         ALTER TABLE users ADD CONSTRAINT n_positive CHECK (n > 0);\n",
    );
    p.write(
        "004_cleanup.sql",
        "DROP INDEX users_email;\nALTER TABLE users DROP COLUMN token;\nCREATE TABLE tmp (id int);\nDROP TABLE tmp;\n\
         CREATE SCHEMA archive;\nCREATE TABLE old_users (id int);\nALTER TABLE old_users SET SCHEMA archive;\nCREATE INDEX old_users_id ON archive.old_users (id);\n",
    );
    p.write("2020-01-01-000000_concurrent/up.sql", "CREATE INDEX CONCURRENTLY users_n ON users (n);\n");
    p.write("2020-01-01-000000_concurrent/metadata.toml", "run_in_transaction = false\n");
}

#[test]
fn a_long_history_builds_a_fresh_database_without_refusals() {
    let p = Project::new("hist_fresh");
    write_history(&p);
    let dry = p.shale(&["up", "--dry-run"]).ok();
    assert!(
        dry.stdout.contains("fine: accounts is created earlier in this run ([create-index-non-concurrently]"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("fine: users is created earlier in this run ([alter-column-type]"), "{}", dry.stdout);
    assert!(dry.stdout.contains("fine: archive.old_users is created earlier in this run"), "{}", dry.stdout);
    assert!(!dry.stdout.contains("refused"), "{}", dry.stdout);
    p.shale(&["up"]).ok();
    assert_eq!(p.history().len(), 5);
    // The same statements on an existing table with rows: refused, naming why.
    p.psql("INSERT INTO users (email, n) SELECT 'u' || g, g FROM generate_series(1, 20000) g; ANALYZE users");
    p.write(
        "2021-01-01-000000_again/up.sql",
        "ALTER TABLE users ALTER COLUMN email TYPE varchar(500);\nCREATE INDEX users_email2 ON users (email);\n",
    );
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("error[alter-column-type]: changes the type of users.email"), "{}", up.stderr);
    assert!(up.stderr.contains("error[create-index-non-concurrently]"), "{}", up.stderr);
}

#[test]
fn the_gate_fires_on_a_table_with_rows_and_not_on_an_empty_one() {
    let p = Project::new("hist_gate");
    // `small` is empty, as its statistics say (analyzed with no rows).
    p.psql("CREATE TABLE big (id bigint, note text); CREATE TABLE small (id bigint); CREATE TABLE few (id bigint); ANALYZE small");
    p.fill("big", 20_000);
    p.fill("few", 50);
    p.write(
        "001_index.sql",
        "CREATE INDEX small_id ON small (id);\nCREATE INDEX few_id ON few (id);\nCREATE INDEX big_id ON big (id);\n",
    );
    // --dry-run says what up will say, and exits as up would.
    let dry = p.shale(&["up", "--dry-run"]);
    assert_eq!(dry.code, 2, "{}", dry.stdout);
    assert!(
        dry.stdout.contains("fine: small is empty ([create-index-non-concurrently] applies to large tables, over `large_table_rows` rows)"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("fine: few has about "), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("refused: [create-index-non-concurrently] CREATE INDEX on existing table big"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("`shale up` would refuse this plan"), "{}", dry.stdout);
    let json = p.shale(&["up", "--dry-run", "--json"]);
    assert_eq!(json.code, 2);
    let json = json.json();
    assert_eq!(json["refused"], true);
    assert_eq!(json["steps"][0]["cleared"].as_array().unwrap().len(), 2, "{json}");
    // Only the table with data is named.
    snapshot!("gate_up_refused", shown(&p, &p.shale(&["up"])));
    // Data lost counts on any table with rows, however few.
    p.write("001_index.sql", "DROP TABLE small;\n");
    p.shale(&["up", "--dry-run"]).ok();
    p.write("001_index.sql", "DROP TABLE few;\n");
    assert_eq!(p.shale(&["up", "--dry-run"]).code, 2);
    // A table never analyzed whose statistics were lost (a crash, a copied or restored database):
    // whether it has rows is not known, so it is taken to have some.
    p.psql("CREATE TABLE restored (id bigint); INSERT INTO restored VALUES (1)");
    let written = || p.psql("SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'restored'") == "1";
    let started = std::time::Instant::now();
    while !written() && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    p.psql("SELECT pg_stat_reset_single_table_counters('restored'::regclass)");
    assert_eq!(p.psql("SELECT n_live_tup + n_tup_ins FROM pg_stat_user_tables WHERE relname = 'restored'"), "0");
    p.write("001_index.sql", "DROP TABLE restored;\n");
    let dry = p.shale(&["up", "--dry-run"]);
    assert_eq!(dry.code, 2, "{}", dry.stdout);
    assert!(dry.stdout.contains("[destructive]"), "{}", dry.stdout);
    assert!(dry.stdout.contains("nothing tells whether restored has rows"), "{}", dry.stdout);
    // One never written is looked at, and is empty: dropping it loses nothing.
    p.psql("CREATE TABLE never_written (id bigint)");
    p.write("001_index.sql", "DROP TABLE never_written;\n");
    let dry = p.shale(&["up", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stdout);
    assert!(dry.stdout.contains("fine: never_written is empty"), "{}", dry.stdout);
    // A materialized view made WITH NO DATA (a Rails baseline's) cannot be looked at: it does not
    // make every other table's look fail, and count as holding data (Rails trial).
    p.psql("CREATE MATERIALIZED VIEW counts AS SELECT count(*) AS n FROM never_written WITH NO DATA");
    p.write("001_index.sql", "CREATE INDEX never_written_id ON never_written (id);\n");
    let dry = p.shale(&["up", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stdout);
    assert!(dry.stdout.contains("fine: never_written is empty"), "{}", dry.stdout);
    p.psql("DROP MATERIALIZED VIEW counts");
    // Row-level security (Supabase turns it on for every table) does not hide the rows from the
    // table's owner or a superuser, who are not under it: the table is looked at, and is empty.
    p.psql("CREATE TABLE guarded (id bigint); ALTER TABLE guarded ENABLE ROW LEVEL SECURITY");
    p.write("001_index.sql", "CREATE INDEX guarded_id ON guarded (id);\n");
    let dry = p.shale(&["up", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stdout);
    assert!(dry.stdout.contains("fine: guarded is empty"), "{}", dry.stdout);
    p.write("001_index.sql", "DROP TABLE restored;\n");
    // A row written and deleted since does not tell either: the old rows were never counted.
    p.psql("INSERT INTO restored VALUES (2); DELETE FROM restored WHERE id = 2");
    let counted = || p.psql("SELECT n_tup_del FROM pg_stat_user_tables WHERE relname = 'restored'") == "1";
    let started = std::time::Instant::now();
    while !counted() && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(counted(), "the statistics never showed the row deleted");
    assert_eq!(p.shale(&["up", "--dry-run"]).code, 2);
    // A partitioned table counts its partitions, in whatever schema they are.
    p.psql(
        "CREATE SCHEMA parts; CREATE TABLE logs (at date) PARTITION BY RANGE (at);
         CREATE TABLE parts.logs_2026 PARTITION OF logs FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
         INSERT INTO logs VALUES ('2026-05-01'); ANALYZE logs",
    );
    p.write("001_index.sql", "DROP TABLE logs;\n");
    let dry = p.shale(&["up", "--dry-run"]);
    assert_eq!(dry.code, 2, "{}", dry.stdout);
    assert!(dry.stdout.contains("[destructive]"), "{}", dry.stdout);
    // Its index cannot be built CONCURRENTLY: the finding is the one that says what can be done.
    p.write("001_index.sql", "CREATE INDEX logs_at ON logs (at);\n");
    let dry = p.shale(&["up", "--dry-run"]).ok();
    assert!(dry.stdout.contains("[create-index-on-partitioned-table]"), "{}", dry.stdout);
    assert!(!dry.stdout.contains("create-index-non-concurrently"), "{}", dry.stdout);
    // The threshold is the project's to set.
    p.write("001_index.sql", "CREATE INDEX big_id ON big (id);\n");
    std::fs::write(p.path().join("shale.toml"), "[lint]\nlarge_table_rows = 100000\n").unwrap();
    let dry = p.shale(&["up", "--dry-run"]).ok();
    assert!(dry.stdout.contains("fine: big has about "), "{}", dry.stdout);
    p.shale(&["up"]).ok();
}

#[test]
fn a_syntax_error_is_reported_alone_with_no_advice_to_force_it() {
    let p = Project::new("hist_syntax");
    p.write("001_t.sql", "CREATE TABLE t (id int name text);\nCREATE INDEX t_id ON t (id);\n");
    // No finding drawn from a broken parse, and no advice to force it or allow it.
    snapshot!("syntax_error_alone", shown(&p, &p.shale(&["up"])));
}

#[test]
fn lint_since_checks_what_a_branch_adds_with_the_rest_as_context() {
    let p = Project::new("hist_since");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").current_dir(p.path()).args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.email", "t@example.com"]);
    git(&["config", "user.name", "t"]);
    // Already merged, and unsafe on purpose: not this branch's business.
    p.write("001_users.sql", "CREATE TABLE users (id bigint, name varchar(10));\n");
    p.write("002_old.sql", "CREATE INDEX users_id ON users (id);\n");
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "base"]);
    git(&["checkout", "-q", "-b", "feature"]);
    p.write(
        "003_orders.sql",
        "CREATE TABLE orders (id bigint, user_id bigint);\nCREATE INDEX orders_user ON orders (user_id);\n",
    );
    // Widening a varchar 001 made rewrites nothing: judged by 001's type, with no database.
    p.write(
        "004_users.sql",
        "ALTER TABLE users ADD COLUMN nick text;\nCREATE INDEX users_nick ON users (nick);\nALTER TABLE users ALTER COLUMN name TYPE varchar(20);\n",
    );
    git(&["add", "migrations/003_orders.sql"]);
    git(&["commit", "-q", "-m", "orders"]);
    let run: Run = p.bare().args(["lint", "--since", "main"]).output().unwrap().into();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    // 003 (committed on the branch) is judged with 001 as context: its table is new.
    assert!(!run.stdout.contains("003_orders.sql:2:1: error"), "{}", run.stdout);
    // 004 (not committed yet) is checked; 002 (on main) is not reported.
    assert!(run.stdout.contains("004_users.sql:2:1: error[create-index-non-concurrently]"), "{}", run.stdout);
    assert!(!run.stdout.contains("002_old.sql"), "{}", run.stdout);
    assert!(!run.stdout.contains("alter-column-type"), "{}", run.stdout);
    assert!(run.stderr.contains("2 migration(s) added since main"), "{}", run.stderr);
    // The whole directory, with no database: what --since would judge is cleared here, and said
    // so (Hasura and Atlas trials: a CI step passed a blocking index with no word).
    let whole: Run = p.bare().args(["lint"]).output().unwrap().into();
    assert!(
        whole.stderr.contains("linted as one run on a new database") && whole.stderr.contains("shale lint --since"),
        "{}{}",
        whole.stdout,
        whole.stderr
    );
    // A file given by name is judged after the migrations before it too.
    let run: Run = p.bare().args(["lint", "migrations/004_users.sql"]).output().unwrap().into();
    assert!(run.code == 1 && !run.stdout.contains("alter-column-type"), "{}{}", run.stdout, run.stderr);
}

#[test]
fn files_the_source_tool_passes_over_are_left_alone_with_a_note() {
    let p = Project::new("hist_ignored");
    p.write("2020-01-01-000000_users/up.sql", "CREATE TABLE users (id bigint);\n");
    p.write("2020-01-01-000000_users/down.sql", "DROP TABLE users;\n");
    p.write("data_oauth_github.sql", "INSERT INTO users VALUES (1);\n");
    p.write("README.md", "# migrations\n");
    p.write("00012_backfill.go", "package migrations\n");
    // The Go migration is pending; the data script gets a note; the README nothing.
    snapshot!("ignored_validate", shown(&p, &p.shale(&["validate"])));
    // A goose migration written in Go is part of the history, but shale cannot run it: `up` says
    // what to do and runs nothing.
    snapshot!("ignored_up_refused", shown(&p, &p.shale(&["up"])));
    p.shale(&["repair", "00012", "--applied", "--reason", "the backfill ran long ago"]).ok();
    let up = p.shale(&["up"]).ok();
    assert!(up.stderr.contains("note: migrations/data_oauth_github.sql: ignored"), "{}", up.stderr);
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("data_oauth_github.sql: ignored"), "{}", status.stderr);
    let json = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(json["ignored"].as_array().unwrap().len(), 1, "{json}");
    let states: Vec<&str> =
        json["migrations"].as_array().unwrap().iter().map(|m| m["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["applied", "applied"], "{json}");
    assert_eq!(p.psql("SELECT count(*) FROM users"), "0", "the data script did not run");
    // Named like a migration, with a mistyped extension: an error naming it, nothing runs.
    p.write("2021-01-01-000000_more/up.sql", "CREATE TABLE more (id int);\n");
    p.write("003_add.up.sq", "CREATE TABLE typo (id int);\n");
    snapshot!("mistyped_extension", shown(&p, &p.shale(&["up"])));
    assert!(!p.tables().contains(&"more".to_string()));
}

/// Flyway's Java migrations kept beside its SQL (`V2__Backfill_Uuids.java`) are migrations of the
/// history that shale cannot run: `up` stops before one, as before goose's Go migrations (breadth
/// trial: DSpace's were passed over without a word, and `up` failed later on what they do).
#[test]
fn flyway_java_migrations_stop_up_where_it_would_reach_them() {
    let p = Project::new("hist_flyway_java");
    p.write("V1__users.sql", "CREATE TABLE users (id bigint);\n");
    p.write("V2__Backfill_Uuids.java", "public class V2__Backfill_Uuids extends BaseJavaMigration {}\n");
    p.write("V3__keys.sql", "ALTER TABLE users ADD PRIMARY KEY (id);\n");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}{}", up.stdout, up.stderr);
    assert!(up.stderr.contains("written in Java"), "{}", up.stderr);
    p.shale(&["up", "--to", "1"]).ok();
    assert!(p.tables().contains(&"users".to_string()));
    let status = p.shale(&["status"]).ok();
    assert!(status.stdout.contains(" Backfill_Uuids ") && status.stdout.contains("cannot-run"), "{}", status.stdout);
}

#[test]
fn the_history_keeps_each_file_s_path_and_an_older_table_is_upgraded() {
    let p = Project::new("hist_path");
    // The history table as an earlier shale made it: no `path`, fewer kinds.
    p.psql(
        "CREATE TABLE shale_migrations (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, version text NOT NULL, name text NOT NULL,
           kind text NOT NULL CHECK (kind IN ('versioned', 'repeatable', 'baseline', 'repair', 'seed')), checksum text,
           checksum_algorithm smallint NOT NULL DEFAULT 1, up_sql text, down_sql text, started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
           finished_at timestamptz, duration_ms bigint, applied_by text NOT NULL DEFAULT current_user, host text, shale_version text NOT NULL,
           status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'rolled_back')), statements_done integer,
           error_sqlstate text, error_message text, error_statement text, reason text)",
    );
    p.write("0001_a.sql", "CREATE TABLE a (id int);\n");
    p.shale(&["up", "--dry-run"]).ok();
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][0]["state"], "pending", "read the older way: {status}");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT path FROM shale_migrations"), "0001_a.sql");
    let check = p.psql("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'shale_migrations'::regclass AND conname LIKE '%kind%'");
    assert!(check.contains("adopted") && check.contains("audit"), "{check}");
    // An applied migration whose file is gone is named as it was written.
    p.remove("0001_a.sql");
    p.write("0002_b.sql", "CREATE TABLE b (id int);\n");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("0001_a.sql (migration 0001 a) is applied in the database but its file is gone"),
        "{}",
        up.stderr
    );
}

/// goose's Go migrations stop `up` only where the run would reach them: a fresh database is built
/// up to the one before the first of them with `up --to`.
#[test]
fn up_to_a_version_below_a_go_migration_applies_up_to_it() {
    let p = Project::new("hist_go_later");
    p.write("00001_a.sql", "-- +goose Up\nCREATE TABLE a (id int);\n");
    p.write("00002_b.sql", "-- +goose Up\nCREATE TABLE b (id int);\n");
    p.write("00003_backfill.go", "package migrations\n");
    p.write("00004_d.sql", "-- +goose Up\nCREATE TABLE d (id int);\nALTER TABLE a ADD COLUMN note text;\n");
    // Without a database, validate says what it cannot know: whether goose applied it.
    snapshot!("go_migration_without_a_database", shown(&p, &p.bare().arg("validate").output().unwrap().into()));
    // On a fresh database the way round it names the version before it, in the order that keeps
    // the history in order; recording the Go migration first would leave 1 and 2 out of order.
    let up = p.shale(&["up"]);
    assert!(up.stderr.contains("`shale up --to 00002`, then do its work"), "{}", up.stderr);
    let early = p.shale(&["repair", "00003", "--applied", "--reason", "ran by goose"]);
    assert_eq!(early.code, 2, "{}", early.stderr);
    assert!(early.stderr.contains("2 migration(s) before 00003, up to 00002, are not applied yet"), "{}", early.stderr);
    assert!(early.stderr.contains("`shale up --to 00002`"), "{}", early.stderr);
    p.shale(&["up", "--to", "2"]).ok();
    assert_eq!(p.tables(), ["a", "b", "shale_migrations"]);
    // lint judges the pending files against the database all the same, the one past it too
    // (`--json`, as every command takes it, is `--format json`).
    let lint = p.shale(&["lint", "--json"]).ok().json();
    let linted =
        |file: &str| lint["effects"].as_array().unwrap().iter().any(|e| e[0].as_str().unwrap().ends_with(file));
    assert!(linted("00004_d.sql"), "{lint}");
    // Reaching the Go migration is refused, naming it; nothing past it runs.
    for args in [&["up"][..], &["up", "--to", "4"]] {
        let run = p.shale(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("00003_backfill.go: migration 00003 is written in Go"), "{}", run.stderr);
    }
    assert_eq!(p.tables(), ["a", "b", "shale_migrations"]);
    // Ported to SQL beside it, the SQL file runs in its place, and the Go file is noted as such.
    p.write("00003_backfill.sql", "-- +goose Up\nCREATE TABLE c (id int);\n");
    let validate = p.shale(&["validate"]).ok();
    assert!(validate.stderr.contains("ported to SQL in 00003_backfill.sql"), "{}", validate.stderr);
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"].as_array().unwrap().len(), 4, "each version once: {status}");
    p.shale(&["up"]).ok();
    assert_eq!(p.tables(), ["a", "b", "c", "d", "shale_migrations"]);
}

/// A type change that touches no row (a longer varchar, text for a varchar) passes on a large
/// table: the safety check reads the type the column has. One that rewrites is still refused.
#[test]
fn widening_a_varchar_on_a_large_table_is_not_refused() {
    let p = Project::new("hist_widen");
    p.psql("CREATE TABLE registry (id bigint, access_key varchar(255), n int)");
    p.fill("registry", 20_000);
    p.write("001_widen.sql", "ALTER TABLE registry ALTER COLUMN access_key TYPE varchar(4096);\n");
    let dry = p.shale(&["up", "--dry-run"]).ok();
    // Still a brief ACCESS EXCLUSIVE lock, but no rewrite.
    assert!(dry.stdout.contains("takes ACCESS EXCLUSIVE on registry"), "{}", dry.stdout);
    assert!(!dry.stdout.contains("rewrites"), "{}", dry.stdout);
    p.write("001_widen.sql", "ALTER TABLE registry ALTER COLUMN n TYPE bigint;\n");
    let refused = p.shale(&["up", "--dry-run"]);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(refused.stdout.contains("[alter-column-type]"), "{}", refused.stdout);
    p.write("001_widen.sql", "ALTER TABLE registry ALTER COLUMN access_key TYPE varchar(4096);\nALTER TABLE registry ALTER COLUMN access_key TYPE text;\n");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'registry'::regclass AND attname = 'access_key'"), "text");
}
