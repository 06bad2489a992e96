//! What a user sees, as snapshots: the messages of the first hour (a missing directory, a stopped
//! development server, a database URL under another name, a misspelt table), help, and the
//! output of a run. Temporary paths, ports, database names and timings are redacted.

use crate::common;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use common::{shown, Project, Run};

#[test]
fn a_missing_directory_names_where_shale_looked() {
    let p = Project::new("msg_missing_dir");
    let run: Run = p.bare().arg("status").output().unwrap().into();
    snapshot!("missing_directory", shown(&p, &run));
}

#[test]
fn a_database_url_under_another_name_is_pointed_at() {
    let p = Project::new("msg_other_url");
    p.write("001_a.sql", "SELECT 1;\n");
    std::fs::write(p.path().join(".env"), "NEON_DATABASE_URL=postgres://app:secret@ep-example.neon.tech/app\n")
        .unwrap();
    let run: Run = p.bare().arg("up").output().unwrap().into();
    assert!(!run.stderr.contains("secret"));
    snapshot!("database_url_under_another_name", shown(&p, &run));
    // goose's own variable (goose trial).
    std::fs::write(p.path().join(".env"), "GOOSE_DRIVER=postgres\nGOOSE_DBSTRING=postgres://app:secret@db/app\n")
        .unwrap();
    let run: Run = p.bare().arg("up").output().unwrap().into();
    assert!(
        run.stderr.contains("GOOSE_DBSTRING is set in .env: to use it, put `database_url_env = \"GOOSE_DBSTRING\"`"),
        "{}",
        run.stderr
    );
    // Spring Boot's (Flyway trial): a JDBC URL, its user and password in variables beside it.
    let (user, rest) = p.db.url.strip_prefix("postgresql://").unwrap().split_once('@').unwrap();
    let jdbc = format!("jdbc:postgresql://{rest}&currentSchema=app");
    std::fs::write(
        p.path().join(".env"),
        format!("SPRING_DATASOURCE_URL={jdbc}\nSPRING_DATASOURCE_USERNAME={user}\nSPRING_DATASOURCE_PASSWORD=s3cret\n"),
    )
    .unwrap();
    let run: Run = p.bare().arg("up").output().unwrap().into();
    assert!(run.stderr.contains("put `database_url_env = \"SPRING_DATASOURCE_URL\"`"), "{}", run.stderr);
    p.write("../shale.toml", "database_url_env = \"SPRING_DATASOURCE_URL\"\n");
    p.psql("CREATE SCHEMA app");
    p.write("002_t.sql", "CREATE TABLE t (id int);\n");
    let run: Run = p.bare().arg("up").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    // currentSchema is the search_path, as for the application.
    assert_eq!(p.psql("SELECT to_regclass('app.t') IS NOT NULL"), "t");
    p.remove("002_t.sql");
    std::fs::remove_file(p.path().join("shale.toml")).unwrap();
    // ASP.NET's Npgsql connection string, named by the hint and read as it is (EF Core trial:
    // "unknown parameter Host"); Ecto's URL, as Phoenix's runtime.exs reads it.
    let (host, port) = rest.split_once('/').unwrap().0.split_once(':').unwrap();
    let database = rest.split_once('/').unwrap().1.split_once('?').map_or(rest.split_once('/').unwrap().1, |(d, _)| d);
    let npgsql = format!(
        "Host={host};Port={port};Database={database};Username={user};Password=\"x;y\";SSL Mode=Disable;Maximum Pool Size=20"
    );
    std::fs::write(p.path().join(".env"), format!("ConnectionStrings__Default='{npgsql}'\n")).unwrap();
    let run: Run = p.bare().arg("status").output().unwrap().into();
    assert!(run.stderr.contains("put `database_url_env = \"ConnectionStrings__Default\"`"), "{}", run.stderr);
    p.write("../shale.toml", "database_url_env = \"ConnectionStrings__Default\"\n");
    let run: Run = p.bare().arg("status").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ecto = format!("ecto://{user}@{host}:{port}/{database}?pool_size=10");
    let run: Run = p.bare().args(["status", "--database-url", &ecto]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::remove_file(p.path().join("shale.toml")).unwrap();
    // Laravel's separate settings are named, with the one URL both tools read.
    std::fs::write(p.path().join(".env"), "DB_CONNECTION=pgsql\nDB_HOST=db\nDB_DATABASE=app\nDB_PASSWORD=s3cret\n")
        .unwrap();
    let run: Run = p.bare().arg("up").output().unwrap().into();
    assert!(
        run.stderr.contains("DB_HOST, DB_DATABASE are set (Laravel's settings)")
            && run.stderr.contains("`database_url_env = \"DB_URL\"`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("s3cret"));
    // A Node application's own (Kutt's knexfile, a TypeORM DataSource): not called Laravel's, and
    // DATABASE_URL offered, not DB_URL, which they do not read (Knex and TypeORM trials).
    std::fs::write(p.path().join(".env"), "DB_HOST=db\nDB_NAME=app\nDB_USER=app\nDB_PASS=s3cret\n").unwrap();
    let run: Run = p.bare().arg("up").output().unwrap().into();
    assert!(
        run.stderr.contains("DB_HOST, DB_NAME, DB_USER are set (the application's own settings)")
            && run.stderr.contains("DATABASE_URL=postgresql://")
            && !run.stderr.contains("Laravel"),
        "{}",
        run.stderr
    );
    // NestJS's and TypeORM's templates name them as Laravel does, without its DB_CONNECTION (review).
    std::fs::write(p.path().join(".env"), "DB_HOST=db\nDB_DATABASE=app\nDB_USERNAME=app\n").unwrap();
    let run: Run = p.bare().arg("up").output().unwrap().into();
    assert!(run.stderr.contains("(the application's own settings)"), "{}", run.stderr);
    // DATABASE_URL set to nothing is said so, not offered as another name for itself.
    let run: Run = p.bare().env("DATABASE_URL", "").arg("up").output().unwrap().into();
    assert!(run.stderr.contains("DATABASE_URL is set, but empty"), "{}", run.stderr);
    assert!(!run.stderr.contains(". DATABASE_URL is set in"), "{}", run.stderr);
}

#[test]
fn validate_does_not_say_nothing_was_applied() {
    let p = Project::new("msg_validate");
    p.write("001_a.sql", "SELECT 'unterminated;\n");
    let validate: Run = p.bare().arg("validate").output().unwrap().into();
    snapshot!("validate_bad_file", shown(&p, &validate));
    let up = p.shale(&["up"]);
    snapshot!("up_bad_file", shown(&p, &up));
}

/// A golang-migrate project whose migration alters golang-migrate's own table (as one of Harbor's
/// does), run by shale on a new database: the help names that table for what it is.
#[test]
fn a_migration_on_another_tool_s_history_table_is_named_as_such() {
    let p = Project::new("msg_tool_table");
    p.write("0001_a.up.sql", "CREATE TABLE a (id int);");
    p.write("0002_b.up.sql", "ALTER TABLE schema_migrations ADD COLUMN data_version int;");
    snapshot!("tool_history_table", shown(&p, &p.shale(&["up"])));
    // The way out the hint gives works on a new database and on one golang-migrate migrated, where
    // the rest are applied (taken over): the table comes first, and 0001 and 0002 stay unchanged.
    p.write(
        "0000_golang_migrate_table.up.sql",
        "-- shale:out-of-order\nCREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);\n",
    );
    p.shale(&["up"]).ok();
    assert_eq!(p.tables(), ["a", "schema_migrations", "shale_migrations"]);
    // The table a migration made is no sign that golang-migrate still runs (dbmate trial).
    let status = p.shale(&["status"]).ok();
    assert!(!status.stderr.contains("warning"), "{}", status.stderr);
    let q = Project::new("msg_tool_table_adopted");
    q.write("0001_a.up.sql", "CREATE TABLE a (id int);");
    q.write("0002_b.up.sql", "ALTER TABLE schema_migrations ADD COLUMN data_version int;");
    q.psql("CREATE TABLE a (id int); CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); ALTER TABLE schema_migrations ADD COLUMN data_version int; INSERT INTO schema_migrations VALUES (2, false)");
    q.shale(&["adopt"]).ok();
    q.write(
        "0000_golang_migrate_table.up.sql",
        "-- shale:out-of-order\nCREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);\n",
    );
    // validate passes it as up runs it: out of order, as the file allows.
    q.shale(&["validate"]).ok();
    let up = q.shale(&["up"]).ok();
    assert!(up.stdout.contains("up   0000 golang_migrate_table"), "{}", up.stdout);
    assert!(q.shale(&["status"]).ok().stdout.contains("3 applied"), "every migration applied");
    // The file there before the database is taken over: golang-migrate's table is still its
    // history, though a migration creates it, and plain `adopt` takes it over.
    let r = Project::new("msg_tool_table_adopted_after");
    r.write("0001_a.up.sql", "CREATE TABLE a (id int);");
    r.write("0002_b.up.sql", "ALTER TABLE schema_migrations ADD COLUMN data_version int;");
    r.write(
        "0000_golang_migrate_table.up.sql",
        "-- shale:out-of-order\nCREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);\n",
    );
    r.psql("CREATE TABLE a (id int); CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); ALTER TABLE schema_migrations ADD COLUMN data_version int; INSERT INTO schema_migrations VALUES (2, false)");
    assert_eq!(r.shale(&["up"]).code, 2, "up refuses before the history is taken over");
    r.shale(&["adopt"]).ok();
    // golang-migrate's version 2 covers every file up to it, the new 0000 too (its table is there).
    r.shale(&["up"]).ok();
    assert!(r.shale(&["status"]).ok().stdout.contains("3 applied"), "every migration applied");
}

#[test]
fn a_misspelt_table_gets_a_suggestion() {
    let p = Project::new("msg_inspect");
    p.psql("CREATE TABLE users (id int); CREATE TABLE user_sessions (id int)");
    let run = p.shale(&["inspect", "user"]);
    snapshot!("inspect_misspelt", shown(&p, &run));
}

#[test]
fn help_puts_a_command_s_own_options_first_and_shows_examples() {
    let p = Project::new("msg_help");
    let run: Run = p.bare().args(["new", "--help"]).output().unwrap().into();
    let own = run.stdout.find("--reversible").unwrap();
    let global = run.stdout.find("Global options:").unwrap();
    assert!(own < global, "{}", run.stdout);
    snapshot!("help_new", run.stdout);
}

#[test]
fn erd_help_shows_its_options_sources_and_examples() {
    let p = Project::new("msg_help_erd");
    let run: Run = p.bare().args(["erd", "--help"]).output().unwrap().into();
    let own = run.stdout.find("--tables").unwrap();
    let global = run.stdout.find("Global options:").unwrap();
    assert!(own < global, "{}", run.stdout);
    assert!(run.stdout.contains("Examples:\n  shale erd"), "{}", run.stdout);
    // Every URL shape the connection settings take is named: plain, and SQLAlchemy's.
    let flat = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for scheme in ["postgresql://", "postgres://", "postgresql+psycopg2://", "postgresql+asyncpg://", "key=value"] {
        assert!(flat.contains(scheme), "{scheme}: {}", run.stdout);
    }
    snapshot!("help_erd", run.stdout);
}

#[test]
fn a_run_prints_each_migration_as_it_finishes() {
    let p = Project::new("msg_run");
    p.write("001_a.sql", "CREATE TABLE a (id int);\n");
    p.write("002_slow.sql", "SELECT pg_sleep(2);\n");
    let mut child = p.spawn(&["up"]);
    let stdout = child.stdout.take().unwrap();
    let started = Instant::now();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    // Seen while the second migration still runs, as a CI log shows it.
    assert!(started.elapsed() < Duration::from_millis(1500), "first line after {:?}", started.elapsed());
    assert!(first.starts_with("up   001 a  "), "{first}");
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    child.wait().unwrap();
    let mut text = format!("{first}\n{}\n", rest.join("\n"));
    text = text.replace(&p.db.name, "[DB]");
    snapshot!("up_lines", text);
    // -q: nothing at all, on every command that succeeds.
    for args in [&["up", "-q"][..], &["status", "-q"], &["validate", "-q"], &["lint", "-q"]] {
        let run = p.shale(args).ok();
        assert!(run.stdout.is_empty() && run.stderr.is_empty(), "{args:?}: {}{}", run.stdout, run.stderr);
    }
}

#[test]
fn a_stopped_development_server_says_how_to_start_it() {
    let p = Project::new("msg_dev");
    p.write("001_a.sql", "CREATE TABLE a (id int);\n");
    let dev = |args: &[&str]| -> Run { p.bare().args(args).output().unwrap().into() };
    let started = dev(&["--dev", "status"]);
    assert_eq!(started.code, 0, "{}", started.stderr);
    assert!(
        started.stderr.contains("starting the development PostgreSQL in .shale/dev (the first time: initdb"),
        "{}",
        started.stderr
    );
    let url = dev(&["dev", "url"]).stdout.trim().to_string();
    // Running, but no such database there: that is what is said, not that the server is down.
    let (server, _) = url.rsplit_once('/').unwrap();
    let missing = dev(&["--database-url", &format!("{server}/nosuchdb"), "status"]);
    assert_eq!(missing.code, 3, "{}", missing.stderr);
    assert!(missing.stderr.contains("database \"nosuchdb\" does not exist"), "{}", missing.stderr);
    assert!(!missing.stderr.contains("not running"), "{}", missing.stderr);
    dev(&["dev", "stop"]).ok();
    let run = dev(&["--database-url", &url, "status"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    snapshot!("dev_stopped", shown(&p, &run));
}

/// A failure inside PL/pgSQL: the server's context, a line per frame, is shown as lines.
#[test]
fn the_server_s_context_keeps_its_lines() {
    let p = Project::new("msg_context");
    p.write("001_fill.sql", "CREATE TABLE t (id int);\nDO $$\nBEGIN\n  INSERT INTO t\n  SELECT 1 / 0;\nEND $$;\n");
    snapshot!("plpgsql_context", shown(&p, &p.shale(&["up"])));
}

/// A role the server lacks: the way out says where roles live.
#[test]
fn a_missing_role_says_where_roles_are_made() {
    let p = Project::new("msg_role");
    p.write("001_t.sql", "CREATE TABLE t (id int);\nGRANT SELECT ON t TO shale_test_no_such_role;\n");
    let run = p.shale(&["up"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("role \"shale_test_no_such_role\" does not exist"), "{}", run.stderr);
    assert!(run.stderr.contains("roles belong to the server"), "{}", run.stderr);
    assert!(!p.tables().contains(&"t".to_string()), "rolled back whole");
}

/// A failure inside a DO block is placed in the block that failed, where the same text is written
/// before it too: a second identical block, or the up section of a file whose down failed.
#[test]
fn a_failure_in_a_do_block_is_placed_in_the_block_that_failed() {
    let p = Project::new("msg_do_twice");
    let block = "DO $$\nBEGIN\n  UPDATE a SET id = 1;\nEND $$;\n";
    p.write("001_a.sql", &format!("CREATE TABLE a (id int);\n{block}DROP TABLE a;\n{block}"));
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 1, "{}", up.stderr);
    assert!(up.stderr.contains("001_a.sql:9:3"), "the second block's UPDATE, line 9: {}", up.stderr);
    let q = Project::new("msg_do_down");
    q.write(
        "20240101000000_a.sql",
        &format!("-- migrate:up\nCREATE TABLE a (id int);\n{block}\n-- migrate:down\nDROP TABLE a;\n{block}"),
    );
    q.shale(&["up"]).ok();
    let down = q.shale(&["down", "--step", "1"]);
    assert_eq!(down.code, 1, "{}", down.stderr);
    assert!(down.stderr.contains("20240101000000_a.sql:12:3"), "the down's block, line 12: {}", down.stderr);
}

/// A database another tool built, whose history table shale did not find (renamed: dbmate's
/// `--migrations-table`, its rows naming no file here, where its rows would say it): the first
/// migration fails on what exists, a schema as much as a table, and the way out names adopting
/// that table.
#[test]
fn an_existing_schema_names_the_way_to_take_a_renamed_history_over() {
    let p = Project::new("msg_dup_schema");
    p.write("20240101000000_auth.sql", "-- migrate:up\nCREATE SCHEMA auth;\n");
    p.psql("CREATE SCHEMA auth; CREATE TABLE dbmate_hist (version varchar PRIMARY KEY); INSERT INTO dbmate_hist VALUES ('20231231000000')");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 1, "{}", up.stderr);
    assert!(
        up.stderr.contains("SQLSTATE 42P06") && up.stderr.contains("shale adopt --from TOOL --table NAME"),
        "{}",
        up.stderr
    );
}

/// Every line on stderr of a `--log-format json` run, parsed: a line that is not a JSON object
/// fails the test, as it would break a log pipeline that parses them.
fn json_lines(run: &Run) -> Vec<serde_json::Value> {
    run.stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a line of plain text ({e}): {l}\n{}", run.stderr)))
        .collect()
}

#[test]
fn with_json_logs_the_notes_warnings_and_the_final_error_are_json_too() {
    let p = Project::new("msg_log_json");
    p.write("data_fixtures.sql", "SELECT 1;\n");
    p.write("001_users.sql", "CREATE TABLE users (id bigint);\n");
    p.write("002_bad.sql", "CREATE TABLE teams (id bigint);\nALTER TABLE nowhere ADD COLUMN x int;\n");
    let run = p.shale(&["--log-format", "json", "up"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let events = json_lines(&run);
    let of = |kind: &str| events.iter().filter(|e| e["event"] == kind).collect::<Vec<_>>();
    assert!(
        of("note").iter().any(|n| n["message"].as_str().unwrap().contains("data_fixtures.sql: ignored")),
        "{events:?}"
    );
    assert_eq!(of("migration_finished").len(), 1, "{events:?}");
    let error = of("error");
    assert_eq!(error.len(), 1, "{events:?}");
    assert_eq!(error[0]["exit_code"], 1);
    let message = error[0]["message"].as_str().unwrap();
    assert!(message.contains("002_bad.sql:2:1") && message.contains("nowhere"), "{message}");
    assert!(error[0]["time"].is_string(), "{:?}", error[0]);

    // A check's problems are events too.
    let run = p.shale(&["--log-format", "json", "validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let events = json_lines(&run);
    assert!(
        events.iter().any(|e| e["event"] == "problem" && e["message"].as_str().unwrap().contains("002")),
        "{events:?}"
    );

    // A connection that fails, its password given on the command line: a warning and an error,
    // both JSON, the password in neither.
    let run: Run = p
        .bare()
        .args(["--log-format", "json", "--database-url", "postgresql://app:s3cret-pw@127.0.0.1:1/app", "status"])
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(!run.stderr.contains("s3cret-pw"), "{}", run.stderr);
    let events = json_lines(&run);
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["warning", "error"], "{events:?}");
    assert!(events[1]["message"].as_str().unwrap().contains("could not connect"), "{events:?}");

    // Arguments refused, too (re-check trial: clap's plain text), and with --json the document.
    let run: Run = p.bare().args(["--log-format", "json", "up", "--bogus"]).output().unwrap().into();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let events = json_lines(&run);
    assert_eq!(events[0]["event"], "error", "{events:?}");
    assert!(events[0]["message"].as_str().unwrap().contains("unexpected argument '--bogus'"), "{events:?}");
    let run: Run = p.bare().args(["--json", "down"]).output().unwrap().into();
    assert_eq!((run.code, run.json()["exit_code"].as_i64()), (2, Some(2)), "{}", run.stdout);
}

/// The words of the tools a team switches from (dbmate trial): `migrate` is `up`, `rollback` is
/// `down`, `--migrations-dir` is `--dir`; a `down` that does not say how many says how dbmate's
/// `rollback` is written here.
#[test]
fn the_words_of_other_tools_are_understood() {
    let p = Project::new("msg_other_words");
    p.write("001_a.up.sql", "CREATE TABLE a (id int);\n");
    p.write("001_a.down.sql", "DROP TABLE a;\n");
    p.shale(&["migrate"]).ok();
    assert_eq!(p.tables(), ["a", "shale_migrations"]);
    let run = p.shale(&["down"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("tip: `shale down --step 1` reverts the newest migration"), "{}", run.stderr);
    p.shale(&["rollback", "--step", "1"]).ok();
    assert_eq!(p.tables(), ["shale_migrations"]);
    let status = p.shale(&["--migrations-dir", "migrations", "status"]).ok();
    assert!(status.stdout.contains("pending"), "{}", status.stdout);
}

/// A context's cause reaches the JSON (and an application's exception, made of it), and a missing
/// PostgreSQL installation is a setup to fix (exit 2), not worth retrying (FastAPI trial: the JSON
/// said "starting a throwaway PostgreSQL" alone, with exit 3).
#[test]
fn a_throwaway_server_that_cannot_start_says_why_in_json() {
    let p = Project::new("msg_no_binaries");
    p.write("001_a.sql", "CREATE TABLE a (id int);\n");
    let run: Run = p.bare().env("SHALE_PG_BINDIR", "/nonexistent").args(["--json", "check"]).output().unwrap().into();
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert!(json["message"].as_str().unwrap().contains("PostgreSQL server binaries"), "{json}");
    assert_eq!(json["causes"].as_array().map(Vec::len), Some(1), "{json}");
    // `baseline V`, which checks the schema there first: refused, nothing recorded (Rails
    // re-check: recorded unchecked, with a note).
    p.psql("CREATE TABLE a (id int)");
    let run: Run = p
        .bare()
        .env("SHALE_PG_BINDIR", "/nonexistent")
        .args(["--database-url", &p.db.url, "baseline", "001"])
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--dev-url URL") && run.stderr.contains("--force to record 001 unchecked"),
        "{}",
        run.stderr
    );
    assert_eq!(p.psql("SELECT to_regclass('shale_migrations') IS NULL"), "t", "nothing recorded");
}

/// An extension the server does not have: where it comes from (Supabase trial: its migrations on
/// plain PostgreSQL stopped at `pg_net` with no pointer).
#[test]
fn an_extension_the_server_lacks_says_where_it_comes_from() {
    let p = Project::new("msg_no_extension");
    p.write("001_net.sql", "CREATE EXTENSION IF NOT EXISTS pg_net;\n");
    let run = p.shale(&["up"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("extension \"pg_net\" is not available"), "{}", run.stderr);
    assert!(run.stderr.contains("comes with Supabase's own PostgreSQL"), "{}", run.stderr);
    p.write("001_net.sql", "CREATE EXTENSION IF NOT EXISTS no_such_extension;\n");
    let run = p.shale(&["up"]);
    assert!(run.stderr.contains("install its package where PostgreSQL runs"), "{}", run.stderr);
}
