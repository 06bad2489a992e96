//! The linter through the CLI, against a real database's pending migrations.

use crate::common;

use common::{shown, Project};

/// A database out of reach (a committed .env naming a development server that is not running,
/// as chirpstack's in the breadth sweep) says how to lint without one; `--all` needs none.
#[test]
fn lint_without_its_database_names_the_way_without_one() {
    let p = Project::new("lint_offline");
    p.write("001_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    let mut cmd = p.bare();
    cmd.args(["--database-url", "postgresql://postgres@127.0.0.1:1/nowhere", "lint"]);
    let offline = common::Run::of(cmd);
    assert_eq!(offline.code, 3, "{}", offline.stderr);
    assert!(offline.stderr.contains("`shale lint --all` lints every migration without one"), "{}", offline.stderr);
    let mut cmd = p.bare();
    cmd.args(["--database-url", "postgresql://postgres@127.0.0.1:1/nowhere", "lint", "--all"]);
    assert_eq!(common::Run::of(cmd).code, 0);
}

#[test]
fn dangerous_pending_migrations_are_refused_until_made_safe_or_allowed() {
    let p = Project::new("lint_gate");
    p.write(
        "001_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCREATE INDEX users_email ON users (email);\n",
    );
    p.shale(&["up"]).ok();
    p.fill("users", 20_000);
    p.write("002_index.sql", "-- a comment\nCREATE INDEX users_email2 ON users (lower(email));\n");
    snapshot!("lint_on_a_table_with_rows", shown(&p, &p.shale(&["lint"])));
    snapshot!("lint_github", shown(&p, &p.shale(&["lint", "--format", "github"])));
    let sarif = p.shale(&["lint", "--format", "sarif"]).json();
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "create-index-non-concurrently");
    assert_eq!(result["level"], "error");
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 2);
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), 24);
    let json = p.shale(&["lint", "--format", "json"]).json();
    assert_eq!(json["findings"][0]["rule"], "create-index-non-concurrently");

    // `up` refuses before anything runs.
    snapshot!("up_refused", shown(&p, &p.shale(&["up"])));
    assert_eq!(p.history().len(), 1);
    // Made safe, it runs (outside a transaction, as CONCURRENTLY needs).
    p.write("002_index.sql", "CREATE INDEX CONCURRENTLY users_email2 ON users (lower(email));\n");
    assert_eq!(p.shale(&["lint"]).code, 0);
    p.shale(&["up"]).ok();

    // Allowed with a reason: listed, not blocking.
    p.write(
        "003_drop.sql",
        "-- shale:allow destructive -- emails move to the identity service\nALTER TABLE users DROP COLUMN email;\n",
    );
    let lint = p.shale(&["lint"]).ok();
    assert!(
        lint.stdout.contains("error[destructive]: drops column email of users (allowed in the file)"),
        "{}",
        lint.stdout
    );
    p.shale(&["up"]).ok();
    // Many findings a file allows (the type advice in a baseline of the schema a database had):
    // listed once, with how many more, and counted apart (Knex trial).
    p.write(
        "0035_old.sql",
        "-- shale:allow prefer-text -- the schema before shale\nCREATE TABLE old (a varchar(10), b varchar(20), c varchar(30));\n",
    );
    let lint = p.shale(&["lint", "--all"]).ok();
    assert_eq!(lint.stdout.matches("[prefer-text]").count(), 2, "{}", lint.stdout);
    assert!(lint.stdout.contains("    ... and 2 more [prefer-text] allowed in "), "{}", lint.stdout);
    assert!(lint.stdout.contains("3 finding(s) (3 allowed by their files), 0 blocking"), "{}", lint.stdout);
    std::fs::remove_file(p.migrations().join("0035_old.sql")).unwrap();
    // --force-unsafe overrides.
    p.write("004_rename.sql", "ALTER TABLE users ADD CONSTRAINT id_positive CHECK (id > 0);\n");
    assert_eq!(p.shale(&["up"]).code, 2);
    p.shale(&["up", "--force-unsafe"]).ok();
    assert_eq!(p.history().len(), 4);
}

#[test]
fn syntax_errors_are_reported_with_line_and_column_before_anything_runs() {
    let p = Project::new("lint_syntax");
    p.write("001_a.sql", "CREATE TABLE a (id int);\n");
    // The second comma is the one PostgreSQL stops at (column 24), as psql shows it.
    p.write("002_b.sql", "SELECT 1;\nCREATE TABLE b (id int,, x int);\n");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("002_b.sql:2:24: syntax error at or near \",\""), "{}", up.stderr);
    assert!(p.tables().is_empty(), "001 did not run either");
    // Explicit files, without a database.
    let run: common::Run = p.bare().args(["lint", "migrations/002_b.sql"]).output().unwrap().into();
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("migrations/002_b.sql:2:24: syntax error"), "{}", run.stdout);
    // `--all` reads every down too (a missing `;` in an old down.sql), as a revert would run it.
    std::fs::remove_file(p.migrations().join("002_b.sql")).unwrap();
    p.write("003_c.up.sql", "CREATE TABLE c (id int);\n");
    p.write("003_c.down.sql", "DROP INDEX c_id\nDROP TABLE c;\n");
    let run: common::Run = p.bare().args(["lint", "--all"]).output().unwrap().into();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("migrations/003_c.down.sql:2:1: syntax error"), "{}", run.stdout);
}

