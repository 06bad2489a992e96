//! Directory layouts read as the tools that wrote them read them: Flyway's folders (its
//! locations are read to any depth, the file's name giving the version).

use crate::common;

use common::{shown, Project, Run};

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

/// Flyway's SQL callbacks run around `up` as Flyway runs them around `migrate` (the fourth sweep's
/// alf.io makes its views again in `afterMigrateApplied__*.sql`: a migration dropping one left it
/// gone): beforeMigrate and afterMigrate at every `up`, afterMigrateApplied where one was applied,
/// each in its own transaction, recorded nowhere; one that fails is placed in its file.
#[test]
fn flyway_callbacks_run_around_up_as_flyway_runs_them() {
    let p = Project::new("layouts_flyway_callbacks");
    p.write("V1__accounts.sql", "CREATE TABLE accounts (id bigint PRIMARY KEY, memo varchar(10));\n");
    p.write(
        "beforeMigrate.sql",
        "CREATE TABLE IF NOT EXISTS runs (event text);\nINSERT INTO runs VALUES ('before');\n",
    );
    p.write(
        "callbacks/afterMigrateApplied__views.sql",
        "CREATE OR REPLACE VIEW account_memos AS SELECT id, memo FROM accounts;\nINSERT INTO runs VALUES ('applied');\n",
    );
    p.write("afterMigrate__audit.sql", "INSERT INTO runs VALUES ('after ${schema}');\n");
    std::fs::write(p.path().join("shale.toml"), "[placeholders]\nschema = \"public\"\n").unwrap();
    p.write("afterEachMigrate.sql", "SELECT 1;\n");
    let validate = p.shale(&["validate"]).ok();
    assert!(
        validate.stderr.contains("Flyway callbacks `up` runs, each in a transaction of its own: beforeMigrate.sql (beforeMigrate), callbacks/afterMigrateApplied__views.sql (afterMigrateApplied), afterMigrate__audit.sql (afterMigrate)"),
        "{}",
        validate.stderr
    );
    // A dry run says which would run, in their order (the re-check: it said nothing of them).
    let dry = p.shale(&["up", "--dry-run"]).ok();
    let order = "beforeMigrate.sql, callbacks/afterMigrateApplied__views.sql, afterMigrate__audit.sql";
    assert!(
        dry.stdout.contains(&format!("callbacks that would run, each in a transaction of its own: {order}")),
        "{}",
        dry.stdout
    );
    let up = p.shale(&["up"]).ok();
    assert!(up.stdout.contains("callback callbacks/afterMigrateApplied__views.sql"), "{}", up.stdout);
    assert!(up.stderr.contains("afterEachMigrate.sql: ignored: a Flyway callback (afterEachMigrate)"), "{}", up.stderr);
    assert_eq!(p.psql("SELECT string_agg(event, ',') FROM runs"), "before,applied,after public");
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations"), "1", "recorded nowhere");
    // A migration that drops the view to change the column: the callback makes it again.
    p.write("V2__wider_memo.sql", "DROP VIEW account_memos;\nALTER TABLE accounts ALTER memo TYPE text;\n");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM pg_views WHERE viewname = 'account_memos'"), "1");
    // Nothing to apply: before and after run again, as at every Flyway migrate; applied does not.
    let dry = p.shale(&["up", "--dry-run", "--json"]).ok().json();
    assert_eq!(dry["callbacks"], serde_json::json!(["beforeMigrate.sql", "afterMigrate__audit.sql"]));
    let noop = p.shale(&["up", "--json"]).ok().json();
    assert_eq!(noop["callbacks"], serde_json::json!(["beforeMigrate.sql", "afterMigrate__audit.sql"]));
    assert_eq!(p.psql("SELECT count(*) FROM runs WHERE event = 'applied'"), "2");
    assert_eq!(p.psql("SELECT count(*) FROM runs WHERE event = 'before'"), "3");
    // A callback that fails: placed in its file, the migration before it stays applied.
    p.write("afterMigrate__audit.sql", "INSERT INTO runs VALUES ('after');\nINSERT INTO nowhere VALUES (1);\n");
    p.write("V3__more.sql", "CREATE TABLE more (id int);\n");
    let failed = p.shale(&["up"]);
    assert_ne!(failed.code, 0, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("the Flyway callback afterMigrate__audit.sql (afterMigrate) failed")
            && failed.stderr.contains("afterMigrate__audit.sql:2:13")
            && failed.stderr.contains("the migrations this run applied stay applied")
            && !failed.stderr.contains("nothing of it was applied"),
        "{}",
        failed.stderr
    );
    assert!(p.tables().contains(&"more".to_string()));
    assert_eq!(p.psql("SELECT count(*) FROM runs WHERE event = 'after'"), "0", "rolled back whole");
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

/// A placeholder's value per environment, as Flyway and Spring Boot read it from the environment
/// (Flyway trial, familie-ef-sak: `${ignoreIfProd}` empty by default, `--` in production, to
/// comment a statement out there): the variable wins over shale.toml, its name in any case.
#[test]
fn flyway_placeholders_from_the_environment_win_over_shale_toml() {
    // A sequence moved by a statement the placeholder comments out in production; empty by default.
    let project = |name: &str| {
        let p = Project::new(name);
        p.write("V1__seq.sql", "CREATE SEQUENCE sak_seq;\n${ignoreIfProd}SELECT setval('sak_seq', 100);\n");
        std::fs::write(p.path().join("shale.toml"), "[placeholders]\nignoreIfProd = \"\"\n").unwrap();
        p
    };
    let p = project("layouts_flyway_placeholders_env");
    let mut cmd = p.bare();
    cmd.env("SPRING_FLYWAY_PLACEHOLDERS_IGNOREIFPROD", "--").args(["--database-url", &p.db.url, "up"]);
    Run::of(cmd).ok();
    // Commented out in "production": the sequence was not moved.
    assert_eq!(p.psql("SELECT is_called FROM sak_seq"), "f");
    let q = project("layouts_flyway_placeholders_env2");
    q.shale(&["up"]).ok();
    assert_eq!(q.psql("SELECT last_value FROM sak_seq"), "100");
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

const SQITCH_PLAN: &str = "%syntax-version=1.0.0\n%project=flipr\n%uri=https://example.com/flipr/\n\n\
appschema 2024-01-01T00:00:00Z Marge N. <marge@example.com> # Adds the flipr schema.\n\
users [appschema] 2024-01-02T00:00:00Z Marge N. <marge@example.com> # Users.\n\
@v1.0.0 2024-01-03T00:00:00Z Marge N. <marge@example.com> # Tag v1.0.0.\n\
app/flips [users] 2024-01-04T00:00:00Z Marge N. <marge@example.com> # Flips, in a folder.\n\
users [users@v1.0.0] 2024-01-05T00:00:00Z Marge N. <marge@example.com> # Users get a nickname.\n";

/// Sqitch's table of deployed changes, as much of it as shale reads.
const SQITCH_CHANGES: &str = "CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, script_hash text, change text NOT NULL,
    project text NOT NULL, note text NOT NULL DEFAULT '', committed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    committer_name text NOT NULL, committer_email text NOT NULL, planned_at timestamptz NOT NULL, planner_name text NOT NULL,
    planner_email text NOT NULL);";

/// A Sqitch project as `sqitch init` and `sqitch add` / `rework` leave it: its plan orders the
/// changes (not the files' names), each change's scripts in deploy/, revert/ and verify/ (its
/// name may hold a folder), wrapped in BEGIN / COMMIT; a reworked change's earlier scripts carry
/// the tag. Applied in plan order, reverted with revert/, verify/ named as left alone; a
/// database Sqitch deployed is taken over by change name; `shale new` adds a change to the plan.
/// A change requiring another project's (`[base:roles]`) is refused before anything runs while
/// the database has not deployed it, as `sqitch deploy` refuses it (breadth trial: chef-server's
/// enterprise project ran 5 changes on a new database and failed at the 6th); deployed by shale
/// from the other project's folder, with a history of its own, it runs.
#[test]
fn a_sqitch_change_requiring_another_project_s_waits_for_it() {
    let p = Project::new("layouts_sqitch_required");
    p.write(
        "sqitch.plan",
        "%project=app\nfirst 2024-01-01T00:00:00Z M <m@x> # F.\nwiden [first base:roles@v1] 2024-01-02T00:00:00Z M <m@x> # W.\n",
    );
    p.write("deploy/first.sql", "CREATE TABLE first_t (id int);\n");
    p.write("revert/first.sql", "DROP TABLE first_t;\n");
    p.write("deploy/widen.sql", "ALTER TABLE roles ADD COLUMN title text;\n");
    p.write("revert/widen.sql", "ALTER TABLE roles DROP COLUMN title;\n");
    let base = p.path().join("base");
    std::fs::create_dir_all(base.join("deploy")).unwrap();
    std::fs::write(base.join("sqitch.plan"), "%project=base\nroles 2023-01-01T00:00:00Z M <m@x> # R.\n").unwrap();
    std::fs::write(base.join("deploy/roles.sql"), "CREATE TABLE roles (id int);\n").unwrap();
    std::fs::create_dir_all(base.join("revert")).unwrap();
    std::fs::write(base.join("revert/roles.sql"), "DROP TABLE roles;\n").unwrap();
    std::fs::write(base.join("shale.toml"), "history_table = \"shale_migrations_base\"\n").unwrap();

    // Without a database, validate names the requirement; with this one, it refuses as `up` does.
    let offline: Run = p.bare().arg("validate").output().unwrap().into();
    assert!(offline.stderr.contains("require changes of other projects: base:roles;"), "{}", offline.stderr);
    let validate = p.shale(&["validate"]);
    assert_eq!(validate.code, 2, "{}", validate.stderr);
    assert!(validate.stderr.contains("2 widen requires base:roles"), "{}", validate.stderr);
    // The dry run refuses it as the run does (the re-check: it planned all of it).
    let dry = p.shale(&["up", "--dry-run"]);
    assert_eq!(dry.code, 2, "{}{}", dry.stdout, dry.stderr);
    assert!(dry.stderr.contains("2 widen requires base:roles"), "{}", dry.stderr);
    let refused = p.shale(&["up"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("2 widen requires base:roles"), "{}", refused.stderr);
    assert!(refused.stderr.contains("Deploy base first"), "{}", refused.stderr);
    assert!(!p.tables().contains(&"first_t".to_string()), "nothing ran");

    p.shale(&["--config", "base/shale.toml", "--dir", "base", "up"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'roles'"), "2");
    // Deployed by Sqitch instead, its registry holding only the other project's changes: that
    // registry is no history of this plan to adopt (the re-check: `up` asked for an adopt), and
    // the requirement is met there.
    let q = Project::new("layouts_sqitch_required_registry");
    q.copy_from(&p, &["sqitch.plan", "deploy/first.sql", "deploy/widen.sql"]);
    q.psql(&format!(
        "CREATE TABLE roles (id int); CREATE SCHEMA sqitch; {SQITCH_CHANGES}
         INSERT INTO sqitch.changes (change_id, change, project, committer_name, committer_email, planned_at, planner_name, planner_email)
         VALUES ('r1', 'roles', 'base', 'M', 'm@x', now(), 'M', 'm@x')"
    ));
    q.shale(&["up"]).ok();
    assert_eq!(q.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'roles'"), "2");
    // Reverted there since: refused again.
    p.shale(&["down", "--step", "2"]).ok();
    p.shale(&["--config", "base/shale.toml", "--dir", "base", "down", "--step", "1"]).ok();
    assert_eq!(p.shale(&["up"]).code, 2);
}

#[test]
fn sqitch_projects_run_in_plan_order() {
    let p = Project::new("layouts_sqitch");
    let wrapped = |sql: &str| format!("-- Deploy flipr:x to pg\n\nBEGIN;\n\n{sql}\n\nCOMMIT;\n");
    p.write("sqitch.plan", SQITCH_PLAN);
    p.write("sqitch.conf", "[core]\n\tengine = pg\n");
    p.write("deploy/appschema.sql", &wrapped("CREATE SCHEMA flipr;"));
    p.write("revert/appschema.sql", &wrapped("DROP SCHEMA flipr;"));
    p.write("verify/appschema.sql", "SELECT pg_catalog.has_schema_privilege('flipr', 'usage');\n");
    p.write("deploy/users@v1.0.0.sql", &wrapped("CREATE TABLE flipr.users (nickname text PRIMARY KEY);"));
    p.write("revert/users@v1.0.0.sql", &wrapped("DROP TABLE flipr.users;"));
    p.write(
        "deploy/app/flips.sql",
        &wrapped("CREATE TABLE flipr.flips (id bigint PRIMARY KEY, nickname text REFERENCES flipr.users);"),
    );
    p.write("revert/app/flips.sql", &wrapped("DROP TABLE flipr.flips;"));
    p.write("deploy/users.sql", &wrapped("ALTER TABLE flipr.users ADD COLUMN fullname text;"));
    p.write("revert/users.sql", &wrapped("ALTER TABLE flipr.users DROP COLUMN fullname;"));

    let status = p.shale(&["status", "--json"]).ok().json();
    let labels: Vec<String> = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{} {}", m["version"].as_str().unwrap(), m["name"].as_str().unwrap()))
        .collect();
    assert_eq!(labels, ["1 appschema", "2 users", "3 app/flips", "4 users"], "{status}");
    // The verify scripts are named where the files are looked at, not in every deploy's log.
    // So is a deploy script of no change of the plan, which Sqitch passes over too (breadth trial:
    // chef-server's `purge_sequel.sql` named at every `up`).
    p.write("deploy/old_purge.sql", "SELECT 1;\n");
    let validate = p.shale(&["validate"]).ok();
    assert!(validate.stderr.contains("verify/appschema.sql: ignored: a Sqitch verify script"), "{}", validate.stderr);
    assert!(
        validate.stderr.contains("deploy/old_purge.sql: ignored: a Sqitch script of no change"),
        "{}",
        validate.stderr
    );
    let up = p.shale(&["up"]).ok();
    assert!(!up.stderr.contains("verify/appschema.sql"), "{}", up.stderr);
    assert!(!up.stderr.contains("old_purge"), "{}", up.stderr);
    assert!(up.stdout.contains("4 users"), "{}", up.stdout);
    let columns = "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns \
                   WHERE table_schema = 'flipr' AND table_name = 'users'";
    assert_eq!(p.psql(columns), "nickname,fullname");
    let paths = p.psql("SELECT string_agg(path, ',' ORDER BY id) FROM shale_migrations WHERE kind = 'versioned'");
    assert_eq!(paths, "deploy/appschema.sql,deploy/users@v1.0.0.sql,deploy/app/flips.sql,deploy/users.sql");
    p.shale(&["down", "--step", "1"]).ok();
    assert_eq!(p.psql(columns), "nickname", "revert/users.sql ran");
    // Sqitch's targets: a tag (the change before it) and a change's name (Sqitch trial: "not a
    // version", where its runbooks say `sqitch revert --to @v1.0.0`).
    p.shale(&["down", "--to", "@v1.0.0"]).ok();
    assert_eq!(p.psql("SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'flipr'"), "users");
    p.shale(&["down", "--to", "appschema"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'flipr'"), "0");

    // `shale new`: a name with a folder keeps it, as `sqitch add` does (the Sqitch trial: written
    // as `table_audit`).
    let foldered = p.shale(&["new", "app/audit"]).ok();
    assert!(foldered.stdout.contains("deploy/app/audit.sql"), "{}", foldered.stdout);
    let plan = std::fs::read_to_string(p.migrations().join("sqitch.plan")).unwrap();
    assert!(plan.lines().last().unwrap().starts_with("app/audit 20"), "{plan}");
    for folder in ["deploy", "revert", "verify"] {
        std::fs::remove_file(p.migrations().join(folder).join("app/audit.sql")).unwrap();
    }
    p.write("sqitch.plan", SQITCH_PLAN);
    // `shale new`: the scripts, and the change at the end of the plan by the last planner.
    let new = p.shale(&["new", "add tags"]).ok();
    assert!(new.stdout.contains("deploy/add_tags.sql"), "{}", new.stdout);
    let plan = std::fs::read_to_string(p.migrations().join("sqitch.plan")).unwrap();
    let last = plan.lines().last().unwrap();
    assert!(last.starts_with("add_tags 20") && last.ends_with("Marge N. <marge@example.com> # add tags"), "{plan}");
    p.write("deploy/add_tags.sql", &wrapped("CREATE TABLE flipr.tags (name text PRIMARY KEY);"));
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'flipr'"), "3");

    // A plan line whose deploy script is missing: an error at the plan's line, nothing runs.
    let broken = Project::new("layouts_sqitch_broken");
    broken.write(
        "sqitch.plan",
        "%project=x\n\nfirst 2024-01-01T00:00:00Z M <m@x>\nsecond 2024-01-02T00:00:00Z M <m@x>\n",
    );
    broken.write("deploy/first.sql", "CREATE TABLE first (id int);\n");
    let up = broken.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("sqitch.plan:4:1") && up.stderr.contains("deploy/second.sql is missing"),
        "{}",
        up.stderr
    );
    assert!(!broken.tables().contains(&"first".to_string()));

    // Outside deploy/, revert/ and verify/, a project's folders are not read (its tests hold SQL
    // of its own); a SQL file beside the plan is named as left alone.
    p.write("test/pgtap.sql", "SELECT plan(1); \\i oops\n");
    p.write("notes.sql", "SELECT 1;\n");
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("notes.sql: ignored: beside sqitch.plan"), "{}", status.stderr);
    assert!(!status.stderr.contains("pgtap"), "{}", status.stderr);

    // A change put into the plan before deployed ones moves their numbers: refused, naming both.
    let moved = Project::new("layouts_sqitch_moved");
    moved.copy_from(&p, &["deploy/appschema.sql", "deploy/users@v1.0.0.sql"]);
    moved.write(
        "sqitch.plan",
        "%project=flipr\nappschema 2024-01-01T00:00:00Z M <m@x>\nusers 2024-01-02T00:00:00Z M <m@x>\n",
    );
    moved.write("deploy/users.sql", &std::fs::read_to_string(p.migrations().join("deploy/users@v1.0.0.sql")).unwrap());
    moved.shale(&["up"]).ok();
    moved.write(
        "sqitch.plan",
        "%project=flipr\nappschema 2024-01-01T00:00:00Z M <m@x>\nroles 2024-01-03T00:00:00Z M <m@x>\nusers 2024-01-02T00:00:00Z M <m@x>\n",
    );
    moved.write("deploy/roles.sql", "CREATE ROLE flipr_reader NOLOGIN;\n");
    let up = moved.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("is where the history recorded change `users`"), "{}", up.stderr);
    // Another plan's history (two projects deployed to one database): said once, naming the
    // setting that gives this one a table of its own.
    moved.write(
        "sqitch.plan",
        "%project=ledger\naccounts 2024-01-01T00:00:00Z M <m@x>\nentries 2024-01-02T00:00:00Z M <m@x>\n",
    );
    moved.write("deploy/accounts.sql", "CREATE TABLE accounts (id int);\n");
    moved.write("deploy/entries.sql", "CREATE TABLE entries (id int);\n");
    let up = moved.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("it is another project's history") && up.stderr.contains("history_table"),
        "{}",
        up.stderr
    );
    assert_eq!(up.stderr.matches("error:").count(), 1, "{}", up.stderr);
    // validate says it once too, not each change as changed since it ran (whose `repair
    // --applied` would record changes that never ran: breadth trial, chef-server's two plans).
    let validate = moved.shale(&["validate"]);
    assert_eq!(validate.code, 1, "{}", validate.stderr);
    assert!(validate.stderr.contains("it is another project's history"), "{}", validate.stderr);
    assert!(!validate.stderr.contains("--applied"), "{}", validate.stderr);
    // `down` from that folder is refused too: it ran the other plan's downs from the history's
    // copies (Sqitch trial). So is a folder holding none of the history's changes.
    let down = moved.shale(&["down", "--step", "1"]);
    assert_eq!(down.code, 2, "{}", down.stderr);
    assert!(down.stderr.contains("it is another project's history"), "{}", down.stderr);
    let empty = tempfile::tempdir().unwrap();
    let down = moved.shale(&["--dir", empty.path().to_str().unwrap(), "down", "--step", "1"]);
    assert_eq!(down.code, 2, "{}", down.stderr);
    assert!(
        down.stderr
            .contains("none of the 2 migration(s) the history records as applied is in the migrations directory")
            && down.stderr.contains("--dir DIR"),
        "{}",
        down.stderr
    );
    assert_eq!(moved.psql("SELECT to_regclass('flipr.users') IS NOT NULL"), "t", "nothing reverted");

    // A project just made with `sqitch init`: `shale new` writes its first change into the plan.
    let fresh = Project::new("layouts_sqitch_new");
    fresh.write("sqitch.plan", "%syntax-version=1.0.0\n%project=flipr\n\n");
    let new = fresh.shale(&["new", "appschema"]).ok();
    assert!(new.stdout.contains("deploy/appschema.sql"), "{}", new.stdout);
    let plan = std::fs::read_to_string(fresh.migrations().join("sqitch.plan")).unwrap();
    assert!(plan.lines().last().unwrap().starts_with("appschema 20"), "{plan}");

    // A database Sqitch deployed the first two changes to: taken over by name (another project's
    // changes in the same registry, one of the same name, are not this one's), the rest run.
    let deployed = Project::new("layouts_sqitch_adopt");
    deployed.copy_from(
        &p,
        &[
            "sqitch.plan",
            "deploy/appschema.sql",
            "revert/appschema.sql",
            "deploy/users@v1.0.0.sql",
            "deploy/app/flips.sql",
            "deploy/users.sql",
            "deploy/add_tags.sql",
        ],
    );
    // Sqitch's hash of each deploy script as deployed (SHA-1 of its bytes).
    let hash = |p: &Project, file: &str| {
        shale_core::adopt::sqitch_script_hash(&std::fs::read_to_string(p.migrations().join(file)).unwrap())
    };
    let (h1, h2) = (hash(&deployed, "deploy/appschema.sql"), hash(&deployed, "deploy/users@v1.0.0.sql"));
    deployed.psql(&format!(
        "CREATE SCHEMA flipr; CREATE TABLE flipr.users (nickname text PRIMARY KEY);
         CREATE SCHEMA sqitch;
         CREATE TABLE sqitch.projects (project text PRIMARY KEY, uri text, created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
           creator_name text NOT NULL, creator_email text NOT NULL);
         CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, script_hash text, change text NOT NULL,
           project text NOT NULL REFERENCES sqitch.projects, note text NOT NULL DEFAULT '',
           committed_at timestamptz NOT NULL DEFAULT clock_timestamp(), committer_name text NOT NULL,
           committer_email text NOT NULL, planned_at timestamptz NOT NULL, planner_name text NOT NULL,
           planner_email text NOT NULL, UNIQUE (project, script_hash));
         INSERT INTO sqitch.projects VALUES ('flipr', NULL, now(), 'M', 'm@x'), ('other', NULL, now(), 'M', 'm@x');
         INSERT INTO sqitch.changes (change_id, script_hash, change, project, committer_name, committer_email, planned_at, planner_name, planner_email) VALUES
           ('a1', '{h1}', 'appschema', 'flipr', 'M', 'm@x', now(), 'M', 'm@x'),
           ('o1', 'h9', 'flips', 'other', 'M', 'm@x', now(), 'M', 'm@x'),
           ('a2', '{h2}', 'users', 'flipr', 'M', 'm@x', now(), 'M', 'm@x')",
    ));
    // A deploy script edited since Sqitch deployed it is refused, as Sqitch's other checksums
    // are (the Sqitch trial: taken over silently, and validate said all agreed).
    let users = deployed.migrations().join("deploy/users@v1.0.0.sql");
    let deployed_text = std::fs::read_to_string(&users).unwrap();
    std::fs::write(&users, deployed_text.replace("nickname text", "nickname varchar(300)")).unwrap();
    let edited = deployed.shale(&["adopt"]);
    assert_eq!(edited.code, 2, "{}", edited.stderr);
    assert!(
        edited.stderr.contains("deploy/users@v1.0.0.sql changed after sqitch applied migration users")
            && edited.stderr.contains("script_hash"),
        "{}",
        edited.stderr
    );
    std::fs::write(&users, deployed_text).unwrap();
    let refused = deployed.shale(&["up"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("sqitch"), "{}", refused.stderr);
    deployed.shale(&["adopt"]).ok();
    deployed.shale(&["up"]).ok();
    assert_eq!(deployed.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'flipr'"), "3");
    let dev = shale_testkit::shared_cluster().url("postgres");
    let drift = deployed.shale(&["drift", "--dev-url", &dev]).ok();
    assert!(drift.stdout.contains("no drift"), "{}\n{}", drift.stdout, drift.stderr);

    // Every change deployed, the reworked one twice (a row per instance): all taken over.
    let all = Project::new("layouts_sqitch_adopt_all");
    all.copy_from(&p, &["deploy/appschema.sql", "deploy/users@v1.0.0.sql", "deploy/app/flips.sql", "deploy/users.sql"]);
    all.write("sqitch.plan", SQITCH_PLAN);
    let hashes: Vec<String> =
        ["deploy/appschema.sql", "deploy/users@v1.0.0.sql", "deploy/app/flips.sql", "deploy/users.sql"]
            .iter()
            .map(|f| hash(&all, f))
            .collect();
    all.psql(&format!(
        "CREATE SCHEMA sqitch;
         {SQITCH_CHANGES}
         INSERT INTO sqitch.changes (change_id, script_hash, change, project, committer_name, committer_email, planned_at, planner_name, planner_email, committed_at) VALUES
           ('a1', '{}', 'appschema', 'flipr', 'M', 'm@x', now(), 'M', 'm@x', '2024-01-01'),
           ('a2', '{}', 'users', 'flipr', 'M', 'm@x', now(), 'M', 'm@x', '2024-01-02'),
           ('a3', '{}', 'app/flips', 'flipr', 'M', 'm@x', now(), 'M', 'm@x', '2024-01-03'),
           ('a4', '{}', 'users', 'flipr', 'M', 'm@x', now(), 'M', 'm@x', '2024-01-04')",
        hashes[0], hashes[1], hashes[2], hashes[3]
    ));
    let adopt = all.shale(&["adopt"]).ok();
    assert!(adopt.stdout.contains("4 migration(s)"), "{}", adopt.stdout);
    let status = all.shale(&["status", "--json"]).ok().json();
    let pending = status["migrations"].as_array().unwrap().iter().filter(|m| m["state"] != "applied").count();
    assert_eq!(pending, 0, "{status}");
    // Adopting a second project of that registry into the same history: refused as another
    // project's history (breadth trial: "already taken over ... up to version 45", the other's).
    let ledger = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ledger.path().join("deploy")).unwrap();
    std::fs::write(ledger.path().join("sqitch.plan"), "%project=ledger\naccounts 2024-01-01T00:00:00Z M <m@x>\n")
        .unwrap();
    std::fs::write(ledger.path().join("deploy/accounts.sql"), "CREATE TABLE accounts (id int);\n").unwrap();
    let second = all.shale(&["--dir", ledger.path().to_str().unwrap(), "adopt"]);
    assert_eq!(second.code, 2, "{}{}", second.stdout, second.stderr);
    assert!(second.stderr.contains("it is another project's history"), "{}", second.stderr);
    assert!(second.stderr.contains("history_table"), "{}", second.stderr);

    // A change added to the plan before deployed ones moves their places: said as a move, not as
    // Sqitch applying the last of them since (the re-check: `repair --applied` advised for it).
    let inserted = SQITCH_PLAN.replace(
        "app/flips [users]",
        "audit 2024-01-03T12:00:00Z Marge N. <marge@example.com> # Added late.\napp/flips [users]",
    );
    all.write("sqitch.plan", &inserted);
    all.write("deploy/audit.sql", "CREATE TABLE audit (id int);\n");
    let status = all.shale(&["status"]).ok();
    assert!(status.stderr.contains("is where the history recorded change"), "{}", status.stderr);
    assert!(!status.stderr.contains("sqitch applied"), "{}", status.stderr);
    // One removed: the place past the plan's end is the move too, not a file gone.
    all.write(
        "sqitch.plan",
        &SQITCH_PLAN
            .replace("app/flips [users] 2024-01-04T00:00:00Z Marge N. <marge@example.com> # Flips, in a folder.\n", ""),
    );
    let validate = all.shale(&["validate"]);
    assert_eq!(validate.code, 1, "{}", validate.stderr);
    assert!(validate.stderr.contains("is where the history recorded change"), "{}", validate.stderr);
    assert!(!validate.stderr.contains("its file is gone"), "{}", validate.stderr);
    all.write("sqitch.plan", SQITCH_PLAN);

    // Sqitch reverts a change taken over (its row deleted): validate fails until the team records
    // it rolled back and shale applies it again; then the warning ends (the re-check: for good).
    all.psql("DELETE FROM sqitch.changes WHERE change_id = 'a4'");
    let validate = all.shale(&["validate"]);
    assert_eq!(validate.code, 1, "{}", validate.stderr);
    assert!(
        validate.stderr.contains("error: sqitch reverted 4 users") && validate.stderr.contains("--force"),
        "{}",
        validate.stderr
    );
    all.psql("CREATE SCHEMA IF NOT EXISTS flipr; CREATE TABLE IF NOT EXISTS flipr.users (nickname text PRIMARY KEY)");
    all.shale(&["repair", "4", "--rolled-back", "--force", "--reason", "sqitch reverted it"]).ok();
    all.shale(&["up"]).ok();
    let validate = all.shale(&["validate"]).ok();
    assert!(!validate.stderr.contains("reverted"), "{}", validate.stderr);

    // Sqitch reverts a change taken over and deploys it again (its row newer than the adoption):
    // it ran twice, said as such (the second re-check: unseen, where a revert alone is an error).
    all.psql(
        "UPDATE sqitch.changes SET committed_at = (SELECT max(coalesce(finished_at, started_at)) FROM shale_migrations
           WHERE kind = 'adopted') + interval '5 seconds' WHERE change_id = 'a3'",
    );
    let status = all.shale(&["status"]).ok();
    assert!(status.stderr.contains("sqitch applied 3 app/flips too, after shale had"), "{}", status.stderr);

    // Sqitch failing to deploy a change after the switch logs it in its events alone: seen, and
    // `up` leaves it to the team (the Sqitch trial: the old deploy step still running, unseen).
    all.write(
        "sqitch.plan",
        &format!("{SQITCH_PLAN}audit 2024-01-06T00:00:00Z Marge N. <marge@example.com> # Audit.\n"),
    );
    all.write("deploy/audit.sql", "CREATE TABLE flipr.audit (id int);\n");
    all.psql(
        "CREATE TABLE sqitch.events (event text NOT NULL, change_id text NOT NULL, change text NOT NULL,
           project text NOT NULL, committed_at timestamptz NOT NULL DEFAULT clock_timestamp());
         INSERT INTO sqitch.events (event, change_id, change, project, committed_at) VALUES
           ('fail', 'a5', 'audit', 'flipr', clock_timestamp() + interval '5 seconds')",
    );
    let status = all.shale(&["status"]).ok();
    assert!(status.stderr.contains("sqitch failed on audit since shale took its history over"), "{}", status.stderr);
    let up = all.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("DELETE FROM sqitch.events WHERE event = 'fail' AND change = 'audit'"), "{}", up.stderr);
    all.psql("DELETE FROM sqitch.events WHERE event = 'fail' AND change = 'audit'");
    all.shale(&["up"]).ok();

    // Sqitch reverts a change shale applied after the switch: only its log says so, and validate
    // fails on it, as on a revert of one taken over (the Sqitch re-check: unseen); recorded and
    // applied again, it ends.
    all.psql(
        "INSERT INTO sqitch.events (event, change_id, change, project) VALUES ('revert', 'a5', 'audit', 'flipr');
         DROP TABLE flipr.audit",
    );
    let validate = all.shale(&["validate"]);
    assert_eq!(validate.code, 1, "{}", validate.stderr);
    assert!(validate.stderr.contains("sqitch reverted 5 audit"), "{}", validate.stderr);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    all.shale(&["repair", "5", "--rolled-back", "--force", "--reason", "sqitch reverted it"]).ok();
    all.shale(&["up"]).ok();
    assert!(!all.shale(&["validate"]).ok().stderr.contains("reverted"));
}

