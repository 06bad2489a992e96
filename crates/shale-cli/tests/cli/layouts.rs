//! Directory layouts read as the tools that wrote them read them: Flyway's folders (its
//! locations are read to any depth, the file's name giving the version).

use crate::common;

use common::{shown, Project};

/// A Flyway project with its versions in one folder per major version and its repeatables in
/// another: read to their depths, ordered by version, recorded with their folder.
#[test]
fn flyway_migrations_in_folders_are_read_to_their_depths() {
    let p = Project::new("layouts_flyway_folders");
    p.write("v1/V1.0__init.sql", "CREATE TABLE accounts (id bigint PRIMARY KEY);\n");
    p.write("v1/patches/V1.1__memo.sql", "ALTER TABLE accounts ADD COLUMN memo text;\n");
    p.write("common/R__01_views.sql", "CREATE OR REPLACE VIEW account_memos AS SELECT id, memo FROM accounts;\n");
    p.shale(&["validate"]).ok();
    snapshot!("flyway_folders_up", shown(&p, &p.shale(&["up"]).ok()));
    snapshot!("flyway_folders_status", shown(&p, &p.shale(&["status"]).ok()));
    assert_eq!(
        p.psql("SELECT string_agg(path, ', ' ORDER BY id) FROM shale_migrations"),
        "v1/V1.0__init.sql, v1/patches/V1.1__memo.sql, common/R__01_views.sql"
    );
    // The same version in two folders: both files are named, and nothing runs.
    p.write("v2/V1.1__other.sql", "SELECT 1;\n");
    p.write("v2/V2.0__more.sql", "CREATE TABLE more (id int);\n");
    snapshot!("flyway_folders_duplicate", shown(&p, &p.shale(&["up"])));
    assert!(!p.tables().contains(&"more".to_string()));
}

/// Flyway's placeholders: `${name}` in a Flyway file takes its value from `[placeholders]` in
/// shale.toml before the file is split and run. Without one, the file and the setting are named.
/// As Flyway's, a versioned migration's checksum is of the file as written: another value does
/// not make it changed, and adopt compares Flyway's checksum of the file as written.
#[test]
fn flyway_placeholders_take_their_values_from_shale_toml() {
    let p = Project::new("layouts_flyway_placeholders");
    p.write(
        "V1__accounts.sql",
        "CREATE TABLE ${schema}.accounts (id bigint PRIMARY KEY);\nGRANT SELECT ON ${schema}.accounts TO ${reader};\n",
    );
    p.write("V2__orders.sql", "CREATE TABLE ${schema}.orders (id bigint PRIMARY KEY);\n");
    // Roles belong to the whole (shared) server: made once.
    p.psql("DO $$ BEGIN CREATE ROLE layouts_placeholders_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$; CREATE SCHEMA app");
    snapshot!("flyway_placeholders_missing", shown(&p, &p.shale(&["up"])));
    let config = |schema: &str| {
        let toml = format!("[placeholders]\nschema = \"{schema}\"\nreader = \"layouts_placeholders_reader\"\n");
        std::fs::write(p.path().join("shale.toml"), toml).unwrap();
    };
    config("app");
    // What Flyway ran: V1, with these values; its checksum is of the file as written.
    let raw = std::fs::read_to_string(p.migrations().join("V1__accounts.sql")).unwrap();
    p.psql(&format!(
        "CREATE TABLE app.accounts (id bigint PRIMARY KEY); GRANT SELECT ON app.accounts TO layouts_placeholders_reader;
         CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL);
         INSERT INTO flyway_schema_history VALUES (1, '1', 'accounts', 'SQL', 'V1__accounts.sql', {}, 'app', now(), 1, true)",
        shale_core::adopt::flyway_checksum(&raw)
    ));
    p.shale(&["adopt"]).ok();
    p.shale(&["lint", "--all"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('app.orders') IS NOT NULL"), "t");
    assert_eq!(p.psql("SELECT has_table_privilege('layouts_placeholders_reader', 'app.accounts', 'SELECT')"), "t");
    // The history keeps the SQL that ran.
    assert_eq!(
        p.psql("SELECT up_sql FROM shale_migrations WHERE version = '2'"),
        "CREATE TABLE app.orders (id bigint PRIMARY KEY);"
    );
    // Another value elsewhere: the migrations are not changed.
    config("public");
    p.shale(&["validate"]).ok();
}

/// Flyway's own placeholders: the file's name is filled in, as Flyway fills it; one Flyway takes
/// from its connection needs a value, where it ran as text (a column default of '${flyway:user}').
#[test]
fn flyway_s_own_placeholders_are_filled_or_asked_for() {
    let p = Project::new("layouts_flyway_own");
    p.write(
        "V1__audit.sql",
        "CREATE TABLE audit (who text DEFAULT '${flyway:user}');\nCOMMENT ON TABLE audit IS 'made by ${flyway:filename}';\n",
    );
    let run = p.shale(&["up"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("V1__audit.sql:1:39")
            && run.stderr.contains("${flyway:user} has no value")
            && run
                .stderr
                .contains("`\"flyway:user\" = \"VALUE\"`: Flyway fills it in itself (the user it connects as)"),
        "{}",
        run.stderr
    );
    std::fs::write(p.path().join("shale.toml"), "[placeholders]\n\"flyway:user\" = \"app\"\n").unwrap();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT obj_description('audit'::regclass)"), "made by V1__audit.sql");
    assert_eq!(
        p.psql("SELECT column_default FROM information_schema.columns WHERE table_name = 'audit'"),
        "'app'::text"
    );
}
