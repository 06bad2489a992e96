//! Liquibase's formatted SQL changelogs, read as Liquibase reads them: changesets in order
//! (across files in name order, or as a master changelog includes them), their rollbacks as downs,
//! and a database Liquibase itself migrated taken over. The last test runs the real Liquibase
//! (from npm, on Java), which `.ci/run` installs.

use std::path::PathBuf;
use std::process::Command;

use crate::common::{Project, Run};

const INIT: &str = "--liquibase formatted sql

--changeset alice:1
CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL);
--rollback DROP TABLE customers;

--changeset alice:2
--comment: orders belong to customers
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint REFERENCES customers, total numeric);
--rollback DROP TABLE orders;
";

const MORE: &str = "--liquibase formatted sql

--changeset bob:1 runInTransaction:false
CREATE INDEX CONCURRENTLY customers_name ON customers (name);
--rollback DROP INDEX CONCURRENTLY customers_name;

--changeset bob:oracle-only dbms:oracle
CREATE TABLE dual_thing (x number);

--changeset bob:totals runOnChange:true
CREATE OR REPLACE VIEW customer_totals AS SELECT customer_id, sum(total) AS total FROM orders GROUP BY 1;
--rollback DROP VIEW customer_totals;
";

/// Each migration of `status --json` as `VERSION NAME STATE`.
fn listed(p: &Project) -> Vec<String> {
    listed_in(&p.shale(&["status", "--json"]).ok().json())
}

/// Each migration of a `status --json` document as `VERSION NAME STATE`.
fn listed_in(status: &serde_json::Value) -> Vec<String> {
    status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let field = |k: &str| m[k].as_str().unwrap_or_default().to_string();
            format!("{} {} {}", field("version"), field("name"), field("state")).trim_start().to_string()
        })
        .collect()
}