/// graphile-migrate's placeholders (`:DATABASE_VISITOR`, from its .gmrc): one with no value is an
/// error at its place naming the `[placeholders]` key; given one in shale.toml, the file runs.
#[test]
fn graphile_migrate_placeholders_take_their_values_from_shale_toml() {
    let p = Project::new("layouts_graphile_placeholders");
    // Roles are the cluster's: made once, kept for runs after.
    p.psql("DO $$ BEGIN CREATE ROLE gm_visitor NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    p.write(
        "000001.sql",
        "--! Previous: -\n--! Hash: sha1:aa\n\ncreate schema app;\ngrant usage on schema app to :DATABASE_VISITOR;\nselect '12:00'::time;\n",
    );
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("000001.sql:5:30: graphile-migrate placeholder :DATABASE_VISITOR has no value")
            && up.stderr.contains("`DATABASE_VISITOR = \"VALUE\"`"),
        "{}",
        up.stderr
    );
    std::fs::write(p.path().join("shale.toml"), "[placeholders]\nDATABASE_VISITOR = \"gm_visitor\"\n").unwrap();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT has_schema_privilege('gm_visitor', 'app', 'USAGE')"), "t");

    // A file written since, with no header of graphile's (`shale new`'s), has them filled too; and
    // `"!ENV"`, as .gmrc writes it, takes the environment's value, set per environment (the
    // graphile trial: neither was, and the GRANT was a syntax error).
    p.psql("DO $$ BEGIN CREATE ROLE gm_visitor_staging NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    p.write("000002_more.sql", "create table app.more (id int);\ngrant select on app.more to :DATABASE_VISITOR;\n");
    std::fs::write(p.path().join("shale.toml"), "[placeholders]\nDATABASE_VISITOR = \"!ENV\"\n").unwrap();
    let unset = p.shale(&["up"]);
    assert_eq!(unset.code, 2, "{}", unset.stderr);
    assert!(
        unset.stderr.contains("000002_more.sql:2:29: graphile-migrate placeholder :DATABASE_VISITOR has no value"),
        "{}",
        unset.stderr
    );
    std::fs::write(p.path().join(".env"), "DATABASE_VISITOR=gm_visitor_staging\n").unwrap();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT has_table_privilege('gm_visitor_staging', 'app.more', 'SELECT')"), "t");
    // The file as written is what the history's checksum is of: the value may differ by database.
    p.shale(&["validate"]).ok();
}

