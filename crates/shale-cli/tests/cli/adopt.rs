//! Switching from another tool: each tool's history table (made here with the DDL that tool
//! uses) is found, read and taken over without running anything; where the tool says the
//! database is in doubt, adoption is refused; a database with no history at all gets one from
//! its live schema.

use crate::common;

use common::{finish, shown, Project, Run};

/// The two migrations a project had applied with the other tool, and a third it had not.
fn applied_by_the_other_tool(p: &Project, first: &str, second: &str, third: &str) {
    p.write(first, "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    p.write(second, "CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users);\n");
    p.write(third, "CREATE TABLE tags (id bigint PRIMARY KEY);\n");
    // What the other tool ran.
    p.psql("CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users)");
}

/// `up` refuses and names `adopt`; `adopt` takes the two over; `up` then runs only the third.
#[track_caller]
fn switch(p: &Project, tool: &str, table: &str) {
    let up = p.shale(&["up"]);
    snapshot!(format!("{tool}_up_refused"), shown(p, &up));
    assert!(!p.tables().contains(&"tags".to_string()), "nothing ran");
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains(&format!("migrated by {tool}")), "{}", status.stderr);
    // The rows the tool applied say so, not a bare `pending` (sqlx, Atlas trials).
    assert!(
        status.stdout.contains(&format!("pending, applied by {tool} (not adopted)"))
            && status.stdout.contains(&format!("(2 of them applied by {tool}, which `shale adopt` takes over)")),
        "{}",
        status.stdout
    );
    let json = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(json["applied_before_adoption"]["migrations"].as_array().map(Vec::len), Some(2), "{json}");
    // `none` is shale's history, not the schema's: said beside it, off stdout.
    let version = p.shale(&["version"]).ok();
    assert_eq!(version.stdout.trim(), "none");
    assert!(version.stderr.contains(&format!("migrated by {tool}")), "{}", version.stderr);
    // A check before a deploy fails where `up` would refuse.
    let validate = p.shale(&["validate"]);
    assert_eq!(validate.code, 1, "{}", validate.stderr);
    assert!(validate.stderr.contains("`shale up` refuses to run on this database"), "{}", validate.stderr);

    let dry = p.shale(&["adopt", "--dry-run"]).ok();
    snapshot!(format!("{tool}_adopt_dry_run"), shown(p, &dry));
    assert_eq!(p.psql("SELECT to_regclass('shale_migrations') IS NULL"), "t", "a dry run records nothing");

    let run = p.shale(&["adopt"]).ok();
    snapshot!(format!("{tool}_adopt"), shown(p, &run));
    assert_eq!(
        p.psql("SELECT string_agg(kind || ' ' || status, ', ' ORDER BY id) FROM shale_migrations"),
        "adopted succeeded, adopted succeeded, audit succeeded"
    );
    assert!(p
        .psql("SELECT reason FROM shale_migrations WHERE kind = 'audit'")
        .contains(&format!("taken over from {tool}")));
    assert_eq!(p.states(), ["applied", "applied", "pending"]);
    let status = p.shale(&["status", "--json"]).ok().json();
    let from: Vec<&serde_json::Value> =
        status["migrations"].as_array().unwrap().iter().map(|m| &m["adopted_from"]).collect();
    assert_eq!(from, [&tool.into(), &tool.into(), &serde_json::Value::Null], "{status}");
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"tags".to_string()));
    // The other tool's table is untouched: a team can go back.
    assert_eq!(p.psql(&format!("SELECT to_regclass('{table}') IS NOT NULL")), "t");
    // And it is not drift: the migrations never built it.
    let dev = shale_testkit::shared_cluster().url("postgres");
    let drift = p.shale(&["drift", "--dev-url", &dev]).ok();
    assert!(drift.stdout.contains("no drift"), "{}", drift.stdout);
    assert!(drift.stderr.contains(&format!("public.{table} ({tool}'s history) is left out")), "{}", drift.stderr);
    // Adopting again (a deploy script that adopts before every `up`) records nothing and says so.
    let rows = p.history().len();
    let again = p.shale(&["adopt"]).ok();
    assert!(again.stdout.contains(&format!("already taken over from {tool} (public.{table}) at ")), "{}", again.stdout);
    assert!(again.stdout.contains("the database is up to date"), "{}", again.stdout);
    assert_eq!(p.history().len(), rows, "nothing recorded");
    let json = p.shale(&["adopt", "--json"]).ok().json();
    assert!(json["already"].is_string() && json["adopted"].as_array().unwrap().is_empty(), "{json}");
    // The version taken over up to, the second, not where the database is now (golang-migrate trial).
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(json["version"], status["migrations"][1]["version"], "{json}");
}

#[test]
fn golang_migrate() {
    let p = Project::new("adopt_golang_migrate");
    applied_by_the_other_tool(&p, "1_users.up.sql", "2_posts.up.sql", "3_tags.up.sql");
    p.psql("CREATE TABLE IF NOT EXISTS schema_migrations (version bigint not null primary key, dirty boolean not null); INSERT INTO schema_migrations VALUES (2, false)");
    switch(&p, "golang-migrate", "schema_migrations");
    // golang-migrate still run after the switch, failing on 3 (which shale applied): said as its
    // failure, not as a migration both ran (review).
    p.psql("UPDATE schema_migrations SET version = 3, dirty = true");
    let json = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(json["failed_by_the_other_tool"]["migrations"][0], "3", "{json}");
    assert!(json["ran_by_both"].is_null(), "{json}");
}

/// Before adoption, status says what the tool failed on (a dirty golang-migrate version was read
/// as applied, golang-migrate trial) and what `adopt` will refuse (an edited file, sqlx re-check).
#[test]
fn status_before_adoption_says_what_adopt_will_refuse() {
    let p = Project::new("adopt_status_before");
    applied_by_the_other_tool(&p, "1_users.up.sql", "2_posts.up.sql", "3_tags.up.sql");
    p.psql("CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null); INSERT INTO schema_migrations VALUES (2, true)");
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stdout.contains("pending, golang-migrate failed on it (not adopted)")
            && status.stdout.contains("(1 of them applied by golang-migrate")
            && status.stderr.contains("`shale adopt` will refuse this history as it is: golang-migrate"),
        "{}{}",
        status.stdout,
        status.stderr
    );
    let json = p.shale(&["status", "--json"]).ok().json();
    let before = &json["applied_before_adoption"];
    assert_eq!(
        (before["migrations"][0].as_str(), before["failed"][0].as_str()),
        (Some("1 users"), Some("2 posts")),
        "{json}"
    );
    assert_eq!(before["refusals"].as_array().map(Vec::len), Some(1), "{json}");
}

/// A migration another tool applied is guarded like one shale applied: marking it rolled back
/// while its file is unchanged needs --force (the next `up` would run it again), and one whose file
/// is gone can be recorded as rolled back.
#[test]
fn repair_of_an_adopted_migration() {
    let p = Project::new("adopt_repair");
    applied_by_the_other_tool(&p, "1_users.up.sql", "2_posts.up.sql", "3_tags.up.sql");
    p.psql("CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null); INSERT INTO schema_migrations VALUES (2, false)");
    p.shale(&["adopt"]).ok();
    let refused = p.shale(&["repair", "2", "--rolled-back", "--reason", "try"]);
    assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("is applied and its file is unchanged"), "{}", refused.stderr);
    let up = p.shale(&["up"]).ok();
    assert!(!up.stdout.contains("posts"), "an adopted migration is not run again: {}", up.stdout);
    std::fs::remove_file(p.migrations().join("2_posts.up.sql")).unwrap();
    assert_eq!(p.shale(&["up"]).code, 2, "its file is gone");
    p.shale(&["repair", "2", "--rolled-back", "--reason", "folded into 1"]).ok();
    p.shale(&["validate"]).ok();
}

/// A migration added before the newest the other tool applied, marked `-- shale:out-of-order`,
/// runs with a plain `up`: adopt says so, not `--allow-out-of-order` (breadth trial: Harbor's and
/// Lemmy's history-table migration).
#[test]
fn adopt_says_a_plain_up_runs_a_marked_older_migration() {
    let p = Project::new("adopt_marked_older");
    applied_by_the_other_tool(&p, "20240101000000_users.sql", "20240103000000_posts.sql", "20240104000000_tags.sql");
    p.psql("CREATE TABLE tags (id bigint PRIMARY KEY)");
    p.psql(
        "CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
         INSERT INTO schema_migrations VALUES ('20240101000000'), ('20240103000000'), ('20240104000000')",
    );
    p.write("20240102000000_history.sql", "-- shale:out-of-order\nCREATE TABLE IF NOT EXISTS notes (id int);\n");
    let adopt = p.shale(&["adopt"]).ok();
    assert!(adopt.stdout.contains("1 migration(s) are pending: run `shale up`"), "{}", adopt.stdout);
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"notes".to_string()));
}

#[test]
fn golang_migrate_dirty_is_refused() {
    let p = Project::new("adopt_golang_migrate_dirty");
    applied_by_the_other_tool(&p, "1_users.up.sql", "2_posts.up.sql", "3_tags.up.sql");
    p.psql("CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null); INSERT INTO schema_migrations VALUES (2, true)");
    let run = p.shale(&["adopt"]);
    snapshot!("golang_migrate_dirty", shown(&p, &run));
    assert_eq!(p.psql("SELECT to_regclass('shale_migrations') IS NULL"), "t", "a refusal leaves nothing behind");
}

#[test]
fn dbmate() {
    let p = Project::new("adopt_dbmate");
    applied_by_the_other_tool(&p, "20240101000000_users.sql", "20240102000000_posts.sql", "20240103000000_tags.sql");
    p.psql("create table if not exists public.schema_migrations (version varchar primary key); insert into schema_migrations values ('20240101000000'), ('20240102000000')");
    switch(&p, "dbmate", "schema_migrations");
}

/// The other tool still runs somewhere after shale took over (a deploy step, an application's
/// start-up) and applies a new migration first: `up` refuses to run it again, names it and the
/// way out, and runs nothing; recorded as applied, the rest runs.
/// `adopt` from an empty directory (`shale init` made one beside the tool's folder): one line
/// saying the folder is wrong, not a line per migration with no file (goose trial: 181 of them).
#[test]
fn adopting_into_an_empty_directory_names_the_folder() {
    let p = Project::new("adopt_empty_dir");
    std::fs::create_dir_all(p.migrations()).unwrap();
    p.psql(
        "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true)",
    );
    let run = p.shale(&["adopt", "--dry-run"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("holds no migration, and the other tool applied 3: point --dir"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().filter(|l| l.contains("no file")).count(), 0, "{}", run.stderr);
}

#[test]
fn a_migration_the_adopted_tool_applied_since_is_not_run_again() {
    let p = Project::new("adopt_dbmate_again");
    p.write("20240101000000_users.sql", "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY);\n");
    p.psql("CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE schema_migrations (version varchar PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000')");
    p.shale(&["adopt"]).ok();
    p.write(
        "20240201000000_flags.sql",
        "-- migrate:up\nCREATE TABLE IF NOT EXISTS flags (name text);\nINSERT INTO flags VALUES ('beta');\n",
    );
    p.write("20240301000000_more.sql", "-- migrate:up\nCREATE TABLE more (id int);\n");
    // dbmate runs it first.
    p.psql("CREATE TABLE IF NOT EXISTS flags (name text); INSERT INTO flags VALUES ('beta'); INSERT INTO schema_migrations VALUES ('20240201000000')");
    // A check before the deploy refuses as `up` would.
    for check in [&["up", "--dry-run"][..], &["validate"]] {
        let refused = p.shale(check);
        assert_eq!(refused.code, 2, "{check:?}: {}{}", refused.stdout, refused.stderr);
        assert!(refused.stderr.contains("dbmate applied 20240201000000 flags"), "{check:?}: {}", refused.stderr);
    }
    // status says it before up refuses it: listed as pending, applied by dbmate (dbmate trial).
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("warning: dbmate applied 20240201000000 flags since shale took its history over")
            && status.stderr.contains("`shale repair VERSION --applied"),
        "{}",
        status.stderr
    );
    let json = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(json["applied_by_the_other_tool"]["migrations"][0], "20240201000000 flags", "{json}");
    // adopt run again (a deploy script that adopts before every up) says what up will refuse
    // (node-pg-migrate trial: it said `shale up` runs them).
    let again = p.shale(&["adopt", "--dry-run"]).ok();
    assert!(again.stdout.contains("`shale up` runs the 1 pending migration(s)"), "{}", again.stdout);
    assert!(again.stderr.contains("dbmate applied 20240201000000 flags since shale took"), "{}", again.stderr);
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}{}", up.stdout, up.stderr);
    assert!(
        up.stderr.contains("dbmate applied 20240201000000 flags since shale took its history over")
            && up.stderr.contains("`shale repair VERSION --applied --reason ...` (20240201000000)"),
        "{}",
        up.stderr
    );
    assert_eq!(p.psql("SELECT count(*) FROM flags"), "1", "not run twice");
    assert_eq!(p.psql("SELECT to_regclass('more') IS NULL"), "t", "nothing ran");
    p.shale(&["repair", "20240201000000", "--applied", "--reason", "dbmate ran it"]).ok();
    // Recorded by a person's decision: said so, with no duration (nothing ran).
    let status = p.shale(&["status", "--json"]).ok().json();
    let row = &status["migrations"][1];
    assert!(row["repaired"] == true && row["duration_ms"].is_null(), "{row}");
    assert!(p.shale(&["status"]).ok().stdout.contains("applied (repair)"));
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM flags"), "1");
    assert_eq!(p.psql("SELECT to_regclass('more') IS NOT NULL"), "t");
    // The other order: shale ran it, then dbmate ran it again. status says so.
    assert!(!p.shale(&["status"]).ok().stderr.contains("warning"), "nothing ran twice yet");
    p.psql("INSERT INTO schema_migrations VALUES ('20240301000000')");
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains(
            "warning: dbmate applied 20240301000000 more too, after shale had (public.schema_migrations records it)"
        ),
        "{}",
        status.stderr
    );
    let json = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(json["ran_by_both"]["migrations"][0], "20240301000000 more", "{json}");
    // And a start-up's `up`, with nothing to apply, says it too (drizzle trial: silent).
    let up = p.shale(&["up"]).ok();
    assert!(up.stderr.contains("warning: dbmate applied 20240301000000 more too, after shale had"), "{}", up.stderr);
    let json = p.shale(&["up", "--json"]).ok().json();
    assert_eq!(json["ran_by_both"]["migrations"][0], "20240301000000 more", "{json}");
    // dbmate's rollback of a migration shale took over (it deletes the version's row): shale
    // counts it as applied, and status says the tool reverted it (goose trial, as goose does it).
    p.psql("DROP TABLE users CASCADE; DELETE FROM schema_migrations WHERE version = '20240101000000'");
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("warning: dbmate reverted 20240101000000 users since shale took its history over"),
        "{}",
        status.stderr
    );
    let json = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(json["reverted_by_the_other_tool"]["migrations"][0], "20240101000000 users", "{json}");
    // validate, a CI gate, fails on it: the database lacks what the history counts as applied.
    let validate = p.shale(&["validate"]);
    assert_eq!(validate.code, 1, "{}{}", validate.stdout, validate.stderr);
    assert!(validate.stderr.contains("dbmate reverted 20240101000000 users"), "{}", validate.stderr);
    // `up` says it too, with nothing to apply (Sqitch and Rails trials: "up to date", unsaid).
    let up = p.shale(&["up"]).ok();
    assert!(
        up.stdout.contains("nothing to apply") && up.stderr.contains("warning: dbmate reverted 20240101000000 users"),
        "{}{}",
        up.stdout,
        up.stderr
    );
    let json = p.shale(&["up", "--json"]).ok().json();
    assert_eq!(json["reverted_by_the_other_tool"]["migrations"][0], "20240101000000 users", "{json}");
    // Where the database still holds what it made (a down that did nothing), `repair --applied`
    // records that it was checked, and the warning ends (Sqitch trial: "nothing to record").
    p.psql("CREATE TABLE users (id bigint PRIMARY KEY)");
    let repair = p.shale(&["repair", "20240101000000", "--applied", "--reason", "checked: still there"]).ok();
    assert!(!repair.stdout.contains("nothing to record"), "{}", repair.stdout);
    let status = p.shale(&["status"]).ok();
    assert!(!status.stderr.contains("reverted"), "{}", status.stderr);

    // A migration taken over, reverted by shale and applied again: the tool's row for it is from
    // before the adoption, no sign that the tool ran it since.
    let r = Project::new("adopt_revert_again");
    r.write("20240101000000_users.sql", "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY);\n");
    r.write(
        "20240102000000_tags.sql",
        "-- migrate:up\nCREATE TABLE tags (id int);\n-- migrate:down\nDROP TABLE tags;\n",
    );
    r.psql("CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE tags (id int); CREATE TABLE schema_migrations (version varchar PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000'), ('20240102000000')");
    r.shale(&["adopt"]).ok();
    r.shale(&["down", "--step", "1"]).ok();
    r.shale(&["up"]).ok();
    assert_eq!(r.psql("SELECT to_regclass('tags') IS NOT NULL"), "t");
    assert!(!r.shale(&["status"]).ok().stderr.contains("warning"), "nothing ran twice");
    // One dbmate applied since, recorded with `repair --applied`, and one both ran: reverted by
    // shale, each is shale's to apply again (their rows in dbmate's table are older than the revert).
    r.write("20240103000000_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n");
    r.psql("CREATE TABLE a (id int); INSERT INTO schema_migrations VALUES ('20240103000000')");
    r.shale(&["repair", "20240103000000", "--applied", "--reason", "dbmate ran it"]).ok();
    // Reverted by shale and applied again: dbmate's row is the run recorded by hand, not a second
    // run (Hasura trial: said to have run twice, for good).
    r.shale(&["down", "--step", "1"]).ok();
    r.shale(&["up"]).ok();
    let status = r.shale(&["status"]).ok();
    assert!(!status.stderr.contains("20240103000000"), "{}", status.stderr);
    r.write("20240104000000_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n");
    r.shale(&["up"]).ok();
    r.psql("INSERT INTO schema_migrations VALUES ('20240104000000')");
    r.shale(&["down", "--step", "2"]).ok();
    assert_eq!(r.psql("SELECT to_regclass('a') IS NULL AND to_regclass('b') IS NULL"), "t");
    r.shale(&["up", "--dry-run"]).ok();
    r.shale(&["up"]).ok();
    assert_eq!(r.psql("SELECT to_regclass('a') IS NOT NULL AND to_regclass('b') IS NOT NULL"), "t");
    // The one recorded as dbmate's run is not said to have run twice (Hasura trial: warned for
    // good); the one both ran still is.
    let status = r.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("dbmate applied 20240104000000 b too") && !status.stderr.contains("20240103000000"),
        "{}",
        status.stderr
    );
    // Checked, and recorded so: the warning ends (Hasura and golang-migrate trials: nothing
    // could end it, `repair --applied` had nothing to record).
    r.shale(&["repair", "20240104000000", "--applied", "--reason", "checked: b ran twice, harmlessly"]).ok();
    let status = r.shale(&["status"]).ok();
    assert!(!status.stderr.contains("20240104000000"), "{}", status.stderr);

    // golang-migrate records only the version it reached: above the one taken over, it ran them.
    let g = Project::new("adopt_gm_again");
    g.write("1_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    g.psql("CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (1, false)");
    g.shale(&["adopt"]).ok();
    g.write("2_flags.up.sql", "CREATE TABLE flags (name text);\n");
    g.psql("CREATE TABLE flags (name text); UPDATE schema_migrations SET version = 2");
    let up = g.shale(&["up"]);
    assert_eq!(up.code, 2, "{}{}", up.stdout, up.stderr);
    assert!(up.stderr.contains("golang-migrate applied 2 flags since shale took its history over"), "{}", up.stderr);
}

#[test]
fn goose() {
    let p = Project::new("adopt_goose");
    applied_by_the_other_tool(&p, "00001_users.sql", "00002_posts.sql", "00003_tags.sql");
    p.psql(
        "CREATE TABLE goose_db_version (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now());
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true), (3, false)",
    );
    switch(&p, "goose", "goose_db_version");
}

/// A migration shale applied and reverted, which the tool still running somewhere then applied:
/// its row is newer than the revert, so it is the tool's, and `up` refuses to run it again (Atlas
/// trial: taken as shale's to apply again, as a row from before the revert is, and run twice).
#[test]
fn applied_by_the_tool_after_shale_reverted_it() {
    let p = Project::new("adopt_after_revert");
    let goose = |up: &str, down: &str| format!("-- +goose Up\n{up}\n-- +goose Down\n{down}\n");
    p.write("00001_users.sql", &goose("CREATE TABLE users (id bigint PRIMARY KEY);", "DROP TABLE users;"));
    p.write("00002_tags.sql", &goose("CREATE TABLE tags (id int);", "DROP TABLE tags;"));
    p.psql(
        "CREATE TABLE users (id bigint PRIMARY KEY);
         CREATE TABLE goose_db_version (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now());
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true)",
    );
    p.shale(&["adopt"]).ok();
    p.shale(&["up"]).ok();
    p.shale(&["down", "--step", "1"]).ok();
    // goose, still run by a deploy, applies it again, from a machine in another time zone (its
    // `tstamp` has none: read in shale's, it looked hours older than the revert; review).
    p.psql("SET TIME ZONE 'America/New_York'; CREATE TABLE tags (id int); INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, true)");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}{}", up.stdout, up.stderr);
    assert!(up.stderr.contains("goose applied 00002 tags since shale took its history over"), "{}", up.stderr);
    // Recorded as goose's run, then reverted by shale: shale's to apply again, though goose's time
    // without a zone cannot say it is older than the revert (re-check: refused for good).
    p.shale(&["repair", "00002", "--applied", "--reason", "goose ran it"]).ok();
    p.shale(&["down", "--step", "1"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('tags') IS NOT NULL"), "t");
    // A row from long before the revert (goose ran it before the switch, then shale ran it and
    // reverted it) is no sign of that either.
    p.shale(&["down", "--step", "1"]).ok();
    p.psql("UPDATE goose_db_version SET tstamp = '2000-01-01' WHERE version_id = 2");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('tags') IS NOT NULL"), "t");
}

/// rubenv's sql-migrate: files with `-- +migrate Up` / `Down` sections, its table of applied file
/// names; `shale new` then writes its sections too.
#[test]
fn sql_migrate() {
    let p = Project::new("adopt_sql_migrate");
    let sections = |up: &str, down: &str| format!("-- +migrate Up\n{up}\n\n-- +migrate Down\n{down}\n");
    p.write("1_users.sql", &sections("CREATE TABLE users (id bigint PRIMARY KEY);", "DROP TABLE users;"));
    p.write(
        "2_posts.sql",
        &sections("CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users);", "DROP TABLE posts;"),
    );
    p.write("3_tags.sql", &sections("CREATE TABLE tags (id bigint PRIMARY KEY);", "DROP TABLE tags;"));
    p.psql(
        "CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users);
         CREATE TABLE gorp_migrations (id varchar(255) NOT NULL PRIMARY KEY, applied_at timestamp with time zone);
         INSERT INTO gorp_migrations VALUES ('1_users.sql', now()), ('2_posts.sql', now())",
    );
    switch(&p, "sql-migrate", "gorp_migrations");
    p.shale(&["new", "add_tag_names"]).ok();
    let written = std::fs::read_to_string(p.migrations().join("4_add_tag_names.sql")).unwrap();
    assert!(written.starts_with("-- +migrate Up\n") && written.contains("\n-- +migrate Down\n"), "{written}");
    p.shale(&["down", "--step", "1"]).ok();
    assert!(!p.tables().contains(&"tags".to_string()), "its Down section ran");
}

/// node-pg-migrate's SQL files: `-- Up Migration` / `-- Down Migration` sections (any case, more
/// dashes allowed), a file without a down section has none, its table of applied names; `shale
/// new` then writes its sections and numbers in milliseconds as it does. Before, the down section
/// ran as part of the up.
#[test]
fn node_pg_migrate_of_javascript_modules_starts_from_the_live_schema() {
    // node-pg-migrate's default: its migrations are JavaScript modules, which match no SQL file.
    let p = Project::new("adopt_node_pg_migrate_js");
    p.write("1700000000000_users.js", "exports.up = (pgm) => { pgm.createTable('users', { id: 'id' }); };\n");
    p.psql(
        "CREATE TABLE users (id serial PRIMARY KEY);
         CREATE TABLE pgmigrations (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
         INSERT INTO pgmigrations (name, run_on) VALUES ('1700000000000_users', now())",
    );
    let adopt = p.shale(&["adopt"]);
    assert_eq!(adopt.code, 2, "{}", adopt.stderr);
    assert!(
        adopt.stderr.contains("node-pg-migrate's migrations are JavaScript modules here")
            && adopt.stderr.contains("`shale baseline --from-database`"),
        "{}",
        adopt.stderr
    );
    let run = p.shale(&["baseline", "--from-database"]).ok();
    assert!(run.stderr.contains("public.pgmigrations (node-pg-migrate's history) is left out"), "{}", run.stderr);
    // Numbered as the modules are, in milliseconds (node-pg-migrate trial: `0001_baseline.sql`,
    // which node-pg-migrate refuses before them, were the team to go back).
    let baseline = std::fs::read_dir(p.migrations())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with("_baseline.sql"))
        .unwrap();
    assert_eq!(baseline.split('_').next().unwrap().len(), 13, "{baseline}");
    let file = std::fs::read_to_string(p.migrations().join(&baseline)).unwrap();
    assert!(file.contains("CREATE TABLE public.users") && !file.contains("pgmigrations"), "{file}");
    // A module written since the switch is a migration nothing runs: `up` stops before it
    // (node-pg-migrate trial: `up` said nothing to apply, and the application started without it).
    let later = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 600_000;
    p.write(
        &format!("{later}_add-flag.js"),
        "exports.up = (pgm) => { pgm.addColumn('users', { flag: 'boolean' }); };\n",
    );
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains(&format!("{later}_add-flag.js: migration {later} is written in JavaScript")),
        "{}",
        up.stderr
    );
    assert!(up.stderr.contains("port it to SQL"), "{}", up.stderr);
    let status = p.shale(&["status"]);
    assert!(status.stdout.contains("1 written in JavaScript, which shale cannot run"), "{}", status.stdout);
    assert_eq!(p.shale(&["validate"]).code, 1);
    // Its work done by hand and recorded: dealt with.
    p.shale(&["repair", &later.to_string(), "--applied", "--reason", "added by hand"]).ok();
    p.shale(&["up"]).ok();
    // node-pg-migrate still run by a colleague: said.
    p.psql("INSERT INTO pgmigrations (name, run_on) VALUES ('1800000000000_more', now())");
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("warning: node-pg-migrate's history (public.pgmigrations) has changed"),
        "{}",
        status.stderr
    );
    // The migration it ran, ported to a file shale runs: refused, not run again (db-migrate and
    // Postgrator trials: a seed row inserted twice, with only the warning said).
    p.psql("CREATE TABLE more (id int); INSERT INTO more VALUES (1)");
    p.write("1800000000000_more.sql", "CREATE TABLE IF NOT EXISTS more (id int);\nINSERT INTO more VALUES (1);\n");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("node-pg-migrate applied 1800000000000 more (public.pgmigrations records it)")
            && up.stderr.contains("shale repair VERSION --applied"),
        "{}",
        up.stderr
    );
    assert_eq!(p.psql("SELECT count(*) FROM more"), "1");
    p.shale(&["repair", "1800000000000", "--applied", "--reason", "ran by node-pg-migrate"]).ok();
    assert!(p.shale(&["up"]).ok().stdout.contains("nothing to apply"));
}