#[test]
fn changesets_run_in_order_and_their_rollbacks_revert_them() {
    let p = Project::new("liquibase_order");
    p.write("changes/001-init.sql", INIT);
    p.write("changes/002-more.sql", MORE);
    assert_eq!(
        listed(&p),
        ["1 alice:1 pending", "2 alice:2 pending", "3 bob:1 pending", "4 bob:totals pending"],
        "numbered by place across the files, runOnChange in its place too"
    );
    let up = p.shale(&["up"]).ok();
    assert!(
        up.stderr
            .contains("002-more.sql: ignored: changeset bob:oracle-only (line 7) is for other databases (dbms oracle)"),
        "{}",
        up.stderr
    );
    // runInTransaction:false: CREATE INDEX CONCURRENTLY ran outside a transaction.
    assert_eq!(p.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'customers_name'::regclass"), "t");
    assert_eq!(p.psql("SELECT count(*) FROM pg_views WHERE viewname = 'customer_totals'"), "1");

    // A changed runOnChange changeset runs again, in its place; another changed one is refused,
    // but not for its rollback or comment lines, which Liquibase leaves out of its checksum too.
    p.write("changes/002-more.sql", &MORE.replace("sum(total) AS total", "sum(total) AS total, count(*) AS orders"));
    let up = p.shale(&["up"]).ok();
    assert!(up.stdout.contains("4 bob:totals"), "{}", up.stdout);
    assert_eq!(p.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'customer_totals'"), "3");
    let commented = INIT.replace(
        "--rollback DROP TABLE customers;",
        "--comment: the customers\n--rollback DROP TABLE customers CASCADE;",
    );
    p.write("changes/001-init.sql", &commented);
    p.shale(&["up"]).ok();
    p.write("changes/001-init.sql", &INIT.replace("name text NOT NULL", "name text"));
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("alice:1"), "{}", up.stderr);
    p.write("changes/001-init.sql", INIT);

    // Downs are the `--rollback` lines, run as the changeset ran (outside a transaction for bob:1).
    p.shale(&["down", "--step", "2"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM pg_class WHERE relname IN ('customers_name', 'customer_totals')"), "0");
    p.shale(&["down", "--step", "1"]).ok();
    assert!(!p.tables().contains(&"orders".to_string()));

    // `shale new`: a changelog named to run last, by the last changeset's author.
    let new = p.shale(&["new", "add phone"]).ok();
    assert!(new.stdout.contains("changes/003-add_phone.sql"), "{}", new.stdout);
    let written = std::fs::read_to_string(p.migrations().join("changes/003-add_phone.sql")).unwrap();
    assert!(written.starts_with("--liquibase formatted sql\n\n--changeset bob:add_phone\n"), "{written}");
    p.write("changes/003-add_phone.sql", &written.replace("\n\n\n", "\n\nALTER TABLE customers ADD phone text;\n"));
    assert_eq!(listed(&p)[4], "5 bob:add_phone pending");

    // A changeset added before applied ones (in an earlier file, or above a file's first: the
    // recruiter trial's new table in an earlier `includeAll` folder) runs next, as Liquibase runs
    // it; those after it stay applied at the numbers the history gave them, a fresh database runs
    // it in its place, and a down reverts it first, as it ran last.
    p.shale(&["up"]).ok();
    let inserted = INIT.replace(
        "--changeset alice:2",
        "--changeset alice:1b\nCREATE TABLE notes (id int);\n--rollback DROP TABLE notes;\n\n--changeset alice:2",
    );
    p.write("changes/001-init.sql", &inserted);
    let numbered = listed(&p);
    assert_eq!(
        numbered[1..],
        [
            "2 alice:2 applied",
            "3 bob:1 applied",
            "4 bob:totals applied",
            "5 bob:add_phone applied",
            "6 alice:1b pending"
        ]
    );
    p.shale(&["validate"]).ok();
    let up = p.shale(&["up"]).ok();
    assert!(up.stdout.contains("6 alice:1b"), "{}", up.stdout);
    assert!(p.tables().contains(&"notes".to_string()));
    p.write(
        "changes/000-first.sql",
        "--liquibase formatted sql\n--changeset zoe:0\nCREATE TABLE zero (id int);\n--rollback DROP TABLE zero;\n",
    );
    let up = p.shale(&["up"]).ok();
    assert!(up.stdout.contains("7 zoe:0"), "{}", up.stdout);
    p.shale(&["down", "--step", "1"]).ok();
    assert!(!p.tables().contains(&"zero".to_string()) && p.tables().contains(&"notes".to_string()));
    p.shale(&["up"]).ok();
    let fresh = Project::new("liquibase_order_fresh");
    fresh.write(
        "changes/000-first.sql",
        "--liquibase formatted sql\n--changeset zoe:0\nCREATE TABLE zero (id int);\n--rollback DROP TABLE zero;\n",
    );
    fresh.write("changes/001-init.sql", &inserted);
    assert_eq!(listed(&fresh)[..3], ["1 zoe:0 pending", "2 alice:1 pending", "3 alice:1b pending"]);

    // One removed since it ran is a file gone, as any migration's: restore it or record why.
    p.write("changes/001-init.sql", INIT);
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("changes/001-init.sql no longer holds migration 6 alice:1b, which is applied in the database; put it back in its file"),
        "{}",
        up.stderr
    );
}

/// A file Liquibase runs whole (`includeAll:raw`) is nobody's changeset: `shale new` writes the
/// team's author, and its missing down is not to be written as `--rollback` lines, which it has no
/// `--changeset` line to hold (re-check: auth-grant-manager's).
#[test]
fn a_file_liquibase_runs_whole_is_nobody_s_changeset() {
    let p = Project::new("liquibase_raw");
    p.write("tables/0001-users.sql", "--liquibase formatted sql\n--changeset elhub:1\nCREATE TABLE users (id int);\n");
    // Run as written: Liquibase fills no parameter in a file it runs whole (re-check).
    p.write("tables/0002-notes.sql", "CREATE TABLE notes (id int, t text DEFAULT 'Hello ${who}');\n");
    p.shale(&["up"]).ok();
    assert_eq!(
        p.psql(
            "SELECT column_default FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 't'"
        ),
        "'Hello ${who}'::text"
    );
    let down = p.shale(&["down", "--step", "1"]);
    assert_eq!(down.code, 2, "{}", down.stderr);
    assert!(
        down.stderr.contains("2 includeAll:raw has no down") && !down.stderr.contains("--rollback"),
        "{}",
        down.stderr
    );
    let new = p.shale(&["new", "add widgets"]).ok();
    assert!(new.stdout.contains("tables/0003-add_widgets.sql"), "{}", new.stdout);
    let written = std::fs::read_to_string(p.migrations().join("tables/0003-add_widgets.sql")).unwrap();
    assert!(written.contains("--changeset elhub:add_widgets"), "{written}");
}

/// A `runOnChange` changeset edited since Liquibase ran it runs again at the next `up` (Liquibase
/// runs it at its next update), where adopt took it over as it is now and its edit never ran
/// (re-check).
#[test]
fn a_run_on_change_changeset_edited_since_liquibase_ran_it_runs_after_adopt() {
    let p = Project::new("liquibase_run_on_change");
    let (table, view) = ("CREATE TABLE t (a int, b int);\n", "CREATE OR REPLACE VIEW v AS SELECT a FROM t;\n");
    let changelog =
        format!("--liquibase formatted sql\n--changeset me:t\n{table}--changeset me:v runOnChange:true\n{view}");
    // Liquibase's table as its update leaves it, the checksums its own (version 9).
    let checksum = shale_core::layout::liquibase_v9_checksum;
    p.psql(&format!(
        "{table}{view}
         CREATE TABLE databasechangelog (id varchar(255) NOT NULL, author varchar(255) NOT NULL, filename varchar(255) NOT NULL,
             dateexecuted timestamp NOT NULL, orderexecuted int NOT NULL, exectype varchar(10) NOT NULL, md5sum varchar(35),
             description varchar(255), comments varchar(255), tag varchar(255), liquibase varchar(20),
             contexts varchar(255), labels varchar(255), deployment_id varchar(10));
         INSERT INTO databasechangelog (id, author, filename, dateexecuted, orderexecuted, exectype, md5sum) VALUES
             ('t', 'me', 'changes/001.sql', now(), 1, 'EXECUTED', '{}'),
             ('v', 'me', 'changes/001.sql', now(), 2, 'EXECUTED', '{}');",
        checksum(table),
        checksum(view)
    ));
    p.write("changes/001.sql", &changelog.replace("SELECT a FROM t", "SELECT a, b FROM t"));
    let adopt = p.shale(&["adopt"]).ok();
    assert!(adopt.stdout.contains("recorded 2 migration(s) as applied"), "{}", adopt.stdout);
    assert_eq!(listed(&p), ["1 me:t applied", "2 me:v pending"]);
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'v'"), "2");
}

#[test]
fn changesets_as_liquibase_runs_them() {
    let p = Project::new("liquibase_running");
    // A blank line above the header; an endDelimiter ending statements without `;` (the delimiter
    // line itself a comment here, as hsadmin-ng writes it); a runOnChange function a later
    // changeset needs, created in its place.
    p.write(
        "001-base.sql",
        "\n--liquibase formatted sql\n\n--changeset me:fn runOnChange:true endDelimiter:--//\n\
         CREATE OR REPLACE FUNCTION one() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$\n--//\n\
         COMMENT ON FUNCTION one() IS 'one'\n--//\n\n\
         --changeset me:table\nCREATE TABLE t (x int DEFAULT one(), y int);\nINSERT INTO t (y) VALUES (1), (2);\n",
    );
    // An SQL file with no header runs whole, as one changeset (`includeAll:raw`), as Liquibase runs it.
    p.write("002-plain.sql", "CREATE TABLE plain (id int);\n");
    // A changeset after others in its file failing part-way outside a transaction resumes where
    // it stopped once the data is mended.
    p.write(
        "003-indexes.sql",
        "--liquibase formatted sql\n--changeset me:first\nCREATE TABLE u (x int, y int);\nINSERT INTO u VALUES (1, 1), (1, 2);\n\n\
         --changeset me:indexes runInTransaction:false\nCREATE INDEX CONCURRENTLY u_y ON u (y);\n\
         CREATE UNIQUE INDEX CONCURRENTLY u_x ON u (x);\n",
    );
    assert_eq!(
        listed(&p),
        [
            "1 me:fn pending",
            "2 me:table pending",
            "3 includeAll:raw pending",
            "4 me:first pending",
            "5 me:indexes pending"
        ]
    );
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 1, "{}", up.stderr);
    assert!(up.stderr.contains("migration 5 me:indexes failed"), "{}", up.stderr);
    assert_eq!(p.psql("SELECT string_agg(x::text, ',') FROM t"), "1,1");
    assert_eq!(p.psql("SELECT obj_description('one()'::regprocedure)"), "one");
    p.psql("DELETE FROM u WHERE y = 2; DROP INDEX IF EXISTS u_x");
    let up = p.shale(&["up"]).ok();
    assert!(up.stdout.contains("5 me:indexes"), "{}", up.stdout);
    assert_eq!(p.psql("SELECT count(*) FROM pg_indexes WHERE tablename = 'u'"), "2");

    // runAlways: again at every `up`, in its place.
    p.write(
        "004-always.sql",
        "--liquibase formatted sql\n--changeset me:always runAlways:true\nINSERT INTO plain VALUES (1);\n",
    );
    p.shale(&["up"]).ok();
    let up = p.shale(&["up"]).ok();
    assert!(up.stdout.contains("6 me:always"), "{}", up.stdout);
    assert_eq!(p.psql("SELECT count(*) FROM plain"), "2");

    // A changeset's own `begin transaction; ... commit;`: Liquibase runs it in its transaction
    // (the BEGIN only warns), so what a statement sets for the transaction holds for the next.
    p.write(
        "005-tx.sql",
        "--liquibase formatted sql\n--changeset me:tx\n\
         CREATE FUNCTION need() RETURNS text LANGUAGE sql AS $$ SELECT current_setting('my.task') $$;\n\
         begin transaction;\nSELECT set_config('my.task', 'seeding', true);\nCREATE TABLE seeded AS SELECT need() AS task;\ncommit;\n",
    );
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT task FROM seeded"), "seeding");

    // An endDelimiter line after a statement's `;` is not sent; a COMMIT amid a changeset does not
    // commit part of it: a later failure leaves nothing of it.
    p.write(
        "006-more.sql",
        "--liquibase formatted sql\n--changeset me:slash endDelimiter:/\n\
         CREATE FUNCTION two() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;\n/\nCREATE TABLE t2 (x int DEFAULT two());\n/\n\
         --changeset me:amid\nCREATE TABLE amid (x int);\ncommit;\nCREATE TABLE broken (x no_such_type);\n",
    );
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 1, "{}", up.stderr);
    assert!(up.stderr.contains("me:amid failed"), "{}", up.stderr);
    let tables = p.tables();
    assert!(tables.contains(&"t2".to_string()) && !tables.contains(&"amid".to_string()), "{tables:?}");
}

