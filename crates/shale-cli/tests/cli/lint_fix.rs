//! `shale lint --fix` against a real server: each fix turns a refused migration into one that
//! `shale lint` passes and `shale up` applies to a table that holds rows; what must not be
//! rewritten is not.

use crate::common;

use common::Project;

/// A project whose `users` (20,000 rows, a large table to the linter) and `orders` (one per user)
/// exist: statements that lock or scan them are refused until made safe. Its applied migration has
/// a finding with a fix too (`char(2)`).
fn project(name: &str) -> Project {
    let p = Project::new(name);
    p.write(
        "001_tables.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n\
         CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric);\n\
         CREATE INDEX users_email_old ON users (email);\n\
         CREATE TABLE countries (code char(2) PRIMARY KEY);\n",
    );
    p.shale(&["up"]).ok();
    p.fill("users", 20_000);
    p.fill("orders", 20_000);
    p.psql("UPDATE users SET email = 'u' || id || '@example.com'; UPDATE orders SET user_id = id, total = id; ANALYZE users, orders");
    p
}

fn read(p: &Project, file: &str) -> String {
    std::fs::read_to_string(p.migrations().join(file)).unwrap()
}

/// `file` (written with `sql`) is refused by `lint` and `up`, fixed by `lint --fix` into `expected`,
/// then passes `lint` and is applied by `up`.
#[track_caller]
fn fixes(p: &Project, file: &str, sql: &str, expected: &str) {
    p.write(file, sql);
    let fix = p.shale(&["lint", "--fix"]);
    assert_eq!(fix.code, 0, "{}\n{}", fix.stdout, fix.stderr);
    assert!(fix.stdout.contains(&format!("migrations/{file}:")), "{}", fix.stdout);
    assert_eq!(read(p, file), expected);
    let lint = p.shale(&["lint"]).ok();
    assert!(lint.stdout.contains("0 finding(s), 0 blocking"), "{}", lint.stdout);
    p.shale(&["up"]).ok();
}