/// A date beside timestamps (`20240130_` among `20240108234540_`): shale runs them in the order
/// of their numbers, the Supabase CLI and dbmate in the order of their names; where the two
/// disagree a note says so, with a name that keeps both orders.
#[test]
fn versions_whose_number_and_name_orders_disagree_are_noted() {
    let p = Project::new("layout_name_order");
    p.write("20240108234540_setup.sql", "CREATE TABLE profiles (id int);\n");
    p.write("20240130_add_zhipu.sql", "ALTER TABLE profiles ADD COLUMN zhipu text;\n");
    let run = p.shale(&["validate"]).ok();
    assert!(
        run.stderr.contains("20240130_add_zhipu.sql runs before 20240108234540_setup.sql here")
            && run.stderr.contains("(20240130000000)"),
        "{}",
        run.stderr
    );
    p.write("20240130000000_add_zhipu.sql", "ALTER TABLE profiles ADD COLUMN zhipu text;\n");
    p.remove("20240130_add_zhipu.sql");
    assert!(!p.shale(&["validate"]).ok().stderr.contains("runs before"));
}

/// goose's StatementBegin ... StatementEnd block runs as one query, as goose sends it: in a NO
/// TRANSACTION file, a `LOCK TABLE` then an `UPDATE` run in that query's own transaction (split,
/// the LOCK failed outside a transaction block), and a block that fails leaves none of itself.
#[test]
fn a_goose_block_runs_as_one_query() {
    let p = Project::new("layouts_goose_block");
    p.write("00001_audit.sql", "-- +goose Up\nCREATE TABLE audit (id int PRIMARY KEY, n int);\nINSERT INTO audit VALUES (1, 0);\n-- +goose Down\nDROP TABLE audit;\n");
    p.write(
        "00002_bump.sql",
        "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\nLOCK TABLE audit IN EXCLUSIVE MODE;\nUPDATE audit SET n = n + 1;\n-- +goose StatementEnd\n-- +goose Down\nUPDATE audit SET n = n - 1;\n",
    );
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT n FROM audit"), "1");
    p.write(
        "00003_half.sql",
        "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\nUPDATE audit SET n = 10;\nSELECT 1/0;\n-- +goose StatementEnd\n",
    );
    let failed = p.shale(&["up"]);
    assert_eq!(failed.code, 1, "{}{}", failed.stdout, failed.stderr);
    assert_eq!(p.psql("SELECT n FROM audit"), "1", "the block's UPDATE went with its failure");
}