#[test]
fn xml_changesets_of_sql_and_a_new_changelog_in_the_master() {
    let p = Project::new("liquibase_xml_sql");
    p.write(
        "changelog.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">
    <changeSet id="0" author="ann">
        <tagDatabase tag="v0"/>
    </changeSet>
    <changeSet id="1" author="ann">
        <tagDatabase tag="v1"/>
        <sql>CREATE TABLE limits (n int CHECK (n &lt; 10));</sql>
        <rollback><![CDATA[
DROP TABLE limits;
]]></rollback>
    </changeSet>
    <include file="sql/two.sql" relativeToChangelogFile="true"/>
</databaseChangeLog>
"#,
    );
    p.write("sql/two.sql", "--liquibase formatted sql\n--changeset ann:2\nINSERT INTO limits VALUES (9);\n--rollback DELETE FROM limits;\n");
    p.write("sql/unused.sql", "--liquibase formatted sql\n--changeset ann:9\nSELECT 9;\n");
    assert_eq!(listed(&p), ["1 ann:0 pending", "2 ann:1 pending", "3 ann:2 pending"]);
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT n FROM limits"), "9");
    // A failing statement of the inline SQL is named at its line of the changelog.
    p.shale(&["down", "--all"]).ok();
    assert!(!p.tables().contains(&"limits".to_string()));

    // `shale new` writes the changelog beside the last one and includes it in the master.
    let new = p.shale(&["new", "three"]).ok();
    assert!(new.stdout.contains("sql/three.sql") || new.stdout.contains("three.sql"), "{}", new.stdout);
    let master = std::fs::read_to_string(p.migrations().join("changelog.xml")).unwrap();
    assert!(master.contains("<include file=\"sql/"), "{master}");
    assert_eq!(listed(&p).len(), 4, "{master}");
}