/// A Laravel migration written after the switch (`2026_12_06_150723_x.php`, its date and time in
/// parts) is a migration nothing runs, as a JavaScript module is (Ecto re-check: unseen).
#[test]
fn a_laravel_migration_written_after_the_switch_stops_up() {
    let p = Project::new("adopt_laravel_after");
    p.psql(
        "CREATE TABLE migrations (id serial PRIMARY KEY, migration varchar(255) NOT NULL, batch int NOT NULL);
         INSERT INTO migrations (migration, batch) VALUES ('2014_10_12_000000_create_users_table', 1);
         CREATE TABLE users (id bigserial PRIMARY KEY, email varchar(255) NOT NULL)",
    );
    p.write("2014_10_12_000000_create_users_table.php", "<?php\nreturn new class extends Migration {};\n");
    // One written an hour before the switch, which Laravel ran: the baseline covers it, and it is
    // not warned about (review: warned on every run).
    let before = (chrono::Utc::now() - chrono::Duration::hours(1)).format("%Y_%m_%d_%H%M%S");
    p.write(&format!("{before}_add_phone.php"), "<?php\nreturn new class extends Migration {};\n");
    p.psql(&format!("INSERT INTO migrations (migration, batch) VALUES ('{before}_add_phone', 2)"));
    p.shale(&["baseline", "--from-database"]).ok();
    p.shale(&["up"]).ok();
    assert!(!p.shale(&["status"]).ok().stderr.contains("written about"));
    // Written about now (an hour on, not to share the baseline's second): the name's time, in a
    // zone unknown, may be before the switch or after it. Said, until recorded or ported (Knex
    // trial: passed over for good, unsaid).
    let now = (chrono::Utc::now() + chrono::Duration::hours(1)).format("%Y_%m_%d_%H%M%S");
    let today = format!("{now}_add_flag.php");
    p.write(&today, "<?php\nreturn new class extends Migration {};\n");
    for check in ["status", "validate"] {
        let run = p.shale(&[check]).ok();
        assert!(
            run.stderr.contains(&format!("warning: {today} was written about when shale's history began")),
            "{check}: {}",
            run.stderr
        );
    }
    let version = now.to_string().replace('_', "");
    p.shale(&["repair", &version, "--applied", "--reason", "laravel ran it before the switch"]).ok();
    assert!(!p.shale(&["status"]).ok().stderr.contains("written about"));
    // A day on: past the 14 hours a time in a zone unknown is given.
    let later = chrono::Utc::now() + chrono::Duration::hours(24);
    let name = format!("{}_create_webhooks_table.php", later.format("%Y_%m_%d_%H%M%S"));
    p.write(&name, "<?php\nreturn new class extends Migration {};\n");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains(&format!("{name}: migration {} is written in PHP", later.format("%Y%m%d%H%M%S"))),
        "{}",
        up.stderr
    );
    assert_eq!(p.shale(&["validate"]).code, 1);
}

#[test]
fn node_pg_migrate_sections() {
    let p = Project::new("adopt_node_pg_migrate_sections");
    p.write(
        "1700000000000_users.sql",
        "-- Up Migration\nCREATE TABLE users (id bigint PRIMARY KEY);\n\n-- Down Migration\nDROP TABLE users;\n",
    );
    p.write("1700000000001_posts.sql", "--- up migration\nCREATE TABLE posts (id bigint PRIMARY KEY);\n");
    p.write(
        "1700000000002_phone.sql",
        "-- Up Migration\nALTER TABLE users ADD COLUMN phone text;\n-- DOWN MIGRATION\nALTER TABLE users DROP COLUMN phone;\n",
    );
    p.psql(
        "CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE posts (id bigint PRIMARY KEY);
         CREATE TABLE pgmigrations (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
         INSERT INTO pgmigrations (name, run_on) VALUES ('1700000000000_users', now()), ('1700000000001_posts', now())",
    );
    p.shale(&["adopt"]).ok();
    p.shale(&["up"]).ok();
    let columns = "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'users'";
    assert_eq!(p.psql(columns), "id,phone", "the up section ran, and only it");
    p.shale(&["down", "--step", "1"]).ok();
    assert_eq!(p.psql(columns), "id", "the down section ran");
    // A file without a down section cannot be reverted.
    p.shale(&["up"]).ok();
    let down = p.shale(&["down", "--to", "1700000000000"]);
    assert_ne!(down.code, 0, "{}", down.stderr);
    assert!(down.stderr.contains("1700000000001"), "{}", down.stderr);
    assert_eq!(p.psql(columns), "id,phone", "nothing was reverted: {}", down.stderr);
    // A fresh database gets each up section alone.
    let fresh = Project::new("adopt_node_pg_migrate_sections_fresh");
    for name in ["1700000000000_users.sql", "1700000000001_posts.sql", "1700000000002_phone.sql"] {
        fresh.write(name, &std::fs::read_to_string(p.migrations().join(name)).unwrap());
    }
    fresh.shale(&["up"]).ok();
    assert_eq!(fresh.psql(columns), "id,phone");
    let new = p.shale(&["new", "add_email"]).ok();
    let written = std::fs::read_dir(p.migrations())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.ends_with("_add_email.sql"))
        .unwrap_or_else(|| panic!("{}", new.stdout));
    assert_eq!(written.split('_').next().unwrap().len(), 13, "milliseconds, as node-pg-migrate numbers: {written}");
    let text = std::fs::read_to_string(p.migrations().join(&written)).unwrap();
    assert!(text.starts_with("-- Up Migration\n") && text.contains("\n-- Down Migration\n"), "{text}");
}

/// jackc's tern: its separator between up and down, its one-row table of the version reached.
#[test]
fn tern() {
    let p = Project::new("adopt_tern");
    let tern = |up: &str, down: &str| format!("{up}\n\n---- create above / drop below ----\n\n{down}\n");
    p.write("001_users.sql", &tern("CREATE TABLE users (id bigint PRIMARY KEY);", "DROP TABLE users;"));
    p.write(
        "002_posts.sql",
        &tern("CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users);", "DROP TABLE posts;"),
    );
    p.write("003_tags.sql", &tern("CREATE TABLE tags (id bigint PRIMARY KEY);", "DROP TABLE tags;"));
    p.psql(
        "CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users);
         CREATE TABLE schema_version (version int4 NOT NULL); INSERT INTO schema_version VALUES (2)",
    );
    switch(&p, "tern", "schema_version");
    p.shale(&["new", "add_tag_names"]).ok();
    let written = std::fs::read_to_string(p.migrations().join("004_add_tag_names.sql")).unwrap();
    assert!(written.contains("\n---- create above / drop below ----\n"), "{written}");
    p.shale(&["down", "--step", "1"]).ok();
    assert!(!p.tables().contains(&"tags".to_string()), "the part below the separator ran");
}

/// Mattermost's morph: golang-migrate's files, a row per applied version (with its name) in
/// `db_migrations`, as morph's PostgreSQL driver makes it.
#[test]
fn morph() {
    let p = Project::new("adopt_morph");
    applied_by_the_other_tool(&p, "000001_users.up.sql", "000002_posts.up.sql", "000003_tags.up.sql");
    p.psql(
        "CREATE TABLE IF NOT EXISTS db_migrations (version bigint not null primary key, name varchar not null);
         INSERT INTO db_migrations VALUES (1, 'users'), (2, 'posts')",
    );
    switch(&p, "morph", "db_migrations");
}

/// sql-migrate files sharing a number (it knows them by name) are taken over by name and run in
/// name order; a file of that number added before an applied one since is refused, as it would
/// move the versions of those after it.
#[test]
fn sql_migrate_files_sharing_a_number() {
    let p = Project::new("adopt_sql_migrate_twins");
    let sections = |up: &str| format!("-- +migrate Up\n{up}\n\n-- +migrate Down\nSELECT 1;\n");
    p.write("1_users.sql", &sections("CREATE TABLE users (id bigint PRIMARY KEY);"));
    p.write("2_add_posts.sql", &sections("CREATE TABLE posts (id bigint PRIMARY KEY);"));
    p.write("2_create_tags.sql", &sections("CREATE TABLE tags (id bigint PRIMARY KEY);"));
    p.write("3_more.sql", &sections("CREATE TABLE more (id bigint PRIMARY KEY);"));
    p.psql(
        "CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE posts (id bigint PRIMARY KEY);
         CREATE TABLE tags (id bigint PRIMARY KEY);
         CREATE TABLE gorp_migrations (id varchar(255) NOT NULL PRIMARY KEY, applied_at timestamp with time zone);
         INSERT INTO gorp_migrations VALUES ('1_users.sql', now()), ('2_add_posts.sql', now()), ('2_create_tags.sql', now())",
    );
    let adopt = p.shale(&["adopt"]).ok();
    assert!(adopt.stdout.contains("2 add_posts (2_add_posts.sql)"), "{}", adopt.stdout);
    assert!(adopt.stdout.contains("2.1 create_tags (2_create_tags.sql)"), "{}", adopt.stdout);
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"more".to_string()));
    // After twins, the next number, in the directory's width.
    p.write("3_twin.sql", &sections("CREATE TABLE twin (id bigint PRIMARY KEY);"));
    let new = p.shale(&["new", "after_twins"]).ok();
    assert!(new.stdout.contains("4_after_twins.sql"), "{}", new.stdout);
    p.shale(&["up"]).ok();
    p.write("2_aaa_added_since.sql", &sections("SELECT 1;"));
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("has the version the history recorded for 2_add_posts.sql"), "{}", up.stderr);
}

#[test]
fn sqlx_and_its_failed_marker() {
    let p = Project::new("adopt_sqlx");
    applied_by_the_other_tool(&p, "20240101000000_users.sql", "20240102000000_posts.sql", "20240103000000_tags.sql");
    // sqlx's checksum: SHA-384 of the file as it applied it.
    let sha =
        |file: &str| shale_core::adopt::sqlx_checksum(&std::fs::read_to_string(p.migrations().join(file)).unwrap());
    p.psql(&format!(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL);
         INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (20240101000000, 'users', true, '\\x{}', 1), (20240102000000, 'posts', false, '\\x{}', 1)",
        sha("20240101000000_users.sql"),
        sha("20240102000000_posts.sql")
    ));
    let run = p.shale(&["adopt"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("sqlx records migration 20240102000000 as failed in public._sqlx_migrations"),
        "{}",
        run.stderr
    );
    p.psql("UPDATE _sqlx_migrations SET success = true");
    // A file changed after sqlx applied it: refused, as sqlx itself would refuse to go on.
    let original = std::fs::read_to_string(p.migrations().join("20240101000000_users.sql")).unwrap();
    p.write("20240101000000_users.sql", &format!("{original}-- edited later\n"));
    let run = p.shale(&["adopt"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("20240101000000_users.sql changed after sqlx applied migration 20240101000000"),
        "{}",
        run.stderr
    );
    p.write("20240101000000_users.sql", &original);
    switch(&p, "sqlx", "_sqlx_migrations");
    // sqlx still run at start-up after the switch, failing on a migration shale has not applied
    // yet (sqlx trial: `up` then ran it whole over what the failed attempt may have left).
    p.write("20240104000000_more.sql", "CREATE TABLE more (id bigint PRIMARY KEY);\n");
    p.psql(&format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (20240104000000, 'more', false, '\\x{}', 1)",
        sha("20240104000000_more.sql")
    ));
    for args in [&["up", "--dry-run"][..], &["up"]] {
        let refused = p.shale(args);
        assert_eq!(refused.code, 2, "{args:?}: {}", refused.stderr);
        assert!(
            refused.stderr.contains("sqlx tried 20240104000000 more since shale took its history over, and failed")
                && refused
                    .stderr
                    .contains("DELETE FROM public._sqlx_migrations WHERE version = 20240104000000 AND NOT success")
                && refused.stderr.contains("shale repair 20240104000000 --applied"),
            "{}",
            refused.stderr
        );
    }
    assert!(!p.tables().contains(&"more".to_string()), "nothing ran");
    // Cleared as the refusal says (the attempt left nothing): shale runs it.
    p.psql("DELETE FROM public._sqlx_migrations WHERE version = 20240104000000 AND NOT success");
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"more".to_string()));
}

/// A file sqlx applied with mixed line endings (CRLF on some lines, LF on others), unchanged since:
/// its checksum is of those bytes, which shale reads with LF throughout (sqlx trial, atuin).
#[test]
fn sqlx_file_with_mixed_line_endings() {
    let p = Project::new("adopt_sqlx_mixed");
    let text = "CREATE TABLE users (id bigint PRIMARY KEY);\r\nCREATE INDEX users_id ON users (id);\n";
    p.write("20240101000000_users.sql", text);
    p.psql(&format!(
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL);
         INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (20240101000000, 'users', true, '\\x{}', 1);
         {text}",
        shale_core::adopt::sqlx_checksum(text),
    ));
    p.shale(&["adopt"]).ok();
    assert_eq!(p.states(), ["applied"]);
}

/// Prisma's table as its schema engine makes it.
const PRISMA_TABLE: &str = "CREATE TABLE IF NOT EXISTS _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)";

/// A row of `_prisma_migrations` for the migration in folder `name` of `p`, its checksum computed
/// by the server (SHA-256 of migration.sql, in hex, as Prisma records it).
fn prisma_row(p: &Project, name: &str, finished: bool, rolled_back: bool) -> String {
    let text = std::fs::read_to_string(p.migrations().join(name).join("migration.sql")).unwrap();
    let at = |yes: bool| if yes { "now()" } else { "NULL" };
    format!(
        "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, rolled_back_at, applied_steps_count) VALUES (gen_random_uuid()::text, encode(sha256(convert_to($f${text}$f$, 'UTF8')), 'hex'), {}, '{name}', {}, 1);",
        at(finished),
        at(rolled_back)
    )
}

#[test]
fn prisma() {
    let p = Project::new("adopt_prisma");
    let names = ["20240101000000_users", "20240102000000_posts", "20240103000000_tags"];
    let files = names.map(|n| format!("{n}/migration.sql"));
    applied_by_the_other_tool(&p, &files[0], &files[1], &files[2]);
    p.write("migration_lock.toml", "provider = \"postgresql\"\n");
    // users failed once and was resolved as rolled back, then applied; posts' attempt failed.
    p.psql(&format!(
        "{PRISMA_TABLE}; {} {} {}",
        prisma_row(&p, names[0], false, true),
        prisma_row(&p, names[0], true, false),
        prisma_row(&p, names[1], false, false)
    ));
    let run = p.shale(&["adopt"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("prisma records migration 20240102000000_posts as failed"), "{}", run.stderr);
    assert!(run.stderr.contains("prisma migrate resolve --rolled-back 20240102000000_posts"), "{}", run.stderr);
    // Without Prisma, the SQL it gives does the same: here, that the attempt did complete.
    let rolled_back = "UPDATE public._prisma_migrations SET rolled_back_at = now() WHERE migration_name = '20240102000000_posts' AND finished_at IS NULL AND rolled_back_at IS NULL";
    assert!(run.stderr.contains(rolled_back), "{}", run.stderr);
    p.psql(&rolled_back.replace("SET rolled_back_at = now()", "SET finished_at = now()"));
    // A file changed after Prisma applied it: refused.
    p.write(&files[0], "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n");
    let run = p.shale(&["adopt"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("changed after prisma applied migration 20240101000000_users"), "{}", run.stderr);
    assert!(run.stderr.contains("shale adopt --accept-changed"), "{}", run.stderr);
    // Prisma never compares an applied file with what it ran: such files can be taken over as
    // they are, each named.
    let dry = p.shale(&["adopt", "--dry-run", "--accept-changed"]).ok();
    assert!(dry.stdout.contains("would record 2 migration(s)"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("20240101000000_users/migration.sql changed after prisma applied migration 20240101000000_users: recorded as applied as it is now")
            && dry.stdout.contains("shale drift"),
        "{}",
        dry.stdout
    );
    p.write(&files[0], "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    switch(&p, "prisma", "_prisma_migrations");
    // `prisma migrate deploy` still run after the switch fails on what shale applied (Prisma
    // trial: its failed row said Prisma still ran, and status said nothing).
    p.psql(&prisma_row(&p, names[2], false, false));
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("prisma failed on 20240103000000_tags since shale took its history over")
            && status.stderr.contains("`prisma migrate deploy` in a deploy or start script"),
        "{}",
        status.stderr
    );
    let json = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(json["failed_by_the_other_tool"]["migrations"][0], "20240103000000_tags", "{json}");
    // validate, a deploy's check, says it too.
    let validate = p.shale(&["validate"]).ok();
    assert!(validate.stderr.contains("prisma failed on 20240103000000_tags"), "{}", validate.stderr);
    let json = p.shale(&["validate", "--json"]).ok().json();
    assert_eq!(json["failed_by_the_other_tool"]["migrations"][0], "20240103000000_tags", "{json}");
    // The failed row hides nothing else it did since (re-check trial: a migration Prisma
    // applied after the switch went unseen, and `up` ran it again).
    p.write("20240104000000_more/migration.sql", "CREATE TABLE more (id bigint PRIMARY KEY);\n");
    p.psql(&format!(
        "CREATE TABLE more (id bigint PRIMARY KEY); {}",
        prisma_row(&p, "20240104000000_more", true, false)
    ));
    let json = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(json["applied_by_the_other_tool"]["migrations"][0], "20240104000000 more", "{json}");
    // Its row says so, where it said `pending` (Supabase trial).
    let status = p.shale(&["status"]).ok();
    assert!(status.stdout.contains("pending, applied by prisma"), "{}", status.stdout);
    assert_eq!(p.shale(&["up"]).code, 2);
}

/// A database squashed as Prisma's docs describe: the old folders replaced by one recorded as
/// applied (`prisma migrate resolve --applied`), their rows left in `_prisma_migrations`. adopt
/// refuses them as files gone, naming `--accept-missing`, which takes them over as applied with no
/// file: then status, up and validate are clean, and the next migration runs.
#[test]
fn prisma_squashed_history() {
    let p = Project::new("adopt_prisma_squash");
    let old = ["20240101000000_users", "20240102000000_posts"];
    for name in old {
        p.write(&format!("{name}/migration.sql"), "SELECT 1;\n");
    }
    let rows: Vec<String> = old.iter().map(|n| prisma_row(&p, n, true, false)).collect();
    for name in old {
        std::fs::remove_dir_all(p.migrations().join(name)).unwrap();
    }
    p.write("000000000000_squashed_migrations/migration.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    p.write("migration_lock.toml", "provider = \"postgresql\"\n");
    p.psql(&format!(
        "CREATE TABLE users (id bigint PRIMARY KEY); {PRISMA_TABLE}; {} {}",
        rows.join(" "),
        prisma_row(&p, "000000000000_squashed_migrations", true, false)
    ));
    p.write("20240301000000_tags/migration.sql", "CREATE TABLE tags (id bigint PRIMARY KEY);\n");
    let refused = p.shale(&["adopt", "--dry-run"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("shale adopt --accept-missing"), "{}", refused.stderr);
    let run = p.shale(&["adopt", "--accept-missing"]).ok();
    assert!(run.stdout.contains("20240102000000 posts (no file: removed on purpose)"), "{}", run.stdout);
    assert!(
        run.stdout.contains("prisma applied migration 20240101000000_users, which no file here has"),
        "{}",
        run.stdout
    );
    p.shale(&["validate"]).ok();
    let up = p.shale(&["up"]).ok();
    assert!(up.stdout.contains("tags") && !up.stdout.contains("users"), "{}", up.stdout);
    let states: Vec<String> = p.shale(&["status", "--json"]).ok().json()["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap().to_string())
        .collect();
    assert!(states.iter().all(|s| s == "applied"), "{states:?}");
}

/// Prisma's DATABASE_URL names the schema its tables are in (`?schema=app`), with settings for
/// its own pool: shale reads the same URL, and its history goes beside Prisma's.
#[test]
fn prisma_s_schema_in_its_url() {
    let p = Project::new("adopt_prisma_schema");
    p.write("20240101000000_users/migration.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    p.write("20240102000000_tags/migration.sql", "CREATE TABLE tags (id bigint PRIMARY KEY);\n");
    p.psql(&format!(
        "CREATE SCHEMA app; SET search_path = app; CREATE TABLE users (id bigint PRIMARY KEY); {PRISMA_TABLE}; {}",
        prisma_row(&p, "20240101000000_users", true, false)
    ));
    let base = &p.db.url;
    let url =
        format!("{base}{}schema=app&connection_limit=5&pool_timeout=10", if base.contains('?') { '&' } else { '?' });
    let on_app = |args: &[&str]| {
        let mut cmd = p.bare();
        cmd.arg("--database-url").arg(&url).args(args);
        Run::of(cmd)
    };
    let run = on_app(&["adopt"]).ok();
    assert!(run.stdout.contains("20240101000000"), "{}", run.stdout);
    on_app(&["up"]).ok();
    // The migrations' tables go to Prisma's schema; shale's history stays where shale.toml says.
    assert_eq!(p.psql("SELECT to_regclass('app.tags') IS NOT NULL AND to_regclass('public.tags') IS NULL"), "t");
    assert_eq!(p.psql("SELECT to_regclass('public.shale_migrations') IS NOT NULL"), "t");

    // A new database (CI, a preview environment): the schema is made before the first
    // migration, as Prisma makes it (Prisma trial, documenso: "no schema has been selected to
    // create in").
    let fresh = shale_testkit::fresh_database("adopt_prisma_schema_fresh");
    let url = format!("{}{}schema=app&connection_limit=5", fresh.url, if fresh.url.contains('?') { '&' } else { '?' });
    let mut cmd = p.bare();
    cmd.arg("--database-url").arg(&url).arg("up");
    Run::of(cmd).ok();
    let tables = shale_testkit::shared_cluster().psql(&fresh.name, "SELECT string_agg(table_schema || '.' || table_name, ',' ORDER BY table_schema, table_name) FROM information_schema.tables WHERE table_schema IN ('app', 'public')").unwrap();
    assert_eq!(tables, "app.tags,app.users,public.shale_migrations");
}

/// drizzle-kit's migrator: its table in schema `drizzle`, a row per migration with the file's
/// SHA-256 and the `when` its journal gives it.
#[test]
fn drizzle() {
    let p = Project::new("adopt_drizzle");
    let files = ["0000_silly_wolverine.sql", "0001_brave_hulk.sql", "0002_quiet_storm.sql"];
    applied_by_the_other_tool(&p, files[0], files[1], files[2]);
    let entries: Vec<String> = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let tag = f.trim_end_matches(".sql");
            format!(r#"{{"idx":{i},"version":"7","when":17000000{i}0000,"tag":"{tag}","breakpoints":true}}"#)
        })
        .collect();
    let journal = format!(r#"{{"version":"7","dialect":"postgresql","entries":[{}]}}"#, entries.join(","));
    p.write("meta/_journal.json", &journal);
    p.write("meta/0000_snapshot.json", "{}");
    // The hash as drizzle computes it, by the server: SHA-256 of the file, in hex.
    let hash = |file: &str| {
        let text = std::fs::read_to_string(p.migrations().join(file)).unwrap();
        format!("encode(sha256(convert_to($f${text}$f$, 'UTF8')), 'hex')")
    };
    p.psql(&format!(
        "CREATE SCHEMA IF NOT EXISTS drizzle; CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint);
         INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ({}, 1700000000000), ({}, 1700000010000)",
        hash(files[0]),
        hash(files[1])
    ));
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("migrated by drizzle (drizzle.__drizzle_migrations"), "{}", up.stderr);
    // A file changed since drizzle applied it: refused, named as the journal names it.
    let original = std::fs::read_to_string(p.migrations().join(files[1])).unwrap();
    p.write(files[1], &format!("{original}-- edited later\n"));
    let run = p.shale(&["adopt"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("0001_brave_hulk.sql changed after drizzle applied migration 0001_brave_hulk"),
        "{}",
        run.stderr
    );
    p.write(files[1], &original);
    // Without its journal, each row is found by its hash.
    std::fs::rename(p.migrations().join("meta/_journal.json"), p.path().join("journal")).unwrap();
    let dry = p.shale(&["adopt", "--dry-run"]).ok();
    assert!(dry.stdout.contains("would record 2 migration(s)"), "{}", dry.stdout);
    std::fs::rename(p.path().join("journal"), p.migrations().join("meta/_journal.json")).unwrap();
    let run = p.shale(&["adopt"]).ok();
    assert!(run.stdout.contains("adopted from drizzle (drizzle.__drizzle_migrations)"), "{}", run.stdout);
    assert_eq!(p.states(), ["applied", "applied", "pending"]);
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"tags".to_string()));
    assert_eq!(p.psql("SELECT count(*) FROM drizzle.__drizzle_migrations"), "2", "drizzle's table is left as it is");
    // Neither its table nor the schema drizzle made for it is drift.
    let dev = shale_testkit::shared_cluster().url("postgres");
    let drift = p.shale(&["drift", "--dev-url", &dev]).ok();
    assert!(drift.stdout.contains("no drift"), "{}\n{}", drift.stdout, drift.stderr);

    // A drizzle config may name the table (`migrations: { table: "migrations", schema: "public" }`):
    // found by its columns, so `up` does not run again what drizzle applied.
    let named = Project::new("adopt_drizzle_named");
    named.write(files[0], "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    named.psql(
        "CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint);
         INSERT INTO migrations (hash, created_at) VALUES (encode(sha256(convert_to($f$CREATE TABLE users (id bigint PRIMARY KEY);\n$f$, 'UTF8')), 'hex'), 1700000000000)"
    );
    let up = named.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("migrated by drizzle (public.migrations is its history)"), "{}", up.stderr);
    named.shale(&["adopt"]).ok();
    named.shale(&["up"]).ok();
}

/// Atlas's revisions table, in the schema its URL was bound to; its `atlas.sum` beside the files.
#[test]
fn atlas() {
    let p = Project::new("adopt_atlas");
    applied_by_the_other_tool(&p, "20240101000000_users.sql", "20240102000000_posts.sql", "20240103000000_tags.sql");
    p.write("atlas.sum", "h1:Ozf5bdB7LLC8zN0E1aPgtqDoo5jdHaAIdGUe2UEzXqk=\n20240101000000_users.sql h1:x=\n");
    p.psql(
        "CREATE TABLE atlas_schema_revisions (version character varying NOT NULL, description character varying NOT NULL, type bigint NOT NULL DEFAULT 2, applied bigint NOT NULL DEFAULT 0, total bigint NOT NULL DEFAULT 0, executed_at timestamptz NOT NULL, execution_time bigint NOT NULL, error text NULL, error_stmt text NULL, hash character varying NOT NULL, partial_hashes jsonb NULL, operator_version character varying NOT NULL, PRIMARY KEY (version));
         INSERT INTO atlas_schema_revisions VALUES
           ('.atlas_cloud_identifier', 'f3b4c2a0-0000-4000-8000-000000000000', 0, 0, 0, now(), 0, NULL, NULL, '', NULL, 'Atlas CLI v0.28.0'),
           ('20240101000000', 'users', 2, 1, 1, now(), 1000, NULL, NULL, 'SRfnCYBDfOnyjdnR0MmG+3Gqy2DDuI64bmSaBMLb1EQ=', NULL, 'Atlas CLI v0.28.0'),
           ('20240102000000', 'posts', 2, 0, 1, now(), 1000, 'boom', 'CREATE TABLE posts', 'OpwzBiiemXMl04d81JB6UfeVpgJlWj18d54+wrXqyj4=', '[]', 'Atlas CLI v0.28.0')",
    );
    let run = p.shale(&["adopt"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("atlas records migration 20240102000000 as failed"), "{}", run.stderr);
    assert!(run.stderr.contains("atlas migrate set"), "{}", run.stderr);
    // Where it stopped, and the way on without Atlas (Atlas trial: a team switching may not have it).
    assert!(
        run.stderr.contains("(stopped at statement 1 of 1: boom)")
            && run.stderr.contains(
                "UPDATE public.atlas_schema_revisions SET type = 4, error = NULL, applied = total WHERE version = '20240102000000'"
            ),
        "{}",
        run.stderr
    );
    // Resolved by hand (`atlas migrate set`): applied.
    p.psql("UPDATE atlas_schema_revisions SET type = 4, error = NULL WHERE version = '20240102000000'");
    // A file edited since Atlas applied it, as Atlas would refuse it (Atlas trial: taken over
    // silently). Atlas's hash of a file runs through the ones before it: the first is named.
    let original = std::fs::read_to_string(p.migrations().join("20240101000000_users.sql")).unwrap();
    p.write("20240101000000_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n");
    let run = p.shale(&["adopt", "--dry-run"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "20240101000000_users.sql, or a file before it, changed after atlas applied migration 20240101000000"
        ) && !run.stderr.contains("20240102000000_posts.sql, or"),
        "{}",
        run.stderr
    );
    p.write("20240101000000_users.sql", &original);
    switch(&p, "atlas", "atlas_schema_revisions");
}

/// What every Supabase database holds: its auth server's, Realtime's and Storage's own histories.
const SUPABASE_SERVICES: &str = "CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY);
     CREATE TABLE auth.schema_migrations (version varchar(255) PRIMARY KEY); INSERT INTO auth.schema_migrations VALUES ('20171026211738');
     CREATE SCHEMA realtime; CREATE TABLE realtime.schema_migrations (version bigint PRIMARY KEY, inserted_at timestamp(0));
     CREATE SCHEMA storage; CREATE TABLE storage.migrations (id integer PRIMARY KEY, name varchar(100) UNIQUE NOT NULL, hash varchar(40) NOT NULL, executed_at timestamp DEFAULT now())";

/// A Supabase project: the services' histories are passed over, the Supabase CLI's is taken over.
#[test]
fn supabase() {
    let p = Project::new("adopt_supabase");
    applied_by_the_other_tool(&p, "20240101000000_users.sql", "20240102000000_posts.sql", "20240103000000_tags.sql");
    p.psql(&format!(
        "{SUPABASE_SERVICES};
         CREATE SCHEMA supabase_migrations; CREATE TABLE supabase_migrations.schema_migrations (version text PRIMARY KEY, statements text[], name text);
         INSERT INTO supabase_migrations.schema_migrations VALUES ('20240101000000', '{{\"CREATE TABLE users (id bigint PRIMARY KEY)\"}}', 'users'), ('20240102000000', NULL, 'posts')"
    ));
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("migrated by supabase (supabase_migrations.schema_migrations is its history)"),
        "{}",
        up.stderr
    );
    let run = p.shale(&["adopt"]).ok();
    assert!(run.stdout.contains("recorded 2 migration(s) as applied, adopted from supabase"), "{}", run.stdout);
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"tags".to_string()));
    // The schemas Supabase manages are not drift: the migrations never built them.
    let dev = shale_testkit::shared_cluster().url("postgres");
    let drift = p.shale(&["drift", "--dev-url", &dev]).ok();
    assert!(drift.stdout.contains("no drift"), "{}\n{}", drift.stdout, drift.stderr);
    assert!(
        drift.stderr.contains("Supabase's own schemas (auth, realtime, storage, supabase_migrations) are left out"),
        "{}",
        drift.stderr
    );

    // A Supabase project migrated with no tool: nothing to take over, `up` runs everything.
    let fresh = Project::new("adopt_supabase_fresh");
    fresh.write("20240101000000_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    fresh.psql(SUPABASE_SERVICES);
    fresh.shale(&["up"]).ok();
    assert!(fresh.tables().contains(&"users".to_string()));
}

#[test]
fn diesel() {
    let p = Project::new("adopt_diesel");
    applied_by_the_other_tool(
        &p,
        "2024-01-01-000000_users/up.sql",
        "2024-01-02-000000-0000_posts/up.sql",
        "2024-01-03-000000_tags/up.sql",
    );
    p.psql(
        "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
         INSERT INTO __diesel_schema_migrations (version) VALUES ('00000000000000'), ('20240101000000'), ('202401020000000000')",
    );
    switch(&p, "diesel", "__diesel_schema_migrations");
}

#[test]
fn flyway_with_a_baseline_and_its_failed_rows() {
    let p = Project::new("adopt_flyway");
    applied_by_the_other_tool(&p, "V1__users.sql", "V1_1__posts.sql", "V2__tags.sql");
    let crc =
        |file: &str| shale_core::adopt::flyway_checksum(&std::fs::read_to_string(p.migrations().join(file)).unwrap());
    p.psql(&format!(
        "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL);
         ALTER TABLE flyway_schema_history ADD CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank);
         INSERT INTO flyway_schema_history VALUES
           (1, '1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'app', now(), 0, true),
           (2, '1.1', 'posts', 'SQL', 'V1_1__posts.sql', {crc}, 'app', now(), 5, false)",
        crc = crc("V1_1__posts.sql")
    ));
    let run = p.shale(&["adopt"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("flyway records migration 1.1 as failed"), "{}", run.stderr);
    // `flyway repair` removes the failed row; the migration then ran successfully.
    p.psql(&format!("DELETE FROM flyway_schema_history WHERE NOT success; INSERT INTO flyway_schema_history VALUES (3, '1.1', 'posts', 'SQL', 'V1_1__posts.sql', {}, 'app', now(), 5, true)", crc("V1_1__posts.sql")));
    // A file changed after Flyway applied it: its checksum says so.
    let original = std::fs::read_to_string(p.migrations().join("V1_1__posts.sql")).unwrap();
    p.write("V1_1__posts.sql", &format!("{original}-- edited later\n"));
    let run = p.shale(&["adopt"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("V1_1__posts.sql changed after flyway applied migration 1.1"), "{}", run.stderr);
    p.write("V1_1__posts.sql", &original);
    switch(&p, "flyway", "flyway_schema_history");
}

/// Flyway's table under the name Spring's `spring.flyway.table` gave it (Flyway trial,
/// familie-ef-sak): found by its columns. Not found, `up` ran again the first migrations, whose
/// tables a later one had dropped, on the live database, and recorded them.
#[test]
fn a_flyway_history_under_another_name_is_found_by_its_columns() {
    let p = Project::new("adopt_flyway_renamed");
    p.write("V1__sak.sql", "CREATE TABLE sak (id bigint PRIMARY KEY);\n");
    p.write("V2__fagsak.sql", "CREATE TABLE fagsak (id bigint PRIMARY KEY);\nDROP TABLE sak;\n");
    let crc =
        |file: &str| shale_core::adopt::flyway_checksum(&std::fs::read_to_string(p.migrations().join(file)).unwrap());
    p.psql(&format!(
        "CREATE TABLE fagsak (id bigint PRIMARY KEY);
         CREATE TABLE ef_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL);
         INSERT INTO ef_history VALUES (1, '1', 'sak', 'SQL', 'V1__sak.sql', {}, 'app', now(), 3, true),
                                       (2, '2', 'fagsak', 'SQL', 'V2__fagsak.sql', {}, 'app', now(), 3, true)",
        crc("V1__sak.sql"),
        crc("V2__fagsak.sql")
    ));
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("migrated by flyway (public.ef_history is its history)"), "{}", status.stderr);
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert_eq!(p.tables(), ["ef_history", "fagsak"]);
    p.shale(&["adopt"]).ok();
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][1]["adopted_from"], "flyway", "{status}");
    p.shale(&["up"]).ok();
}