/// goose's `ENVSUB ON`: the variables of the environment (or .env) go into the SQL, as goose puts
/// them, so a value set per environment works (the second goose trial: every command refused the
/// file, adopt and status too); an unset `${VAR:?}` is an error at its place, nothing run.
#[test]
fn goose_envsub_takes_the_environment() {
    let p = Project::new("layouts_goose_envsub");
    p.psql("DO $$ BEGIN CREATE ROLE envsub_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    p.write("00001_t.sql", "-- +goose Up\nCREATE TABLE t (id int);\n-- +goose Down\nDROP TABLE t;\n");
    p.write(
        "00002_grant.sql",
        "-- +goose Up\n-- +goose ENVSUB ON\nGRANT SELECT ON t TO ${APP_READER?set it per environment};\n-- +goose ENVSUB OFF\n-- +goose Down\nREVOKE SELECT ON t FROM envsub_reader;\n",
    );
    let unset = p.shale(&["up"]);
    assert_eq!(unset.code, 2, "{}", unset.stderr);
    assert!(
        unset.stderr.contains("00002_grant.sql:3:22") && unset.stderr.contains("set it per environment"),
        "{}",
        unset.stderr
    );
    assert_eq!(p.tables(), Vec::<String>::new(), "nothing ran");
    std::fs::write(p.path().join(".env"), "APP_READER=envsub_reader\n").unwrap();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT has_table_privilege('envsub_reader', 't', 'SELECT')"), "t");
    p.shale(&["validate"]).ok();
}

/// Beside node-pg-migrate's JavaScript modules (its default), a SQL file's markers are read as it
/// reads them, words after them and all (round-3 re-check: the down ran in the up).
#[test]
fn beside_node_pg_migrate_modules_sql_markers_are_its() {
    let p = Project::new("layouts_npm_modules_sql");
    p.write("1751331728000_j.js", "exports.up = () => {};\n");
    p.write(
        "20251201_x.sql",
        "-- Up Migration (x)\nCREATE TABLE x1 (id int);\n-- Down Migration (x)\nDROP TABLE x1;\n",
    );
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('x1') IS NOT NULL"), "t");
    p.shale(&["down", "--step", "1"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('x1') IS NULL"), "t");
}

/// node-pg-migrate's `utc` names (17 digits, with milliseconds): `shale new` goes on with one of
/// the same form, from the clock (node-pg-migrate re-check: a 14-digit stamp numbered below them,
/// so each new file took the newest's number plus one, and two branches the same one).
#[test]
fn new_goes_on_with_node_pg_migrate_s_utc_names() {
    let p = Project::new("layouts_npm_utc");
    p.write(
        "20231120052635124_base.sql",
        "-- Up Migration\nCREATE TABLE base (id int);\n-- Down Migration\nDROP TABLE base;\n",
    );
    p.shale(&["new", "add flag"]).ok();
    let names: Vec<String> = std::fs::read_dir(p.migrations())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("_add_flag.sql"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let version = names[0].split('_').next().unwrap();
    assert_eq!(version.len(), 17, "{names:?}");
    assert!(version.starts_with(&chrono::Utc::now().format("%Y%m%d").to_string()), "{names:?}");
    // Beside modules alone so named, the same (review: `0001_`).
    let q = Project::new("layouts_npm_utc_modules");
    q.write("20240101120000123_users.js", "exports.up = () => {};\n");
    q.shale(&["new", "second"]).ok();
    let second = std::fs::read_dir(q.migrations())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with("_second.sql"))
        .unwrap();
    assert_eq!(second.split('_').next().unwrap().len(), 17, "{second}");
}

/// In a diesel directory, two migrations made within one second get versions of their own, as
/// diesel counts its `-0000` up (Lemmy trial: both were `...-180241-0000`, and every command
/// refused the directory as holding a duplicate version).
#[test]
fn two_new_diesel_folders_in_one_second_get_versions_of_their_own() {
    let p = Project::new("layout_diesel_new_twice");
    p.write("2024-10-25-112826-0000_create_users/up.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    p.write("2024-10-25-112826-0000_create_users/down.sql", "DROP TABLE users;\n");
    p.write("2099-01-01-000000-0000_later/up.sql", "SELECT 1;\n");
    p.write("2099-01-01-000000-0000_later/down.sql", "SELECT 1;\n");
    p.shale(&["new", "first"]).ok();
    p.shale(&["new", "second"]).ok();
    let mut folders: Vec<String> = std::fs::read_dir(p.migrations())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("2099"))
        .collect();
    folders.sort();
    assert_eq!(
        folders,
        ["2099-01-01-000000-0000_later", "2099-01-01-000000-0001_first", "2099-01-01-000000-0002_second"]
    );
    p.shale(&["status"]).ok();
}

/// A migration in code numbered among the SQL files (yoyo's `0002_backfill.py`) is in their
/// sequence: `up` stops at it, naming it, where it passed over it and ran the rest (yoyo trial:
/// a column it added never appeared). One numbered before every SQL file is the old tool's.
#[test]
fn a_numbered_code_migration_among_sql_files_stops_up() {
    let p = Project::new("layouts_numbered_code");
    p.write("0001_t.sql", "CREATE TABLE t (id int);\n");
    p.write("0002_backfill.py", "from yoyo import step\nsteps = [step('ALTER TABLE t ADD x int')]\n");
    p.write("0003_y.sql", "ALTER TABLE t ADD y int;\n");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("0002_backfill.py: migration 0002 is written in Python")
            && up.stderr.contains("`shale up --to 0001`"),
        "{}",
        up.stderr
    );
    p.shale(&["up", "--to", "0001"]).ok();
    p.psql("ALTER TABLE t ADD x int");
    p.shale(&["repair", "0002", "--applied", "--reason", "ran the step by hand"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 't'"), "3");
    // Numbered before every SQL file: the old tool's, left alone.
    let q = Project::new("layouts_numbered_code_before");
    q.write("0001_init.py", "steps = []\n");
    q.write("0002_t.sql", "CREATE TABLE t (id int);\n");
    q.shale(&["up"]).ok();
    // An old tool's numbered files, then shale's: `new` numbers after them (review: it wrote
    // 0001, and the old files above it then stopped `up`).
    let r = Project::new("layouts_numbered_code_then_new");
    for name in ["0001_initial.py", "0002_users.py", "0003_backfill.py"] {
        r.write(name, "steps = []\n");
    }
    let created = r.shale(&["new", "add x"]).ok();
    assert!(created.stdout.contains("0004_add_x.sql"), "{}", created.stdout);
    r.shale(&["up"]).ok();
    // One written after the switch, after every SQL file, stops `up` too (review: passed over,
    // `validate` said all was valid).
    r.write("0005_backfill.py", "steps = []\n");
    let up = r.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("0005_backfill.py: migration 0005 is written in Python"), "{}", up.stderr);
    assert_eq!(r.shale(&["validate"]).code, 1);
    // Knex's files named by time beside shale's `0001`: the next is `0003`, not a time (review).
    let t = Project::new("layouts_numbered_code_timed");
    t.write("20240101120000_users.js", "exports.up = () => {};\n");
    t.write("0001_baseline.sql", "SELECT 1;\n");
    t.write("0002_b.sql", "SELECT 1;\n");
    let created = t.shale(&["new", "third"]).ok();
    assert!(created.stdout.contains("0003_third.sql"), "{}", created.stdout);
    // One migration in several files (`.ts`, `.js`, `.d.ts`) is one.
    let s = Project::new("layouts_numbered_code_files");
    s.write("0001_a.sql", "SELECT 1;\n");
    for name in ["0002_b.ts", "0002_b.js", "0002_b.d.ts"] {
        s.write(name, "export {};\n");
    }
    s.write("0003_c.sql", "SELECT 1;\n");
    let status = s.shale(&["status"]).ok();
    assert!(status.stdout.contains("1 written in"), "{}", status.stdout);
}

/// A down named as yoyo names it (`X.rollback.sql`) shares `X.sql`'s version: the hint says to
/// name the pair as shale reads one, not to give it the next version, which would run it as a
/// migration (yoyo trial: `up` then planned its DROP TABLE).
#[test]
fn a_rollback_file_sharing_a_version_is_named_as_a_down() {
    let p = Project::new("layouts_rollback_file");
    p.write("0044_audit_note.sql", "CREATE TABLE audit_note (id int);\n");
    p.write("0044_audit_note.rollback.sql", "DROP TABLE audit_note;\n");
    let run = p.shale(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("it is its down: name the two `NAME.up.sql` and `NAME.down.sql`"), "{}", run.stderr);
    assert!(!run.stderr.contains("next free version"), "{}", run.stderr);
}

/// A Sqitch change reworked after the adoption, its rework deployed by Sqitch since: the rework
/// is said to be applied by Sqitch, and its first instance, taken over, is not said to have run
/// again (Sqitch trial: both instances blamed).
#[test]
fn a_rework_deployed_by_sqitch_after_the_adoption_is_not_blamed_on_its_first_instance() {
    let p = Project::new("layouts_sqitch_rework_since");
    let wrapped = |sql: &str| format!("BEGIN;\n{sql}\nCOMMIT;\n");
    p.write("sqitch.plan", SQITCH_PLAN);
    p.write("deploy/appschema.sql", &wrapped("CREATE SCHEMA flipr;"));
    p.write("deploy/users@v1.0.0.sql", &wrapped("CREATE TABLE flipr.users (nickname text PRIMARY KEY);"));
    p.write("deploy/app/flips.sql", &wrapped("CREATE TABLE flipr.flips (id bigint PRIMARY KEY);"));
    p.write("deploy/users.sql", &wrapped("ALTER TABLE flipr.users ADD COLUMN fullname text;"));
    let hash = |file: &str| {
        shale_core::adopt::sqitch_script_hash(&std::fs::read_to_string(p.migrations().join(file)).unwrap())
    };
    p.psql(&format!(
        "CREATE SCHEMA flipr; CREATE TABLE flipr.users (nickname text PRIMARY KEY); CREATE TABLE flipr.flips (id bigint PRIMARY KEY);
         CREATE SCHEMA sqitch;
         {SQITCH_CHANGES}
         INSERT INTO sqitch.changes (change_id, script_hash, change, project, committer_name, committer_email, planned_at, planner_name, planner_email, committed_at) VALUES
           ('a1', '{}', 'appschema', 'flipr', 'M', 'm@x', now(), 'M', 'm@x', '2024-01-01'),
           ('a2', '{}', 'users', 'flipr', 'M', 'm@x', now(), 'M', 'm@x', '2024-01-02'),
           ('a3', '{}', 'app/flips', 'flipr', 'M', 'm@x', now(), 'M', 'm@x', '2024-01-03')",
        hash("deploy/appschema.sql"),
        hash("deploy/users@v1.0.0.sql"),
        hash("deploy/app/flips.sql")
    ));
    p.shale(&["adopt"]).ok();
    p.psql(&format!(
        "ALTER TABLE flipr.users ADD COLUMN fullname text;
         INSERT INTO sqitch.changes (change_id, script_hash, change, project, committer_name, committer_email, planned_at, planner_name, planner_email, committed_at)
         VALUES ('a4', '{}', 'users', 'flipr', 'M', 'm@x', now(), 'M', 'm@x', now() + interval '5 seconds')",
        hash("deploy/users.sql")
    ));
    let status = p.shale(&["status"]).ok();
    assert!(!status.stderr.contains("2 users"), "{}", status.stderr);
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("sqitch applied 4 users since shale took its history over"), "{}", up.stderr);
}