#[test]
fn a_master_changelog_orders_the_changelogs_it_includes() {
    let p = Project::new("liquibase_master");
    // Names that sort the other way: the master's order is the one that runs.
    p.write(
        "sql/zz-customers.sql",
        "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE customers (id int PRIMARY KEY);\n",
    );
    p.write(
        "sql/aa-orders.sql",
        "--liquibase formatted sql\n--changeset a:2\nCREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers);\n",
    );
    p.write("sql/unused.sql", "--liquibase formatted sql\n--changeset a:3\nCREATE TABLE unused (id int);\n");
    p.write(
        "db.changelog-master.yaml",
        "databaseChangeLog:\n  - include:\n      file: classpath:db/changelog/sql/zz-customers.sql\n  \
         - include: {file: sql/aa-orders.sql, relativeToChangelogFile: true}\n",
    );
    assert_eq!(listed(&p), ["1 a:1 pending", "2 a:2 pending"]);
    let up = p.shale(&["up"]).ok();
    assert!(up.stderr.contains("unused.sql: ignored: not included by the master changelog"), "{}", up.stderr);
    assert_eq!(p.tables(), ["customers", "orders", "shale_migrations"]);

    // An XML master including a folder, and a changeset written in XML: refused at its line.
    let xml = Project::new("liquibase_master_xml");
    xml.write("changes/001.sql", "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE t (id int);\n");
    xml.write(
        "changelog.xml",
        "<databaseChangeLog>\n  <includeAll path=\"changes/\" relativeToChangelogFile=\"true\"/>\n  \
         <changeSet id=\"2\" author=\"a\"><createTable tableName=\"u\"/></changeSet>\n</databaseChangeLog>\n",
    );
    let up = xml.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("changelog.xml:3:3: changeset a:2 uses `createTable`, a change shale does not run"),
        "{}",
        up.stderr
    );
    assert!(xml.tables().is_empty());

    // Parameters: `${name}` takes the value of a property the changelogs define for PostgreSQL
    // (JHipster's master defines `now`), or of a placeholder given from outside, which wins; one
    // with neither is an error where it stands, before anything runs.
    xml.write(
        "changelog.xml",
        "<databaseChangeLog>\n  <property name=\"now\" value=\"now()\" dbms=\"postgresql\"/>\n  \
         <property name=\"now\" value=\"sysdate\" dbms=\"oracle\"/>\n  \
         <includeAll path=\"changes/\" relativeToChangelogFile=\"true\"/>\n</databaseChangeLog>\n",
    );
    xml.write(
        "changes/002.sql",
        "--liquibase formatted sql\n--property name:reader value:pg_read_all_data\n--changeset a:2\n\
         ALTER TABLE t ADD at timestamptz DEFAULT ${now};\nGRANT SELECT ON t TO ${reader};\nCOMMENT ON TABLE t IS '${APP_ENV}';\n\
         -- tracked in ${ticket}, which no one gives a value: a comment, left as Liquibase leaves it\n",
    );
    let up = xml.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("changes/002.sql:6:24: Liquibase parameter ${APP_ENV} has no value"), "{}", up.stderr);
    assert!(!up.stderr.contains("${ticket}"), "{}", up.stderr);
    assert!(up.stderr.contains("`APP_ENV = \"VALUE\"`, the value Liquibase is given for it"), "{}", up.stderr);
    assert!(xml.tables().is_empty());
    // From the environment, as Liquibase reads a parameter there (the breadth sweep's
    // auth-grant-manager sets APP_USERNAME for its update).
    let mut validate = xml.bare();
    validate.arg("--database-url").arg(&xml.db.url).arg("validate").env("APP_ENV", "ci");
    let from_env = Run::of(validate);
    assert_eq!(from_env.code, 0, "{}", from_env.stderr);
    std::fs::write(xml.path().join("shale.toml"), "[placeholders]\nAPP_ENV = \"staging\"\n").unwrap();
    xml.shale(&["up"]).ok();
    assert_eq!(xml.psql("SELECT obj_description('t'::regclass)"), "staging");
    assert_eq!(
        xml.psql("SELECT column_default FROM information_schema.columns WHERE table_name = 't' AND column_name = 'at'"),
        "now()"
    );
    // Another value than the one it ran with: said as such, by the parameter's name, not as a
    // file changed (the second re-check), the values not shown.
    std::fs::write(xml.path().join("shale.toml"), "[placeholders]\nAPP_ENV = \"production\"\n").unwrap();
    let changed = xml.shale(&["up"]);
    assert_eq!(changed.code, 2, "{}", changed.stderr);
    assert!(
        changed.stderr.contains("by the value given to its Liquibase parameter ${APP_ENV} alone"),
        "{}",
        changed.stderr
    );
    assert!(!changed.stderr.contains("production") && !changed.stderr.contains("staging"), "{}", changed.stderr);
}