/// dbmate's table under the name `DBMATE_MIGRATIONS_TABLE` gave it (dbmate trial): found by its
/// one `version` column, its name saying it holds migrations. Not found, `up` ran every migration
/// again, its `IF NOT EXISTS` passing the check for tables already there: a seed row went in twice.
#[test]
fn a_dbmate_history_under_another_name_is_found_by_its_column() {
    let p = Project::new("adopt_dbmate_renamed");
    p.write(
        "20240101000000_accounts.sql",
        "-- migrate:up\nCREATE TABLE IF NOT EXISTS accounts (id serial PRIMARY KEY, name text);\n\n-- migrate:down\nDROP TABLE accounts;\n",
    );
    p.write(
        "20240102000000_seed.sql",
        "-- migrate:up\nINSERT INTO accounts (name) VALUES ('admin');\n\n-- migrate:down\nDELETE FROM accounts;\n",
    );
    p.psql(
        "CREATE TABLE accounts (id serial PRIMARY KEY, name text); INSERT INTO accounts (name) VALUES ('admin');
         CREATE TABLE app_migrations (version varchar(128) PRIMARY KEY);
         INSERT INTO app_migrations VALUES ('20240101000000'), ('20240102000000');
         CREATE TABLE app_version (version text); INSERT INTO app_version VALUES ('2.1')",
    );
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("migrated by dbmate (public.app_migrations is its history)"), "{}", status.stderr);
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM accounts"), "1");
    p.shale(&["adopt"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM accounts"), "1", "nothing ran again");
}

/// node-pg-migrate's history under the name `--migrations-table` gives it is found by its columns
/// (Node trial: under `migrations`, not found, `up` ran a data migration again).
#[test]
fn a_node_pg_migrate_history_under_another_name_is_found_by_its_columns() {
    let p = Project::new("adopt_node_pg_migrate_renamed");
    p.write(
        "1700000000000_accounts.sql",
        "-- Up Migration\nCREATE TABLE IF NOT EXISTS accounts (id serial PRIMARY KEY, name text);\n\n-- Down Migration\nDROP TABLE accounts;\n",
    );
    p.write(
        "1700000000001_seed.sql",
        "-- Up Migration\nUPDATE accounts SET name = name || '!';\n\n-- Down Migration\n",
    );
    p.psql(
        "CREATE TABLE accounts (id serial PRIMARY KEY, name text); INSERT INTO accounts (name) VALUES ('system!');
         CREATE TABLE migrations (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
         INSERT INTO migrations (name, run_on) VALUES ('1700000000000_accounts', now()), ('1700000000001_seed', now())",
    );
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("public.migrations is its history"), "{}", status.stderr);
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    p.shale(&["adopt"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT name FROM accounts"), "system!", "nothing ran again");
}

/// Under a name that does not say it holds migrations (`schema_versions`), its rows say it: they
/// name the directory's files (review: it was not found, and `up` ran a migration again). An
/// application's table of the same columns, whose rows name no file, stays the application's.
#[test]
fn a_node_pg_migrate_history_named_otherwise_is_found_by_its_rows() {
    let p = Project::new("adopt_node_pg_migrate_rows");
    p.write(
        "1700000000000_init.sql",
        "-- Up Migration\nCREATE TABLE IF NOT EXISTS audit (id int);\nINSERT INTO audit VALUES (1);\n\n-- Down Migration\nDROP TABLE audit;\n",
    );
    p.psql(
        "CREATE TABLE audit (id int); INSERT INTO audit VALUES (1);
         CREATE TABLE jobs (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
         INSERT INTO jobs (name, run_on) VALUES ('send-digest', now());
         CREATE TABLE schema_versions (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
         INSERT INTO schema_versions (name, run_on) VALUES ('1700000000000_init', now())",
    );
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("public.schema_versions") && !up.stderr.contains("public.jobs"), "{}", up.stderr);
    let adopted = p.shale(&["adopt"]).ok();
    assert!(adopted.stdout.contains("recorded 1 migration(s) as applied"), "{}", adopted.stdout);
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM audit"), "1", "nothing ran again");
}

/// node-pg-migrate's JavaScript modules among its SQL files, applied by it, are taken over by
/// `adopt` with the SQL files, as code it ran (Node trial: it said no file had their version).
#[test]
fn node_pg_migrate_modules_among_its_sql_files_are_taken_over() {
    let p = Project::new("adopt_node_pg_migrate_mixed");
    p.write("1700000000000_users.js", "exports.up = (pgm) => { pgm.createTable('users', { id: 'id' }); };\n");
    // Its declarations beside it (review: the `.d.ts` was the file kept, and matched no row).
    p.write("1700000000000_users.d.ts", "export {};\n");
    // A dot in its name: node-pg-migrate records it without the last extension alone (review).
    p.write("1699999999999_add-v1.2-col.js", "exports.up = () => {};\n");
    p.write(
        "1700000000001_tags.sql",
        "-- Up Migration\nCREATE TABLE tags (id serial);\n-- Down Migration\nDROP TABLE tags;\n",
    );
    p.psql(
        "CREATE TABLE users (id serial); CREATE TABLE tags (id serial);
         CREATE TABLE pgmigrations (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
         INSERT INTO pgmigrations (name, run_on) VALUES ('1699999999999_add-v1.2-col', now()), ('1700000000000_users', now()), ('1700000000001_tags', now())",
    );
    let adopted = p.shale(&["adopt"]).ok();
    assert!(adopted.stdout.contains("recorded 3 migration(s) as applied"), "{}", adopted.stdout);
    assert!(adopted.stdout.contains("1700000000000 users (1700000000000_users.js)"), "{}", adopted.stdout);
    let status = p.shale(&["status", "--json"]).ok().json();
    let states: Vec<&str> =
        status["migrations"].as_array().unwrap().iter().map(|m| m["state"].as_str().unwrap()).collect();
    assert!(states.iter().all(|s| *s == "applied"), "{status}");
    p.write("1700000000002_note.sql", "-- Up Migration\nALTER TABLE tags ADD note text;\n-- Down Migration\n");
    let up = p.shale(&["up"]).ok();
    assert!(up.stdout.contains("applied 1 migration(s)"), "{}", up.stdout);
}

/// Flyway's repeatables: one whose last run was of the file as it is now is taken over (a data
/// repeatable run again would insert its rows twice); one changed since runs, as Flyway would.
#[test]
fn flyway_repeatables_run_as_they_are_now_are_taken_over() {
    let p = Project::new("adopt_flyway_repeatables");
    p.write("V1__a.sql", "CREATE TABLE a (id int);\n");
    p.write("V2__b.sql", "CREATE TABLE b (id int);\n");
    p.write("R__seed_a.sql", "INSERT INTO a VALUES (1);\n");
    p.write("R__v.sql", "CREATE OR REPLACE VIEW v AS SELECT 1 AS x;\n");
    let crc =
        |file: &str| shale_core::adopt::flyway_checksum(&std::fs::read_to_string(p.migrations().join(file)).unwrap());
    // What Flyway ran: the view's file changed after its last run.
    p.psql(&format!(
        "CREATE TABLE a (id int); CREATE TABLE b (id int); INSERT INTO a VALUES (1); CREATE VIEW v AS SELECT 0 AS x;
         CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL);
         INSERT INTO flyway_schema_history VALUES
           (1, '1', 'a', 'SQL', 'V1__a.sql', {}, 'app', now(), 1, true),
           (2, '2', 'b', 'SQL', 'V2__b.sql', {}, 'app', now(), 1, true),
           (3, NULL, 'seed a', 'SQL', 'R__seed_a.sql', {}, 'app', now(), 1, true),
           (4, NULL, 'v', 'SQL', 'R__v.sql', 12345, 'app', now(), 1, true)",
        crc("V1__a.sql"),
        crc("V2__b.sql"),
        crc("R__seed_a.sql")
    ));
    let run = p.shale(&["adopt"]).ok();
    snapshot!("flyway_repeatables_adopt", shown(&p, &run));
    let status = p.shale(&["status", "--json"]).ok().json();
    let states: Vec<(&str, &str)> = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [("a", "applied"), ("b", "applied"), ("seed_a", "applied"), ("v", "pending")], "{status}");
    // Taken over, not run by shale: no duration, and the tool named.
    let seed = &status["migrations"][2];
    assert_eq!(
        (&seed["adopted"], &seed["adopted_from"], &seed["duration_ms"]),
        (&true.into(), &"flyway".into(), &serde_json::Value::Null),
        "{status}"
    );
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM a"), "1", "the data repeatable did not run again");
    assert_eq!(p.psql("SELECT x FROM v"), "1", "the changed one ran");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM a"), "1");
}

#[test]
fn refinery_and_node_pg_migrate() {
    let p = Project::new("adopt_refinery");
    applied_by_the_other_tool(&p, "V1__users.sql", "V2__posts.sql", "V3__tags.sql");
    p.psql(
        "CREATE TABLE IF NOT EXISTS refinery_schema_history(version INT4 PRIMARY KEY, name VARCHAR(255), applied_on VARCHAR(255), checksum VARCHAR(255));
         INSERT INTO refinery_schema_history VALUES (1, 'users', '2024-01-01T00:00:00Z', '1'), (2, 'posts', '2024-01-01T00:00:00Z', '2')",
    );
    switch(&p, "refinery", "refinery_schema_history");

    let p = Project::new("adopt_node_pg_migrate");
    applied_by_the_other_tool(&p, "1700000000000_users.sql", "1700000000001_posts.sql", "1700000000002_tags.sql");
    p.psql(
        "CREATE TABLE \"public\".\"pgmigrations\" (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
         INSERT INTO pgmigrations (name, run_on) VALUES ('1700000000000_users', now()), ('1700000000001_posts', now())",
    );
    switch(&p, "node-pg-migrate", "pgmigrations");
}

/// A tool that keeps its history in a schema of its own (Hasura's `hdb_catalog`, Sqitch's
/// `sqitch`, graphile-migrate's `graphile_migrate`): `up` refuses and names adopt, adopt takes the
/// two applied migrations over (and gives no search_path advice: the tool's schema is not where
/// its migrations ran), `up` runs only the third, and the whole schema is left out of drift.
#[track_caller]
fn switch_from_own_schema(p: &Project, tool: &str, schema: &str) {
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains(&format!("migrated by {tool}")), "{}", status.stderr);
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("shale adopt"), "{}", up.stderr);
    assert!(!p.tables().contains(&"tags".to_string()), "nothing ran");
    let adopt = p.shale(&["adopt"]).ok();
    assert!(!adopt.stderr.contains("search_path"), "{}", adopt.stderr);
    assert_eq!(p.states(), ["applied", "applied", "pending"]);
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"tags".to_string()));
    let dev = shale_testkit::shared_cluster().url("postgres");
    let drift = p.shale(&["drift", "--dev-url", &dev]).ok();
    assert!(drift.stdout.contains("no drift"), "{}\n{}", drift.stdout, drift.stderr);
    assert!(drift.stderr.contains(&format!("schema {schema} ({tool}'s history")), "{}", drift.stderr);
}

/// Hasura's CLI: folders of `up.sql` and `down.sql` named by milliseconds; its history in
/// `hdb_catalog`: before its config v3 a row per version in golang-migrate's columns (read as
/// golang-migrate's one row, the first version made everything up to it count as applied, and
/// `up` ran the rest again), since then the versions per database in `hdb_version.cli_state`.
#[test]
fn hasura() {
    let hasura_v1 =
        "CREATE TABLE hdb_catalog.schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO hdb_catalog.schema_migrations VALUES (1600000000000, false), (1600000000001, false)";
    let hasura_v2 = r#"CREATE TABLE hdb_catalog.hdb_version (hasura_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
           version text NOT NULL, upgraded_on timestamptz NOT NULL, cli_state jsonb NOT NULL DEFAULT '{}',
           console_state jsonb NOT NULL DEFAULT '{}');
         INSERT INTO hdb_catalog.hdb_version (version, upgraded_on, cli_state) VALUES ('47', now(),
           '{"migrations": {"default": {"1600000000000": false, "1600000000001": false}}, "settings": {"migration_mode": "true"}}')"#;
    // Upgraded to config v3 (`hasura scripts update-project-v3`): the older table left as it was,
    // behind hdb_version, which Hasura reads alone since (Hasura trial: adopt asked which to take).
    let upgraded = format!("{}; {hasura_v2}", hasura_v1.replace(", (1600000000001, false)", ""));
    for (name, history) in [("v1", hasura_v1), ("v2", hasura_v2), ("v3_upgraded", &upgraded)] {
        let p = Project::new(&format!("adopt_hasura_{name}"));
        for (version, table) in [("1600000000000", "users"), ("1600000000001", "posts"), ("1600000000002", "tags")] {
            p.write(
                &format!("{version}_create_{table}/up.sql"),
                &format!("CREATE TABLE {table} (id bigint PRIMARY KEY);\n"),
            );
            p.write(&format!("{version}_create_{table}/down.sql"), &format!("DROP TABLE {table};\n"));
        }
        p.psql(&format!(
            "CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE posts (id bigint PRIMARY KEY);
             CREATE SCHEMA hdb_catalog; CREATE TABLE hdb_catalog.event_log (id text PRIMARY KEY);
             CREATE FUNCTION hdb_catalog.gen_hasura_uuid() RETURNS uuid LANGUAGE sql AS 'SELECT gen_random_uuid()';
             {HASURA_EVENT_TRIGGER}
             {history}"
        ));
        switch_from_own_schema(&p, "hasura", "hdb_catalog");
        // Hasura's event trigger on the application's table is Hasura's, not drift: a fix would
        // drop it (stopping the events), a dump could not make it (Hasura trial).
        let dump = p.shale(&["dump"]).ok();
        assert!(!dump.stdout.contains("notify_hasura"), "{}", dump.stdout);
        // Said once, whatever the histories there (Hasura re-check: twice beside a stale one).
        let dev = shale_testkit::shared_cluster().url("postgres");
        let drift = p.shale(&["drift", "--dev-url", &dev]).ok();
        assert_eq!(drift.stderr.matches("schema hdb_catalog (").count(), 1, "{}", drift.stderr);
        // A down Hasura could not write holds only its comment: reverted as Hasura does (nothing
        // runs), and said.
        if name == "v1" {
            p.write(
                "1600000000002_create_tags/down.sql",
                "-- Could not auto-generate a down migration.\n-- Please write an appropriate down migration for the SQL below:\n-- CREATE TABLE tags (id bigint PRIMARY KEY);\n",
            );
            let down = p.shale(&["down", "--step", "1"]).ok();
            assert!(
                down.stderr.contains("the down of 1600000000002 create_tags holds only comments"),
                "{}",
                down.stderr
            );
            assert!(p.tables().contains(&"tags".to_string()));
            p.shale(&["repair", "1600000000002", "--applied", "--reason", "the table is there"]).ok();
        }
        let new = p.shale(&["new", "add_email"]).ok();
        assert!(new.stdout.contains("_add_email/up.sql"), "{}", new.stdout);
        let folder = std::fs::read_dir(p.migrations())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .find(|n| n.ends_with("_add_email"))
            .unwrap();
        assert_eq!(folder.split('_').next().unwrap().len(), 13, "milliseconds, as Hasura numbers: {folder}");
    }
}

/// What Hasura's engine makes for an event trigger: its function in `hdb_catalog`, its trigger on
/// the application's table.
const HASURA_EVENT_TRIGGER: &str = r#"CREATE FUNCTION hdb_catalog."notify_hasura_user_created_INSERT"() RETURNS trigger
      LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    CREATE TRIGGER "notify_hasura_user_created_INSERT" AFTER INSERT ON public.users FOR EACH ROW
      EXECUTE FUNCTION hdb_catalog."notify_hasura_user_created_INSERT"();"#;

/// Hasura's metadata kept in another database (Hasura Cloud, HASURA_GRAPHQL_METADATA_DATABASE_URL):
/// the application's database holds only Hasura's source catalog (its event log) and no history.
/// It is Hasura's, not the migrations' (Hasura trial: `baseline` refused over it, `dump` held it).
#[test]
fn hasura_source_catalog_without_its_history() {
    let p = Project::new("hasura_source_catalog");
    p.write("0001_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    p.psql(&format!(
        "CREATE TABLE users (id bigint PRIMARY KEY); CREATE SCHEMA hdb_catalog;
         CREATE TABLE hdb_catalog.hdb_source_catalog_version (version text NOT NULL, upgraded_on timestamptz NOT NULL);
         CREATE TABLE hdb_catalog.event_log (id text PRIMARY KEY, created_at timestamp DEFAULT now());
         {HASURA_EVENT_TRIGGER}"
    ));
    let baseline = p.shale(&["baseline", "1"]).ok();
    assert!(
        baseline
            .stderr
            .contains("schema hdb_catalog (hasura's event log and what hasura keeps beside it), and 1 trigger(s)"),
        "{}",
        baseline.stderr
    );
    let dev = shale_testkit::shared_cluster().url("postgres");
    let drift = p.shale(&["drift", "--dev-url", &dev]).ok();
    assert!(drift.stdout.contains("no drift"), "{}", drift.stdout);
    let dump = p.shale(&["dump"]).ok();
    assert!(!dump.stdout.contains("hdb_catalog") && !dump.stdout.contains("notify_hasura"), "{}", dump.stdout);
}

/// Hasura serving several databases keeps each one's versions: those of the database the files
/// are for are taken over (none is named `default` here). A Hasura metadata table whose CLI state
/// holds no migrations (Hasura serving the API of a database shale migrates) is no history.
#[test]
fn hasura_databases_and_metadata_without_migrations() {
    let hdb = r#"CREATE SCHEMA hdb_catalog;
         CREATE TABLE hdb_catalog.hdb_version (hasura_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
           version text NOT NULL, upgraded_on timestamptz NOT NULL, cli_state jsonb NOT NULL DEFAULT '{}',
           console_state jsonb NOT NULL DEFAULT '{}');"#;
    let p = Project::new("adopt_hasura_databases");
    for (version, table) in [("1600000000000", "users"), ("1600000000001", "posts")] {
        p.write(
            &format!("{version}_create_{table}/up.sql"),
            &format!("CREATE TABLE {table} (id bigint PRIMARY KEY);\n"),
        );
    }
    p.psql(&format!(
        r#"{hdb} CREATE TABLE users (id bigint PRIMARY KEY);
         INSERT INTO hdb_catalog.hdb_version (version, upgraded_on, cli_state) VALUES ('47', now(),
           '{{"migrations": {{"analytics": {{"1500000000000": false, "1500000000001": false}}, "main": {{"1600000000000": false}}}}}}')"#
    ));
    p.shale(&["adopt"]).ok();
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"posts".to_string()));

    let api_only = Project::new("adopt_hasura_api_only");
    api_only.write("0001_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    api_only.psql(&format!("{hdb} INSERT INTO hdb_catalog.hdb_version (version, upgraded_on) VALUES ('47', now())"));
    let status = api_only.shale(&["status"]).ok();
    assert!(!status.stderr.contains("hasura"), "{}", status.stderr);
    api_only.shale(&["up"]).ok();
    assert!(api_only.tables().contains(&"users".to_string()));
}

/// graphile-migrate: committed files `000001.sql` with its `--!` header lines, its history a row
/// per file name in `graphile_migrate.migrations`.
/// graphile-migrate's committed files, each with the `--! Previous:` / `--! Hash:` lines its
/// `commit` writes (the hashes chained as it chains them): the hashes, in order.
fn graphile_committed(p: &Project, files: &[(&str, &str)]) -> Vec<String> {
    let mut hashes: Vec<String> = Vec::new();
    for (name, sql) in files {
        let previous = hashes.last().cloned().unwrap_or_else(|| "-".into());
        let unhashed = format!("--! Previous: {previous}\n--! Hash: sha1:x\n\n{sql}\n");
        let hash = shale_core::adopt::graphile_hash(&unhashed).unwrap();
        p.write(name, &unhashed.replace("sha1:x", &hash));
        hashes.push(hash);
    }
    hashes
}

#[test]
fn graphile_migrate() {
    let p = Project::new("adopt_graphile_migrate");
    let h = graphile_committed(
        &p,
        &[
            ("000001.sql", "CREATE TABLE users (id bigint PRIMARY KEY);"),
            ("000002.sql", "CREATE TABLE posts (id bigint PRIMARY KEY);"),
            ("000003.sql", "CREATE TABLE tags (id bigint PRIMARY KEY);"),
        ],
    );
    p.psql(&format!(
        "CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE posts (id bigint PRIMARY KEY);
         CREATE SCHEMA graphile_migrate;
         CREATE TABLE graphile_migrate.migrations (hash text PRIMARY KEY, previous_hash text REFERENCES graphile_migrate.migrations,
           filename text NOT NULL, date timestamptz NOT NULL DEFAULT now());
         CREATE TABLE graphile_migrate.current (filename text PRIMARY KEY DEFAULT 'current.sql', content text NOT NULL,
           date timestamptz NOT NULL DEFAULT now());
         INSERT INTO graphile_migrate.migrations (hash, previous_hash, filename) VALUES
           ('{}', NULL, '000001.sql'), ('{}', '{}', '000002.sql')",
        h[0], h[1], h[0]
    ));
    // A committed file edited since graphile-migrate ran it is refused, as graphile-migrate itself
    // refuses it (the graphile re-check: taken over silently).
    let posts = p.migrations().join("000002.sql");
    let committed = std::fs::read_to_string(&posts).unwrap();
    std::fs::write(
        &posts,
        committed.replace("posts (id bigint PRIMARY KEY)", "posts (id bigint PRIMARY KEY, title text)"),
    )
    .unwrap();
    let edited = p.shale(&["adopt"]);
    assert_eq!(edited.code, 2, "{}", edited.stderr);
    assert!(edited.stderr.contains("000002.sql changed after graphile-migrate applied"), "{}", edited.stderr);
    std::fs::write(&posts, committed).unwrap();
    switch_from_own_schema(&p, "graphile-migrate", "graphile_migrate");
}