#[test]
fn indexes_are_built_and_dropped_concurrently() {
    let p = project("fix_index");
    p.write(
        "002_index.sql",
        "-- Lookups by lower-case email.\nCREATE INDEX users_email_lower ON users (lower(email));\n",
    );
    assert_eq!(p.shale(&["lint"]).code, 1);
    assert_eq!(p.shale(&["up"]).code, 2, "refused before the fix");
    fixes(
        &p,
        "002_index.sql",
        "-- Lookups by lower-case email.\nCREATE INDEX users_email_lower ON users (lower(email));\n",
        "-- shale:no-transaction\n-- Lookups by lower-case email.\nCREATE INDEX CONCURRENTLY users_email_lower ON users (lower(email));\n",
    );
    assert_eq!(p.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_lower'::regclass"), "t");
    fixes(
        &p,
        "003_drop.sql",
        "DROP INDEX users_email_old;\n",
        "-- shale:no-transaction\nDROP INDEX CONCURRENTLY users_email_old;\n",
    );
    assert_eq!(p.psql("SELECT count(*) FROM pg_class WHERE relname = 'users_email_old'"), "0");
    assert_eq!(p.history().len(), 3);
}

#[test]
fn constraints_are_added_not_valid_then_validated() {
    let p = project("fix_constraints");
    p.write("002_fk.sql", "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id);\n");
    assert_eq!(p.shale(&["up"]).code, 2, "refused before the fix");
    fixes(
        &p,
        "002_fk.sql",
        "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id);\n",
        "-- shale:no-transaction\n\
         ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n\
         ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey;\n",
    );
    fixes(
        &p,
        "003_check.sql",
        "ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0); -- refunds are separate rows\n",
        "-- shale:no-transaction\n\
         ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0) NOT VALID; -- refunds are separate rows\n\
         ALTER TABLE orders VALIDATE CONSTRAINT total_positive;\n",
    );
    let validated = "SELECT string_agg(conname || '=' || convalidated, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype IN ('f', 'c')";
    assert_eq!(p.psql(validated), "orders_user_id_fkey=true,total_positive=true");
}

#[test]
fn set_not_null_uses_a_validated_check() {
    let p = project("fix_not_null");
    fixes(
        &p,
        "002_email.sql",
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n",
        "-- shale:no-transaction\n\
         ALTER TABLE users ADD CONSTRAINT users_email_not_null_check CHECK (email IS NOT NULL) NOT VALID;\n\
         ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null_check;\n\
         ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n\
         ALTER TABLE users DROP CONSTRAINT users_email_not_null_check;\n",
    );
    assert_eq!(
        p.psql("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'"),
        "t"
    );
    assert_eq!(p.psql("SELECT count(*) FROM pg_constraint WHERE conrelid = 'users'::regclass AND contype = 'c'"), "0");
}

#[test]
fn a_volatile_default_becomes_a_default_and_a_backfill() {
    let p = project("fix_default");
    p.write("002_token.sql", "ALTER TABLE users ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();\n");
    assert_eq!(p.shale(&["up"]).code, 2, "refused before the fix");
    let fix = p.shale(&["lint", "--fix"]).ok();
    assert!(fix.stdout.contains("NOT NULL is left out"), "{}", fix.stdout);
    assert_eq!(
        read(&p, "002_token.sql"),
        "-- shale:no-transaction\n\
         ALTER TABLE users ADD COLUMN token uuid;\n\
         ALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid();\n\
         -- shale:backfill\n\
         UPDATE users SET token = gen_random_uuid() WHERE token IS NULL;\n"
    );
    assert!(p.shale(&["lint"]).ok().stdout.contains("0 finding(s), 0 blocking"));
    // The backfill runs in batches (5,000 rows by default), each committed by itself.
    let up = p.shale(&["--log-format", "json", "up"]).ok();
    let done = up
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "backfill_progress" && e["done"] == true)
        .unwrap_or_else(|| panic!("no finished backfill in\n{}", up.stderr));
    assert!(done["batches"].as_u64() >= Some(4), "{done}");
    assert_eq!(done["rows_updated"], 20_000, "{done}");
    assert_eq!(p.psql("SELECT count(DISTINCT token) FROM users WHERE token IS NOT NULL"), "20000");
    p.psql("INSERT INTO users (id) VALUES (0)");
    assert_eq!(p.psql("SELECT token IS NOT NULL FROM users WHERE id = 0"), "t", "new rows get the default");
}

#[test]
fn new_tables_get_bigint_identity_keys_and_text() {
    let p = project("fix_types");
    fixes(
        &p,
        "002_tags.sql",
        "CREATE TABLE tags (\n  id serial PRIMARY KEY,\n  parent_id integer REFERENCES tags,\n  code char(2) NOT NULL\n);\n",
        "CREATE TABLE tags (\n  id bigint generated by default as identity PRIMARY KEY,\n  parent_id bigint REFERENCES tags,\n  code text check (char_length(code) <= 2) NOT NULL\n);\n",
    );
    let columns = "SELECT string_agg(column_name || ' ' || data_type || ' ' || coalesce(identity_generation, '-'), ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'tags'";
    assert_eq!(p.psql(columns), "id bigint BY DEFAULT, parent_id bigint -, code text -");
    // Explicit ids are still taken, as serial took them; the length limit holds.
    p.psql("INSERT INTO tags (id, code) VALUES (7, 'ab'); INSERT INTO tags (code) VALUES ('cd')");
    assert_eq!(p.psql("SELECT count(*) FROM tags"), "2");
    assert_eq!(p.psql("SELECT count(*) FROM pg_constraint WHERE conrelid = 'tags'::regclass AND contype = 'c'"), "1");
}