#[test]
fn what_shale_would_run_otherwise_than_liquibase_is_refused_before_anything_runs() {
    let p = Project::new("liquibase_refused");
    p.write("001.sql", INIT);
    p.write(
        "002.sql",
        "--liquibase formatted sql\n--changeset a:guarded\n--preconditions onFail:MARK_RAN\n\
         --precondition-sql-check expectedResult:0 SELECT count(*) FROM pg_tables WHERE tablename = 'x'\n\
         CREATE TABLE x (id int);\n",
    );
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("002.sql:3:1: `--preconditions`: shale does not check Liquibase's preconditions"),
        "{}",
        up.stderr
    );
    assert!(p.tables().is_empty(), "nothing ran");
}

/// The Liquibase CLI: `$SHALE_LIQUIBASE`, else the one `.ci/run` installs from npm.
fn liquibase() -> PathBuf {
    let installed = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/test-tools/node/node_modules/liquibase/dist/liquibase/liquibase");
    let path = std::env::var_os("SHALE_LIQUIBASE").map(PathBuf::from).unwrap_or(installed);
    assert!(
        path.is_file(),
        "Liquibase is not at {}: install it with `npm install --prefix target/test-tools/node liquibase@4.28.1` \
         (it needs Java 11 or later), or set SHALE_LIQUIBASE",
        path.display()
    );
    path
}

/// The real Liquibase's `update` of `changelog` (in the migrations directory) on the project's
/// database, with `extra` arguments (`--contexts=...`).
#[track_caller]
fn liquibase_update(p: &Project, changelog: &str, extra: &[&str]) {
    let cluster = shale_testkit::shared_cluster();
    let jdbc = format!("jdbc:postgresql://127.0.0.1:{}/{}", cluster.port(), p.db.name);
    let mut update = Command::new(liquibase());
    update.current_dir(p.migrations()).env("LIQUIBASE_SHOW_BANNER", "false");
    update.arg(format!("--changelog-file={changelog}")).arg(format!("--url={jdbc}"));
    update.args(["--username=postgres", "update"]).args(extra);
    let ran = Run::of(update);
    assert_eq!(ran.code, 0, "liquibase update failed:\n{}\n{}", ran.stdout, ran.stderr);
}