/// The `000000.sql` `shale init` advises for what .gmrc's `afterReset` ran: on a database
/// graphile-migrate built, that ran, so adopt's closing advice records it (the third sweep's
/// re-check: it said `--allow-out-of-order`, whose run stops on the schema already there).
#[test]
fn graphile_migrates_after_reset_file_is_recorded_not_run() {
    let p = Project::new("adopt_graphile_after_reset");
    p.write("000000.sql", "-- shale:out-of-order\nCREATE SCHEMA app_private;\n");
    let h = graphile_committed(&p, &[("000001.sql", "CREATE TABLE app_private.users (id bigint PRIMARY KEY);")]);
    p.psql(&format!(
        "CREATE SCHEMA app_private; CREATE TABLE app_private.users (id bigint PRIMARY KEY);
         CREATE SCHEMA graphile_migrate;
         CREATE TABLE graphile_migrate.migrations (hash text PRIMARY KEY, previous_hash text REFERENCES graphile_migrate.migrations,
           filename text NOT NULL, date timestamptz NOT NULL DEFAULT now());
         INSERT INTO graphile_migrate.migrations (hash, previous_hash, filename) VALUES ('{}', NULL, '000001.sql')",
        h[0]
    ));
    let adopt = p.shale(&["adopt"]).ok();
    assert!(
        adopt.stdout.contains("000000 holds what .gmrc's afterReset ran")
            && adopt.stdout.contains("`shale repair 000000 --applied --reason")
            && !adopt.stdout.contains("--allow-out-of-order"),
        "{}",
        adopt.stdout
    );
    p.shale(&["repair", "000000", "--applied", "--reason", "afterReset ran it"]).ok();
    let up = p.shale(&["up"]).ok();
    assert!(up.stdout.contains("up to date") || up.stdout.contains("nothing to"), "{}", up.stdout);
}

/// A committed file edited since graphile-migrate's `commit` (its `--! Hash:` no longer its text's)
/// is warned about by status and validate, where graphile-migrate refuses it (the graphile trial:
/// a pending one ran as edited, unsaid); not in every `up`'s log.
#[test]
fn a_committed_graphile_file_edited_since_is_warned_about() {
    let p = Project::new("adopt_graphile_edited");
    graphile_committed(&p, &[("000001.sql", "CREATE TABLE a (id int);"), ("000002.sql", "CREATE TABLE b (id int);")]);
    assert!(!p.shale(&["validate"]).ok().stderr.contains("graphile"));
    let second = p.migrations().join("000002.sql");
    let text = std::fs::read_to_string(&second).unwrap();
    std::fs::write(&second, text.replace("b (id int)", "b (id bigint)")).unwrap();
    let validate = p.shale(&["validate"]).ok();
    assert!(validate.stderr.contains("000002.sql: changed since graphile-migrate committed it"), "{}", validate.stderr);
    let up = p.shale(&["up"]).ok();
    assert!(!up.stderr.contains("graphile"), "{}", up.stderr);
    // Applied as it is now, it is no longer one to check (nor one taken over with --accept-changed).
    let validate = p.shale(&["validate"]).ok();
    assert!(!validate.stderr.contains("graphile"), "{}", validate.stderr);
}

/// graphile-migrate's `commit --message` names the file (`000002-add-posts.sql`) and records its
/// number (`000002.sql`): taken over as the same migration (the graphile trial: refused as
/// missing, and a run since went unnoticed, then ran again). On a database shale built, the
/// history graphile-migrate makes in its own schema when it runs there is warned about (its
/// migrate ran every migration again, dropping the tables, unseen).
#[test]
fn graphile_migrate_files_named_by_their_message() {
    let p = Project::new("adopt_graphile_named");
    let h = graphile_committed(
        &p,
        &[
            ("000001.sql", "CREATE TABLE users (id bigint PRIMARY KEY);"),
            ("000002-add-posts.sql", "CREATE TABLE posts (id bigint PRIMARY KEY);"),
            ("000003-add-tags.sql", "CREATE TABLE tags (id bigint PRIMARY KEY);"),
        ],
    );
    let history = format!(
        "CREATE SCHEMA graphile_migrate;
         CREATE TABLE graphile_migrate.migrations (hash text PRIMARY KEY, previous_hash text REFERENCES graphile_migrate.migrations,
           filename text NOT NULL, date timestamptz NOT NULL DEFAULT now());
         INSERT INTO graphile_migrate.migrations (hash, previous_hash, filename) VALUES
           ('{}', NULL, '000001.sql'), ('{}', '{}', '000002.sql')",
        h[0], h[1], h[0]
    );
    p.psql(&format!(
        "CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE posts (id bigint PRIMARY KEY); {history}"
    ));
    let adopted = p.shale(&["adopt", "--json"]).ok().json();
    assert_eq!(adopted["adopted"].as_array().map(Vec::len), Some(2), "{adopted}");
    // graphile-migrate still runs after the switch: its row for the named file is seen.
    p.psql(&format!(
        "CREATE TABLE tags (id bigint PRIMARY KEY); INSERT INTO graphile_migrate.migrations (hash, previous_hash, filename) VALUES ('{}', '{}', '000003.sql')",
        h[2], h[1]
    ));
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}{}", up.stdout, up.stderr);
    assert!(up.stderr.contains("000003 add-tags"), "{}", up.stderr);

    let fresh = Project::new("adopt_graphile_fresh");
    fresh.copy_from(&p, &["000001.sql", "000002-add-posts.sql", "000003-add-tags.sql"]);
    fresh.shale(&["up"]).ok();
    assert!(!fresh.shale(&["status"]).ok().stderr.contains("warning"));
    fresh.psql(&history);
    let status = fresh.shale(&["status"]).ok();
    assert!(
        status.stderr.contains(
            "warning: graphile-migrate's history (graphile_migrate.migrations) is in this database, which shale built"
        ),
        "{}",
        status.stderr
    );
    // It ran these same files a second time: what to check, and no `--direction adopt`.
    assert!(
        status.stderr.contains("ran its migrations here too")
            && status.stderr.contains("--direction restore")
            && status.stderr.contains("`DROP SCHEMA graphile_migrate CASCADE`"),
        "{}",
        status.stderr
    );
}

/// A table of golang-migrate's columns holding a row per version (not golang-migrate's one row)
/// is read as the versions that ran: before, its first row was taken for the version reached.
#[test]
fn golang_migrate_columns_with_a_row_per_version() {
    let p = Project::new("adopt_golang_many_rows");
    applied_by_the_other_tool(&p, "1_users.up.sql", "2_posts.up.sql", "3_tags.up.sql");
    p.write("10_more.up.sql", "CREATE TABLE more (id bigint PRIMARY KEY);\n");
    p.psql(
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (1, false), (2, false)",
    );
    p.shale(&["adopt"]).ok();
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"tags".to_string()) && p.tables().contains(&"more".to_string()));
}

#[test]
fn pop() {
    let p = Project::new("adopt_pop");
    applied_by_the_other_tool(
        &p,
        "20240101000000_users.up.sql",
        "20240102000000_posts.up.sql",
        "20240103000000_tags.up.sql",
    );
    p.psql("CREATE TABLE schema_migration (version varchar(14) NOT NULL PRIMARY KEY); INSERT INTO schema_migration VALUES ('20240101000000'), ('20240102000000')");
    switch(&p, "pop", "schema_migration");
}

/// A directory of Ory's (popx): a file per database for most versions, one for every database for
/// some, `.autocommit.` ones that run outside a transaction; its history has the rows pop wrote
/// before the versions grew to 20 digits and one of a migration popx ran from Go code.
#[test]
fn popx_s_files_for_each_database_and_its_history() {
    let p = Project::new("adopt_popx");
    let v = |n: u32| format!("2020010100000{n}000000");
    p.write(&format!("{}_networks.postgres.up.sql", v(1)), "CREATE TABLE networks (id uuid PRIMARY KEY);\n");
    p.write(&format!("{}_networks.postgres.down.sql", v(1)), "DROP TABLE networks;\n");
    p.write(
        &format!("{}_networks.mysql.up.sql", v(1)),
        "CREATE TABLE networks (id char(36) PRIMARY KEY) ENGINE=InnoDB;\n",
    );
    p.write(&format!("{}_networks.sqlite3.up.sql", v(1)), "CREATE TABLE networks (id TEXT PRIMARY KEY);\n");
    p.write(&format!("{}_networks.cockroach.up.sql", v(1)), "CREATE TABLE networks (id UUID PRIMARY KEY);\n");
    p.write(&format!("{}_meta.up.sql", v(2)), "ALTER TABLE networks ADD COLUMN meta json;\n");
    p.write(&format!("{}_meta.postgres.up.sql", v(2)), "ALTER TABLE networks ADD COLUMN meta jsonb;\n");
    p.write(&format!("{}_meta.down.sql", v(2)), "ALTER TABLE networks DROP COLUMN meta;\n");
    // Applied by popx, with no file: a migration of Go code.
    let go = "20200101000003000001";
    p.write("20200101000003000002_name.postgres.up.sql", "ALTER TABLE networks ADD COLUMN name text;\n");
    // Not applied yet: runs outside a transaction, as popx runs it.
    // (Each statement its own transaction: the two tables get different times.)
    p.write(
        "20200101000004000000_times.postgres.autocommit.up.sql",
        "CREATE TABLE first_at AS SELECT now() AS at;\nSELECT pg_sleep(0.02);\nCREATE TABLE second_at AS SELECT now() AS at;\n",
    );
    p.write("20200101000004000000_times.mysql.autocommit.up.sql", "SELECT 1;\n");
    // Older than what popx applied, and not applied (popx runs such a one when it gets to it).
    p.write("20200101000002500000_gap.up.sql", "CREATE TABLE gap (id int);\n");

    let status = p.shale(&["status", "--json"]).ok().json();
    let files: Vec<&str> =
        status["migrations"].as_array().unwrap().iter().map(|m| m["path"].as_str().unwrap()).collect();
    assert_eq!(files.len(), 5, "PostgreSQL's files, one per version: {status}");
    assert!(files[1].ends_with("_meta.postgres.up.sql"), "{files:?}");

    // What popx ran: the first version as pop wrote it (14 digits), the second as popx does; its
    // table renamed (popx's `migration_table_name`), known by its columns.
    p.psql("CREATE TABLE networks (id uuid PRIMARY KEY, meta jsonb, name text)");
    p.psql(&format!(
        "CREATE TABLE auth_migrations (version varchar(48) NOT NULL, version_self int NOT NULL DEFAULT 0);
         CREATE UNIQUE INDEX auth_migrations_version_idx ON auth_migrations (version);
         INSERT INTO auth_migrations (version) VALUES ('20200101000001'), ('{}'), ('{go}'), ('20200101000003000002')",
        v(2)
    ));
    // Found by its columns, under whatever name: `up` would run again what popx ran.
    let validate = p.shale(&["validate"]);
    assert_eq!(validate.code, 1, "{}", validate.stderr);
    assert!(validate.stderr.contains("migrated by pop (public.auth_migrations is its history)"), "{}", validate.stderr);
    let run = p.shale(&["adopt", "--table", "auth_migrations"]).ok();
    assert!(run.stdout.contains("adopted from pop (public.auth_migrations)"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "2 migration(s) are pending, 1 of them older than version 20200101000003000002, which pop had not \
             applied: run `shale up --allow-out-of-order`"
        ),
        "{}",
        run.stdout
    );
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains(&format!("version {go} in pop's history has no file here")),
        "{}{}",
        run.stdout,
        run.stderr
    );
    // The row with no file is taken over too: a file of it written later is applied already.
    assert_eq!(
        p.psql("SELECT string_agg(version, ', ' ORDER BY version) FROM shale_migrations WHERE kind = 'adopted'"),
        format!("{}, {}, {go}, 20200101000003000002", v(1), v(2))
    );
    p.write(&format!("{go}_ported.postgres.up.sql"), "ALTER TABLE networks ADD COLUMN ported text;\n");
    let status = p.shale(&["status", "--json"]).ok().json();
    let ported = status["migrations"].as_array().unwrap().iter().find(|m| m["version"] == go).unwrap().clone();
    assert_eq!(ported["state"], "applied", "{status}");
    assert_eq!(p.shale(&["up"]).code, 2, "the older one is out of order");
    let up = p.shale(&["up", "--allow-out-of-order"]).ok();
    assert!(up.stdout.contains("20200101000004000000 times"), "{}", up.stdout);
    assert!(p.tables().contains(&"gap".to_string()));
    assert!(!up.stdout.contains("ported"), "a migration popx ran is not run again: {}", up.stdout);
    assert_eq!(
        p.psql("SELECT (SELECT at FROM first_at) < (SELECT at FROM second_at)"),
        "t",
        "run outside a transaction, as its name says"
    );
}

/// Another tool's history under a name shale does not know (and whose columns say too little):
/// `up` runs nothing, since tables its migrations create are there, and says how to take the
/// history over.
#[test]
fn a_history_under_another_name_is_found_after_up_failed_on_it() {
    let p = Project::new("adopt_renamed_after_up");
    applied_by_the_other_tool(
        &p,
        "20240101000000_users.up.sql",
        "20240102000000_posts.up.sql",
        "20240103000000_tags.up.sql",
    );
    p.psql("CREATE TABLE auth_versions (version varchar(14) PRIMARY KEY); INSERT INTO auth_versions VALUES ('20240101000000'), ('20240102000000')");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("public.users (made by 20240101000000 users)")
            && up.stderr.contains("`shale adopt --from TOOL --table NAME`"),
        "{}",
        up.stderr
    );
    let run = p.shale(&["adopt", "--from", "pop", "--table", "auth_versions"]).ok();
    assert!(run.stdout.contains("recorded 2 migration(s) as applied, adopted from pop"), "{}", run.stdout);
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"tags".to_string()));
    // A migration that left something (outside a transaction, part-way) still stands in the way.
    let q = Project::new("adopt_after_partial");
    q.write("1_a.up.sql", "-- shale:no-transaction\nCREATE TABLE a (id int);\nCREATE TABLE a (id int);\n");
    q.psql("CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)");
    q.shale(&["adopt", "--nothing"]).ok();
    assert_eq!(q.shale(&["up"]).code, 1);
    let again = q.shale(&["adopt", "--from", "golang-migrate"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("shale already has a migration history"), "{}", again.stderr);
}

#[test]
fn a_version_applied_with_no_file_and_two_tools_at_once_are_refused() {
    let p = Project::new("adopt_holes");
    applied_by_the_other_tool(&p, "1_users.up.sql", "2_posts.up.sql", "3_tags.up.sql");
    p.psql("CREATE TABLE goose_db_version (id serial, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id)); INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (7, true)");
    let run = p.shale(&["adopt"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("goose applied migration 7, and no file in the migrations directory has that version"),
        "{}",
        run.stderr
    );
    p.psql("DELETE FROM goose_db_version WHERE version_id = 7; CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null)");
    // An empty history beside one holding rows migrated nothing: goose's is the one.
    let run = p.shale(&["adopt", "--dry-run"]).ok();
    assert!(run.stdout.contains("would record 2 migration(s)") && run.stdout.contains("goose"), "{}", run.stdout);
    // Both holding rows: which one must be said.
    p.psql("INSERT INTO schema_migrations VALUES (2, false)");
    let run = p.shale(&["adopt"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("more than one migration history is in this database"), "{}", run.stderr);
    let run = p.shale(&["adopt", "--from", "goose", "--dry-run"]).ok();
    assert!(run.stdout.contains("would record 2 migration(s)"), "{}", run.stdout);
    // A renamed table, named on the command line.
    p.psql("DROP TABLE schema_migrations; ALTER TABLE goose_db_version RENAME TO our_versions");
    let run = p.shale(&["adopt", "--from", "goose", "--table", "our_versions"]).ok();
    assert!(run.stdout.contains("adopted from goose (public.our_versions)"), "{}", run.stdout);
}

/// Two tables alike in another schema and in the search path (Supabase's auth server keeps its own
/// `auth.schema_migrations`): status names the one in the search path, where the connection's
/// migrations went; adopt asks which.
#[test]
fn the_history_table_in_the_search_path_is_the_one_status_names() {
    let p = Project::new("adopt_search_path_first");
    applied_by_the_other_tool(&p, "20240101000000_users.sql", "20240102000000_posts.sql", "20240103000000_tags.sql");
    p.psql(
        "CREATE SCHEMA auth; CREATE TABLE auth.schema_migrations (version varchar(14) PRIMARY KEY);
         INSERT INTO auth.schema_migrations VALUES ('20171026211738');
         CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
         INSERT INTO schema_migrations VALUES ('20240101000000'), ('20240102000000')",
    );
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("migrated by dbmate (public.schema_migrations is its history)"),
        "{}",
        status.stderr
    );
    let run = p.shale(&["adopt"]);
    assert!(run.stderr.contains("more than one migration history"), "{}", run.stderr);
    p.shale(&["adopt", "--table", "public.schema_migrations"]).ok();
}

/// Where the role loading a baseline has default privileges that grant roles every privilege on
/// new tables (as a Supabase project's grant `anon`), a table the project revoked them from keeps
/// them revoked: the baseline says REVOKE (re-check trial, chatbot-ui: `anon` held ALL on
/// `chat_reactions` in a project built from the baseline).
#[test]
fn a_baseline_keeps_what_was_revoked_from_what_default_privileges_grant() {
    let p = Project::new("adopt_defaults_revoked");
    let defaults =
        "DO $$ BEGIN CREATE ROLE adopt_defaults_anon NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO adopt_defaults_anon;
         ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON SEQUENCES TO adopt_defaults_anon;";
    p.psql(&format!(
        "{defaults}
         CREATE TABLE public.chats (id bigint PRIMARY KEY);
         CREATE TABLE public.chat_reactions (id bigint PRIMARY KEY, emoji text);
         REVOKE ALL ON public.chat_reactions FROM adopt_defaults_anon;
         CREATE SEQUENCE public.ticket_no;
         REVOKE SELECT ON SEQUENCE public.ticket_no FROM adopt_defaults_anon;"
    ));
    let run: Run = p.bare().args(["--database-url", &p.db.url, "baseline", "--from-database"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let file = std::fs::read_to_string(p.migrations().join("0001_baseline.sql")).unwrap();
    // Holding nothing there: all of it, whatever the server calls its privileges.
    assert!(file.contains("REVOKE ALL ON TABLE public.chat_reactions FROM adopt_defaults_anon;"), "{file}");
    assert!(!file.contains("ON TABLE public.chats FROM"), "{file}");
    // Loaded where the default privileges are in force already, as on every Supabase project.
    let fresh = Project::new("adopt_defaults_revoked_fresh");
    fresh.psql(defaults);
    fresh.psql(&file);
    let can = |table: &str| {
        fresh.psql(&format!("SELECT has_table_privilege('adopt_defaults_anon', 'public.{table}', 'SELECT')"))
    };
    assert_eq!((can("chats"), can("chat_reactions")), ("t".to_string(), "f".to_string()));
    assert_eq!(fresh.psql("SELECT has_sequence_privilege('adopt_defaults_anon', 'public.ticket_no', 'SELECT')"), "f");
}

#[test]
fn a_database_with_no_history_gets_one_from_its_live_schema() {
    let p = Project::new("adopt_from_database");
    // What an ORM's create_all() or an afternoon in psql leaves.
    p.psql(
        "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, profile jsonb NOT NULL DEFAULT '{}');
         CREATE INDEX users_profile ON users USING gin (profile);
         INSERT INTO users (email) VALUES ('a@example.com')",
    );
    let run: Run = p.bare().args(["--database-url", &p.db.url, "baseline", "--from-database"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("wrote ") && run.stdout.contains("0001_baseline.sql"), "{}", run.stdout);
    assert!(run.stdout.contains("commit it (git add"), "{}", run.stdout);
    let file = std::fs::read_to_string(p.migrations().join("0001_baseline.sql")).unwrap();
    assert!(file.contains("CREATE TABLE public.users"), "{file}");
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][0]["state"], "baseline", "{status}");
    p.shale(&["up"]).ok(); // nothing to do here
    assert_eq!(p.psql("SELECT count(*) FROM users"), "1", "nothing ran on the live database");
    // A fresh database builds the same schema from it.
    let fresh = Project::new("adopt_from_database_fresh");
    std::fs::create_dir_all(fresh.migrations()).unwrap();
    std::fs::copy(p.migrations().join("0001_baseline.sql"), fresh.migrations().join("0001_baseline.sql")).unwrap();
    fresh.shale(&["up"]).ok();
    let live = p.shale(&["dump"]).ok().stdout;
    let built = fresh.shale(&["dump"]).ok().stdout;
    assert_eq!(live, built);
    // Refused where there are migrations already, or history.
    let again: Run =
        p.bare().args(["--database-url", &p.db.url, "baseline", "--from-database"]).output().unwrap().into();
    assert_eq!(again.code, 2, "{}", again.stderr);
}

/// A Supabase project managed from its dashboard (no CLI history): the baseline is the project's
/// own schema, without what Supabase manages (auth, storage, ...), which every Supabase project has
/// and would refuse as existing.
#[test]
fn a_supabase_baseline_leaves_what_supabase_manages_out() {
    let p = Project::new("adopt_supabase_baseline");
    // What every Supabase project has (its roles belong to the whole test server: made once).
    let platform = "DO $$ BEGIN CREATE ROLE anon NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         DO $$ BEGIN CREATE ROLE authenticated NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         DO $$ BEGIN CREATE ROLE service_role NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
         CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY); CREATE SCHEMA storage;
         CREATE TABLE storage.buckets (id text PRIMARY KEY);
         CREATE TABLE storage.objects (id uuid PRIMARY KEY, bucket_id text, owner uuid, updated_at timestamptz);
         ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
         CREATE FUNCTION storage.update_updated_at_column() RETURNS trigger LANGUAGE plpgsql
             AS 'BEGIN NEW.updated_at = now(); RETURN NEW; END';
         CREATE TRIGGER update_objects_updated_at BEFORE UPDATE ON storage.objects
             FOR EACH ROW EXECUTE FUNCTION storage.update_updated_at_column();
         CREATE SCHEMA extensions; CREATE EXTENSION pgcrypto WITH SCHEMA extensions;";
    p.psql(&format!(
        "{platform}
         CREATE TABLE public.profiles (id uuid PRIMARY KEY REFERENCES auth.users (id), name text);
         -- Hardened as chatbot-ui's migrations do: no access for anon, on this table and on new ones.
         ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM anon;
         CREATE TABLE public.chat_reactions (id bigint PRIMARY KEY);
         REVOKE ALL ON public.chat_reactions FROM anon;
         -- What the project adds to Supabase's tables: a profile made at sign-up, who reads which
         -- files, an extension of its own.
         CREATE FUNCTION public.handle_new_user() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
             AS 'BEGIN INSERT INTO public.profiles (id) VALUES (NEW.id); RETURN NEW; END';
         CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users
             FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();
         CREATE POLICY own_files ON storage.objects FOR SELECT USING (owner = '00000000-0000-0000-0000-000000000000');
         CREATE EXTENSION pg_trgm WITH SCHEMA extensions"
    ));
    let run: Run = p.bare().args(["--database-url", &p.db.url, "baseline", "--from-database"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("the schemas Supabase manages (auth, storage, extensions) are left out")
            && run.stderr.contains("the project's own triggers, policies and extensions in them (3) are kept"),
        "{}",
        run.stderr
    );
    let file = std::fs::read_to_string(p.migrations().join("0001_baseline.sql")).unwrap();
    assert!(file.contains("CREATE TABLE public.profiles") && !file.contains("CREATE SCHEMA auth"), "{file}");
    assert!(!file.contains("storage.buckets") && !file.contains("CREATE TABLE storage.objects"), "{file}");
    // The project's own parts of Supabase's schemas are the project's: a new project built from
    // the baseline would lack its sign-up trigger and its storage rules.
    assert!(file.contains("CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users"), "{file}");
    assert!(file.contains("CREATE POLICY own_files ON storage.objects"), "{file}");
    assert!(file.contains("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions"), "{file}");
    assert!(!file.contains("update_objects_updated_at") && !file.contains("pgcrypto"), "{file}");
    // Loaded on a new Supabase project, whose default privileges grant anon every privilege on new
    // tables: the table the project took anon's access from stays without it (re-check trial:
    // anon could read chatbot-ui's chat_reactions in a project built from the baseline).
    assert!(file.contains("REVOKE ALL ON TABLE public.chat_reactions FROM anon;"), "{file}");
    let fresh = Project::new("adopt_supabase_baseline_fresh");
    fresh.psql(platform);
    fresh.psql(&file);
    let can =
        |role: &str| fresh.psql(&format!("SELECT has_table_privilege('{role}', 'public.chat_reactions', 'SELECT')"));
    assert_eq!((can("anon"), can("authenticated")), ("f".to_string(), "t".to_string()));
    // The dump too (and `dump_after_up`'s file), which platform upgrades would otherwise churn.
    let dump = p.shale(&["dump"]).ok();
    assert!(
        dump.stdout.contains("CREATE TABLE public.profiles") && !dump.stdout.contains("auth.users ("),
        "{}",
        dump.stdout
    );
    assert!(dump.stderr.contains("are left out of the dump"), "{}", dump.stderr);
}

/// A database Alembic migrated (SQLAlchemy's tool: its migrations are Python, its table holds a
/// revision id): there is nothing to take over, so shale says to start from the live schema, and
/// the baseline leaves Alembic's table out (a fresh database built from it has none, and drift
/// does not count it).
#[test]
fn a_database_alembic_migrated_starts_from_its_live_schema_without_alembic_s_table() {
    let p = Project::new("adopt_alembic");
    p.psql(
        "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
         INSERT INTO alembic_version VALUES ('ae1027a6acf');
         CREATE TABLE users (id serial PRIMARY KEY, email varchar(255) NOT NULL UNIQUE, username varchar(255))",
    );
    std::fs::create_dir_all(p.migrations()).unwrap();
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("migrated by alembic (public.alembic_version is its history)"), "{}", status.stderr);
    assert!(status.stderr.contains("`shale baseline --from-database` starts"), "{}", status.stderr);
    // Nothing to apply (no migrations yet): up says it, and what to run next, as status does.
    snapshot!("alembic_up_nothing_to_apply", shown(&p, &p.shale(&["up"])));
    let json = p.shale(&["up", "--json"]).ok().json();
    assert_eq!(json["foreign"][0]["tool"], "alembic", "{json}");
    snapshot!("alembic_adopt_refused", shown(&p, &p.shale(&["adopt"])));
    // With a migration written already, up refuses and says both ways on.
    p.write("0001_users.sql", "CREATE TABLE users (id serial PRIMARY KEY);");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("`shale baseline VERSION`") && up.stderr.contains("`shale adopt --nothing`"),
        "{}",
        up.stderr
    );
    // status says the same (not --from-database, which refuses where migrations exist).
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("with `shale baseline VERSION`"), "{}", status.stderr);
    std::fs::remove_file(p.migrations().join("0001_users.sql")).unwrap();
    let run = p.shale(&["baseline", "--from-database"]).ok();
    assert!(
        run.stderr.contains("public.alembic_version (alembic's history) is left out of the baseline"),
        "{}",
        run.stderr
    );
    let file = std::fs::read_to_string(p.migrations().join("0001_baseline.sql")).unwrap();
    assert!(file.contains("CREATE TABLE public.users"), "{file}");
    assert!(!file.contains("alembic_version"), "{file}");
    p.shale(&["up"]).ok();
    // Once shale has its history, a no-op up says nothing more (and looks for no other tool).
    let up = p.shale(&["up"]).ok();
    assert!(!up.stderr.contains("alembic"), "{}", up.stderr);
    let dev = shale_testkit::shared_cluster().url("postgres");
    let drift = p.shale(&["drift", "--dev-url", &dev]).ok();
    assert!(drift.stdout.contains("no drift"), "{}", drift.stdout);
    // The baseline shows when it was recorded; its file changed afterwards is changed here too, as
    // on a database it built (the row keeps the file's checksum).
    let status = p.shale(&["status", "--json"]).ok().json();
    assert!(status["migrations"][0]["applied_at"].is_string(), "{status}");
    let baseline = p.migrations().join("0001_baseline.sql");
    std::fs::write(&baseline, file.replace("CREATE TABLE public.users", "CREATE UNLOGGED TABLE public.users")).unwrap();
    assert_eq!(p.states(), ["modified"]);
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("migration 0001 baseline was changed after it was applied"), "{}", up.stderr);
    // drift replays the files as they are now, and says so.
    let drift = p.shale(&["drift", "--dev-url", &dev]);
    assert!(drift.stderr.contains("warning: 0001 baseline changed after it was applied"), "{}", drift.stderr);
    std::fs::write(&baseline, &file).unwrap();
    assert_eq!(p.states(), ["baseline"]);
    // Alembic still runs somewhere after the switch: its table changes, and status and validate
    // say so (nothing of what it ran is in shale's history).
    assert!(!p.shale(&["status"]).ok().stderr.contains("warning"));
    p.psql("UPDATE alembic_version SET version_num = 'b2'; ALTER TABLE users ADD COLUMN sku text");
    for check in ["status", "validate"] {
        let run = p.shale(&[check]).ok();
        assert!(
            run.stderr.contains("warning: alembic's history (public.alembic_version) has changed since the baseline"),
            "{check}: {}",
            run.stderr
        );
    }
    let json = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(json["changed_since_baseline"][0]["tool"], "alembic", "{json}");
    // And where a deploy looks: `up`, with something to apply or not (Rails trial: a no-op `up`
    // said "up to date" after a rollback; one query more where a baseline left a history).
    p.write("0002_tags.sql", "CREATE TABLE tags (id bigint PRIMARY KEY);");
    // Before it, by the dry run a deploy's check runs (Django trial: it said nothing).
    let dry = p.shale(&["up", "--dry-run"]).ok();
    assert!(dry.stderr.contains("warning: alembic's history (public.alembic_version) has changed"), "{}", dry.stderr);
    let dry = p.shale(&["up", "--dry-run", "--json"]).ok().json();
    assert_eq!(dry["changed_since_baseline"][0]["tool"], "alembic", "{dry}");
    let up = p.shale(&["up"]).ok();
    assert!(
        up.stderr.contains("warning: alembic's history (public.alembic_version) has changed since the baseline"),
        "{}",
        up.stderr
    );
    // Said once, before the run (MikroORM trial: after it, once the migration had run).
    assert_eq!(up.stderr.matches("has changed since the baseline").count(), 1, "{}", up.stderr);
    let again = p.shale(&["up"]).ok();
    assert!(again.stdout.contains("nothing to apply") && again.stderr.contains("has changed since the baseline"));
    // What Alembic ran is accounted for (here the column, by hand): the team records its table
    // as it is now, and the warning comes back only when it changes again (Django trial: the
    // docs' `migrate --fake` made it fire on every deploy, dropping the table the only way out).
    let accept = p.shale(&["repair", "--accept-other-history", "--reason", "sku added by the 0003 below"]).ok();
    assert!(
        accept.stdout.contains("recorded alembic's history (public.alembic_version) as it is now"),
        "{}",
        accept.stdout
    );
    for check in ["status", "validate"] {
        assert!(!p.shale(&[check]).ok().stderr.contains("warning"), "{check}");
    }
    let again = p.shale(&["repair", "--accept-other-history", "--reason", "again"]).ok();
    assert!(again.stdout.contains("nothing to accept"), "{}", again.stdout);
    p.psql("UPDATE alembic_version SET version_num = 'c3'");
    assert!(p.shale(&["status"]).ok().stderr.contains("alembic's history (public.alembic_version) has changed since"));

    // A database shale built from the migrations (a new environment) where Alembic ran afterwards.
    let fresh = Project::new("adopt_alembic_fresh");
    fresh.copy_from(&p, &["0001_baseline.sql"]);
    fresh.shale(&["up"]).ok();
    assert!(!fresh.shale(&["status"]).ok().stderr.contains("warning"));
    // Made and left empty (a run of the tool that failed and rolled back): nothing of it ran
    // (TypeORM trial: warned about).
    fresh.psql("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)");
    assert!(!fresh.shale(&["status"]).ok().stderr.contains("warning"));
    fresh.psql("INSERT INTO alembic_version VALUES ('b2')");
    let status = fresh.shale(&["status"]).ok();
    assert!(
        status.stderr.contains(
            "warning: alembic's history (public.alembic_version) is in this database, which shale built from its migrations"
        ),
        "{}",
        status.stderr
    );
    // Recorded without running (as Django's `migrate --fake` on a database shale built), accepted.
    fresh.shale(&["repair", "--accept-other-history", "--reason", "stamped to match"]).ok();
    assert!(!fresh.shale(&["status"]).ok().stderr.contains("warning"));
    fresh.psql("UPDATE alembic_version SET version_num = 'c3'");
    assert!(fresh.shale(&["status"]).ok().stderr.contains("alembic's history (public.alembic_version) has changed"));
    fresh.shale(&["repair", "--accept-other-history", "--reason", "c3 checked"]).ok();
    // A history appearing after an acceptance is watched as before (Django re-check: after one
    // acceptance nothing new was); one of a tool whose migrations are SQL files is not accepted.
    fresh.psql(
        "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL,
             tstamp timestamp DEFAULT now());
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true)",
    );
    let status = fresh.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("goose's history (public.goose_db_version) is in this database"),
        "{}",
        status.stderr
    );
    let accept = fresh.shale(&["repair", "--accept-other-history", "--reason", "no"]);
    assert_eq!(accept.code, 1, "{}", accept.stderr);
    assert!(accept.stderr.contains("goose's history (public.goose_db_version) is not accepted"), "{}", accept.stderr);
    assert!(!accept.stderr.contains("alembic"), "{}", accept.stderr);
}