/// A Flyway file given by name has its placeholders filled from `[placeholders]` in shale.toml, as
/// when the migrations load: `${schema}` is not a syntax error, and the finding names the table the
/// statement will lock. Without a value, the placeholder and the setting are named.
/// A down given by its path, as `shale new --reversible` writes it (its `-- down: NAME` header
/// first), is read as a down, for its syntax: not linted as an up whose statements follow a
/// `-- down` line and destroy data (aerich re-check: three blocking findings).
#[test]
fn a_down_file_given_is_read_as_a_down() {
    let p = Project::new("lint_down_file");
    p.write("0001_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    p.write("0002_tags.up.sql", "-- up: tags\n\nCREATE TABLE tags (id bigint PRIMARY KEY);\n");
    p.write("0002_tags.down.sql", "-- down: tags\n\nDROP TABLE tags;\n");
    let run = p.shale(&["lint", "migrations/0002_tags.down.sql"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("migrations/0002_tags.down.sql is a down: read for syntax only"), "{}", run.stderr);
    p.write("0002_tags.down.sql", "-- down: tags\n\nDROP TABLE tags\n;;; oops\n");
    let run = p.shale(&["lint", "migrations/0002_tags.down.sql"]);
    assert_ne!(run.code, 0, "a syntax error in a down is still said: {}", run.stdout);
}

#[test]
fn files_given_have_their_flyway_placeholders_filled_as_when_loaded() {
    let p = Project::new("lint_placeholders");
    p.write("V1__accounts.sql", "CREATE TABLE ${schema}.accounts (id bigint PRIMARY KEY, email text);\n");
    p.write("V2__index.sql", "CREATE INDEX accounts_email ON ${schema}.accounts (email);\n");
    let lint = |args: &[&str]| p.shale(&[&["lint"], args].concat());
    let missing = lint(&["migrations/V2__index.sql"]);
    assert_eq!(missing.code, 2, "{}\n{}", missing.stdout, missing.stderr);
    assert!(
        missing.stderr.contains("migrations/V2__index.sql:1:32: Flyway placeholder ${schema} has no value")
            && missing.stderr.contains("under `[placeholders]`: `schema = \"VALUE\"`"),
        "{}",
        missing.stderr
    );
    std::fs::write(p.path().join("shale.toml"), "[placeholders]\nschema = \"app\"\n").unwrap();
    let run = lint(&["migrations/V2__index.sql"]);
    assert!(run.stdout.contains("0 syntax error(s)"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "migrations/V2__index.sql:1:1: error[create-index-non-concurrently]: CREATE INDEX on existing table app.accounts"
        ) && run.stdout.contains("migrations/V2__index.sql:1: takes SHARE on app.accounts"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    // The file that creates the table, alone: nothing to say, as `shale lint --all` says.
    let run = lint(&["migrations/V1__accounts.sql"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("0 finding(s), 0 blocking; 0 syntax error(s)"), "{}", run.stdout);
    // What was linted is what runs.
    p.psql("CREATE SCHEMA app");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('app.accounts_email') IS NOT NULL"), "t");
    // Only Flyway's files have placeholders: in another file `${schema}` is SQL, and not valid SQL.
    std::fs::create_dir_all(p.path().join("other")).unwrap();
    std::fs::write(p.path().join("other/3_plain.sql"), "CREATE INDEX a ON ${schema}.accounts (email);\n").unwrap();
    let run = lint(&["other/3_plain.sql"]);
    assert!(run.stdout.contains("other/3_plain.sql:1:19: syntax error"), "{}", run.stdout);
}

#[test]
fn rules_are_configured_in_shale_toml() {
    let p = Project::new("lint_config");
    p.write("001_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY, email text);");
    p.shale(&["up"]).ok();
    p.fill("users", 20_000);
    p.write(
        "002_index.sql",
        "CREATE INDEX users_email ON users (email);\nALTER TABLE users ADD COLUMN nick varchar(20);\n",
    );
    let config = |text: &str| std::fs::write(p.path().join("shale.toml"), text).unwrap();
    config("[lint]\nseverity = { \"prefer-text\" = \"error\" }\n");
    let lint = p.shale(&["lint"]);
    assert_eq!(lint.code, 1);
    assert!(lint.stdout.contains("error[prefer-text]"), "{}", lint.stdout);
    config("[lint]\ndisable = [\"create-index-non-concurrently\"]\n");
    let lint = p.shale(&["lint"]).ok();
    assert!(!lint.stdout.contains("create-index-non-concurrently"), "{}", lint.stdout);
    p.shale(&["up"]).ok();
    p.write("003_alter.sql", "ALTER TABLE users ADD COLUMN age int;\n");
    config("lock_timeout = \"0\"\n");
    let lint = p.shale(&["lint"]);
    assert_eq!(lint.code, 1);
    assert!(lint.stdout.contains("error[access-exclusive-without-lock-timeout]"), "{}", lint.stdout);
    assert_eq!(p.shale(&["up"]).code, 2, "up refuses it too");
    assert_eq!(p.shale(&["lint", "--session-lock-timeout", "3s"]).code, 0);
    // A rule split in two answers to its former id.
    p.write("004_codes.sql", "CREATE TABLE codes (id serial PRIMARY KEY, code char(2));\n");
    config("[lint]\ndisable = [\"prefer-bigint-identity\"]\nseverity = { \"no-char\" = \"info\" }\n");
    let lint = p.shale(&["lint"]).ok();
    assert!(!lint.stdout.contains("prefer-identity"), "{}", lint.stdout);
    assert!(lint.stdout.contains("info[prefer-text]: column code is char(n)"), "{}", lint.stdout);
    config("[lint]\ndisable = [\"no-such-rule\"]\n");
    let run = p.shale(&["lint"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no rule is called `no-such-rule`"), "{}", run.stderr);
    // Checked before linting: reported even where the rule finds nothing.
    config("[lint]\nseverity = { \"heavy-lock\" = \"fatal\" }\n");
    let run = p.shale(&["lint"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("shale.toml [lint] severity of `heavy-lock`: `fatal` is not error, warning or info"),
        "{}",
        run.stderr
    );
}

/// Each serial type is described by its own width (bigserial is 64 bits), and the lock line of a
/// DROP TABLE or TRUNCATE names its tables.
#[test]
fn serial_findings_name_their_width_and_drop_locks_name_their_tables() {
    let p = Project::new("lint_serial_drop");
    p.psql("CREATE TABLE t (id int); CREATE TABLE u (id int)");
    p.write(
        "001_t.sql",
        "CREATE TABLE v (id bigserial PRIMARY KEY, n serial, s smallserial);\nCREATE TABLE w (id bigint);\nTRUNCATE t, u;\nDROP TABLE t;\n",
    );
    snapshot!("lint_serial_widths_and_drop_lock", shown(&p, &p.shale(&["lint"]).ok()));
    // The dry run's JSON keeps one table per lock entry: TRUNCATE t, u has one for each.
    let json = p.shale(&["up", "--dry-run", "--json"]).ok().json();
    let locks: Vec<_> = json["steps"][0]["locks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["line"].as_u64().unwrap(), l["table"].as_str().unwrap().to_string(), l["lock"].clone()))
        .collect();
    let exclusive = serde_json::json!("ACCESS EXCLUSIVE");
    assert_eq!(
        locks,
        [
            (3, "t".to_string(), exclusive.clone()),
            (3, "u".to_string(), exclusive.clone()),
            (4, "t".to_string(), exclusive)
        ]
    );
}

/// golang-migrate's idiom, DDL guarded in a DO block: on a large table `up` refuses the index
/// build inside it as it does one outside, and the dry run shows the block's lock and verdict
/// under the block's statement.
#[test]
fn a_guarded_index_build_in_a_do_block_is_judged_as_one_outside() {
    let p = Project::new("lint_do_block");
    p.psql("CREATE TABLE artifact (id bigint, size int)");
    p.fill("artifact", 20_000);
    p.write(
        "0001_size_index.up.sql",
        "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'artifact_size') THEN\n    CREATE INDEX artifact_size ON artifact (size);\n  END IF;\nEND $$;\n",
    );
    let dry = p.shale(&["up", "--dry-run"]);
    assert_eq!(dry.code, 2, "{}{}", dry.stdout, dry.stderr);
    assert!(dry.stdout.contains("[1] line 1: DO $$ … (6 lines)\n       takes SHARE on artifact"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("refused: [create-index-non-concurrently] CREATE INDEX on existing table artifact without CONCURRENTLY (in a DO block)"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("0001_size_index.up.sql:4:5: error[create-index-non-concurrently]"), "{}", dry.stdout);
    assert!(dry.stdout.contains("Instead: out of the DO block"), "{}", dry.stdout);
    assert_eq!(p.shale(&["up"]).code, 2);
    assert_eq!(p.psql("SELECT count(*) FROM pg_indexes WHERE indexname = 'artifact_size'"), "0", "nothing ran");
}