#[test]
fn a_database_liquibase_migrated_is_taken_over() {
    let p = Project::new("liquibase_real");
    p.write("changes/001-init.sql", INIT);
    p.write("changes/002-more.sql", MORE);
    // A changeset of the master itself, running an SQL file (with one to roll it back), then the
    // formatted SQL changelogs of a folder.
    p.write("sql/audit.sql", "CREATE TABLE audit_log (id bigserial PRIMARY KEY, entry jsonb NOT NULL);\n");
    p.write("sql/audit-rollback.sql", "DROP TABLE audit_log;\n");
    // An SQL file with no header, which Liquibase runs whole.
    p.write("changes/002b-raw.sql", "CREATE TABLE raw_notes (id int);\n\nCOMMENT ON TABLE raw_notes IS 'raw';\n");
    p.write(
        "changelog.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.liquibase.org/xml/ns/dbchangelog http://www.liquibase.org/xml/ns/dbchangelog/dbchangelog-latest.xsd">
  <changeSet id="audit" author="dba">
    <comment>the audit log</comment>
    <sqlFile path="sql/audit.sql" relativeToChangelogFile="true"/>
    <rollback>
      <sqlFile path="sql/audit-rollback.sql" relativeToChangelogFile="true"/>
    </rollback>
  </changeSet>
  <includeAll path="changes/" relativeToChangelogFile="true"/>
</databaseChangeLog>
"#,
    );
    liquibase_update(&p, "changelog.xml", &[]);
    assert_eq!(
        p.psql("SELECT string_agg(author || ':' || id || ' ' || filename, ',' ORDER BY orderexecuted) FROM databasechangelog"),
        "dba:audit changelog.xml,alice:1 changes/001-init.sql,alice:2 changes/001-init.sql,bob:1 changes/002-more.sql,\
         bob:totals changes/002-more.sql,includeAll:raw changes/002b-raw.sql"
    );
    // Liquibase's checksums are compared where shale computes them as Liquibase does (version
    // 9): a changeset edited since it ran, or a file run whole, is refused, and an edit of its
    // white space alone, which Liquibase passes over, is not (re-check: taken over silently).
    let init = std::fs::read_to_string(p.migrations().join("changes/001-init.sql")).unwrap();
    p.write("changes/001-init.sql", &init.replace("name text NOT NULL", "name  text\tNOT NULL "));
    p.write("changes/002b-raw.sql", "CREATE TABLE raw_notes(id int);\nCOMMENT ON TABLE raw_notes IS 'raw';\n");
    let spaced = p.shale(&["adopt", "--dry-run"]);
    assert_eq!(spaced.code, 0, "{}{}", spaced.stdout, spaced.stderr);
    p.write("changes/001-init.sql", &init.replace("name text NOT NULL", "name varchar(80) NOT NULL"));
    p.write("changes/002b-raw.sql", "CREATE TABLE raw_notes (id bigint);\nCOMMENT ON TABLE raw_notes IS 'raw';\n");
    let edited = p.shale(&["adopt", "--dry-run"]);
    assert_eq!(edited.code, 2, "{}{}", edited.stdout, edited.stderr);
    assert!(
        edited.stderr.contains("001-init.sql changed after liquibase applied migration")
            && edited.stderr.contains("002b-raw.sql changed after liquibase applied migration"),
        "{}",
        edited.stderr
    );
    p.write("changes/001-init.sql", &init);
    p.write("changes/002b-raw.sql", "CREATE TABLE raw_notes (id int);\n\nCOMMENT ON TABLE raw_notes IS 'raw';\n");

    // A new changeset since, which Liquibase did not run.
    p.write(
        "changes/003-phone.sql",
        "--liquibase formatted sql\n--changeset carol:phone\nALTER TABLE customers ADD phone text;\n\
         --rollback ALTER TABLE customers DROP phone;\n",
    );
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "refused until adopted: {}", up.stderr);
    assert!(up.stderr.contains("migrated by liquibase") && up.stderr.contains("run `shale adopt`"), "{}", up.stderr);
    let adopt = p.shale(&["adopt"]).ok();
    assert!(adopt.stdout.contains("recorded 6 migration(s) as applied, adopted from liquibase"), "{}", adopt.stdout);
    assert_eq!(
        listed(&p),
        [
            "1 dba:audit applied",
            "2 alice:1 applied",
            "3 alice:2 applied",
            "4 bob:1 applied",
            "5 bob:totals applied",
            "6 includeAll:raw applied",
            "7 carol:phone pending"
        ]
    );
    let up = p.shale(&["up"]).ok();
    assert!(up.stdout.contains("7 carol:phone") && up.stdout.contains("applied 1 migration"), "{}", up.stdout);
    let phone =
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'phone'";
    assert_eq!(p.psql(phone), "1");
    // Liquibase's tables are its own: no drift.
    let drift = p.shale(&["drift"]).ok();
    assert!(drift.stdout.contains("no drift"), "{}", drift.stdout);
    // Downs: the `--rollback` lines, and the master's rollback sqlFile.
    p.shale(&["down", "--step", "1"]).ok();
    assert_eq!(p.psql(phone), "0");
    // (A file run whole has no rollback: reverted by hand, and recorded so.)
    p.psql("DROP TABLE raw_notes");
    p.shale(&["repair", "6", "--rolled-back", "--force", "--reason", "dropped by hand"]).ok();
    p.shale(&["down", "--all"]).ok();
    assert_eq!(p.tables(), ["databasechangelog", "databasechangeloglock", "shale_migrations"]);
}

/// Contexts and labels select changesets as Liquibase selects them: a database Liquibase migrated
/// with `--contexts prod --label-filter !slow` is taken over with the same selection, and the
/// changesets left out keep their numbers, so that another selection later runs them in their
/// place (out of order), while applied ones it leaves out still count as applied.
#[test]
fn contexts_and_labels_select_changesets_as_liquibase_does() {
    let p = Project::new("liquibase_contexts");
    p.write(
        "changes/001-schema.sql",
        "--liquibase formatted sql

--changeset alice:1
CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL);
--rollback DROP TABLE customers;

--changeset alice:seed-dev context:\"dev or test\"
INSERT INTO customers (name) VALUES ('dev customer');
--rollback DELETE FROM customers WHERE name = 'dev customer';

--changeset alice:2 labels:v2
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint REFERENCES customers);
--rollback DROP TABLE orders;

--changeset alice:slow labels:slow,v2
CREATE INDEX customers_name ON customers (name);
--rollback DROP INDEX customers_name;