/// A baseline beside two tools' histories watches both (Django re-check: their rows were kept
/// as one, and only the newest was watched).
#[test]
fn a_baseline_watches_each_history_it_left_as_it_was() {
    let p = Project::new("adopt_two_histories");
    p.psql(
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('a1');
         CREATE TABLE django_migrations (id bigserial PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL,
             applied timestamptz NOT NULL);
         INSERT INTO django_migrations (app, name, applied) VALUES ('shop', '0001_initial', now());
         CREATE TABLE t (id int); INSERT INTO t VALUES (1); CREATE TABLE empty (id int)",
    );
    std::fs::create_dir_all(p.migrations()).unwrap();
    // The tables holding rows, all of them, in --json (Django re-check: only in the note, cut to 8).
    let json = p.shale(&["baseline", "--from-database", "--json"]).ok().json();
    assert_eq!(json["tables_with_rows"], serde_json::json!(["public.t"]), "{json}");
    assert!(!p.shale(&["status"]).ok().stderr.contains("warning"));
    for (change, tool) in [
        ("UPDATE alembic_version SET version_num = 'b2'", "alembic's history (public.alembic_version)"),
        (
            "INSERT INTO django_migrations (app, name, applied) VALUES ('shop', '0002_x', now())",
            "django's history (public.django_migrations)",
        ),
    ] {
        p.psql(change);
        let status = p.shale(&["status"]).ok();
        assert!(status.stderr.contains(&format!("warning: {tool} has changed since")), "{}", status.stderr);
        p.shale(&["repair", "--accept-other-history", "--reason", "checked"]).ok();
        assert!(!p.shale(&["status"]).ok().stderr.contains("warning"));
    }
    // A run of the tool reverted since leaves its rows as they were, not its ids (Knex and
    // TypeORM trials: `migrate:rollback` after the team took the run over hid the warning while
    // the change was undone).
    p.psql("INSERT INTO django_migrations (app, name, applied) VALUES ('shop', '0003_y', now())");
    p.psql("DELETE FROM django_migrations WHERE name = '0003_y'");
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("warning: django's history (public.django_migrations) has changed"),
        "{}",
        status.stderr
    );
}

/// Databases Rails and Django migrated (Ruby and Python migrations): recognized as theirs, not
/// taken over, and left out of the baseline with the tables the tool keeps beside its history.
/// Rails' `schema_migrations` has dbmate's shape: `ar_internal_metadata` beside it says Rails.
#[test]
fn databases_rails_and_django_migrated_start_from_their_live_schema() {
    let rails = Project::new("adopt_rails");
    rails.psql(
        "CREATE TABLE schema_migrations (version character varying NOT NULL PRIMARY KEY);
         CREATE TABLE ar_internal_metadata (key character varying NOT NULL PRIMARY KEY, value character varying,
             created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL);
         INSERT INTO schema_migrations VALUES ('20240105120000'), ('20240212093000');
         INSERT INTO ar_internal_metadata VALUES ('environment', 'production', now(), now());
         CREATE TABLE users (id bigserial PRIMARY KEY, email character varying NOT NULL)",
    );
    let django = Project::new("adopt_django");
    django.psql(
        "CREATE TABLE django_migrations (id bigserial PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL,
             applied timestamptz NOT NULL);
         INSERT INTO django_migrations (app, name, applied) VALUES ('contenttypes', '0001_initial', now()), ('shop', '0001_initial', now());
         CREATE TABLE shop_order (id bigserial PRIMARY KEY, total numeric(10, 2) NOT NULL);
         CREATE TABLE \"Shop Kind\" (id int PRIMARY KEY, label text); INSERT INTO \"Shop Kind\" VALUES (1, 'retail')",
    );
    for (p, tool, table, language) in [
        (&rails, "rails", "public.schema_migrations", "Ruby"),
        (&django, "django", "public.django_migrations", "Python"),
    ] {
        std::fs::create_dir_all(p.migrations()).unwrap();
        let status = p.shale(&["status"]).ok();
        assert!(status.stderr.contains(&format!("migrated by {tool} ({table} is its history)")), "{}", status.stderr);
        assert!(status.stderr.contains("`shale baseline --from-database` starts"), "{}", status.stderr);
        let adopt = p.shale(&["adopt"]);
        assert_eq!(adopt.code, 2, "{}", adopt.stderr);
        assert!(adopt.stderr.contains(&format!("{tool}'s migrations are {language} scripts")), "{}", adopt.stderr);
        let run = p.shale(&["baseline", "--from-database"]).ok();
        assert!(run.stderr.contains("left out of the baseline"), "{}", run.stderr);
        // The rows a data migration inserted are named as left behind (NetBox trial); the old
        // tool's tables are not, nor empty ones.
        match tool {
            "django" => assert!(
                run.stderr.contains(
                    "1 table(s) hold rows, which the baseline (the schema) does not carry: public.\"Shop Kind\";"
                ),
                "{}",
                run.stderr
            ),
            _ => assert!(!run.stderr.contains("hold rows"), "{}", run.stderr),
        }
        let file = std::fs::read_to_string(p.migrations().join("0001_baseline.sql")).unwrap();
        assert!(!file.contains("schema_migrations") && !file.contains("django_migrations"), "{file}");
        assert!(!file.contains("ar_internal_metadata"), "Rails' own table goes with its history: {file}");
        p.shale(&["up"]).ok();
        let dev = shale_testkit::shared_cluster().url("postgres");
        let drift = p.shale(&["drift", "--dev-url", &dev]).ok();
        assert!(drift.stdout.contains("no drift"), "{}{}", drift.stdout, drift.stderr);
    }
    let file = std::fs::read_to_string(rails.migrations().join("0001_baseline.sql")).unwrap();
    assert!(file.contains("CREATE TABLE public.users"), "{file}");
    // Rails before 5 kept no ar_internal_metadata: the table reads as dbmate's until told.
    let old = Project::new("adopt_rails_old");
    old.psql("CREATE TABLE schema_migrations (version character varying NOT NULL PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20120105120000')");
    std::fs::create_dir_all(old.migrations()).unwrap();
    let told = old.shale(&["adopt", "--from", "rails"]);
    assert_eq!(told.code, 2, "{}", told.stderr);
    assert!(told.stderr.contains("rails's migrations are Ruby scripts"), "{}", told.stderr);
}

/// A baseline's materialized views are made with their data, as they were on the database it came
/// from: a database built from it can be read and refreshed CONCURRENTLY (Kysely trial: "has not
/// been populated" on every fresh database, and the application's refresher failed). One whose
/// query fails on the new database (a division by a count of rows it does not have) is left empty
/// there, where filling it in its CREATE failed the migration (review).
#[test]
fn a_baseline_makes_materialized_views_with_their_data() {
    let p = Project::new("adopt_matview");
    p.psql(
        "CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL);
         INSERT INTO events VALUES (1, 'a');
         CREATE MATERIALIZED VIEW event_stats AS SELECT kind, count(*) AS n FROM events GROUP BY kind;
         CREATE UNIQUE INDEX event_stats_kind ON event_stats (kind);
         CREATE MATERIALIZED VIEW kind_share AS SELECT 100 / count(*) AS pct FROM events;
         CREATE MATERIALIZED VIEW kind_share_twice AS SELECT pct * 2 AS pct FROM kind_share;",
    );
    std::fs::create_dir_all(p.migrations()).unwrap();
    p.shale(&["baseline", "--from-database"]).ok();
    let fresh = Project::new("adopt_matview_fresh");
    let baseline = std::fs::read_dir(p.migrations()).unwrap().next().unwrap().unwrap().file_name();
    fresh.copy_from(&p, &[baseline.to_str().unwrap()]);
    let up = fresh.shale(&["up"]).ok();
    // Said as the server says it (re-check: the warning never reached the user).
    assert!(
        up.stderr.contains("the server says: materialized view public.kind_share left empty: division by zero"),
        "{}",
        up.stderr
    );
    assert_eq!(fresh.psql("SELECT relispopulated FROM pg_class WHERE relname = 'event_stats'"), "t");
    fresh.psql("REFRESH MATERIALIZED VIEW CONCURRENTLY event_stats");
    let empty = "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relname LIKE 'kind_share%' AND NOT relispopulated";
    assert_eq!(fresh.psql(empty), "kind_share,kind_share_twice");
    // Each is filled after the view it reads.
    let text = std::fs::read_to_string(p.migrations().join(&baseline)).unwrap();
    let filled = text.split("-- Materialized views filled").nth(1).unwrap_or_else(|| panic!("{text}"));
    let at =
        |name: &str| filled.find(&format!("REFRESH MATERIALIZED VIEW {name};")).unwrap_or_else(|| panic!("{filled}"));
    assert!(at("public.kind_share") < at("public.kind_share_twice"), "{filled}");
}

/// Databases migrated by tools whose migrations are JavaScript, TypeScript, Elixir or Liquibase
/// changelogs: each recognized as that tool's (Ecto's `schema_migrations` not as dbmate's), not
/// taken over, and left out of the baseline with the lock table it keeps beside its history, so
/// drift does not count them; the tool's code files in the directory are named as left alone.
#[test]
fn databases_migrated_by_javascript_elixir_and_liquibase_tools_start_from_their_live_schema() {
    let app = "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);";
    let cases = [
        (
            "ecto",
            "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, inserted_at timestamp(0));
             INSERT INTO schema_migrations VALUES (20230105101500, now());",
            "public.schema_migrations",
            "Elixir scripts",
            "20230105101500_create_users.exs",
        ),
        (
            "knex",
            "CREATE TABLE knex_migrations (id serial PRIMARY KEY, name varchar(255), batch int, migration_time timestamptz);
             CREATE TABLE knex_migrations_lock (index serial PRIMARY KEY, is_locked int);
             INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('20230105101500_create_users.js', 1, now());",
            "public.knex_migrations",
            "JavaScript modules",
            "20230105101500_create_users.js",
        ),
        (
            "typeorm",
            "CREATE TABLE migrations (id serial PRIMARY KEY, timestamp bigint NOT NULL, name varchar NOT NULL);
             INSERT INTO migrations (timestamp, name) VALUES (1672917300000, 'CreateUsers1672917300000');",
            "public.migrations",
            "TypeScript or JavaScript modules",
            "1672917300000-CreateUsers.ts",
        ),
        // Under the name its `migrationsTableName` gives (TypeORM trial: not recognized, and
        // written into the baseline).
        (
            "typeorm",
            "CREATE TABLE typeorm_migrations (id serial PRIMARY KEY, timestamp bigint NOT NULL, name varchar NOT NULL);
             INSERT INTO typeorm_migrations (timestamp, name) VALUES (1672917300000, 'CreateUsers1672917300000');",
            "public.typeorm_migrations",
            "TypeScript or JavaScript modules",
            "1672917300000-CreateUsers.ts",
        ),
        // Under the name its `tableName` gives, with its lock table named after it (Knex trial:
        // `app_schema_history_lock` went into the baseline).
        (
            "knex",
            "CREATE TABLE app_schema_history (id serial PRIMARY KEY, name varchar(255), batch int, migration_time timestamptz);
             CREATE TABLE app_schema_history_lock (index serial PRIMARY KEY, is_locked int);
             INSERT INTO app_schema_history (name, batch, migration_time) VALUES ('20230105101500_create_users.js', 1, now());",
            "public.app_schema_history",
            "JavaScript modules",
            "20230105101500_create_users.js",
        ),
        (
            "sequelize",
            r#"CREATE TABLE "SequelizeMeta" (name varchar(255) PRIMARY KEY);
             INSERT INTO "SequelizeMeta" VALUES ('20230105101500-create-users.js');"#,
            "public.SequelizeMeta",
            "JavaScript modules",
            "20230105101500-create-users.js",
        ),
        (
            "kysely",
            "CREATE TABLE kysely_migration (name varchar(255) PRIMARY KEY, timestamp varchar(255) NOT NULL);
             CREATE TABLE kysely_migration_lock (id varchar(255) PRIMARY KEY, is_locked integer NOT NULL DEFAULT 0);
             INSERT INTO kysely_migration VALUES ('2023-01-05_create_users', now()::text);",
            "public.kysely_migration",
            "TypeScript or JavaScript modules",
            "2023-01-05_create_users.ts",
        ),
        (
            "liquibase",
            "CREATE TABLE databasechangelog (id varchar(255) NOT NULL, author varchar(255) NOT NULL, filename varchar(255) NOT NULL,
                 dateexecuted timestamp NOT NULL, orderexecuted int NOT NULL, exectype varchar(10) NOT NULL, md5sum varchar(35),
                 description varchar(255), comments varchar(255), tag varchar(255), liquibase varchar(20),
                 contexts varchar(255), labels varchar(255), deployment_id varchar(10));
             CREATE TABLE databasechangeloglock (id int PRIMARY KEY, locked boolean NOT NULL, lockgranted timestamp, lockedby varchar(255));
             INSERT INTO databasechangelog (id, author, filename, dateexecuted, orderexecuted, exectype)
                 VALUES ('1', 'ana', 'db/changelog.xml', now(), 1, 'EXECUTED');",
            "public.databasechangelog",
            "changesets of its changelogs",
            "db.changelog-master.xml",
        ),
        (
            "laravel",
            "CREATE TABLE migrations (id serial PRIMARY KEY, migration varchar(255) NOT NULL, batch integer NOT NULL);
             INSERT INTO migrations (migration, batch) VALUES ('2014_10_12_000000_create_users_table', 1);",
            "public.migrations",
            "PHP classes",
            "2014_10_12_000000_create_users_table.php",
        ),
        (
            "ef-core",
            r#"CREATE TABLE "__EFMigrationsHistory" ("MigrationId" varchar(150) PRIMARY KEY, "ProductVersion" varchar(32) NOT NULL);
             INSERT INTO "__EFMigrationsHistory" VALUES ('20230105101500_InitialCreate', '8.0.0');"#,
            "public.__EFMigrationsHistory",
            "C# classes",
            "20230105101500_InitialCreate.cs",
        ),
        // Kysely's under its `migrationTableName`, with its lock table named alike, and its
        // migrations named in ISO 8601's form (Kysely trial: written into the baseline).
        (
            "kysely",
            "CREATE TABLE ozone_migration (name varchar(255) PRIMARY KEY, timestamp varchar(255) NOT NULL);
             CREATE TABLE ozone_migration_lock (id varchar(255) PRIMARY KEY, is_locked integer NOT NULL DEFAULT 0);
             INSERT INTO ozone_migration VALUES ('20230105T101500000Z-create-users', now()::text);",
            "public.ozone_migration",
            "TypeScript or JavaScript modules",
            "20230105T101500000Z-create-users.ts",
        ),
        // Tortoise ORM's aerich and Piccolo's (aerich trial: not recognized, and `up` ran).
        (
            "aerich",
            "CREATE TABLE aerich (id serial PRIMARY KEY, version varchar(255) NOT NULL, app varchar(100) NOT NULL, content jsonb NOT NULL);
             INSERT INTO aerich (version, app, content) VALUES ('0_20230105101500_init.py', 'models', '{}');",
            "public.aerich",
            "Python modules",
            "0_20230105101500_init.py",
        ),
        (
            "piccolo",
            "CREATE TABLE migration (id serial PRIMARY KEY, name varchar(200) NOT NULL, app_name varchar(200) NOT NULL, ran_on timestamp NOT NULL DEFAULT now());
             INSERT INTO migration (name, app_name) VALUES ('2023-01-05T10:15:00:000000', 'blog');",
            "public.migration",
            "Python modules",
            "blog_2023_01_05t10_15_00_000000.py",
        ),
        // peewee-migrate's, and under its `migrate_table` (peewee trial: taken for the
        // application's table, written into the baseline, and its runs after the switch unseen).
        (
            "peewee-migrate",
            "CREATE TABLE migratehistory (id serial PRIMARY KEY, name varchar(255) NOT NULL, migrated_at timestamp NOT NULL);
             INSERT INTO migratehistory (name, migrated_at) VALUES ('001_initial', now());",
            "public.migratehistory",
            "Python modules",
            "001_initial.py",
        ),
        (
            "peewee-migrate",
            "CREATE TABLE app_migrations (id serial PRIMARY KEY, name varchar(255) NOT NULL, migrated_at timestamp NOT NULL);
             INSERT INTO app_migrations (name, migrated_at) VALUES ('001_initial', now());",
            "public.app_migrations",
            "Python modules",
            "001_initial.py",
        ),
        // SeaORM's, and under its `migration_table_name` (SeaORM trial: written into the baseline,
        // its runs after the switch unseen; `--table` read it as dbmate's).
        (
            "sea-orm",
            "CREATE TABLE seaql_migrations (version varchar PRIMARY KEY, applied_at bigint NOT NULL);
             INSERT INTO seaql_migrations VALUES ('m20220101_000001_create_table', 1672917300);",
            "public.seaql_migrations",
            "Rust modules",
            "m20220101_000001_create_table.rs",
        ),
        (
            "sea-orm",
            "CREATE TABLE app_migrations (version varchar PRIMARY KEY, applied_at bigint NOT NULL);
             INSERT INTO app_migrations VALUES ('m20220101_000001_create_table', 1672917300);",
            "public.app_migrations",
            "Rust modules",
            "m20220101_000001_create_table.rs",
        ),
    ];
    let dev = shale_testkit::shared_cluster().url("postgres");
    for (case, (tool, history, table, form, code_file)) in cases.into_iter().enumerate() {
        let p = Project::new(&format!("adopt_code_{tool}_{case}"));
        p.psql(&format!("{app} {history}"));
        std::fs::create_dir_all(p.migrations()).unwrap();
        std::fs::write(p.migrations().join(code_file), "module.exports = {};").unwrap();
        let status = p.shale(&["status"]).ok();
        assert!(status.stderr.contains(&format!("migrated by {tool} ({table} is its history)")), "{}", status.stderr);
        // The dry run says it as `up` does (TypeORM and Knex trials: "nothing to do", no more).
        let dry = p.shale(&["up", "--dry-run"]).ok();
        assert!(dry.stderr.contains(&format!("migrated by {tool} ({table} is its history)")), "{}", dry.stderr);
        let adopt = p.shale(&["adopt"]);
        assert_eq!(adopt.code, 2, "{}", adopt.stderr);
        assert!(adopt.stderr.contains(&format!("{tool}'s migrations are {form}")), "{}", adopt.stderr);
        let run = p.shale(&["baseline", "--from-database"]).ok();
        assert!(run.stderr.contains("left out of the baseline"), "{}", run.stderr);
        // (Numbered as the code migrations are, where their names are times: `20230105101500_`.)
        let baseline = std::fs::read_dir(p.migrations())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|path| path.to_string_lossy().ends_with("_baseline.sql"))
            .unwrap();
        let file = std::fs::read_to_string(baseline).unwrap();
        assert!(file.contains("CREATE TABLE public.users"), "{file}");
        let history_table = table.trim_start_matches("public.");
        assert!(!file.contains(history_table) && !file.contains("lock"), "{tool}'s tables are left out: {file}");
        let up = p.shale(&["up"]).ok();
        // Not in every deploy's log: they stay in the folder for good (Knex trial).
        assert!(!up.stderr.contains("ignored"), "{}", up.stderr);
        let drift = p.shale(&["drift", "--dev-url", &dev]).ok();
        assert!(drift.stdout.contains("no drift"), "{}{}", drift.stdout, drift.stderr);
        // Its migrations in code are named as left alone by status, except Liquibase's changelog
        // (not named like a migration).
        let status = p.shale(&["status"]).ok();
        assert_eq!(
            status.stderr.contains(&format!("{code_file}: ignored: a migration written in")),
            !["liquibase", "piccolo", "sea-orm"].contains(&tool),
            "{}",
            status.stderr
        );
    }
}

/// `baseline V` on a database that is not what the migrations up to V build (another tool's
/// older revision: one column short) is refused, naming the differences, and records nothing; at
/// the version it matches it is recorded; `--force` records V anyway.
#[test]
fn a_baseline_is_refused_where_the_database_is_not_at_that_version() {
    let p = Project::new("baseline_checked");
    p.write("0001_users.sql", "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);");
    p.write("0002_created.sql", "ALTER TABLE users ADD COLUMN created_at timestamptz;");
    p.write("0003_items.sql", "CREATE TABLE items (id int);");
    // Django's older revision: the advice names Django's command.
    p.psql(
        "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);
         CREATE TABLE django_migrations (id bigserial PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied timestamptz NOT NULL)",
    );
    snapshot!("baseline_not_at_that_version", shown(&p, &p.shale(&["baseline", "2"])));
    assert_eq!(p.psql("SELECT to_regclass('shale_migrations') IS NULL"), "t", "nothing recorded");
    // The server for the check's scratch database: --dev-url, else SHALE_DEV_URL, else dev_url in
    // shale.toml (one that cannot be reached shows which was used).
    let unreachable = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2";
    std::fs::write(p.path().join("shale.toml"), format!("dev_url = \"{unreachable}\"\n")).unwrap();
    assert_eq!(p.shale(&["baseline", "1"]).code, 3, "shale.toml's dev_url is used");
    std::fs::remove_file(p.path().join("shale.toml")).unwrap();
    let mut with_env = p.bare();
    with_env.env("SHALE_DEV_URL", unreachable).args(["--database-url", &p.db.url, "baseline", "1"]);
    assert_eq!(Run::of(with_env).code, 3, "SHALE_DEV_URL is used");
    let dev = shale_testkit::shared_cluster().url("postgres");
    let mut flagged = p.bare();
    flagged.env("SHALE_DEV_URL", unreachable).args(["--database-url", &p.db.url, "baseline", "1", "--dev-url", &dev]);
    Run::of(flagged).ok();
    p.shale(&["up"]).ok();
    assert_eq!(
        p.psql(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'created_at'"
        ),
        "1"
    );

    let forced = Project::new("baseline_forced");
    std::fs::create_dir_all(forced.migrations()).unwrap();
    for file in ["0001_users.sql", "0002_created.sql"] {
        std::fs::copy(p.migrations().join(file), forced.migrations().join(file)).unwrap();
    }
    forced.psql("CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL)");
    forced.shale(&["baseline", "2", "--force"]).ok();
    assert_eq!(forced.shale(&["status", "--json"]).ok().json()["current_version"], "0002");

    // `up` first, on a database another tool built: it fails on 0001 ("already exists"), then
    // `baseline --force` settles that attempt instead of leaving 0001 failed (Knex trial).
    let after_failure = Project::new("baseline_after_failure");
    std::fs::create_dir_all(after_failure.migrations()).unwrap();
    for file in ["0001_users.sql", "0002_created.sql"] {
        std::fs::copy(p.migrations().join(file), after_failure.migrations().join(file)).unwrap();
    }
    after_failure.psql("CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL)");
    after_failure.shale(&["adopt", "--nothing"]).ok();
    assert_ne!(after_failure.shale(&["up"]).code, 0, "0001 fails: users exists");
    after_failure.shale(&["baseline", "1", "--force"]).ok();
    let status = after_failure.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][0]["state"], "baseline", "{status}");
    let redo = after_failure.shale(&["redo"]);
    assert!(redo.stderr.contains("only the baseline (version 0001) is applied"), "{}", redo.stderr);
    after_failure.shale(&["up"]).ok();
    assert_eq!(after_failure.shale(&["status", "--json"]).ok().json()["current_version"], "0002");
}