#[test]
fn what_must_not_be_rewritten_is_left_alone_with_the_reason() {
    let p = project("fix_refused");
    // Applied: the database's history has it.
    let applied = read(&p, "001_tables.sql");
    let all = p.shale(&["lint", "--all", "--fix"]);
    assert_eq!(all.code, 0, "{}", all.stdout);
    assert!(
        all.stdout.contains("migrations/001_tables.sql: not rewritten (1 finding(s) with a fix): the database's history records it as applied"),
        "{}",
        all.stdout
    );
    assert_eq!(read(&p, "001_tables.sql"), applied);
    // A statement that must stay in the file's transaction.
    let sql = "UPDATE orders SET total = 0 WHERE total IS NULL;\nCREATE INDEX orders_total ON orders (total);\n";
    p.write("002_mixed.sql", sql);
    let fix = p.shale(&["lint", "--fix"]);
    assert_eq!(fix.code, 1, "{}", fix.stdout);
    assert!(fix.stdout.contains("migrations/002_mixed.sql:2:1: not fixed [create-index-non-concurrently]: the fix needs the file to run outside a transaction, and line 1 (`UPDATE orders SET total = 0 WHERE total IS NULL`) must stay in one: it changes data"), "{}", fix.stdout);
    assert_eq!(read(&p, "002_mixed.sql"), sql);
    // Without a database, git decides: committed unchanged is refused, --force overrides.
    p.remove("002_mixed.sql");
    p.write("003_index.sql", "CREATE INDEX orders_total ON orders (total);\n");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").current_dir(p.path()).args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q"]);
    git(&["-c", "user.name=t", "-c", "user.email=t@t", "add", "."]);
    git(&["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "migrations"]);
    // (Files given: with every migration linted from scratch, orders would be a new table.)
    let offline: common::Run = p.bare().args(["lint", "--fix", "migrations/003_index.sql"]).output().unwrap().into();
    assert_eq!(offline.code, 1, "{}", offline.stdout);
    assert!(offline.stdout.contains("migrations/003_index.sql: not rewritten (1 finding(s) with a fix): no database is configured, and git has the file committed unchanged at HEAD"), "{}", offline.stdout);
    // Changed since the commit: work in progress, rewritten.
    p.write("003_index.sql", "CREATE INDEX orders_total ON orders (total, id);\n");
    let offline: common::Run = p.bare().args(["lint", "--fix", "migrations/003_index.sql"]).output().unwrap().into();
    assert_eq!(offline.code, 0, "{}", offline.stdout);
    assert_eq!(
        read(&p, "003_index.sql"),
        "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY orders_total ON orders (total, id);\n"
    );
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let p = project("fix_dry_run");
    let files = [
        ("002_index.sql", "-- Orders by user.\nCREATE INDEX orders_user ON orders (user_id);\nALTER TABLE orders ADD CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users;\n"),
        ("003_tags.sql", "CREATE TABLE tags (id serial PRIMARY KEY, name varchar(40));\n"),
        ("004_backfill.sql", "ALTER TABLE users ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();\nDELETE FROM orders WHERE total IS NULL;\n"),
    ];
    for (file, sql) in files {
        p.write(file, sql);
    }
    let run = p.shale(&["lint", "--fix", "--dry-run"]);
    assert_eq!(run.code, 1, "the refused volatile default is still blocking\n{}", run.stdout);
    for (file, sql) in files {
        assert_eq!(read(&p, file), sql, "{file} is unchanged");
    }
    insta::assert_snapshot!("dry_run", run.stdout);
}

/// A Flyway file with placeholders is linted with their values filled in (`[placeholders]` in
/// shale.toml), so its fixes are of that text, not of the file as written: `--fix` does not rewrite
/// it, and says so with the file and its placeholders, whether the file is pending or given by name.
/// A Flyway file without placeholders beside it is fixed as any other.
#[test]
fn a_file_with_flyway_placeholders_is_not_rewritten_and_says_why() {
    let p = Project::new("fix_placeholders");
    std::fs::write(p.path().join("shale.toml"), "[placeholders]\nschema = \"public\"\n").unwrap();
    p.write("V1__users.sql", "CREATE TABLE ${schema}.users (id bigint PRIMARY KEY, email text);\n");
    p.shale(&["up"]).ok();
    p.fill("users", 20_000);
    let sql = "CREATE INDEX users_email ON ${schema}.users (email);\n";
    p.write("V2__email.sql", sql);
    p.write("V3__id_email.sql", "CREATE INDEX users_id_email ON users (id, email);\n");
    let reason = "not rewritten (1 finding(s) with a fix): it has Flyway placeholders (${schema}), filled in from \
                  [placeholders] in shale.toml: --fix does not rewrite a file with placeholders; make the fixes by \
                  hand (`shale lint migrations/V2__email.sql` lists them)";
    let fix = p.shale(&["lint", "--fix"]);
    assert_eq!(fix.code, 1, "the placeholders' file is still blocking\n{}", fix.stdout);
    assert!(fix.stdout.contains(&format!("migrations/V2__email.sql: {reason}")), "{}", fix.stdout);
    assert!(!fix.stdout.contains("changed while"), "{}", fix.stdout);
    assert_eq!(read(&p, "V2__email.sql"), sql);
    assert_eq!(
        read(&p, "V3__id_email.sql"),
        "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY users_id_email ON users (id, email);\n"
    );
    // Given by name: linted with the values filled in, and not rewritten either.
    let given = p.shale(&["lint", "--fix", "migrations/V2__email.sql"]);
    assert_eq!(given.code, 1, "{}", given.stdout);
    assert!(given.stdout.contains(&format!("migrations/V2__email.sql: {reason}")), "{}", given.stdout);
    let json = p.shale(&["lint", "--fix", "--format", "json", "migrations/V2__email.sql"]).json();
    assert_eq!(json["files"][0]["written"], false, "{json}");
    assert!(json["files"][0]["not_rewritten"].as_str().unwrap().starts_with("it has Flyway placeholders"), "{json}");
    assert_eq!(read(&p, "V2__email.sql"), sql);
}

/// In a diesel folder, a fix that must run outside a transaction says so in the folder's
/// `metadata.toml` (`run_in_transaction = false`), which diesel reads too, not with a line only
/// shale reads: going back to diesel, it would run the CONCURRENTLY in a transaction and fail.
#[test]
fn a_diesel_folder_gets_run_in_transaction_false_in_its_metadata_toml() {
    let p = Project::new("lint_fix_diesel");
    p.write("2024-01-01-000000_users/up.sql", "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n");
    p.write("2024-01-01-000000_users/down.sql", "DROP TABLE users;\n");
    p.shale(&["up"]).ok();
    p.fill("users", 20_000);
    p.write("2024-01-02-000000_email/up.sql", "CREATE INDEX users_email ON users (email);\n");
    p.write("2024-01-02-000000_email/down.sql", "DROP INDEX users_email;\n");
    p.write("2024-01-02-000000_email/metadata.toml", "# written by hand\n");
    let fix = p.shale(&["lint", "--fix"]);
    assert_eq!(fix.code, 0, "{}\n{}", fix.stdout, fix.stderr);
    assert!(
        fix.stdout.contains("`run_in_transaction = false` in migrations/2024-01-02-000000_email/metadata.toml"),
        "{}",
        fix.stdout
    );
    assert_eq!(read(&p, "2024-01-02-000000_email/up.sql"), "CREATE INDEX CONCURRENTLY users_email ON users (email);\n");
    assert_eq!(read(&p, "2024-01-02-000000_email/metadata.toml"), "# written by hand\nrun_in_transaction = false\n");
    p.shale(&["lint"]).ok();
    let up = p.shale(&["up", "--dry-run"]).ok();
    assert!(up.stdout.contains("metadata.toml says run_in_transaction = false"), "{}", up.stdout);
    p.shale(&["up"]).ok();
}