--changeset alice:prod-only context:!test
CREATE TABLE prod_settings (k text PRIMARY KEY, v text);
--rollback DROP TABLE prod_settings;
",
    );
    p.write(
        "changes/002-test-data.sql",
        "--liquibase formatted sql\n--changeset tess:1\nINSERT INTO customers (name) VALUES ('test customer');\n\
         --rollback DELETE FROM customers WHERE name = 'test customer';\n",
    );
    p.write(
        "changelog.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.liquibase.org/xml/ns/dbchangelog http://www.liquibase.org/xml/ns/dbchangelog/dbchangelog-latest.xsd">
  <include file="changes/001-schema.sql" relativeToChangelogFile="true"/>
  <include file="changes/002-test-data.sql" relativeToChangelogFile="true" context="test"/>
</databaseChangeLog>
"#,
    );
    liquibase_update(&p, "changelog.xml", &["--contexts=prod", "--label-filter=!slow"]);
    assert_eq!(
        p.psql("SELECT string_agg(author || ':' || id, ',' ORDER BY orderexecuted) FROM databasechangelog"),
        "alice:1,alice:2,alice:prod-only"
    );

    // The same selection, from Liquibase's own variable and from a flag.
    let prod = |args: &[&str]| {
        let mut cmd = p.bare();
        cmd.env("LIQUIBASE_COMMAND_CONTEXTS", "prod").arg("--database-url").arg(&p.db.url);
        cmd.args(["--label-filter", "!slow"]).args(args);
        Run::of(cmd)
    };
    // Another selection takes the same rows over: one it leaves out (prod-only) is matched all the
    // same, as Liquibase ran it.
    let other: Run = p
        .bare()
        .args(["--contexts", "test", "--database-url", &p.db.url, "adopt", "--dry-run"])
        .output()
        .unwrap()
        .into();
    assert_eq!(other.code, 0, "{}{}", other.stdout, other.stderr);
    assert!(
        other.stdout.contains("would record 3 migration(s)") && other.stdout.contains("5 alice:prod-only"),
        "{}",
        other.stdout
    );
    let adopt = prod(&["adopt"]).ok();
    assert!(adopt.stdout.contains("recorded 3 migration(s) as applied, adopted from liquibase"), "{}", adopt.stdout);
    // Without the contexts, the changesets Liquibase left out look like ones to run out of order:
    // the refusal says where they likely come from.
    let unsaid = p.shale(&["up"]);
    assert_eq!(unsaid.code, 2, "{}{}", unsaid.stdout, unsaid.stderr);
    assert!(unsaid.stderr.contains("these Liquibase changesets have contexts or labels"), "{}", unsaid.stderr);
    p.write(
        "changes/003-phone.sql",
        "--liquibase formatted sql\n--changeset carol:phone\nALTER TABLE customers ADD phone text;\n\
         --rollback ALTER TABLE customers DROP phone;\n",
    );
    p.write(
        "changelog.xml",
        &std::fs::read_to_string(p.migrations().join("changelog.xml")).unwrap().replace(
            "</databaseChangeLog>",
            "  <include file=\"changes/003-phone.sql\" relativeToChangelogFile=\"true\"/>\n</databaseChangeLog>",
        ),
    );
    let states = listed_in(&prod(&["status", "--json"]).ok().json());
    assert_eq!(
        states,
        ["1 alice:1 applied", "3 alice:2 applied", "5 alice:prod-only applied", "7 carol:phone pending"]
    );
    let validate = prod(&["validate"]).ok();
    assert!(validate.stderr.contains("alice:seed-dev (line 7) is for context `dev or test`"), "{}", validate.stderr);
    assert!(validate.stderr.contains("no changeset names the context(s) given (prod)"), "{}", validate.stderr);
    assert!(validate.stderr.contains("the changesets name dev, test"), "{}", validate.stderr);
    prod(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM customers"), "0", "no dev or test data on prod");

    // Another selection runs what it selects in its place; prod-only, applied, stays applied.
    let test = ["--contexts", "test", "--database-url", &p.db.url];
    let refused: Run = p.bare().args(test).arg("up").output().unwrap().into();
    assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("out of order") || refused.stderr.contains("older"), "{}", refused.stderr);
    // Not with a directive or a new file, which would change the changeset Liquibase knows (re-check).
    assert!(
        refused.stderr.contains("give the contexts and label filter this database was migrated with")
            && !refused.stderr.contains("add `-- shale:out-of-order` to the file"),
        "{}",
        refused.stderr
    );
    let up: Run = p.bare().args(test).args(["up", "--allow-out-of-order"]).output().unwrap().into();
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    assert_eq!(p.psql("SELECT string_agg(name, ',' ORDER BY id) FROM customers"), "dev customer,test customer");
    assert_eq!(p.psql("SELECT count(*) FROM pg_indexes WHERE indexname = 'customers_name'"), "1");
    let validate: Run = p.bare().args(test).arg("validate").output().unwrap().into();
    assert_eq!(validate.code, 0, "{}{}", validate.stdout, validate.stderr);
    // A version the selection leaves out is no target, and says why.
    let to = prod(&["down", "--to", "2"]);
    assert!(to.code == 2 && to.stderr.contains("version 2 is a Liquibase changeset the contexts"), "{}", to.stderr);

    // A context expression that does not read is an error naming its line.
    p.write("changes/004-bad.sql", "--liquibase formatted sql\n--changeset carol:bad context:\"(prod\"\nSELECT 1;\n");
    p.write(
        "changelog.xml",
        &std::fs::read_to_string(p.migrations().join("changelog.xml")).unwrap().replace(
            "</databaseChangeLog>",
            "  <include file=\"changes/004-bad.sql\" relativeToChangelogFile=\"true\"/>\n</databaseChangeLog>",
        ),
    );
    let bad: Run = p.bare().args(test).arg("validate").output().unwrap().into();
    assert_eq!(bad.code, 2, "{}{}", bad.stdout, bad.stderr);
    assert!(bad.stderr.contains("004-bad.sql:2:1") && bad.stderr.contains("a `(` is not closed"), "{}", bad.stderr);
    let flag: Run = p.bare().args(["--label-filter", "a and", "validate"]).output().unwrap().into();
    assert!(
        flag.code == 2 && flag.stderr.contains("--label-filter: `a and` is not a Liquibase expression"),
        "{}",
        flag.stderr
    );
}