#[test]
fn goose_go_migrations_are_taken_over_too() {
    let p = Project::new("adopt_goose_go");
    applied_by_the_other_tool(&p, "00001_users.sql", "00003_posts.sql", "00004_tags.sql");
    p.write("00002_backfill.go", "package migrations\n");
    p.write("00005_later.go", "package migrations\n");
    p.psql(
        "CREATE TABLE goose_db_version (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now());
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true)",
    );
    // Before it is taken over, up says that first, not what the Go migrations need (goose trial).
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("run `shale adopt`") && !up.stderr.contains("written in Go"), "{}", up.stderr);
    let run = p.shale(&["adopt"]).ok();
    snapshot!("goose_go_adopt", shown(&p, &run));
    // status says which migrations were taken over and from which tool, with no duration: the
    // adopt transaction's length is not how long goose took to run them.
    snapshot!("goose_go_status", shown(&p, &p.shale(&["status"]).ok()));
    // Rows an earlier shale wrote carry the adopt transaction's duration: not shown either.
    p.psql("UPDATE shale_migrations SET duration_ms = 7 WHERE kind = 'adopted'");
    let status = p.shale(&["status", "--json"]).ok().json();
    for m in status["migrations"].as_array().unwrap().iter().filter(|m| m["state"] == "applied") {
        assert_eq!(
            (&m["adopted"], &m["adopted_from"], &m["duration_ms"]),
            (&true.into(), &"goose".into(), &().into()),
            "{m}"
        );
    }
    // 00004 would run, but 00005 cannot: `up` says what to do first.
    snapshot!("goose_go_up", shown(&p, &p.shale(&["up"])));
}

/// A goose project with a Go migration, taken over: drift, check and diff replay the SQL ones on
/// their throwaway database and leave the Go one out with a note, where they stopped before it.
#[test]
fn replays_leave_a_go_migration_out_and_say_so() {
    let p = Project::new("adopt_goose_go_replay");
    applied_by_the_other_tool(&p, "00001_users.sql", "00003_posts.sql", "00004_tags.sql");
    p.write("00002_backfill.go", "package migrations\n");
    p.psql(
        "CREATE TABLE goose_db_version (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now());
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true)",
    );
    p.shale(&["adopt"]).ok();
    p.shale(&["up"]).ok();
    // The newest applied is written as its file writes it, a Go one too.
    p.psql("DELETE FROM shale_migrations WHERE version IN ('3', '4')");
    assert_eq!(p.shale(&["status", "--json"]).ok().json()["current_version"], "00002");
    // (Undone in goose's table too: else `up` would refuse, goose having applied 00003.)
    p.psql("DROP TABLE posts, tags; DELETE FROM goose_db_version WHERE version_id = 3");
    p.shale(&["up"]).ok();
    let note = "00002_backfill.go: migration 00002 is written in Go, which shale does not run: the replay";
    for args in [&["drift"][..], &["check"], &["diff", "--from", "migrations", "--exit-code"]] {
        let run = p.shale(args);
        assert!(run.code == 0 && run.stderr.contains(note), "{args:?}: {}{}", run.stdout, run.stderr);
    }
    // Quiet, and with --json, the note is left out.
    for args in [&["-q", "drift"][..], &["check", "--json"]] {
        let run = p.shale(args);
        assert!(run.code == 0 && !run.stderr.contains("written in Go"), "{args:?}: {}{}", run.stdout, run.stderr);
    }
}

#[test]
fn adopt_nothing_starts_shale_s_history_beside_a_table_that_belongs_to_something_else() {
    let p = Project::new("adopt_nothing");
    p.write("0_extensions.sql", "CREATE TABLE zero (id int);\n");
    p.write("1_users.sql", "CREATE TABLE users (id int);\n");
    // Some other application's table, shaped like dbmate's.
    p.psql("CREATE TABLE schema_migrations (version varchar primary key); INSERT INTO schema_migrations VALUES ('20190101')");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("`shale adopt --nothing`"), "{}", up.stderr);
    let run = p.shale(&["adopt", "--nothing"]).ok();
    assert!(run.stdout.contains("takes nothing over (public.schema_migrations (dbmate) left alone)"), "{}", run.stdout);
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"zero".to_string()), "version 0 ran: it was not baselined away");
    assert_eq!(p.psql("SELECT count(*) FROM schema_migrations"), "1", "left alone");
}

/// Flyway's Java migrations (history rows of type JDBC or SPRING_JDBC, whose script is a class):
/// no file has them and shale cannot run them; adopt takes them over as applied and says so, and
/// `status`, `validate` and `up` count them as applied, not missing.
#[test]
fn flyway_java_migrations_are_taken_over_as_applied() {
    let p = Project::new("adopt_flyway_java");
    applied_by_the_other_tool(&p, "V1__users.sql", "V3__posts.sql", "V4__tags.sql");
    let crc =
        |file: &str| shale_core::adopt::flyway_checksum(&std::fs::read_to_string(p.migrations().join(file)).unwrap());
    p.psql(&format!(
        "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL);
         INSERT INTO flyway_schema_history VALUES
           (1, '1', 'users', 'SQL', 'V1__users.sql', {}, 'app', now(), 1, true),
           (2, '2', 'Backfill parents', 'JDBC', 'com.example.db.migration.V2__Backfill_parents', NULL, 'app', now(), 1, true),
           (3, '2.1', 'Fill names', 'SPRING_JDBC', 'com.example.db.migration.V2_1__FillNames', NULL, 'app', now(), 1, true),
           (4, '3', 'posts', 'SQL', 'V3__posts.sql', {}, 'app', now(), 1, true)",
        crc("V1__users.sql"),
        crc("V3__posts.sql")
    ));
    let run = p.shale(&["adopt"]).ok();
    snapshot!("flyway_java_adopt", shown(&p, &run));
    snapshot!("flyway_java_status", shown(&p, &p.shale(&["status"]).ok()));
    let status = p.shale(&["status", "--json"]).ok().json();
    let java: Vec<(&str, &str, &str)> = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["java_class"].is_null())
        .map(|m| (m["version"].as_str().unwrap(), m["state"].as_str().unwrap(), m["java_class"].as_str().unwrap()))
        .collect();
    assert_eq!(
        java,
        [
            ("2", "applied", "com.example.db.migration.V2__Backfill_parents"),
            ("2.1", "applied", "com.example.db.migration.V2_1__FillNames")
        ],
        "{status}"
    );
    p.shale(&["validate"]).ok();
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"tags".to_string()));
    // Ported to SQL later: the file counts as applied here (the adopted row has no checksum).
    p.write("V2__Backfill_parents.sql", "UPDATE users SET id = id;\n");
    assert_eq!(p.states(), ["applied"; 5]);
}

/// sql-migrate's history kept in another schema (`migrate.SetSchema("convoy")`) while the files
/// name their schemas, or create their tables where the connection's path goes: no search_path to
/// set (breadth trial: convoy's note, followed, broke its call to pgcrypto in public).
#[test]
fn a_history_in_another_schema_says_no_search_path_where_the_tables_are_not_there() {
    let p = Project::new("adopt_named_schemas");
    p.write(
        "1_accounts.sql",
        "-- +migrate Up\nCREATE SCHEMA IF NOT EXISTS convoy;\nCREATE TABLE convoy.accounts (id bigint PRIMARY KEY);\n\
         CREATE TEMPORARY TABLE tmp_ids AS SELECT 1 AS id;\nDROP TABLE tmp_ids;\n-- +migrate Down\nDROP TABLE convoy.accounts;\n",
    );
    p.psql(
        "CREATE SCHEMA convoy; CREATE TABLE convoy.accounts (id bigint PRIMARY KEY);
         CREATE TABLE convoy.gorp_migrations (id varchar(255) NOT NULL PRIMARY KEY, applied_at timestamp with time zone);
         INSERT INTO convoy.gorp_migrations VALUES ('1_accounts.sql', now())",
    );
    let run = p.shale(&["adopt", "--dry-run"]).ok();
    assert!(!run.stdout.contains("search_path"), "{}{}", run.stdout, run.stderr);
    // Unqualified, the tables are where this connection's path goes: the tool ran with it.
    let q = Project::new("adopt_tables_on_path");
    q.write(
        "1_users.sql",
        "-- +migrate Up\nCREATE TABLE users (id bigint PRIMARY KEY);\n-- +migrate Down\nDROP TABLE users;\n",
    );
    q.psql(
        "CREATE SCHEMA ops; CREATE TABLE users (id bigint PRIMARY KEY);
         CREATE TABLE ops.gorp_migrations (id varchar(255) NOT NULL PRIMARY KEY, applied_at timestamp with time zone);
         INSERT INTO ops.gorp_migrations VALUES ('1_users.sql', now())",
    );
    let run = q.shale(&["adopt", "--dry-run"]).ok();
    assert!(!run.stdout.contains("search_path"), "{}{}", run.stdout, run.stderr);
}

/// Flyway with `flyway.schemas=app` keeps its history in app and runs every migration with
/// search_path = app. adopt says so and what to set; with that search_path, `up` creates the new
/// tables in app, beside the ones Flyway made.
#[test]
fn a_flyway_history_in_another_schema_names_the_search_path_to_set() {
    let p = Project::new("adopt_flyway_schema");
    p.write("V1__accounts.sql", "CREATE TABLE accounts (id bigint PRIMARY KEY);\n");
    p.write("V2__orders.sql", "CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts);\n");
    p.psql(
        "CREATE SCHEMA app; CREATE TABLE app.accounts (id bigint PRIMARY KEY);
         CREATE TABLE app.flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL);
         INSERT INTO app.flyway_schema_history VALUES (0, NULL, '<< Flyway Schema Creation >>', 'SCHEMA', '\"app\"', NULL, 'app', now(), 0, true), (1, '1', 'accounts', 'SQL', 'V1__accounts.sql', NULL, 'app', now(), 1, true)",
    );
    // What the note says to set: connected that way, adopt has nothing to add.
    let url = format!("{}&options=-csearch_path%3Dapp", p.db.url);
    let dry: Run = p.bare().args(["--database-url", &url, "adopt", "--dry-run"]).output().unwrap().into();
    assert!(dry.code == 0 && !dry.stdout.contains("note:"), "{}{}", dry.stdout, dry.stderr);
    let run = p.shale(&["adopt"]).ok();
    snapshot!("flyway_schema_adopt", shown(&p, &run));
    let up: Run = p.bare().args(["--database-url", &url, "up"]).output().unwrap().into();
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    assert_eq!(p.psql("SELECT to_regclass('app.orders') IS NOT NULL AND to_regclass('public.orders') IS NULL"), "t");
    // drift and diff replay the migrations with unqualified names landing in app too: built in
    // public, every table would be reported missing there and extra here.
    let drift: Run = p.bare().args(["--database-url", &url, "drift"]).output().unwrap().into();
    assert!(drift.code == 0 && drift.stdout.contains("no drift"), "{}{}", drift.stdout, drift.stderr);
    let diff: Run = p.bare().args(["--database-url", &url, "diff", "--exit-code"]).output().unwrap().into();
    assert_eq!(diff.code, 0, "{}{}", diff.stdout, diff.stderr);
    // A real difference is still one, named in app.
    p.psql("ALTER TABLE app.orders ADD COLUMN note text");
    let drift: Run = p.bare().args(["--database-url", &url, "drift"]).output().unwrap().into();
    assert!(drift.code == 1 && drift.stdout.contains("app.orders"), "{}{}", drift.stdout, drift.stderr);
}