/// What the selection leaves out is not read further: a changeset of another change than SQL, or
/// with a line shale would run otherwise, does not stop a run that leaves it out, and a property
/// for other contexts gives no value. An applied changeset left out is not reverted by `down`.
#[test]
fn what_the_contexts_leave_out_is_not_refused_nor_reverted() {
    let p = Project::new("liquibase_left_out");
    p.write(
        "changelog.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">
  <property name="greeting" value="hello test" context="test"/>
  <property name="greeting" value="hello"/>
  <changeSet id="legacy" author="a" context="legacy">
    <createTable tableName="legacy"><column name="id" type="int"/></createTable>
  </changeSet>
  <include file="changes/001.sql" relativeToChangelogFile="true"/>
</databaseChangeLog>
"#,
    );
    p.write(
        "changes/001.sql",
        "--liquibase formatted sql
--changeset a:1
CREATE TABLE notes (id int PRIMARY KEY, body text);
--rollback DROP TABLE notes;
--changeset a:2
INSERT INTO notes VALUES (1, '${greeting}');
--rollback DELETE FROM notes WHERE id = 1;
--changeset a:3 contextFilter:legacy context:prod
--precondition-sql-check expectedResult:0 SELECT count(*) FROM notes
INSERT INTO notes VALUES (3, 'legacy');
--changeset a:4 context:!test
INSERT INTO notes VALUES (4, 'not test');
--rollback DELETE FROM notes WHERE id = 4;
",
    );
    let with = |variable: (&str, &str), args: &[&str]| -> Run {
        let mut cmd = p.bare();
        cmd.env(variable.0, variable.1).arg("--database-url").arg(&p.db.url).args(args);
        Run::of(cmd)
    };
    // Spring Boot's variable, as a Spring deployment sets it.
    let up = with(("SPRING_LIQUIBASE_CONTEXTS", "prod"), &["up"]).ok();
    assert!(up.stderr.contains("changeset a:legacy (line 5) is for context `legacy`"), "{}", up.stderr);
    assert!(up.stderr.contains("changeset a:3 (line 8) is for context `legacy`"), "{}", up.stderr);
    assert_eq!(p.psql("SELECT string_agg(id || ' ' || body, ',' ORDER BY id) FROM notes"), "1 hello,4 not test");

    // Without contexts every changeset runs: those that cannot are refused, at their lines.
    let all = p.shale(&["validate"]);
    assert_eq!(all.code, 2, "{}{}", all.stdout, all.stderr);
    assert!(all.stderr.contains("changelog.xml:5:3: changeset a:legacy uses `createTable`"), "{}", all.stderr);

    // `test` leaves a:4 out: applied, it stays so through a down of everything else.
    let test = ("LIQUIBASE_COMMAND_CONTEXT_FILTER", "test");
    with(test, &["down", "--all"]).ok();
    let status = with(("SPRING_LIQUIBASE_CONTEXTS", "prod"), &["status", "--json"]).ok().json();
    let states: Vec<String> = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{} {}", m["name"].as_str().unwrap(), m["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, ["a:1 out-of-order", "a:2 out-of-order", "a:4 applied"]);
}

/// Liquibase strips a formatted changeset's comments before it runs it, those in a function body
/// too: shale blanks them as well, so that a database Liquibase built shows no drift.
#[test]
fn comments_are_stripped_as_liquibase_strips_them() {
    let p = Project::new("liquibase_comments");
    p.write(
        "changelog.sql",
        "--liquibase formatted sql

--changeset alice:fn
-- the greeting
CREATE FUNCTION greet(name text) RETURNS text AS $$
BEGIN
  -- say hello /* politely */
  RETURN 'hello -- ' || name; /* done */
END
$$ LANGUAGE plpgsql;
--rollback DROP FUNCTION greet(text);
",
    );
    liquibase_update(&p, "changelog.sql", &[]);
    assert!(!p.psql("SELECT prosrc FROM pg_proc WHERE proname = 'greet'").contains("say hello"));
    p.shale(&["adopt"]).ok();
    let drift = p.shale(&["drift"]).ok();
    assert!(drift.stdout.contains("no drift"), "{}", drift.stdout);
    assert_eq!(p.psql("SELECT greet('x')"), "hello -- x");
}