#[test]
fn a_generated_down_and_check_against_build_where_unqualified_names_land() {
    let p = Project::new("home_schema_down");
    p.write("V1__accounts.sql", "CREATE TABLE accounts (id bigint PRIMARY KEY);\n");
    p.write("V2__orders.sql", "CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts);\n");
    // A table of the same name outside the schema the migrations land in.
    p.psql("CREATE SCHEMA app; CREATE TABLE public.orders (legacy text)");
    let url = format!("{}&options=-csearch_path%3Dapp", p.db.url);
    let shale = |args: &[&str]| -> Run { p.bare().args(["--database-url", &url]).args(args).output().unwrap().into() };
    let up = shale(&["up"]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    // Replayed in public, the down would drop public.orders (or fail for want of it).
    let down = shale(&["down", "--step", "1", "--generate", "--allow-destructive"]);
    assert_eq!(down.code, 0, "{}{}", down.stdout, down.stderr);
    assert!(down.stdout.contains("DROP TABLE app.orders"), "{}", down.stdout);
    assert_eq!(p.psql("SELECT to_regclass('app.orders') IS NULL AND to_regclass('public.orders') IS NOT NULL"), "t");
    p.psql("DROP TABLE public.orders");
    let up = shale(&["up"]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    // check --against compares what the migrations build there with the database as it is.
    let check = shale(&["check", "--against", &url]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    p.psql("ALTER TABLE app.orders ADD COLUMN note text");
    let check = shale(&["check", "--against", &url]);
    assert!(check.code == 1 && check.stdout.contains("differs in 1 object"), "{}{}", check.stdout, check.stderr);
}

/// Two tools' histories in one database (a golang-migrate project whose first migration made an
/// `alembic_version` table, as Harbor's does): status and up name both and ask which to take over,
/// instead of naming one and offering `adopt --nothing`, which would run every migration again.
#[test]
fn two_tools_histories_are_both_named_and_one_must_be_chosen() {
    let p = Project::new("adopt_two_histories");
    p.write("0010_a.up.sql", "CREATE TABLE a (id int);");
    p.write("0020_b.up.sql", "CREATE TABLE b (id int);");
    p.psql(
        "CREATE TABLE a (id int);
         CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (10, false);
         CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
         INSERT INTO alembic_version VALUES ('1.6.0');",
    );
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("more than one tool")
            && status.stderr.contains("golang-migrate (public.schema_migrations)")
            && status.stderr.contains("alembic (public.alembic_version)")
            && status.stderr.contains("`shale adopt --from golang-migrate`")
            && status.stderr.contains("`shale baseline --from-database`")
            && !status.stderr.contains("--nothing"),
        "{}",
        status.stderr
    );
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}{}", up.stdout, up.stderr);
    assert!(
        up.stderr.contains("more than one migration history")
            && up.stderr.contains("`shale adopt --from golang-migrate`"),
        "{}",
        up.stderr
    );
    assert_eq!(p.psql("SELECT to_regclass('b') IS NULL"), "t", "nothing ran");
    p.shale(&["adopt", "--from", "golang-migrate"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('b') IS NOT NULL"), "t");
}

/// A table with a tool's name that the migrations create themselves (Harbor's first migration
/// makes an `alembic_version`) is the application's, not a history: plain `adopt` takes over the
/// one history there is, and status names only it.
#[test]
fn a_tool_s_table_the_migrations_create_is_not_a_history() {
    let p = Project::new("adopt_own_alembic");
    p.write(
        "0010_a.up.sql",
        "CREATE TABLE a (id int);\nCREATE TABLE IF NOT EXISTS alembic_version (version_num varchar(32) PRIMARY KEY);",
    );
    p.write("0020_b.up.sql", "CREATE TABLE b (id int);");
    p.psql(
        "CREATE TABLE a (id int);
         CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
         INSERT INTO alembic_version VALUES ('1.6.0');
         CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (10, false);",
    );
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("migrated by golang-migrate") && !status.stderr.contains("alembic"),
        "{}",
        status.stderr
    );
    p.shale(&["adopt"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('b') IS NOT NULL"), "t");
}

/// The URL a golang-migrate deployment passes as `-database`: pgx's scheme, golang-migrate's own
/// `x-` settings and a search_path for the server. shale reads it as it is, and the migrations'
/// tables land in the schema its search_path names.
#[test]
fn golang_migrate_s_database_url() {
    let p = Project::new("adopt_gm_url");
    p.write("0001_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    p.write("0001_users.down.sql", "DROP TABLE users;\n");
    p.psql("CREATE SCHEMA app");
    let base = p.db.url.replacen("postgresql://", "pgx5://", 1);
    let url = format!(
        "{base}{}x-migrations-table=schema_migrations&x-multi-statement=true&search_path=app,public",
        if base.contains('?') { '&' } else { '?' }
    );
    let mut cmd = p.bare();
    cmd.arg("--database-url").arg(&url).arg("up");
    Run::of(cmd).ok();
    assert_eq!(p.psql("SELECT to_regclass('app.users') IS NOT NULL AND to_regclass('public.users') IS NULL"), "t");
}

/// A long history taken over is shown by its ends, with how many are between (trigger.dev's 820
/// Prisma folders were 820 lines); `--json` lists every one.
#[test]
fn a_long_adoption_is_shown_by_its_ends() {
    let p = Project::new("adopt_long");
    for n in 1..=25 {
        p.write(&format!("{n:04}_t{n}.up.sql"), &format!("CREATE TABLE t{n} (id int);\n"));
    }
    let tables: String = (1..=25).map(|n| format!("CREATE TABLE t{n} (id int);")).collect();
    p.psql(&format!("{tables} CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (25, false)"));
    let dry = p.shale(&["adopt", "--dry-run"]).ok();
    assert!(
        dry.stdout.contains("  0005 t5 (0005_t5.up.sql)\n  ... 15 more (`shale status` lists them all)\n  0021 t21"),
        "{}",
        dry.stdout
    );
    let json = p.shale(&["adopt", "--dry-run", "--json"]).ok().json();
    assert_eq!(json["adopted"].as_array().unwrap().len(), 25, "{json}");
}

/// shale's history in another schema than this run looks in (`history_schema` set since, or a
/// run without shale.toml): status, adopt and up say where it is, where adopt started a second
/// history beside it (Hasura re-check).
#[test]
fn shale_s_history_in_another_schema_is_named() {
    let p = Project::new("adopt_history_elsewhere");
    p.write("001_t.sql", "CREATE TABLE t (id int);\n");
    std::fs::write(p.path().join("shale.toml"), "history_schema = \"shale\"\n").unwrap();
    p.shale(&["up"]).ok();
    std::fs::remove_file(p.path().join("shale.toml")).unwrap();
    // (`repair` and `down` too: each would make the history it writes to; re-check.)
    p.write("001_t.down.sql", "DROP TABLE t;\n");
    for args in [
        &["status"][..],
        &["adopt", "--nothing"],
        &["up"],
        &["repair", "1", "--applied", "--reason", "x"],
        &["down", "--step", "1"],
    ] {
        let run = p.shale(args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("shale's history in this database is in schema shale")
                && run.stderr.contains("history_schema = \"shale\""),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(p.psql("SELECT to_regclass('public.shale_migrations') IS NULL"), "t", "no second history");
    // A migration that can run twice (IF NOT EXISTS): `up` is stopped all the same (review: it ran).
    p.write("002_u.sql", "CREATE TABLE IF NOT EXISTS u (id int);\n");
    std::fs::write(p.path().join("shale.toml"), "history_schema = \"shale\"\n").unwrap();
    p.shale(&["up"]).ok();
    std::fs::remove_file(p.path().join("shale.toml")).unwrap();
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}{}", up.stdout, up.stderr);
    // Schemas kept apart on purpose, neither of them public (an environment each): not one lost.
    std::fs::write(p.path().join("shale.toml"), "history_schema = \"staging\"\n").unwrap();
    p.psql("CREATE SCHEMA staging");
    p.shale(&["status"]).ok();
    std::fs::remove_file(p.path().join("shale.toml")).unwrap();
    // Another application's migrations, their history kept apart: that history is not theirs.
    std::fs::create_dir_all(p.path().join("other")).unwrap();
    std::fs::write(p.path().join("other/001_x.sql"), "CREATE TABLE x (id int);\n").unwrap();
    p.shale(&["--dir", "other", "status"]).ok();
}

/// Two Django projects in one database, a schema each: the baseline of the one on the search
/// path watches its history, though the baseline makes the other's table of the same name
/// (round 4: `CREATE TABLE b.django_migrations` in the baseline made `a.django_migrations` count
/// as a table the migrations create, and it went unwatched).
#[test]
fn a_history_of_the_same_name_in_another_schema_does_not_hide_this_one() {
    let p = Project::new("adopt_two_django_schemas");
    let history = "(id bigserial PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied timestamptz NOT NULL)";
    p.psql(&format!(
        "CREATE SCHEMA a; CREATE SCHEMA b;
         CREATE TABLE a.django_migrations {history}; CREATE TABLE b.django_migrations {history};
         INSERT INTO a.django_migrations (app, name, applied) VALUES ('shop', '0001_initial', now());
         INSERT INTO b.django_migrations (app, name, applied) VALUES ('blog', '0001_initial', now());
         CREATE TABLE a.shop_order (id int PRIMARY KEY)"
    ));
    std::fs::create_dir_all(p.migrations()).unwrap();
    let url = format!("{}&options=-csearch_path%3Da", p.db.url);
    let shale = |args: &[&str]| -> Run { p.bare().arg("--database-url").arg(&url).args(args).output().unwrap().into() };
    let baseline = shale(&["baseline", "--from-database"]);
    assert_eq!(baseline.code, 0, "{}", baseline.stderr);
    p.psql("INSERT INTO a.django_migrations (app, name, applied) VALUES ('shop', '0002_more', now())");
    let status = shale(&["status"]);
    assert!(
        status.stderr.contains("django's history (a.django_migrations) has changed since the baseline"),
        "{}",
        status.stderr
    );
}

/// A database yoyo migrated: its history is found (yoyo trial: not seen, `up` ran every migration
/// again, its seed rows twice), `up` refuses, and the database starts from its live schema with
/// yoyo's four tables left out; yoyo migrating after that is warned about.
#[test]
fn a_database_yoyo_migrated_starts_from_its_live_schema() {
    let p = Project::new("adopt_yoyo");
    p.psql(
        "CREATE TABLE customers (id serial PRIMARY KEY, name text);
         CREATE TABLE _yoyo_migration (migration_hash varchar(64) PRIMARY KEY, migration_id varchar(255), applied_at_utc timestamp);
         CREATE TABLE _yoyo_log (id uuid PRIMARY KEY, migration_hash varchar(64), migration_id varchar(255), operation varchar(10), username varchar(255), hostname varchar(255), comment varchar(255), created_at_utc timestamp);
         CREATE TABLE _yoyo_version (version int PRIMARY KEY, installed_at_utc timestamp);
         CREATE TABLE yoyo_lock (locked int PRIMARY KEY, ctime timestamp, pid int);
         INSERT INTO _yoyo_migration VALUES (encode(sha256('0001.customers'), 'hex'), '0001.customers', now())",
    );
    std::fs::create_dir_all(p.migrations()).unwrap();
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("migrated by yoyo (public._yoyo_migration is its history)"), "{}", status.stderr);
    p.write("0001_orders.sql", "CREATE TABLE IF NOT EXISTS customers (id serial PRIMARY KEY, name text);\n");
    assert_eq!(p.shale(&["up"]).code, 2);
    std::fs::remove_file(p.migrations().join("0001_orders.sql")).unwrap();
    let baseline = p.shale(&["baseline", "--from-database"]).ok();
    assert!(
        baseline.stderr.contains(
            "public._yoyo_migration, public._yoyo_log, public._yoyo_version and public.yoyo_lock (yoyo's history) are left out"
        ),
        "{}",
        baseline.stderr
    );
    let file = std::fs::read_to_string(p.migrations().join("0001_baseline.sql")).unwrap();
    assert!(file.contains("CREATE TABLE public.customers") && !file.contains("yoyo"), "{file}");
    p.psql("INSERT INTO _yoyo_migration VALUES ('x', '0002.phone', now()); ALTER TABLE customers ADD phone text");
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("yoyo's history (public._yoyo_migration) has changed since the baseline"),
        "{}",
        status.stderr
    );
}

/// Postgrator's `001.do.name.sql` / `001.undo.name.sql` and its `schemaversion` (its row 0 left
/// out), and db-migrate's `sqls/VERSION-name-up.sql` / `-down.sql` and its `migrations` of `/name`
/// rows, each recognized and taken over; `shale new` writes their files as they do (trials: both
/// unknown, Postgrator's history called dbmate's, db-migrate's node-pg-migrate's, its rows naming
/// no file, and a seed row inserted twice). A table named with `--from` and `--table` must be that
/// tool's (trial: `--from tern` read Postgrator's as empty, and `up` ran every migration again).
#[test]
fn postgrator_and_db_migrate_histories_are_taken_over() {
    let p = Project::new("adopt_postgrator");
    let first = "CREATE TABLE package (id serial PRIMARY KEY, name text);\n";
    let second = "INSERT INTO package (name) VALUES ('vue');\n";
    p.write("001.do.create-package.sql", first);
    p.write("001.undo.create-package.sql", "DROP TABLE package;\n");
    p.write("002.do.sql", second);
    // Its MD5 of each file, as Postgrator records it (of a CRLF checkout for the second: its
    // `newline` option, or Windows).
    let md5 = shale_core::adopt::md5_hex;
    p.psql(&format!(
        "CREATE TABLE schemaversion (version bigint PRIMARY KEY, name text, md5 text, run_at timestamptz);
         INSERT INTO schemaversion VALUES (0, '', '', now()), (1, 'create-package', '{}', now()), (2, '', '{}', now());
         CREATE TABLE package (id serial PRIMARY KEY, name text); INSERT INTO package (name) VALUES ('vue');",
        md5(first),
        md5(&second.replace('\n', "\r\n"))
    ));
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("migrated by postgrator (public.schemaversion is its history)"),
        "{}",
        status.stderr
    );
    let wrong = p.shale(&["adopt", "--from", "tern", "--table", "schemaversion"]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("public.schemaversion is not tern's history: its columns are version, name, md5, run_at")
            && wrong.stderr.contains("`--from postgrator`"),
        "{}",
        wrong.stderr
    );
    // A file changed since Postgrator ran it is refused, as Postgrator refuses it.
    p.write("002.do.sql", "INSERT INTO package (name) VALUES ('react');\n");
    let changed = p.shale(&["adopt", "--dry-run"]);
    assert_eq!(changed.code, 2, "{}", changed.stderr);
    assert!(changed.stderr.contains("changed after postgrator applied"), "{}", changed.stderr);
    p.write("002.do.sql", second);
    let adopt = p.shale(&["adopt"]).ok();
    assert!(adopt.stdout.contains("recorded 2 migration(s) as applied, adopted from postgrator"), "{}", adopt.stdout);
    assert!(p.shale(&["up"]).ok().stdout.contains("nothing to apply"));
    assert_eq!(p.psql("SELECT count(*) FROM package"), "1");
    p.shale(&["new", "add_flag", "--reversible"]).ok();
    assert!(
        p.migrations().join("003.do.add_flag.sql").exists() && p.migrations().join("003.undo.add_flag.sql").exists()
    );
    p.write("003.do.add_flag.sql", "ALTER TABLE package ADD COLUMN flag boolean;\n");
    p.write("003.undo.add_flag.sql", "ALTER TABLE package DROP COLUMN flag;\n");
    p.shale(&["up"]).ok();
    p.shale(&["down", "--step", "1"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'package'"), "2");

    let d = Project::new("adopt_db_migrate");
    d.write("20250101000001-create-users.js", "module.exports = {};\n");
    d.write("sqls/20250101000001-create-users-up.sql", "CREATE TABLE users (id serial PRIMARY KEY, email text);\n");
    d.write("sqls/20250101000001-create-users-down.sql", "DROP TABLE users;\n");
    d.write("sqls/20250101000002-seed-admin-up.sql", "INSERT INTO users (email) VALUES ('admin');\n");
    d.write("sqls/20250101000002-seed-admin-down.sql", "DELETE FROM users WHERE email = 'admin';\n");
    d.psql(
        "CREATE TABLE migrations (id serial PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
         INSERT INTO migrations (name, run_on) VALUES ('/20250101000001-create-users', now()), ('/20250101000002-seed-admin', now());
         CREATE TABLE users (id serial PRIMARY KEY, email text); INSERT INTO users (email) VALUES ('admin');",
    );
    let status = d.shale(&["status"]).ok();
    assert!(status.stderr.contains("migrated by db-migrate (public.migrations is its history)"), "{}", status.stderr);
    let adopt = d.shale(&["adopt"]).ok();
    assert!(
        adopt.stdout.contains("adopted from db-migrate") && adopt.stdout.contains("`db-migrate up`"),
        "{}",
        adopt.stdout
    );
    assert!(d.shale(&["up"]).ok().stdout.contains("nothing to apply"));
    assert_eq!(d.psql("SELECT count(*) FROM users"), "1");
    let new = d.shale(&["new", "add_flag"]).ok();
    assert!(new.stdout.contains("sqls/") && new.stdout.contains("-add-flag-up.sql"), "{}", new.stdout);
    assert!(new.stdout.contains("-add-flag-down.sql"), "{}", new.stdout);

    // Under a name of its own (`--migrations-table dbm_log`): found by its rows naming the SQL
    // files, as db-migrate's (re-check: not found, and `up` ran its migrations again); named with
    // `--from db-migrate --table`, taken as its (re-check: refused as node-pg-migrate's columns).
    let r = Project::new("adopt_db_migrate_renamed");
    r.copy_from(
        &d,
        &[
            "20250101000001-create-users.js",
            "sqls/20250101000001-create-users-up.sql",
            "sqls/20250101000001-create-users-down.sql",
            "sqls/20250101000002-seed-admin-up.sql",
            "sqls/20250101000002-seed-admin-down.sql",
        ],
    );
    r.psql(
        "CREATE TABLE dbm_log (id serial PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
         INSERT INTO dbm_log (name, run_on) VALUES ('/20250101000001-create-users', now()), ('/20250101000002-seed-admin', now());
         CREATE TABLE users (id serial PRIMARY KEY, email text); INSERT INTO users (email) VALUES ('admin');",
    );
    let up = r.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("db-migrate"), "{}", up.stderr);
    assert_eq!(r.psql("SELECT count(*) FROM users"), "1", "nothing ran again");
    r.shale(&["adopt", "--from", "db-migrate", "--table", "dbm_log", "--dry-run"]).ok();
    // `--dir` at `sqls/` itself: its pairs are not read as pairs there, and the advice says where
    // they are (review: "give one of them the next free version" would run a down as an up).
    let sqls = d.migrations().join("sqls");
    let flat = d.shale(&["--dir", sqls.to_str().unwrap(), "status"]);
    assert_eq!(flat.code, 2, "{}", flat.stderr);
    assert!(flat.stderr.contains("point --dir at the folder that holds `sqls/`"), "{}", flat.stderr);
    // A shale project's own `0003_scale-down.sql` is no db-migrate down (review: given that advice).
    let own = Project::new("db_migrate_hint_scale_down");
    own.write("0003_scale-down.sql", "SELECT 1;\n");
    own.write("0003_add_index.sql", "SELECT 1;\n");
    let twins = own.shale(&["status"]);
    assert_eq!(twins.code, 2, "{}", twins.stderr);
    assert!(
        twins.stderr.contains("give one of them the next free version") && !twins.stderr.contains("sqls"),
        "{}",
        twins.stderr
    );
    // Postgrator's history named as dbmate's (whose rule asks only for a `version`): refused.
    let wrong = p.shale(&["adopt", "--from", "dbmate", "--table", "schemaversion", "--dry-run"]);
    assert_ne!(wrong.code, 0, "{}", wrong.stderr);
}

/// A migration in code with an old name that came after the baseline (a branch written before the
/// switch, merged since): not among the files the baseline listed, so the old tool never ran it
/// here, and `up` stops before it, as for one written after the switch (Rails trial: a late `.rb`
/// passed over, and `validate` said all was valid).
#[test]
fn a_code_migration_merged_after_the_baseline_stops_up() {
    let p = Project::new("adopt_late_module");
    p.write("1700000000000_users.js", "exports.up = (pgm) => { pgm.createTable('users', { id: 'id' }); };\n");
    p.psql(
        "CREATE TABLE users (id serial PRIMARY KEY);
         CREATE TABLE pgmigrations (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
         INSERT INTO pgmigrations (name, run_on) VALUES ('1700000000000_users', now())",
    );
    p.shale(&["baseline", "--from-database"]).ok();
    assert!(p.shale(&["up"]).ok().stdout.contains("nothing to apply"));
    p.write("1700000000500_add-flag.js", "exports.up = (pgm) => { pgm.addColumn('users', { flag: 'boolean' }); };\n");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("1700000000500_add-flag.js: migration 1700000000500 is written in JavaScript"),
        "{}",
        up.stderr
    );
    assert_eq!(p.shale(&["validate"]).code, 1);
}

/// A code tool's history under a name shale does not find by itself, named with `--table`: adopt
/// names the baseline that leaves it out with `--table`, and that baseline leaves it out and
/// watches it (review: the advice's baseline wrote `CREATE TABLE app_hist`, and Kysely migrating
/// after the switch went unseen).
#[test]
fn a_history_named_with_table_is_left_out_of_the_baseline_and_watched() {
    let p = Project::new("adopt_named_history");
    p.psql(
        "CREATE TABLE users (id bigint PRIMARY KEY);
         CREATE TABLE app_hist (name varchar(255) PRIMARY KEY, timestamp varchar(255) NOT NULL);
         INSERT INTO app_hist VALUES ('2024_01_01_users', '2024-01-01T00:00:00.000Z')",
    );
    std::fs::create_dir_all(p.migrations()).unwrap();
    let adopt = p.shale(&["adopt", "--table", "app_hist", "--dry-run"]);
    assert_eq!(adopt.code, 2, "{}", adopt.stderr);
    assert!(adopt.stderr.contains("`shale baseline --from-database --table public.app_hist`"), "{}", adopt.stderr);
    p.shale(&["baseline", "--from-database", "--table", "public.app_hist"]).ok();
    let baseline = std::fs::read_dir(p.migrations()).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(baseline).unwrap();
    assert!(text.contains("CREATE TABLE public.users") && !text.contains("app_hist"), "{text}");
    p.psql("INSERT INTO app_hist VALUES ('2024_02_01_more', '2024-02-01T00:00:00.000Z')");
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("kysely's history (public.app_hist) has changed since the baseline"),
        "{}",
        status.stderr
    );
    // A name that is no table is said so, and nothing is written.
    let q = Project::new("adopt_named_history_none");
    q.psql("CREATE TABLE users (id bigint PRIMARY KEY)");
    std::fs::create_dir_all(q.migrations()).unwrap();
    let none = q.shale(&["baseline", "--from-database", "--table", "nope"]);
    assert_ne!(none.code, 0, "{}", none.stderr);
    assert_eq!(std::fs::read_dir(q.migrations()).unwrap().count(), 0);
}

/// `baseline VERSION --table NAME`: the named history, of columns no tool shale knows has, is left
/// out of the check that the database is what the migrations build, as the baseline then leaves
/// it out (review: its table, sequence and key were listed as differences refusing the baseline).
#[test]
fn a_history_named_with_table_is_left_out_of_the_baseline_check() {
    let p = Project::new("baseline_named_check");
    p.write("0001_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n");
    p.psql(
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
         CREATE TABLE mig_history (id serial PRIMARY KEY, name text, run_on timestamptz DEFAULT now());
         INSERT INTO mig_history (name) VALUES ('001-users')",
    );
    let unnamed = p.shale(&["baseline", "0001"]);
    assert_eq!(unnamed.code, 2, "{}", unnamed.stderr);
    assert!(unnamed.stderr.contains("table public.mig_history"), "{}", unnamed.stderr);
    let named = p.shale(&["baseline", "0001", "--table", "mig_history"]).ok();
    assert!(named.stderr.contains("public.mig_history (another tool's history) is left out"), "{}", named.stderr);
    assert_eq!(p.states(), ["baseline"]);
    let drift = p.shale(&["drift"]).ok();
    assert!(drift.stdout.contains("no drift"), "{}", drift.stdout);
}

/// MikroORM's history under its `migrations.tableName` is found by its columns where the name says
/// it holds migrations, and left out of the baseline (MikroORM trial: written into it).
#[test]
fn mikro_orm_s_history_under_another_name_is_found() {
    let p = Project::new("adopt_mikro_renamed");
    p.psql(
        "CREATE TABLE users (id bigint PRIMARY KEY);
         CREATE TABLE app_migrations (id serial PRIMARY KEY, name varchar(255), executed_at timestamptz DEFAULT now());
         INSERT INTO app_migrations (name) VALUES ('Migration20240101000000')",
    );
    std::fs::create_dir_all(p.migrations()).unwrap();
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("mikro-orm (public.app_migrations"), "{}", status.stderr);
    p.shale(&["baseline", "--from-database"]).ok();
    let baseline = std::fs::read_dir(p.migrations()).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(baseline).unwrap();
    assert!(!text.contains("app_migrations"), "{text}");
}

/// A migration in code the old tool has not run here (a Rails `.rb` still pending: `rails
/// db:migrate` not run since it was merged) refuses `baseline --from-database`, which would count
/// it as run and leave its work undone everywhere (Rails re-check: its views were never made).
#[test]
fn a_baseline_refuses_a_code_migration_the_old_tool_has_not_run() {
    let p = Project::new("adopt_rails_pending");
    p.write("20240101000000_create_users.rb", "class CreateUsers < ActiveRecord::Migration[6.1]; end\n");
    p.write("20240102000000_create_stats.rb", "class CreateStats < ActiveRecord::Migration[6.1]; end\n");
    p.psql(
        "CREATE TABLE users (id bigint PRIMARY KEY);
         CREATE TABLE schema_migrations (version varchar PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000');
         CREATE TABLE ar_internal_metadata (key varchar PRIMARY KEY, value varchar)",
    );
    let refused = p.shale(&["baseline", "--from-database"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("rails's history (public.schema_migrations) does not record")
            && refused.stderr.contains("20240102000000_create_stats.rb"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("20240101000000_create_users.rb"), "{}", refused.stderr);
    p.psql("INSERT INTO schema_migrations VALUES ('20240102000000')");
    p.shale(&["baseline", "--from-database"]).ok();
}

/// A baseline given a version below what the old tool applied: the migration above it that the
/// tool's history records is refused, the history unchanged since or not (review: a seed ran
/// twice once only a changed history was looked at). TypeORM's rows (its class, the name then the
/// time) name its files too, for the baseline's check of migrations it has not run.
#[test]
fn a_baseline_below_what_the_old_tool_applied_does_not_run_it_again() {
    let p = Project::new("adopt_baseline_too_low");
    p.write(
        "20240101000001_create_plans.sql",
        "-- migrate:up\nCREATE TABLE plans (id serial PRIMARY KEY, name text);\n",
    );
    p.write("20240101000002_seed_plans.sql", "-- migrate:up\nINSERT INTO plans (name) VALUES ('free');\n");
    p.psql(
        "CREATE TABLE plans (id serial PRIMARY KEY, name text); INSERT INTO plans (name) VALUES ('free');
         CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
         INSERT INTO schema_migrations VALUES ('20240101000001'), ('20240101000002')",
    );
    p.shale(&["baseline", "20240101000001", "--force", "--reason", "too low"]).ok();
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("dbmate applied 20240101000002 seed_plans"), "{}", up.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM plans"), "1");

    let t = Project::new("adopt_typeorm_pending");
    t.write("1700000000000-CreateUsers.ts", "export class CreateUsers1700000000000 {}\n");
    t.write("1700000000001-AddEmail.ts", "export class AddEmail1700000000001 {}\n");
    t.psql(
        "CREATE TABLE users (id int PRIMARY KEY);
         CREATE TABLE migrations (id serial PRIMARY KEY, timestamp bigint NOT NULL, name varchar NOT NULL);
         INSERT INTO migrations (timestamp, name) VALUES (1700000000000, 'CreateUsers1700000000000')",
    );
    let refused = t.shale(&["baseline", "--from-database"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("1700000000001-AddEmail.ts"), "{}", refused.stderr);
}

/// A role that may not read the adopted tool's history is refused, and told to grant SELECT on
/// that table (review: the hint named shale's own history schema).
#[test]
fn an_unreadable_adopted_history_asks_for_select_on_it() {
    let p = Project::new("adopt_unreadable");
    p.write("20240101000000_users.sql", "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY);\n");
    p.psql("CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE schema_migrations (version varchar PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000')");
    p.shale(&["adopt"]).ok();
    p.psql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'adopt_unreadable_deploy') THEN \
         CREATE ROLE adopt_unreadable_deploy LOGIN; END IF; END $$;
         GRANT ALL ON SCHEMA public TO adopt_unreadable_deploy;
         GRANT ALL ON ALL TABLES IN SCHEMA public TO adopt_unreadable_deploy;
         GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO adopt_unreadable_deploy;
         REVOKE ALL ON schema_migrations FROM adopt_unreadable_deploy;",
    );
    p.write("20240201000000_more.sql", "-- migrate:up\nCREATE TABLE more (id int);\n");
    let deploy = p.db.url.replacen("postgres@", "adopt_unreadable_deploy@", 1);
    let run = finish(p.spawn_via(&deploy, &["up"]));
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("needs SELECT on that tool's history table"), "{}", run.stderr);
    assert_eq!(p.psql("SELECT to_regclass('more') IS NULL"), "t", "nothing ran");
}

/// postgres-migrations' history (`migrations (id, name, hash, executed_at)`): recognized, taken
/// over by number (its `.js` migration as code it ran), a file changed since it ran refused as it
/// refuses it, and what it applies after the switch refused (trial: not recognized, and `up` ran
/// every migration again, a seed row twice).
#[test]
fn postgres_migrations_history_is_taken_over() {
    let p = Project::new("adopt_postgres_migrations");
    let users = "CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, name text);\n";
    let seed = "INSERT INTO users VALUES (1, 'admin');\n";
    p.write("1_create-users.sql", users);
    p.write("2_seed-admin.sql", seed);
    std::fs::write(
        p.migrations().join("3_add-tags.js"),
        "module.exports.generateSql = () => 'CREATE TABLE tags (id int)';\n",
    )
    .unwrap();
    p.write("4_add-email.sql", "ALTER TABLE users ADD COLUMN email text;\n");
    let hash = |file: &str, text: &str| shale_core::adopt::postgres_migrations_hash(file, text);
    p.psql(&format!(
        "{users}{seed}CREATE TABLE tags (id int);
         CREATE TABLE migrations (id integer PRIMARY KEY, name varchar(100) UNIQUE NOT NULL, hash varchar(40) NOT NULL,
             executed_at timestamp DEFAULT current_timestamp);
         INSERT INTO migrations (id, name, hash) VALUES (0, 'create-migrations-table', 'x'), (1, 'create-users', '{}'),
             (2, 'seed-admin', '{}'), (3, 'add-tags', 'y');",
        hash("1_create-users.sql", users),
        hash("2_seed-admin.sql", seed)
    ));
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("migrated by postgres-migrations (public.migrations is its history)"),
        "{}",
        status.stderr
    );
    assert_eq!(p.shale(&["up"]).code, 2, "refused before the history is taken over");
    // A file changed since it ran is refused, as postgres-migrations refuses it.
    p.write("2_seed-admin.sql", "INSERT INTO users VALUES (1, 'root');\n");
    let changed = p.shale(&["adopt", "--dry-run"]);
    assert_eq!(changed.code, 2, "{}", changed.stderr);
    assert!(
        changed.stderr.contains("2_seed-admin.sql changed after postgres-migrations applied migration 2"),
        "{}",
        changed.stderr
    );
    p.write("2_seed-admin.sql", seed);
    p.shale(&["adopt"]).ok();
    let up = p.shale(&["up"]).ok();
    assert!(
        up.stderr.contains("applied 1 migration(s)") || up.stdout.contains("applied 1 migration(s)"),
        "{}{}",
        up.stdout,
        up.stderr
    );
    assert_eq!(p.psql("SELECT count(*) FROM users"), "1", "the seed ran once");
    // The application's migrate() runs a teammate's file after the switch: refused, not run again.
    let audit = "CREATE TABLE IF NOT EXISTS audit (id int);\nINSERT INTO audit VALUES (5);\n";
    p.write("5_audit.sql", audit);
    p.psql(&format!(
        "{audit}INSERT INTO migrations (id, name, hash) VALUES (5, 'audit', '{}')",
        hash("5_audit.sql", audit)
    ));
    let again = p.shale(&["up"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("postgres-migrations applied 5 audit"), "{}", again.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM audit"), "1");
}

/// Yandex pgmigrate's history (`schema_version (version, description, type, installed_by,
/// installed_on)`): recognized apart from tern's and Flyway's tables of that name, taken over, its
/// `manual` row (its `baseline`) counting every version up to it, its enum left out with it, and
/// its `__NONTRANSACTIONAL` files run outside a transaction (trial: not recognized, `up` ran every
/// migration again, and `--from dbmate` took its table).
#[test]
fn pgmigrate_history_is_taken_over() {
    let history = "CREATE TYPE schema_version_type AS ENUM ('auto', 'manual');
         CREATE TABLE schema_version (version bigint PRIMARY KEY, description text NOT NULL,
             type schema_version_type NOT NULL DEFAULT 'auto', installed_by text NOT NULL DEFAULT current_user,
             installed_on timestamp without time zone NOT NULL DEFAULT now());";
    let files = |p: &Project| {
        p.write("V0001__initial.sql", "CREATE TABLE IF NOT EXISTS ops (id int);\nINSERT INTO ops VALUES (1);\n");
        p.write("V0002__state.sql", "CREATE TYPE state AS ENUM ('new');\nCREATE TABLE job (id int, s state);\n");
        p.write(
            "V0003__NONTRANSACTIONAL_archived.sql",
            "ALTER TYPE state ADD VALUE 'archived';\nUPDATE job SET s = 'archived';\n",
        );
        p.write("V0004__more.sql", "CREATE TABLE more (id int);\n");
    };
    let built = "CREATE TABLE ops (id int); INSERT INTO ops VALUES (1);
         CREATE TYPE state AS ENUM ('new', 'archived'); CREATE TABLE job (id int, s state);";
    for (case, rows) in [
        ("auto", "(1, 'initial', 'auto'), (2, 'state', 'auto'), (3, 'NONTRANSACTIONAL archived', 'auto')"),
        // `pgmigrate -b 3 baseline`: the rows below it deleted.
        ("baseline", "(3, 'NONTRANSACTIONAL archived', 'manual')"),
    ] {
        let p = Project::new(&format!("adopt_pgmigrate_{case}"));
        files(&p);
        p.psql(&format!("{history} {built} INSERT INTO schema_version (version, description, type) VALUES {rows};"));
        let status = p.shale(&["status"]).ok();
        assert!(
            status.stderr.contains("migrated by pgmigrate (public.schema_version is its history)"),
            "{}",
            status.stderr
        );
        let wrong = p.shale(&["adopt", "--from", "dbmate", "--table", "schema_version", "--dry-run"]);
        assert_ne!(wrong.code, 0, "{case}: {}", wrong.stderr);
        p.shale(&["adopt"]).ok();
        p.shale(&["up"]).ok();
        assert_eq!(p.psql("SELECT count(*) FROM ops"), "1", "{case}: nothing ran again");
        assert_eq!(p.psql("SELECT to_regclass('more') IS NOT NULL"), "t", "{case}");
        // pgmigrate's enum goes with its table (trial: drift counted it for good).
        let dev = shale_testkit::shared_cluster().url("postgres");
        let drift = p.shale(&["drift", "--dev-url", &dev]).ok();
        assert!(drift.stdout.contains("no drift"), "{case}: {}{}", drift.stdout, drift.stderr);
        if case != "auto" {
            continue;
        }
        // `pgmigrate -b 6 baseline` after the switch (its rows deleted, a `manual` one written)
        // marks 5 and 6 applied, running nothing, and its `migrate -t 8` then runs 7 and 8: `up`
        // says those it ran first, then those it marked, whose way out runs them (review: the
        // advice was to record them all as applied).
        for (v, name) in [(5, "five"), (6, "six"), (7, "seven"), (8, "eight")] {
            p.write(&format!("V000{v}__{name}.sql"), &format!("CREATE TABLE {name} (id int);\n"));
        }
        p.psql(
            "DELETE FROM schema_version;
             INSERT INTO schema_version (version, description, type, installed_on) VALUES
                 (6, 'six', 'manual', now() AT TIME ZONE 'UTC' + interval '1 minute'),
                 (7, 'seven', 'auto', now() AT TIME ZONE 'UTC' + interval '1 minute'),
                 (8, 'eight', 'auto', now() AT TIME ZONE 'UTC' + interval '1 minute');
             CREATE TABLE seven (id int); CREATE TABLE eight (id int);",
        );
        let up = p.shale(&["up"]);
        assert_eq!(up.code, 2, "{}", up.stderr);
        assert!(up.stderr.contains("pgmigrate applied 0007 seven, 0008 eight since"), "{}", up.stderr);
        // `status` says them as `up` does (re-check: it listed the marked ones as applied too).
        let status = p.shale(&["status"]).ok();
        assert!(
            status.stderr.contains("pgmigrate applied 0007 seven, 0008 eight since")
                && !status.stderr.contains("0005 five"),
            "{}",
            status.stderr
        );
        for v in ["0007", "0008"] {
            p.shale(&["repair", v, "--applied", "--reason", "pgmigrate ran it"]).ok();
        }
        // (Below 7 and 8 now, they are out of order.)
        let up = p.shale(&["up", "--allow-out-of-order"]);
        assert_eq!(up.code, 2, "{}", up.stderr);
        assert!(
            up.stderr.contains("pgmigrate marked 0005 five, 0006 six since shale took its history over")
                && up.stderr.contains("by a baseline row for version 6")
                && up.stderr.contains("drop its table (`DROP TABLE public.schema_version`"),
            "{}",
            up.stderr
        );
        let status = p.shale(&["status", "--json"]).ok().json();
        assert_eq!(status["applied_by_the_other_tool"]["marked_by_baseline"], "6", "{status}");
        p.psql("DROP TABLE schema_version; DROP TYPE schema_version_type");
        p.shale(&["up", "--allow-out-of-order"]).ok();
        assert_eq!(p.psql("SELECT to_regclass('six') IS NOT NULL"), "t");
    }
    // On a new database, the __NONTRANSACTIONAL file runs outside a transaction, as pgmigrate runs it.
    let fresh = Project::new("adopt_pgmigrate_fresh");
    files(&fresh);
    let dry = fresh.shale(&["up", "--dry-run"]).ok();
    assert!(
        dry.stderr.contains("says `NONTRANSACTIONAL`") || dry.stdout.contains("says `NONTRANSACTIONAL`"),
        "{}{}",
        dry.stdout,
        dry.stderr
    );
    fresh.shale(&["up"]).ok();
    // `shale new` pads as they are padded (trial: `V8__` beside `V0007__`).
    fresh.shale(&["new", "add_widgets"]).ok();
    assert!(fresh.migrations().join("V0005__add_widgets.sql").is_file());
}

/// A database with tables and no history shale knows: `status` says to start from a baseline of
/// it (peewee and SeaORM trials: nothing said, and a migration applied on top of it); once shale
/// has its history, nothing.
#[test]
fn status_says_where_tables_have_no_history() {
    let p = Project::new("status_tables_without_history");
    p.psql(
        "CREATE TABLE post (id int); CREATE TABLE author (id int); CREATE TABLE tag (id int); CREATE TABLE x (id int)",
    );
    std::fs::create_dir_all(p.migrations()).unwrap();
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("this database holds 4 table(s) (public.author, public.post, public.tag, and 1 more)")
            && status.stderr.contains("`shale baseline --from-database`"),
        "{}",
        status.stderr
    );
    assert_eq!(p.shale(&["status", "--json"]).ok().json()["tables_without_history"]["count"], 4);
    p.shale(&["baseline", "--from-database"]).ok();
    let status = p.shale(&["status"]).ok();
    assert!(!status.stderr.contains("no migration history shale knows"), "{}", status.stderr);
    // With migrations that may have built them (run by a tool shale does not know): `baseline
    // VERSION` (slonik trial: sent to `--from-database`, which refuses a directory of migrations).
    let q = Project::new("status_tables_without_history_files");
    q.psql("CREATE TABLE post (id int)");
    q.write("0001_post.sql", "CREATE TABLE post (id int);\n");
    let status = q.shale(&["status"]).ok();
    assert!(status.stderr.contains("record how far with `shale baseline VERSION`"), "{}", status.stderr);
}

/// @slonik/migrator's files (umzug's `2024.02.11T13.01.48.name.sql`, their downs in `down/`) are
/// read as migrations, its history (`migration (name, hash, date)`) taken over by file name with
/// its hash compared, and `shale new` names files as it does (slonik trial: every file "fits no
/// naming convention", and `--table migration` was taken for Sequelize's).
#[test]
fn slonik_migrator_s_files_and_history_are_known() {
    let p = Project::new("adopt_slonik");
    let first = "create table users (id int primary key);\ninsert into users values (1);\n";
    p.write("2024.02.11T13.01.48.users.sql", first);
    p.write("down/2024.02.11T13.01.48.users.sql", "drop table users;\n");
    p.write("2024.02.16T13.06.41.userName.sql", "alter table users add column name text;\n");
    p.write("down/2024.02.16T13.06.41.userName.sql", "alter table users drop column name;\n");
    // A down left behind when its up was renamed, which slonik passes over (re-check).
    p.write("down/2024.02.13T03.01.15.createStock.sql", "drop table stock;\n");
    p.psql(&format!(
        "create table users (id int primary key); insert into users values (1);
         create table migration (name text primary key, hash text not null, date timestamptz not null default now());
         insert into migration (name, hash) values ('2024.02.11T13.01.48.users.sql', '{}');",
        shale_core::adopt::slonik_migrator_hash(first)
    ));
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("migrated by @slonik/migrator (public.migration is its history)")
            && status.stderr.contains("a down with no up beside it"),
        "{}",
        status.stderr
    );
    p.write("2024.02.11T13.01.48.users.sql", "create table users (id bigint primary key);\n");
    let changed = p.shale(&["adopt", "--dry-run"]);
    assert_eq!(changed.code, 2, "{}", changed.stderr);
    assert!(changed.stderr.contains("changed after @slonik/migrator applied"), "{}", changed.stderr);
    p.write("2024.02.11T13.01.48.users.sql", first);
    p.shale(&["adopt"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM users"), "1", "the seed row once");
    assert_eq!(
        p.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'"),
        "1"
    );
    let new = p.shale(&["new", "add_flag"]).ok();
    let made: Vec<&str> = new.stdout.lines().collect();
    assert_eq!(made.len(), 2, "{}", new.stdout);
    let up = made[0].trim_start_matches("created ").rsplit('/').next().unwrap().to_string();
    assert!(up.ends_with(".add_flag.sql") && up.as_bytes()[10] == b'T', "{up}");
    assert!(made[1].ends_with(&format!("down/{up}")), "{}", new.stdout);
    p.shale(&["down", "--step", "1"]).ok();
    assert_eq!(
        p.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'"),
        "0"
    );
}

/// umzug's SQL files run with Sequelize's storage (`"SequelizeMeta" (name)`, a row per file by its
/// name) are taken over by name, as @slonik/migrator's are.
#[test]
fn umzug_s_files_in_sequelize_s_storage_are_taken_over() {
    let p = Project::new("adopt_umzug_sequelize");
    p.write("2024.01.01T00.00.00.a.sql", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n");
    p.write("2024.01.02T00.00.00.b.sql", "CREATE TABLE b (id int);\n");
    p.psql(
        "CREATE TABLE a (id int); INSERT INTO a VALUES (1);
         CREATE TABLE \"SequelizeMeta\" (name varchar(255) PRIMARY KEY);
         INSERT INTO \"SequelizeMeta\" VALUES ('2024.01.01T00.00.00.a.sql');",
    );
    let adopt = p.shale(&["adopt"]).ok();
    assert!(adopt.stdout.contains("recorded 1 migration(s) as applied, adopted from sequelize"), "{}", adopt.stdout);
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM a"), "1", "the seed row once");
    assert_eq!(p.psql("SELECT to_regclass('b') IS NOT NULL"), "t");

    // A JavaScript migration of umzug's among them, which its rows name: taken over as code it
    // ran (review: "no file has that version"); one it has not run stops `up`.
    let q = Project::new("adopt_umzug_sequelize_js");
    q.write("2024.01.01T00.00.00.a.sql", "CREATE TABLE a (id int);\n");
    q.write("2024.01.02T00.00.00.seed.js", "module.exports = { up: async () => {} };\n");
    q.write("2024.01.03T00.00.00.c.sql", "CREATE TABLE c (id int);\n");
    q.write("2024.01.04T00.00.00.more.js", "module.exports = { up: async () => {} };\n");
    q.psql(
        "CREATE TABLE a (id int); CREATE TABLE \"SequelizeMeta\" (name varchar(255) PRIMARY KEY);
         INSERT INTO \"SequelizeMeta\" VALUES ('2024.01.01T00.00.00.a.sql'), ('2024.01.02T00.00.00.seed.js');",
    );
    let adopt = q.shale(&["adopt"]).ok();
    assert!(adopt.stdout.contains("recorded 2 migration(s) as applied"), "{}", adopt.stdout);
    let up = q.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("2024.01.04T00.00.00.more.js: migration 20240104000000 is written in JavaScript"),
        "{}",
        up.stderr
    );
}

/// yoyo's SQL files, where their `-- depends:` headers say the directory is yoyo's, are read by
/// their ids (`20250807_01_name.sql`, numbered within the day; rollbacks `.rollback.sql`), and its
/// history taken over by id; `shale new` numbers on as `yoyo new` does (yoyo trial: "duplicate
/// version 20250807" for every file of a day, and a hint to rename them, which breaks yoyo's
/// `-- depends:`).
#[test]
fn yoyo_s_files_and_history_are_taken_over() {
    let p = Project::new("adopt_yoyo");
    p.write("20250807_01_create_system.sql", "-- depends:\n\nCREATE TABLE system (id int PRIMARY KEY);\n");
    p.write("20250807_01_create_system.rollback.sql", "DROP TABLE system;\n");
    p.write(
        "20250807_02_create_market.sql",
        "-- depends: 20250807_01_create_system\nCREATE TABLE market (id int);\nINSERT INTO market VALUES (1);\n",
    );
    p.write("20250808_01_idx.sql", "-- depends: 20250807_02_create_market\nCREATE INDEX market_id ON market (id);\n");
    p.write("20250808_01_idx.rollback.sql", "DROP INDEX market_id;\n");
    p.psql(
        "CREATE TABLE system (id int PRIMARY KEY); CREATE TABLE market (id int); INSERT INTO market VALUES (1);
         CREATE TABLE _yoyo_migration (migration_hash varchar(64) PRIMARY KEY, migration_id varchar(255),
             applied_at_utc timestamp);
         INSERT INTO _yoyo_migration VALUES ('a', '20250807_01_create_system', now()), ('b', '20250807_02_create_market', now());",
    );
    let status = p.shale(&["status", "--json"]).ok().json();
    let versions: Vec<&str> =
        status["migrations"].as_array().unwrap().iter().map(|m| m["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["20250807_01", "20250807_02", "20250808_01"]);
    let adopt = p.shale(&["adopt"]).ok();
    assert!(adopt.stdout.contains("recorded 2 migration(s) as applied, adopted from yoyo"), "{}", adopt.stdout);
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM market"), "1", "the seed row once");
    assert_eq!(p.psql("SELECT to_regclass('market_id') IS NOT NULL"), "t");
    // Its rollback is its down.
    p.shale(&["down", "--step", "1"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('market_id') IS NULL"), "t");
    p.shale(&["up"]).ok();
    let new = p.shale(&["new", "add_notes"]).ok();
    assert!(new.stdout.contains("_01_add_notes.sql"), "{}", new.stdout);
    let written = std::fs::read_dir(p.migrations())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.ends_with("_add_notes.sql"))
        .unwrap();
    let text = std::fs::read_to_string(p.migrations().join(&written)).unwrap();
    assert!(text.starts_with("-- depends: 20250808_01_idx\n"), "{text}");
    assert!(new.stdout.contains("_01_add_notes.rollback.sql"), "{}", new.stdout);

    // yoyo's documentation's naming, with a Python step between its SQL files: `up` stops at the
    // step (re-check: passed over in silence, its rows never inserted), `adopt` takes its row over
    // as code yoyo ran, and `shale new` numbers after it, as the files are written.
    let q = Project::new("adopt_yoyo_steps");
    q.write("0001.create-foo.sql", "-- depends:\nCREATE TABLE foo (id int);\n");
    q.write("0002.backfill-foo.py", "from yoyo import step\nsteps = [step(\"INSERT INTO foo VALUES (1)\")]\n");
    q.write("0003.add-bar.sql", "-- depends: 0002.backfill-foo\nCREATE TABLE bar (id int);\n");
    let up = q.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("0002.backfill-foo.py: migration 0002 is written in Python"), "{}", up.stderr);
    assert_eq!(q.psql("SELECT to_regclass('foo') IS NULL"), "t", "nothing ran");
    q.psql(
        "CREATE TABLE foo (id int); INSERT INTO foo VALUES (1); CREATE TABLE bar (id int);
         CREATE TABLE _yoyo_migration (migration_hash varchar(64) PRIMARY KEY, migration_id varchar(255),
             applied_at_utc timestamp);
         INSERT INTO _yoyo_migration VALUES ('a', '0001.create-foo', now()), ('b', '0002.backfill-foo', now()),
             ('c', '0003.add-bar', now());",
    );
    let status = q.shale(&["status"]).ok();
    assert!(status.stdout.contains("cannot-run, applied by yoyo (not adopted)"), "{}", status.stdout);
    let adopt = q.shale(&["adopt"]).ok();
    assert!(adopt.stdout.contains("recorded 3 migration(s) as applied"), "{}", adopt.stdout);
    q.shale(&["up"]).ok();
    assert_eq!(q.psql("SELECT count(*) FROM foo"), "1");
    // Reverting through the step: shale cannot, and says how (re-check: "its file is gone").
    q.write("0003.add-bar.rollback.sql", "DROP TABLE bar;\n");
    let down = q.shale(&["down", "--to", "0001"]);
    assert_eq!(down.code, 2, "{}", down.stderr);
    assert!(
        down.stderr.contains(
            "0002.backfill-foo.py: migration 0002 backfill-foo is written in Python, which shale cannot revert"
        ) && down.stderr.contains("`yoyo rollback`"),
        "{}",
        down.stderr
    );
    assert_eq!(q.psql("SELECT to_regclass('bar') IS NOT NULL"), "t", "nothing was reverted");
    q.remove("0003.add-bar.rollback.sql");
    let new = q.shale(&["new", "more"]).ok();
    assert!(new.stdout.contains("0004.more.sql"), "{}", new.stdout);
    let text = std::fs::read_to_string(q.migrations().join("0004.more.sql")).unwrap();
    assert!(text.starts_with("-- depends: 0003.add-bar\n"), "{text}");
    // A Python step a colleague's `yoyo apply` ran after the switch is said to be yoyo's run, not
    // work to do by hand (re-check: its rows would have been inserted twice).
    q.remove("0004.more.sql");
    q.write("0004.extra.py", "from yoyo import step\nsteps = [step(\"INSERT INTO foo VALUES (2)\")]\n");
    q.psql("INSERT INTO foo VALUES (2); INSERT INTO _yoyo_migration VALUES ('d', '0004.extra', now())");
    let up = q.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("yoyo applied 0004 extra since shale took its history over"), "{}", up.stderr);
    let status = q.shale(&["status"]).ok();
    assert!(status.stderr.contains("yoyo applied 0004 extra since"), "{}", status.stderr);
}

/// Sequel's histories (`schema_migrations (filename)` of its TimestampMigrator, under another
/// name too, and `schema_info (version)` of its IntegerMigrator) are known: left out of a
/// baseline, and watched (Sequel trial: written into the baseline as the application's, and a
/// colleague's `sequel -m` after the switch went unseen).
#[test]
fn sequel_s_histories_are_left_out_and_watched() {
    let p = Project::new("adopt_sequel");
    p.psql(
        "CREATE TABLE vm (id int);
         CREATE TABLE schema_migrations (filename text PRIMARY KEY);
         INSERT INTO schema_migrations VALUES ('20230117_tables.rb');
         CREATE TABLE schema_migrations_password (filename text PRIMARY KEY);
         INSERT INTO schema_migrations_password VALUES ('20230118_password.rb');",
    );
    std::fs::create_dir_all(p.migrations()).unwrap();
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("sequel (public.schema_migrations_password)"), "{}", status.stderr);
    p.shale(&["baseline", "--from-database"]).ok();
    let baseline = std::fs::read_dir(p.migrations()).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(baseline).unwrap();
    assert!(text.contains("CREATE TABLE public.vm") && !text.contains("schema_migrations"), "{text}");
    p.psql("INSERT INTO schema_migrations VALUES ('20250325_add_vm_tag.rb'); ALTER TABLE vm ADD COLUMN tag text");
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("sequel's history (public.schema_migrations) has changed since the baseline"),
        "{}",
        status.stderr
    );

    let q = Project::new("adopt_sequel_integer");
    q.psql("CREATE TABLE users (id int); CREATE TABLE schema_info (version integer DEFAULT 0 NOT NULL); INSERT INTO schema_info VALUES (3)");
    std::fs::create_dir_all(q.migrations()).unwrap();
    let run = q.shale(&["baseline", "--from-database"]).ok();
    assert!(run.stderr.contains("public.schema_info (sequel's history) is left out"), "{}", run.stderr);

    // Its Ruby files beside, one numbered above the version it reached: not run, and a baseline
    // would count it as run (re-check).
    let r = Project::new("adopt_sequel_integer_behind");
    r.psql("CREATE TABLE users (id int); CREATE TABLE schema_info (version integer DEFAULT 0 NOT NULL); INSERT INTO schema_info VALUES (3)");
    for n in 1..=4 {
        r.write(&format!("00{n}_step{n}.rb"), "Sequel.migration { change { } }\n");
    }
    let run = r.shale(&["baseline", "--from-database"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("does not record") && run.stderr.contains("004_step4.rb"), "{}", run.stderr);

    // Its TimestampMigrator's rows name the files it ran, numbered as Sequel's own examples are
    // (review: `1273253849_a.rb`, never run, was counted as run).
    let t = Project::new("adopt_sequel_timestamp_behind");
    t.psql(
        "CREATE TABLE users (id int); CREATE TABLE schema_migrations (filename text PRIMARY KEY);
         INSERT INTO schema_migrations VALUES ('1273253850_b.rb'), ('1273253851_c.rb')",
    );
    for name in ["1273253849_a.rb", "1273253850_b.rb", "1273253851_c.rb"] {
        t.write(name, "Sequel.migration { change { } }\n");
    }
    let run = t.shale(&["baseline", "--from-database"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("does not record") && run.stderr.contains("1273253849_a.rb"), "{}", run.stderr);
}

/// pyway's history (`pyway`, Flyway's file names, versions with dots, a CRC-32 it checks) is
/// taken over, a file changed since refused as pyway refuses it; ley's (`migrations (id, name,
/// created_at)`, JavaScript modules) is left out of a baseline and watched (trial: pyway's read as
/// dbmate's with its checksum skipped, ley's written into the baseline as the application's).
#[test]
fn pyway_and_ley_histories_are_known() {
    let p = Project::new("adopt_pyway");
    let first = "CREATE TABLE tender (id int);\r\n";
    p.write("V01_01__create_tables.sql", first);
    p.write("V01_02__more.sql", "CREATE TABLE bid (id int);\n");
    p.psql(&format!(
        "CREATE TABLE tender (id int);
         CREATE TABLE pyway (installed_rank serial PRIMARY KEY, version varchar(20) NOT NULL, extension varchar(20) NOT NULL,
             name varchar(100) NOT NULL, checksum varchar(25) NOT NULL, apply_timestamp timestamp DEFAULT now());
         INSERT INTO pyway (version, extension, name, checksum) VALUES ('01.01', 'SQL', 'V01_01__create_tables.sql', '{}');",
        shale_core::adopt::pyway_checksum(first)
    ));
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("migrated by pyway (public.pyway is its history)"), "{}", status.stderr);
    p.write("V01_01__create_tables.sql", "CREATE TABLE tender (id bigint);\r\n");
    let changed = p.shale(&["adopt", "--dry-run"]);
    assert_eq!(changed.code, 2, "{}", changed.stderr);
    assert!(changed.stderr.contains("changed after pyway applied migration 01.01"), "{}", changed.stderr);
    p.write("V01_01__create_tables.sql", first);
    p.shale(&["adopt"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('bid') IS NOT NULL"), "t");

    let l = Project::new("adopt_ley");
    l.psql(
        "CREATE TABLE animals (id int);
         CREATE TABLE migrations (id serial PRIMARY KEY, name varchar(255) NOT NULL, created_at timestamp DEFAULT now());
         INSERT INTO migrations (name) VALUES ('1644396580-createTableAnimals.js');",
    );
    std::fs::create_dir_all(l.migrations()).unwrap();
    let status = l.shale(&["status"]).ok();
    assert!(status.stderr.contains("migrated by ley (public.migrations is its history)"), "{}", status.stderr);
    let run = l.shale(&["baseline", "--from-database"]).ok();
    assert!(run.stderr.contains("public.migrations (ley's history) is left out"), "{}", run.stderr);
    l.psql("INSERT INTO migrations (name) VALUES ('1644396581-addEmail.js')");
    let status = l.shale(&["status"]).ok();
    assert!(
        status.stderr.contains("ley's history (public.migrations) has changed since the baseline"),
        "{}",
        status.stderr
    );
    // A dry run with nothing to apply says it too, as `up` does (slonik trial: silent).
    let dry = l.shale(&["up", "--dry-run"]).ok();
    assert!(dry.stderr.contains("ley's history (public.migrations) has changed since the baseline"), "{}", dry.stderr);
}

/// uptrace/bun's migrations (`20220926100949_init.tx.up.sql`, its down `..._init.down.sql`, the
/// statements between `--bun:split` lines, Go migrations beside them) and its history
/// (`bun_migrations (id, name, group_id, migrated_at)`, a row per migration named by its number)
/// are taken over, under the name its `WithTableName` gives too (bun trial: `.tx` was read into
/// the name, the history was not found, and `status` said nothing was applied).
#[test]
fn bun_s_files_and_history_are_known() {
    let p = Project::new("adopt_bun");
    p.write(
        "20220926100949_init.tx.up.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY);\n\n--bun:split\n\nINSERT INTO users VALUES (1);\n",
    );
    p.write("20220926100949_init.down.sql", "DROP TABLE IF EXISTS users CASCADE;\n");
    p.write("20220926100950_backfill.go", "package migrations\n");
    p.write(
        "20231214074655_names.up.sql",
        "ALTER TABLE users ADD COLUMN name text;\n\n--bun:split\n\nCREATE INDEX CONCURRENTLY users_name ON users (name);\n",
    );
    p.write("main.go", "package migrations\n");
    p.psql(
        "CREATE TABLE users (id bigint PRIMARY KEY); INSERT INTO users VALUES (1);
         CREATE TABLE app_migrations (id bigserial PRIMARY KEY, name varchar, group_id bigint,
             migrated_at timestamptz NOT NULL DEFAULT current_timestamp);
         CREATE TABLE bun_migration_locks (id bigserial PRIMARY KEY, table_name varchar UNIQUE);
         INSERT INTO app_migrations (name, group_id) VALUES ('20220926100949', 1), ('20220926100950', 1);",
    );
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("migrated by bun (public.app_migrations is its history)"), "{}", status.stderr);
    assert!(status.stdout.contains(" init ") && !status.stdout.contains(".tx"), "{}", status.stdout);
    let adopt = p.shale(&["adopt"]).ok();
    assert!(adopt.stdout.contains("recorded 2 migration(s) as applied, adopted from bun"), "{}", adopt.stdout);
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM users"), "1", "the seed row once");
    assert_eq!(p.psql("SELECT to_regclass('users_name') IS NOT NULL"), "t");
    // bun's tables are its own: not the application's schema.
    let dev = shale_testkit::shared_cluster().url("postgres");
    let drift = p.shale(&["drift", "--dev-url", &dev]).ok();
    assert!(drift.stdout.contains("no drift"), "{}", drift.stdout);

    // A file named without `.tx.` runs statement by statement outside a transaction, as bun runs
    // it (bun trial: csghub's used an enum value it adds, which one transaction refuses).
    p.write(
        "20231215000000_state.up.sql",
        "CREATE TYPE state AS ENUM ('new');\n\n--bun:split\n\nALTER TYPE state ADD VALUE 'done';\n\n--bun:split\n\n\
         CREATE TABLE jobs (s state NOT NULL DEFAULT 'done');\n",
    );
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('jobs') IS NOT NULL"), "t");
    // A colleague's bun run after the switch is seen, not run again.
    p.write("20240101000000_more.tx.up.sql", "CREATE TABLE more (id int);\n");
    p.psql("CREATE TABLE more (id int); INSERT INTO app_migrations (name, group_id) VALUES ('20240101000000', 2);");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("bun applied 20240101000000 more since shale took its history over"), "{}", up.stderr);
}

/// golang-migrate runs `.up.sql` files only: a plain `.sql` file among them, below the version it
/// reached, never ran, and is not taken over as applied (breadth trial: mergestat's two leftovers
/// were recorded as adopted from golang-migrate, and a new database got what no other had).
#[test]
fn a_plain_file_golang_migrate_never_ran_is_not_taken_over() {
    let p = Project::new("adopt_golang_plain");
    p.write("1_users.up.sql", "CREATE TABLE users (id int);\n");
    p.write("1_users.down.sql", "DROP TABLE users;\n");
    p.write("2_seed.sql", "INSERT INTO users VALUES (2);\n");
    p.write("3_tags.up.sql", "CREATE TABLE tags (id int);\n");
    p.psql(
        "CREATE TABLE users (id int); CREATE TABLE tags (id int);
         CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (3, false);",
    );
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("2_seed.sql: plain file(s) among .up.sql/.down.sql pairs"), "{}", status.stderr);
    let adopt = p.shale(&["adopt"]).ok();
    assert!(adopt.stdout.contains("recorded 2 migration(s) as applied"), "{}", adopt.stdout);
    let said = format!("{}{}", adopt.stdout, adopt.stderr);
    assert!(said.contains("2_seed.sql is not named as golang-migrate names its migrations"), "{said}");
    // Left to run, out of order, where the team says so.
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    p.shale(&["up", "--allow-out-of-order"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM users"), "1");
}

/// bun's lock held (a row in `bun_migration_locks`: a run going on, or one that crashed, whose
/// rows were written before its migrations ran): nothing is taken over (bun trial: adopted
/// without a word).
#[test]
fn bun_s_history_is_not_taken_over_while_its_lock_is_held() {
    let p = Project::new("adopt_bun_locked");
    p.write("20240101000000_users.tx.up.sql", "CREATE TABLE users (id int);\n");
    p.psql(
        "CREATE TABLE users (id int);
         CREATE TABLE bun_migrations (id bigserial PRIMARY KEY, name varchar, group_id bigint,
             migrated_at timestamptz NOT NULL DEFAULT current_timestamp);
         CREATE TABLE bun_migration_locks (id bigserial PRIMARY KEY, table_name varchar UNIQUE);
         INSERT INTO bun_migrations (name, group_id) VALUES ('20240101000000', 1);
         INSERT INTO bun_migration_locks (table_name) VALUES ('bun_migrations');",
    );
    let adopt = p.shale(&["adopt"]);
    assert_eq!(adopt.code, 3, "{}", adopt.stderr);
    assert!(
        adopt.stderr.contains("bun holds its migration lock (public.bun_migration_locks has its row)"),
        "{}",
        adopt.stderr
    );
    assert_eq!(p.psql("SELECT to_regclass('shale_migrations') IS NULL"), "t", "nothing recorded");
    // Under the names its `WithTableName` and `WithLocksTableName` give (re-check: not looked at).
    p.psql(
        "ALTER TABLE bun_migrations RENAME TO app_migs; ALTER TABLE bun_migration_locks RENAME TO app_locks;
         UPDATE app_locks SET table_name = 'app_migs';",
    );
    let adopt = p.shale(&["adopt"]);
    assert_eq!(adopt.code, 3, "{}", adopt.stderr);
    assert!(adopt.stderr.contains("(public.app_locks has its row)"), "{}", adopt.stderr);
    p.psql("DELETE FROM app_locks");
    p.shale(&["adopt"]).ok();
    // A directory of bun's `.tx.` files: `shale new` names the next one so, as bun runs them.
    let new = p.shale(&["new", "tags"]).ok();
    assert!(new.stdout.contains("_tags.tx.up.sql"), "{}", new.stdout);
}

/// drizzle-kit 1.0's folders (`20261207134715_init/migration.sql` beside its `snapshot.json`) and
/// its history, which names each row by its folder (`name`, `applied_at` added): a folder edited
/// since drizzle applied it is refused as changed, and `--accept-changed` takes it over (drizzle
/// re-check: "no file has version <its hash>", whatever was accepted).
#[test]
fn drizzle_1_s_folders_are_known_by_their_names() {
    let p = Project::new("adopt_drizzle_1");
    let first = "CREATE TABLE \"users\" (\n\t\"id\" integer PRIMARY KEY\n);\n";
    p.write("20261207134715_init/migration.sql", first);
    p.write("20261207134715_init/snapshot.json", "{}");
    p.write("20261207134800_posts/migration.sql", "CREATE TABLE \"posts\" (\"id\" integer);\n");
    p.write("20261207134800_posts/snapshot.json", "{}");
    p.psql(&format!(
        "CREATE TABLE users (id integer PRIMARY KEY); CREATE SCHEMA drizzle;
         CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint,
             name text, applied_at timestamptz DEFAULT now());
         INSERT INTO drizzle.__drizzle_migrations (hash, created_at, name)
             VALUES ('{}', 1796651235000, '20261207134715_init');",
        shale_core::adopt::sha256_checksum(first, true)
    ));
    p.write("20261207134715_init/migration.sql", &format!("{first}-- reviewed\n"));
    let changed = p.shale(&["adopt", "--dry-run"]);
    assert_eq!(changed.code, 2, "{}", changed.stderr);
    assert!(changed.stderr.contains("changed after drizzle applied"), "{}", changed.stderr);
    let adopt = p.shale(&["adopt", "--accept-changed"]).ok();
    assert!(adopt.stdout.contains("recorded 1 migration(s) as applied, adopted from drizzle"), "{}", adopt.stdout);
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('posts') IS NOT NULL"), "t");
}

/// GoTrue (Supabase's auth server) run on its own keeps its history in `auth.schema_migrations`
/// beside `auth.users`: not the application's, and no other tool's history to take over
/// (breadth trial: AppFlowy's was taken for dbmate's, and `up` refused).
#[test]
fn gotrue_s_history_beside_its_users_is_not_the_application_s() {
    let p = Project::new("adopt_gotrue");
    p.write("0001_notes.sql", "CREATE TABLE notes (id int);\n");
    p.psql(
        "CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY);
         CREATE TABLE auth.schema_migrations (version varchar(255) PRIMARY KEY);
         INSERT INTO auth.schema_migrations VALUES ('20171026211738'), ('20180103212743');",
    );
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('notes') IS NOT NULL"), "t");
}

/// `shale adopt | head -1`: the reader gone, adopt (one transaction, its report printed after)
/// stops quietly, having recorded all or nothing (re-check: it panicked on the closed pipe after
/// recording, with a backtrace).
#[test]
fn adopt_piped_into_a_reader_gone_away_stops_quietly() {
    use std::io::Read;
    let p = Project::new("adopt_pipe");
    p.write("20240101000000_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
    p.write("20240102000000_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n");
    p.psql(
        "CREATE TABLE a (id int); CREATE TABLE b (id int);
         CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
         INSERT INTO schema_migrations VALUES ('20240101000000'), ('20240102000000');",
    );
    let mut child = p.spawn(&["adopt"]);
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    child.wait().unwrap();
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
    let recorded = p.psql("SELECT count(*) FROM shale_migrations WHERE kind = 'adopted'");
    assert!(recorded == "2" || recorded.is_empty() || recorded == "0", "all or nothing: {recorded}");
}

/// goose applied versions that `dir` (Atlas's files, beside goose's) does not have: the folder
/// holding goose's files is named (breadth trial: openlane's, which `init` had found).
#[test]
fn versions_with_no_file_name_the_folder_holding_the_tool_s_files() {
    let p = Project::new("adopt_other_folder");
    let write = |relative: &str, text: &str| {
        let path = p.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("db/migrations/20260809191420_init.sql", "CREATE TABLE users (id int);\n");
    write("db/migrations/atlas.sum", "h1:x=\n20260809191420_init.sql h1:y=\n");
    write("db/goose/20260809191428_init.sql", "-- +goose Up\nCREATE TABLE users (id int);\n");
    p.psql(
        "CREATE TABLE users (id int);
         CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (20260809191428, true), (20260809191432, true)",
    );
    let run = p.shale(&["--dir", "db/migrations", "adopt"]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stderr.contains("goose's files are also in db/goose"), "{}", run.stderr);
    // The versions with no file in one message, the way out said once.
    assert!(
        run.stderr.contains("goose applied migrations 20260809191428, 20260809191432, and no file"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.matches("restore the file").count(), 1, "{}", run.stderr);
}

/// graphile-migrate's history, in its own schema, beside an empty Flyway table a schema file made
/// in public (third sweep, regen-network's indexer: `status` named Flyway's, adopting it took
/// nothing over, and `up` ran every committed file again).
#[test]
fn an_empty_history_beside_graphile_migrate_s_is_passed_over() {
    let p = Project::new("adopt_graphile_beside_empty");
    let h = graphile_committed(&p, &[("000001.sql", "CREATE TABLE users (id bigint PRIMARY KEY);")]);
    p.psql(&format!(
        "CREATE TABLE users (id bigint PRIMARY KEY);
         CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL);
         CREATE SCHEMA graphile_migrate;
         CREATE TABLE graphile_migrate.migrations (hash text PRIMARY KEY, previous_hash text REFERENCES graphile_migrate.migrations,
           filename text NOT NULL, date timestamptz NOT NULL DEFAULT now());
         INSERT INTO graphile_migrate.migrations (hash, previous_hash, filename) VALUES ('{}', NULL, '000001.sql')",
        h[0]
    ));
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("migrated by graphile-migrate"), "{}", status.stderr);
    let adopt = p.shale(&["adopt"]).ok();
    assert!(adopt.stdout.contains("graphile-migrate"), "{}", adopt.stdout);
    let up = p.shale(&["up"]).ok();
    assert!(up.stdout.contains("nothing to apply"), "{}", up.stdout);
}
