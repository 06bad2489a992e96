use super::*;

fn file(relative: &str, text: &str) -> SourceFile {
    SourceFile { relative: PathBuf::from(relative), bytes: text.as_bytes().to_vec() }
}

fn load(files: Vec<SourceFile>) -> Result<MigrationSet, Vec<LoadError>> {
    MigrationSet::load(Path::new("migrations"), files)
}

fn versions(set: &MigrationSet) -> Vec<String> {
    set.migrations.iter().map(|m| m.label()).collect()
}

/// A SQL file named as Laravel names its migrations (`2026_12_07_103000_x.sql`, the port the
/// advice for a PHP migration asks for) is the 14-digit version it says, after a baseline of
/// 14 digits (Ecto/Laravel re-check: version 2026, below the baseline, and never ran).
#[test]
fn laravel_named_sql_files_are_their_date_and_time() {
    let set = load(vec![
        file("20261206153443_baseline.sql", "create table users (id int);"),
        file("2026_12_07_103000_create_webhooks_table.sql", "create table webhooks (id int);"),
        file("2026_12_07_103000_create_webhooks_table.php", "<?php"),
    ])
    .unwrap();
    assert_eq!(versions(&set), ["20261206153443 baseline", "20261207103000 create_webhooks_table"]);
}

#[test]
fn plain_numbered_files_in_numeric_order() {
    let set = load(vec![
        file("10_ten.sql", "select 10;"),
        file("9_nine.sql", "select 9;"),
        file("001_create users.sql", "create table users (id int);"),
        file("README.md", "# notes"),
    ])
    .unwrap();
    assert_eq!(versions(&set), ["001 create users", "9 nine", "10 ten"]);
    assert_eq!(set.migrations[0].layout, Layout::SingleFile);
    assert!(set.migrations[0].down.is_none());
    assert_eq!(set.convention(), Some((Layout::SingleFile, Naming::Sequential { width: 2 })));
}

#[test]
fn up_down_pairs() {
    let set = load(vec![
        file("001_create_users_table.up.sql", "create table users (id bigserial primary key);"),
        file("001_create_users_table.down.sql", "drop table users;"),
        file("002_keys.up.sql", "create table keys (id int);"),
    ])
    .unwrap();
    assert_eq!(versions(&set), ["001 create_users_table", "002 keys"]);
    let first = &set.migrations[0];
    assert_eq!(first.layout, Layout::UpDownPair);
    assert_eq!(first.down.as_ref().unwrap().statement_text(0), "drop table users");
    assert!(set.migrations[1].down.is_none());
}

#[test]
fn dbmate_sections() {
    let text = "-- migrate:up\ncreate table t (id int);\n\n-- migrate:down\ndrop table t;\n";
    let set = load(vec![file("20151129054053_test_migration.sql", text)]).unwrap();
    let m = &set.migrations[0];
    assert_eq!(m.layout, Layout::DbmateSections);
    assert_eq!(m.up.statements.len(), 1);
    assert_eq!(m.up.statement_text(0), "create table t (id int)");
    assert_eq!(m.down.as_ref().unwrap().statement_text(0), "drop table t");
    assert_eq!(set.convention(), Some((Layout::DbmateSections, Naming::Timestamp)));
}

#[test]
fn dbmate_markers_written_otherwise_are_refused_where_the_down_would_run_as_the_up() {
    for marker in ["-- migrate: down", "-- Migrate:Down", "-- MIGRATE:DOWN", "--migrate :down"] {
        let text = format!("-- migrate:up\ncreate table t (id int);\n{marker}\ndrop table t;\n");
        let errors = load(vec![file("20151129054053_t.sql", &text)]).unwrap_err();
        let e = &errors[0];
        assert!(e.message.contains("is not dbmate's section marker"), "{marker}: {e}");
        assert_eq!(e.position.map(|p| p.0), Some(3), "{marker}");
        assert!(e.hint.as_deref().unwrap().contains("`-- migrate:down`"));
    }
    // Both markers miswritten: the file would otherwise run whole, the drop after the create.
    let errors = load(vec![file(
        "20151129054053_t.sql",
        "-- MIGRATE:UP\ncreate table t (id int);\n-- MIGRATE:DOWN\ndrop table t;\n",
    )])
    .unwrap_err();
    assert_eq!(errors[0].position.map(|p| p.0), Some(1));
    assert!(errors[0].hint.as_deref().unwrap().contains("`-- migrate:up`"));
    // A comment merely mentioning the word stays a comment.
    let text =
        "-- migrate:up\n-- migrate users to the new table\ncreate table t (id int);\n-- migrate:down\ndrop table t;\n";
    assert!(load(vec![file("20151129054053_t.sql", text)]).is_ok());
}

/// dbmate reads a marker at the start of a line alone: an indented one in a function body is a
/// comment, between statements too (dbmate trial: it was taken for a second down marker, and the
/// error named the real one's line).
#[test]
fn an_indented_dbmate_marker_is_a_comment_as_dbmate_reads_it() {
    let text = "-- migrate:up\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  -- migrate:down is below\n  RETURN 1;\nEND $$;\n\n-- migrate:down\nDROP FUNCTION f();\n";
    let set = load(vec![file("20240101000000_f.sql", text)]).unwrap();
    assert_eq!(set.migrations[0].up.statements.len(), 1);
    assert_eq!(set.migrations[0].down.as_ref().unwrap().statement_text(0), "DROP FUNCTION f()");
    let text =
        "-- migrate:up\nCREATE TABLE t1 (id int);\n  -- migrate:down (a note)\n\n-- migrate:down\nDROP TABLE t1;\n";
    let set = load(vec![file("20240101000000_a.sql", text)]).unwrap();
    assert_eq!(set.migrations[0].up.statements.len(), 1);
    assert_eq!(set.migrations[0].down.as_ref().unwrap().statement_text(0), "DROP TABLE t1");
}

#[test]
fn a_second_section_marker_is_refused_where_its_sql_would_move_to_the_other_section() {
    // The up's second part would have run as part of the down (re-check trial).
    let text = "-- migrate:up\ncreate table t (a int);\n-- migrate:down\ndrop table t;\n-- migrate:up\ncreate table t3 (a int);\n";
    let errors = load(vec![file("20260101000000_v.sql", text)]).unwrap_err();
    assert!(errors[0].message.contains("has a second `-- migrate:up` line"), "{}", errors[0]);
    assert_eq!(errors[0].position, Some((5, 1)));
    let text = "-- +goose Up\nselect 1;\n-- +goose Down\nselect 2;\n-- +goose Down\nselect 3;\n";
    let errors = load(vec![file("00001_v.sql", text)]).unwrap_err();
    assert!(errors[0].message.contains("has a second `-- +goose Down` line"), "{}", errors[0]);
}

/// goose's annotations as goose reads them: a misspelt one, which goose refuses, is refused with
/// its line (goose trial: `-- +goose Dwon` ran the down as part of the up).
#[test]
fn goose_annotations_shale_would_not_read_as_goose_does_are_refused() {
    for (annotation, said) in [
        ("-- +goose Dwon", "is not an annotation goose knows"),
        ("-- +goose NO TRANSACTIONS", "is not an annotation goose knows"),
    ] {
        let text = format!("-- +goose Up\ncreate table keepme (id int);\n{annotation}\ndrop table keepme;\n");
        let errors = load(vec![file("00001_v.sql", &text)]).unwrap_err();
        assert!(errors[0].message.contains(said), "{annotation}: {}", errors[0]);
        assert_eq!(errors[0].position.map(|p| p.0), Some(3), "{annotation}");
    }
    // An up marker goose does not read (`+GOOSE`): the down's refusal is in goose's words.
    let errors = load(vec![file("00001_v.sql", "-- +GOOSE UP\nselect 1;\n-- +goose DOWN\nselect 2;\n")]).unwrap_err();
    assert!(errors[0].message.contains("has `-- +goose Down` but no `-- +goose Up` section"), "{}", errors[0]);
    let fine = "-- +goose Up\n-- +goose StatementBegin\nselect 1;\n-- +goose StatementEnd\n-- +goose ENVSUB OFF\n-- +goose Down\nselect 2;\n";
    assert!(load(vec![file("00001_v.sql", fine)]).is_ok());
}

/// goose's `ENVSUB ON`: the environment's variables are put into the SQL that runs, as goose puts
/// them (the second goose trial: the file was refused, and adopt with it); the checksum stays the
/// file's as written, so a value that differs by database is no change; a line goose would fail
/// to expand is an error at its place.
#[test]
fn goose_envsub_puts_the_environment_into_the_sql() {
    let text = "-- +goose Up\n-- +goose ENVSUB ON\nGRANT SELECT ON t TO ${APP_ROLE};\n-- +goose ENVSUB OFF\nSELECT '${APP_ROLE}';\n";
    let with = |role: &str| {
        let placeholders = Placeholders::default().with_environment([("APP_ROLE".to_string(), role.to_string())]);
        MigrationSet::load_with_placeholders(Path::new("m"), vec![file("00001_grant.sql", text)], &placeholders)
            .unwrap()
    };
    let (staging, production) = (with("staging_reader"), with("reader"));
    let m = &production.migrations[0];
    assert_eq!(m.up.statement_text(0), "GRANT SELECT ON t TO reader");
    assert_eq!(m.up.statement_text(1), "SELECT '${APP_ROLE}'");
    assert_eq!(staging.migrations[0].up.statement_text(0), "GRANT SELECT ON t TO staging_reader");
    assert_eq!(m.checksum, staging.migrations[0].checksum);
    let errors = load(vec![file("00002_x.sql", "-- +goose Up\n-- +goose ENVSUB ON\nSELECT $1;\n")]).unwrap_err();
    assert_eq!(errors[0].position, Some((3, 8)), "{}", errors[0]);
}

#[test]
fn sql_above_the_up_marker_is_refused_not_left_out() {
    let text = "-- a note\ncreate table t (z int);\n-- migrate:up\ncreate table if not exists t (a int);\n";
    let errors = load(vec![file("20151129054053_t.sql", text)]).unwrap_err();
    assert!(errors[0].message.contains("SQL above its `-- migrate:up` line"), "{}", errors[0]);
    assert_eq!(errors[0].position, Some((2, 1)));
    // Comments alone above it are fine.
    assert!(load(vec![file("20151129054053_t.sql", "-- a note\n/* more */\n-- migrate:up\nselect 1;\n")]).is_ok());
}

#[test]
fn diesel_folders_with_metadata() {
    let set = load(vec![
        file("2017-09-23-182408_create users/up.sql", "create table users (id int);"),
        file("2017-09-23-182408_create users/down.sql", "drop table users;"),
        file("2017-09-24-000000_index/up.sql", "create index concurrently i on users (id);"),
        file("2017-09-24-000000_index/metadata.toml", "run_in_transaction = false\n"),
        file("00000000000000_diesel_initial_setup/up.sql", ""),
    ])
    .unwrap();
    assert_eq!(
        versions(&set),
        ["00000000000000 diesel_initial_setup", "2017-09-23-182408 create users", "2017-09-24-000000 index"]
    );
    assert!(set.migrations[2].up.no_transaction.as_deref().unwrap().contains("run_in_transaction"));
    assert!(set.migrations[1].down.is_some());
    // An empty file is a valid no-op.
    assert!(set.migrations[0].up.statements.is_empty());
}

/// Prisma Migrate's folders: `migration.sql` is the up, `migration_lock.toml` beside them is
/// Prisma's; a `down.sql` a team adds is the down.
#[test]
fn prisma_folders() {
    let set = load(vec![
        file("migration_lock.toml", "provider = \"postgresql\"\n"),
        file("20230404095503_initial_migration/migration.sql", "-- CreateTable\nCREATE TABLE \"User\" (id int);\n"),
        file("20230411134605_doc_208/migration.sql", "CREATE INDEX CONCURRENTLY i ON \"User\" (id);"),
        file("20230411134605_doc_208/down.sql", "DROP INDEX i;"),
        file("20230412000000_backfill/migration.ts", "export const backfill = {};"),
    ])
    .unwrap();
    assert_eq!(set.ignored.len(), 1, "a runner's TypeScript migration is named, not run: {:?}", set.ignored);
    assert_eq!(versions(&set), ["20230404095503 initial_migration", "20230411134605 doc_208"]);
    assert_eq!(set.migrations[0].file, "20230404095503_initial_migration/migration.sql");
    assert!(set.migrations[1].up.no_transaction.is_some() && set.migrations[1].down.is_some());
    assert_eq!(set.convention(), Some((Layout::PrismaFolder, Naming::Timestamp)));
    // Folders sharing a timestamp are Prisma's distinct migrations, in the order of their names.
    let twins = load(vec![
        file("20260630120000_drop_keys/migration.sql", "select 2;"),
        file("20260630120000_add_filter/migration.sql", "select 1;"),
        file("20260630120000_zap/migration.sql", "select 3;"),
        file("20260630120001_next/migration.sql", "select 4;"),
    ])
    .unwrap();
    assert_eq!(
        versions(&twins),
        ["20260630120000 add_filter", "20260630120000.1 drop_keys", "20260630120000.2 zap", "20260630120001 next"]
    );
    // A shorter number among timestamps runs where its name puts it, as Prisma runs it (breadth
    // trial: langfuse's `20250625_add_pivot_table_charttype` ran first, before the type it uses).
    let short = load(vec![
        file("20250604085536_chart_type/migration.sql", "select 1;"),
        file("20250625_add_pivot/migration.sql", "select 2;"),
        file("20250625120000_same_day/migration.sql", "select 3;"),
        file("20250704170658_later/migration.sql", "select 4;"),
    ])
    .unwrap();
    assert_eq!(
        versions(&short),
        ["20250604085536 chart_type", "20250625120000 same_day", "20250625999999 add_pivot", "20250704170658 later"]
    );
}

#[test]
fn flyway_versioned_undo_and_repeatable() {
    let set = load(vec![
        file("V1__init.sql", "create table a (id int);"),
        file("V1.1__more.sql", "create table b (id int);"),
        file("U1.1__more.sql", "drop table b;"),
        file("V2__two.sql", "create table c (id int);"),
        file("R__views.sql", "create or replace view v as select 1;"),
        file("afterMigrate.sql", "grant select on all tables in schema public to reporting;"),
        file("callbacks/beforeEachMigrate__settings.sql", "set lock_timeout = '5s';"),
        file("notes.sql", "-- a script kept beside them"),
    ])
    .unwrap();
    assert_eq!(versions(&set), ["1 init", "1.1 more", "2 two", "R__views"]);
    assert!(set.migrations[1].down.is_some());
    assert_eq!(set.migrations[3].kind, MigrationKind::Repeatable);
    // Flyway's callbacks shale runs are callbacks; those it does not are named as such (and what
    // shale has in their place); another script is not one.
    let callbacks: Vec<(&str, CallbackEvent)> = set.callbacks.iter().map(|c| (c.file.as_str(), c.event)).collect();
    assert_eq!(callbacks, [("afterMigrate.sql", CallbackEvent::AfterMigrate)]);
    let reasons: Vec<&str> = set.ignored.iter().map(|i| i.reason.as_str()).collect();
    assert!(reasons[0].starts_with("a Flyway callback (beforeEachMigrate)"), "{reasons:?}");
    assert!(reasons[1].starts_with("not a migration"), "{reasons:?}");
    // One that cannot run in a transaction is refused at its statement.
    let errors = load(vec![
        file("V1__init.sql", "create table a (id int);"),
        file("afterMigrate.sql", "select 1;\ncreate index concurrently a_id on a (id);"),
    ])
    .unwrap_err();
    assert_eq!(errors[0].position, Some((2, 1)), "{errors:?}");
}

#[test]
fn every_problem_is_reported_with_its_file() {
    let errors = load(vec![
        file("001_a.sql", "select 1;"),
        file("0001_b.sql", "select 2;"),
        file("create_stuff.sql", "select 3;"),
        file("V3_stuff.sql", "select 3;"),
        file("003_c.down.sql", "select 4;"),
        SourceFile { relative: PathBuf::from("004_d.sql"), bytes: vec![b's', 0xff, 0xfe] },
        file("005_e.sql", "select 'unterminated;"),
    ])
    .unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let all = text.join("\n");
    // Named like no migration: passed over (with a note), as the other tools do. Named like one,
    // but broken: an error.
    assert!(!all.contains("create_stuff.sql"), "{all}");
    assert!(all.contains("migrations/V3_stuff.sql: `V3_stuff.sql` fits no migration naming convention"), "{all}");
    assert!(all.contains("duplicate version"), "{all}");
    assert!(all.contains("migrations/003_c.down.sql: has no matching up migration"), "{all}");
    assert!(all.contains("migrations/004_d.sql: is not UTF-8 (invalid byte at offset 1)"), "{all}");
    assert!(all.contains("migrations/005_e.sql:1:8: unterminated quoted string"), "{all}");
    assert_eq!(errors.len(), 5, "{all}");
}

#[test]
fn transaction_wrapper_is_dropped_and_inner_control_runs_as_psql_would() {
    let set = load(vec![file("001_a.sql", "BEGIN;\ncreate table a (id int);\nCOMMIT;\n")]).unwrap();
    assert_eq!(set.migrations[0].up.statements.len(), 1);
    assert_eq!(set.migrations[0].up.body().0, "create table a (id int)");
    assert!(set.migrations[0].up.sends_as_one());
    // pg_dump's `\unrestrict` line with SQL after it: passed over, so never sent in one text.
    let set = load(vec![file("002_dump.sql", "create table b (id int);\n\\unrestrict k\ninsert into b values (1);\n")])
        .unwrap();
    assert_eq!(set.migrations[0].up.statements.len(), 2);
    assert!(!set.migrations[0].up.sends_as_one());
    assert!(set.migrations[0].up.no_transaction.is_none());
    // A COMMIT in the middle: the file manages its own transactions, statement by statement.
    let set = load(vec![file("001_a.sql", "create table a (id int);\ncommit;\nselect 1;\n")]).unwrap();
    let up = &set.migrations[0].up;
    assert_eq!(up.statements.len(), 3);
    assert_eq!(
        up.no_transaction.as_deref(),
        Some("it has `commit` of its own (line 2), so it runs as psql would, statement by statement")
    );
}

#[test]
fn no_transaction_detection_and_directives() {
    let set = load(vec![
        file("001_a.sql", "create table a (id int);\ncreate index concurrently a_id on a (id);\n"),
        file("002_b.sql", "-- shale:no-transaction\nselect 1;\n"),
        file("003_c.sql", "select 1;\n"),
    ])
    .unwrap();
    assert!(set.migrations[0].up.no_transaction.as_deref().unwrap().contains("CREATE INDEX CONCURRENTLY"));
    assert_eq!(set.migrations[1].up.no_transaction.as_deref(), Some("`-- shale:no-transaction` (line 1)"));
    assert!(set.migrations[2].up.no_transaction.is_none());
    let errors = load(vec![file("001_a.sql", "select 1;\n-- shale:bogus\n")]).unwrap_err();
    assert_eq!(errors[0].position, Some((2, 4)));
}

#[test]
fn checksum_ignores_bom_and_crlf() {
    let a = load(vec![file("1_a.sql", "select 1;\nselect 2;\n")]).unwrap();
    let b = load(vec![file("1_a.sql", "\u{feff}select 1;\r\nselect 2;\r\n")]).unwrap();
    assert_eq!(a.migrations[0].checksum, b.migrations[0].checksum);
}

#[test]
fn read_dir_reads_the_disk() {
    let dir = std::env::temp_dir().join(format!("shale-core-layout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("2020-01-01-000000_folder")).unwrap();
    std::fs::write(dir.join("2020-01-01-000000_folder/up.sql"), "select 1;").unwrap();
    std::fs::write(dir.join("1_first.sql"), "select 1;").unwrap();
    std::fs::write(dir.join(".hidden.sql"), "garbage").unwrap();
    let set = MigrationSet::read_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(set.migrations.len(), 2);
    let missing = MigrationSet::read_dir(&dir).unwrap_err();
    assert!(missing[0].to_string().contains("cannot be read"));
}

#[test]
fn goose_sections_statement_blocks_and_no_transaction() {
    let text = "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$\n-- +goose StatementEnd\nCREATE TABLE t (id int);\n\n-- +goose Down\nDROP TABLE t\n";
    let set = load(vec![file("00003_funcs.sql", text)]).unwrap();
    let m = &set.migrations[0];
    assert_eq!(m.layout, Layout::Goose);
    // The block ends at StatementEnd even without a `;`; the Down section never runs with up.
    assert_eq!(m.up.statements.len(), 2, "{:?}", m.up.statements);
    assert!(m.up.statement_text(0).starts_with("CREATE FUNCTION") && m.up.statement_text(0).ends_with("$$"));
    assert_eq!(m.up.statement_text(1), "CREATE TABLE t (id int)");
    assert_eq!(m.down.as_ref().unwrap().statement_text(0), "DROP TABLE t");
    assert!(m.up.no_transaction.is_none());
    assert_eq!(set.convention(), Some((Layout::Goose, Naming::Sequential { width: 5 })));

    let text = "-- +goose NO TRANSACTION\n-- +goose Up\nALTER TYPE mood ADD VALUE 'meh';\nUPDATE t SET mood = 'meh';\n";
    let set = load(vec![file("00004_mood.sql", text)]).unwrap();
    // Named as the file says it.
    assert_eq!(set.migrations[0].up.no_transaction.as_deref(), Some("`-- +goose NO TRANSACTION` (line 1)"));
    assert!(set.migrations[0].down.is_none());

    let err =
        load(vec![file("00005_x.sql", "-- +goose Down\nDROP TABLE t;\n-- +goose Up\nCREATE TABLE t (id int);\n")])
            .unwrap_err();
    assert!(err[0].to_string().contains("`-- +goose Down` comes before `-- +goose Up`"), "{}", err[0]);
}

/// A StatementBegin ... StatementEnd block of several statements is one statement, as goose sends
/// it (one query: a NO TRANSACTION file's block still runs whole, in the implicit transaction of
/// one query; the goose trial's `LOCK TABLE` then `UPDATE` failed split); around it, statements
/// are cut as ever.
#[test]
fn a_goose_block_of_several_statements_is_sent_as_one() {
    let text = "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE a (id int);\n-- +goose StatementBegin\nLOCK TABLE a IN EXCLUSIVE MODE;\nUPDATE a SET id = id + 1;\n-- +goose StatementEnd\nCREATE TABLE b (id int);\n-- +goose Down\n-- +goose StatementBegin\nDROP TABLE b;\nDROP TABLE a;\n-- +goose StatementEnd\n";
    let set = load(vec![file("00006_block.sql", text)]).unwrap();
    let m = &set.migrations[0];
    let up: Vec<&str> = (0..m.up.statements.len()).map(|i| m.up.statement_text(i)).collect();
    assert_eq!(
        up,
        [
            "CREATE TABLE a (id int)",
            "LOCK TABLE a IN EXCLUSIVE MODE;\nUPDATE a SET id = id + 1",
            "CREATE TABLE b (id int)"
        ]
    );
    let down = m.down.as_ref().unwrap();
    assert_eq!(down.statements.len(), 1);
    assert_eq!(down.statement_text(0), "DROP TABLE b;\nDROP TABLE a");
}

/// A backfill line inside a goose block is refused at its line: the block is one query (the
/// review: it batched the UPDATE after the block instead).
#[test]
fn a_backfill_inside_a_goose_block_is_refused() {
    let text = "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n-- shale:backfill batch=100\nUPDATE t SET x = 1 WHERE x IS NULL;\n-- +goose StatementEnd\nUPDATE t SET y = 2 WHERE y IS NULL;\n";
    let errors = load(vec![file("00007_bf.sql", text)]).unwrap_err();
    assert!(errors[0].message.contains("inside a StatementBegin ... StatementEnd block"), "{}", errors[0]);
    assert_eq!(errors[0].position.map(|p| p.0), Some(5));
}

/// rubenv's sql-migrate: `-- +migrate Up` / `Down` sections, `StatementBegin` / `StatementEnd`
/// blocks and `notransaction` on the marker line; its commands are case-sensitive, as it reads them.
#[test]
fn sql_migrate_sections_statement_blocks_and_notransaction() {
    let text = "-- +migrate Up\n-- +migrate StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$\n-- +migrate StatementEnd\nCREATE TABLE t (id int);\n\n-- +migrate Down\nDROP TABLE t;\nDROP FUNCTION f;\n";
    let set = load(vec![file("1_funcs.sql", text)]).unwrap();
    let m = &set.migrations[0];
    assert_eq!(m.layout, Layout::SqlMigrate);
    assert_eq!(m.up.statements.len(), 2, "{:?}", m.up.statements);
    assert!(m.up.statement_text(0).ends_with("END $$"), "{}", m.up.statement_text(0));
    assert_eq!(m.down.as_ref().unwrap().statements.len(), 2);
    assert!(m.up.no_transaction.is_none());
    assert_eq!(set.convention(), Some((Layout::SqlMigrate, Naming::Sequential { width: 1 })));

    let text =
        "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n-- +migrate Down\nDROP INDEX t_id;\n";
    let set = load(vec![file("2_index.sql", text)]).unwrap();
    assert_eq!(set.migrations[0].up.no_transaction.as_deref(), Some("`-- +migrate Up notransaction` (line 1)"));

    let set = load(vec![file("3_x.sql", "-- +migrate up\nCREATE TABLE x (id int);\n")]).unwrap();
    assert_eq!(set.migrations[0].layout, Layout::SingleFile, "`up` is not sql-migrate's command");
}

/// sql-migrate switches direction at each marker (breadth trial: convoy's files repeat
/// `-- +migrate Up`, and were refused): each direction holds all its sections, at their lines,
/// and `notransaction` on any of its markers is the direction's.
#[test]
fn sql_migrate_sections_may_repeat() {
    let text = "-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE a;\n\
                -- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n\
                -- +migrate Down\nDROP INDEX a_id;\n";
    let set = load(vec![file("1677078479.sql", text)]).unwrap();
    let m = &set.migrations[0];
    assert_eq!(m.layout, Layout::SqlMigrate);
    let up: Vec<&str> = (0..m.up.statements.len()).map(|i| m.up.statement_text(i)).collect();
    assert_eq!(up, ["CREATE TABLE a (id int)", "CREATE INDEX CONCURRENTLY a_id ON a (id)"]);
    assert_eq!(m.up.no_transaction.as_deref(), Some("`-- +migrate Up notransaction` (line 5)"));
    let down = m.down.as_ref().unwrap();
    let down_sql: Vec<&str> = (0..down.statements.len()).map(|i| down.statement_text(i)).collect();
    assert_eq!(down_sql, ["DROP TABLE a", "DROP INDEX a_id"]);
    assert!(down.no_transaction.is_none());
    // Each statement at its line in the file.
    let index = crate::position::LineIndex::new(&m.up.text);
    assert_eq!(index.line_col(&m.up.text, m.up.statements[1].span.start), (6, 1));
    // A down before the up is read the same way.
    let set =
        load(vec![file("2_x.sql", "-- +migrate Down\nDROP TABLE x;\n-- +migrate Up\nCREATE TABLE x (id int);\n")])
            .unwrap();
    assert_eq!(set.migrations[0].up.statement_text(0), "CREATE TABLE x (id int)");
    assert_eq!(set.migrations[0].down.as_ref().unwrap().statement_text(0), "DROP TABLE x");
}

/// sql-migrate knows a migration by its file name: two files of one number run in name order, as
/// `8` and `8.1`; files of other layouts sharing a number are still duplicates.
#[test]
fn sql_migrate_files_sharing_a_number_are_twins() {
    let up = |sql: &str| format!("-- +migrate Up\n{sql}\n-- +migrate Down\nselect 1;\n");
    let set = load(vec![
        file("8_create_stats.sql", &up("create table s (id int);")),
        file("8_add_aggregators.sql", &up("create table a (id int);")),
        file("80_later.sql", &up("select 1;")),
        file("9_next.sql", &up("select 1;")),
    ])
    .unwrap();
    assert_eq!(versions(&set), ["8 add_aggregators", "8.1 create_stats", "9 next", "80 later"]);
    let twins: Vec<&str> = set.twins_of(&set.migrations[1]).iter().map(|m| m.file.as_str()).collect();
    assert_eq!(twins, ["8_add_aggregators.sql", "8_create_stats.sql"]);
    assert_eq!(set.twins_of(&set.migrations[2]).len(), 1);
    // Dated files numbered within the day are not twins: their numbers differ.
    let dated =
        load(vec![file("2023-01-20.0-a.sql", &up("select 1;")), file("2023-01-20.1-b.sql", &up("select 1;"))]).unwrap();
    assert_eq!(dated.twins_of(&dated.migrations[1]).len(), 1);
    let twins_last = load(vec![file("8_a.sql", &up("select 1;")), file("8_b.sql", &up("select 1;"))]).unwrap();
    assert_eq!(twins_last.convention(), Some((Layout::SqlMigrate, Naming::Sequential { width: 1 })));
    let err = load(vec![file("9_a.sql", "select 1;"), file("9_b.sql", "select 1;")]).unwrap_err();
    assert!(err[0].to_string().contains("duplicate version 9"), "{}", err[0]);
}

/// node-pg-migrate's SQL files: `-- Up Migration` / `-- Down Migration` in any case, more dashes
/// allowed; a note that merely starts with the words stays a comment; numbered in milliseconds.
#[test]
fn node_pg_migrate_sections() {
    let text = "-- Up Migration\nCREATE TABLE t (id int);\n\n---- down   MIGRATION\nDROP TABLE t;\n";
    let set = load(vec![file("1700000000000_t.sql", text)]).unwrap();
    let m = &set.migrations[0];
    assert_eq!(m.layout, Layout::NodePgMigrate);
    assert_eq!(m.up.statements.len(), 1);
    assert_eq!(m.down.as_ref().unwrap().statement_text(0), "DROP TABLE t");
    assert_eq!(set.convention(), Some((Layout::NodePgMigrate, Naming::UnixMillis)));
    // Only an up section: no down.
    let set = load(vec![file("1700000000001_u.sql", "-- up migration\nCREATE TABLE u (id int);\n")]).unwrap();
    assert!(set.migrations[0].down.is_none());
    // Prose after the words: a comment, the file one script.
    let text = "CREATE TABLE v (id int);\n-- Down migration: drop v by hand\n";
    let set = load(vec![file("1700000000002_v.sql", text)]).unwrap();
    assert_eq!(set.migrations[0].layout, Layout::SingleFile);
    // Only a down marker: node-pg-migrate runs the whole file as the up, and so does shale.
    let set =
        load(vec![file("1700000000004_x.sql", "CREATE TABLE x (id int);\n-- Down migration\n-- DROP TABLE x;\n")])
            .unwrap();
    assert_eq!((set.migrations[0].layout, set.migrations[0].up.statements.len()), (Layout::SingleFile, 1));
    // In a file of node-pg-migrate's (its template's marker), the other marker as it reads it.
    let text = "-- Up Migration\nCREATE TABLE y (id int);\n-- Down Migration (irreversible)\nDROP TABLE y;\n";
    let set = load(vec![file("1700000000005_y.sql", text)]).unwrap();
    assert_eq!(set.migrations[0].up.statements.len(), 1);
    assert_eq!(set.migrations[0].down.as_ref().unwrap().statement_text(0), "DROP TABLE y");
    // Written by hand with colons, as found in the wild: its sections too (the down ran in the up).
    let text = "-- Migration: 003_add_user\n\n-- Up Migration:\nINSERT INTO u VALUES (1);\n\n-- Down Migration:\nDELETE FROM u WHERE id = 1;\n";
    let set = load(vec![file("1700000000006_u.sql", text)]).unwrap();
    assert_eq!(set.migrations[0].up.statements.len(), 1);
    assert_eq!(set.migrations[0].down.as_ref().unwrap().statement_text(0), "DELETE FROM u WHERE id = 1");
    // Another tool's file with a comment of those words stays that tool's.
    let text = "-- Up migration\nCREATE TABLE z (id int);\n---- create above / drop below ----\nDROP TABLE z;\n";
    let set = load(vec![file("006_z.sql", text)]).unwrap();
    assert_eq!(set.migrations[0].layout, Layout::Tern);
    assert_eq!(set.migrations[0].up.statements.len(), 1);
    // node-pg-migrate reads its sections in either order.
    let text = "-- Down Migration\nDROP TABLE w;\n-- Up Migration\nCREATE TABLE w (id int);\n";
    let set = load(vec![file("1700000000003_w.sql", text)]).unwrap();
    let m = &set.migrations[0];
    assert_eq!((m.up.statements.len(), m.up.statement_text(0)), (1, "CREATE TABLE w (id int)"));
    assert_eq!(m.down.as_ref().unwrap().statements.len(), 1);
    assert_eq!(m.down.as_ref().unwrap().statement_text(0), "DROP TABLE w");
    // dbmate's do not: its down first is refused.
    let err = load(vec![file("20240101000000_w.sql", "-- migrate:down\nDROP TABLE w;\n-- migrate:up\nSELECT 1;\n")])
        .unwrap_err();
    assert!(err[0].to_string().contains("`-- migrate:down` comes before `-- migrate:up`"), "{}", err[0]);
}

/// A file named as node-pg-migrate names its files (milliseconds, or its `utc` format's 17
/// digits) has its markers read as node-pg-migrate reads them, words after them and all: its down
/// is not run as part of its up. Named otherwise, such words are a note.
#[test]
fn node_pg_migrate_markers_with_words_after_them_in_its_files() {
    let text = "-- Up Migration (create users)\nCREATE TABLE users (i int);\n-- Down Migrations: drop users\nDROP TABLE users;\n";
    for name in ["1700000000000_users.sql", "20240101120000123_users.sql"] {
        let set = load(vec![file(name, text)]).unwrap();
        let m = &set.migrations[0];
        assert_eq!((m.layout, m.up.statements.len()), (Layout::NodePgMigrate, 1), "{name}");
        assert_eq!(m.down.as_ref().unwrap().statement_text(0), "DROP TABLE users");
    }
    let set = load(vec![file("0001_users.sql", text)]).unwrap();
    assert_eq!((set.migrations[0].layout, set.migrations[0].up.statements.len()), (Layout::SingleFile, 2));
    // Beside a file so named, a file named otherwise (a date) is read as node-pg-migrate reads it.
    let set = load(vec![file("1700000000000_a.sql", "SELECT 1;\n"), file("20251120_users.sql", text)]).unwrap();
    let dated = set.migrations.iter().find(|m| m.version_text == "20251120").unwrap();
    assert_eq!((dated.layout, dated.up.statements.len()), (Layout::NodePgMigrate, 1));
    // SQL above the first marker, which node-pg-migrate left out: refused, told as it happened.
    let err = load(vec![file("1700000000001_pre.sql", "CREATE TABLE pre (i int);\n-- Up Migration\nSELECT 1;\n")])
        .unwrap_err();
    assert_eq!(err[0].position, Some((1, 1)));
    assert!(err[0].to_string().contains("node-pg-migrate leaves out without a word"), "{}", err[0]);
}

/// jackc's tern: the up above `---- create above / drop below ----`, the down below it; line
/// numbers stay the file's.
#[test]
fn tern_files_hold_the_up_above_the_separator_and_the_down_below() {
    let text = "create table t (id int);\ncreate index t_id on t (id);\n\n---- create above / drop below ----\n\ndrop table t;\n";
    let set =
        load(vec![file("001_create_t.sql", text), file("002_more.sql", "alter table t add column n int;\n")]).unwrap();
    let m = &set.migrations[0];
    assert_eq!(m.layout, Layout::Tern);
    assert_eq!(m.up.statements.len(), 2);
    assert_eq!(m.down.as_ref().unwrap().statement_text(0), "drop table t");
    assert_eq!(set.migrations[1].layout, Layout::SingleFile);
    assert!(set.migrations[1].down.is_none());
    let err =
        load(vec![file("003_bad.sql", "select 1;\n---- create above / drop below ----\nselect 'x;\n")]).unwrap_err();
    assert!(err[0].to_string().contains("003_bad.sql:3:"), "{}", err[0]);
    // `---- tern: disable-tx ----` runs the file outside a transaction, named as the file says it.
    let text = "---- tern: disable-tx ----\ncreate index concurrently t_n on t (n);\n---- create above / drop below ----\ndrop index t_n;\n";
    let set = load(vec![file("004_index.sql", text)]).unwrap();
    assert_eq!(set.migrations[0].up.no_transaction.as_deref(), Some("`---- tern: disable-tx ----` (line 1)"));
    // A goose file quoting the separator in a comment is goose's.
    let text =
        "-- +goose Up\ncreate table g (id int);\n-- +goose Down\n---- create above / drop below ----\ndrop table g;\n";
    let set = load(vec![file("006_goose.sql", text)]).unwrap();
    assert_eq!(set.migrations[0].layout, Layout::Goose);
    assert_eq!(set.migrations[0].up.statements.len(), 1);
    // Nothing below the separator: no down (tern calls such a migration irreversible).
    let set = load(vec![file("005_x.sql", "select 1;\n---- create above / drop below ----\n\n  \n")]).unwrap();
    assert!(set.migrations[0].down.is_none());
}

/// Files named by their date and a number within the day (`2023-01-20.0-initial.sql`, as a
/// sql-migrate project names them): one version each, in date then number order.
#[test]
fn dates_numbered_within_the_day_are_versions() {
    let set = load(vec![
        file("2023-01-26.0-delete-old.sql", "select 1;"),
        file("2023-01-20.0-initial.sql", "select 1;"),
        file("2023-01-26.1.drop_unused.sql", "select 1;"),
        file("2023-01-20.1_dump.sql", "select 1;"),
        file("2023-02-01-wallets-add-column.sql", "select 1;"),
        file("2023-02-02-101500_users.sql", "select 1;"),
    ])
    .unwrap();
    assert_eq!(
        versions(&set),
        [
            "2023-01-20.0 initial",
            "2023-01-20.1 dump",
            "2023-01-26.0 delete-old",
            "2023-01-26.1 drop_unused",
            "2023-02-01 wallets-add-column",
            "2023-02-02-101500 users"
        ]
    );
    let set =
        load(vec![file("2023-01-20.0-initial.sql", "select 1;"), file("2023-01-20.1_dump.sql", "select 1;")]).unwrap();
    assert_eq!(set.convention(), Some((Layout::SingleFile, Naming::Dated)));
}

#[test]
fn a_lone_commit_at_the_end_is_what_shale_does_anyway() {
    let set = load(vec![file("001_a.sql", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nCOMMIT;\n")]).unwrap();
    assert_eq!(set.migrations[0].up.statements.len(), 2);
    // A COMMIT in the middle: run outside a transaction, its own COMMIT included.
    let set = load(vec![file("001_a.sql", "CREATE TABLE a (id int);\nCOMMIT;\nINSERT INTO a VALUES (1);\n")]).unwrap();
    assert!(set.migrations[0].up.no_transaction.is_some());
}

#[test]
fn files_are_read_whole_at_any_size() {
    let dir = std::env::temp_dir().join(format!("shale-core-read-bounded-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for size in [0usize, 1, 4095, 4096, 70_000] {
        let path = dir.join(format!("{size}.sql"));
        let bytes: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read_bounded(&path).unwrap(), bytes, "{size} bytes");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unsplit_read_splits_only_what_is_asked_and_reports_what_cannot_be_split() {
    let dir = std::env::temp_dir().join(format!("shale-core-unsplit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("001_a.up.sql"), "CREATE TABLE a (id int);\nCREATE INDEX ON a (id);\n").unwrap();
    std::fs::write(dir.join("001_a.down.sql"), "DROP TABLE a;\n").unwrap();
    std::fs::write(dir.join("002_b.sql"), "-- shale:no-transaction\nSELECT 'unterminated;\n").unwrap();
    assert!(MigrationSet::read_dir(&dir).is_err(), "an eager read reports 002");
    let mut set = MigrationSet::read_dir_unsplit(&dir).unwrap();
    assert!(set.migrations.iter().all(|m| !m.up.is_split()));
    // The directives are read: they are cheap and planning needs them.
    assert!(set.migrations[1].up.directives().no_transaction);
    set.split_where(|m| m.name == "a").unwrap();
    let a = &set.migrations[0];
    assert!(a.up.is_split() && a.down.as_ref().unwrap().is_split());
    assert_eq!(a.up.statements.len(), 2);
    assert!(!set.migrations[1].up.is_split());
    let errors = set.split_where(|_| true).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().contains("002_b.sql:2:8"), "{}", errors[0]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_version_written_twice_is_a_duplicate() {
    let errors = load(vec![file("V1__a.sql", "select 1;"), file("V1.0__b.sql", "select 2;")]).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].to_string().contains("duplicate version"), "{}", errors[0]);
}

#[test]
fn a_mistyped_extension_is_named_with_the_name_to_give_the_file() {
    let mistake = |name: &str| match classify_other(name) {
        Other::Mistake(message) => message,
        _ => panic!("{name} is not reported"),
    };
    assert_eq!(
        mistake("003_add.up.sq"),
        "looks like a migration but ends in .sq, not .sql: rename it to `003_add.up.sql`, or move it out of the directory"
    );
    assert!(mistake("003_add.up").contains("rename it to `003_add.up.sql`"));
    assert!(mistake("V3__add.PSQL").contains("ends in .PSQL, not .sql: rename it to `V3__add.sql`"));
    assert!(matches!(classify_other("notes.sq"), Other::Silent), "not named like a migration");
    assert!(
        matches!(classify_other("20190101000000_users.up.fizz"), Other::Fizz { sql } if sql == "20190101000000_users.up.sql")
    );
}

#[test]
fn flyway_files_are_read_in_folders_at_any_depth() {
    let set = load(vec![
        file("v1/V1.0__init.sql", "select 1;"),
        file("v1/patches/deep/V1.1__memo.sql", "select 2;"),
        file("v1/U1.1__memo.sql", "select 3;"),
        file("common/R__views.sql", "select 4;"),
        file("common/README.md", "# notes"),
        file("V2__top.sql", "select 5;"),
        file("2017-09-23-182408_create users/up.sql", "select 6;"),
    ])
    .unwrap();
    assert_eq!(versions(&set), ["1.0 init", "1.1 memo", "2 top", "2017-09-23-182408 create users", "R__views"]);
    assert_eq!(set.migrations[1].file, "v1/patches/deep/V1.1__memo.sql");
    assert!(set.migrations[1].down.is_some(), "the undo file in another folder pairs with it");
    assert_eq!(set.migrations[4].file, "common/R__views.sql");

    // A version found twice is an error naming both files; so is a repeatable.
    let errors = load(vec![
        file("v1/V1__a.sql", "select 1;"),
        file("v2/V1.0__b.sql", "select 2;"),
        file("a/R__views.sql", "select 3;"),
        file("b/R__views.sql", "select 4;"),
    ])
    .unwrap_err();
    let all = errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n");
    assert_eq!(errors.len(), 2, "{all}");
    assert!(
        all.contains("migrations/v2/V1.0__b.sql: duplicate version 1.0: migrations/v1/V1__a.sql has it too"),
        "{all}"
    );
    assert!(
        all.contains(
            "migrations/b/R__views.sql: duplicate repeatable migration R__views: migrations/a/R__views.sql has it too"
        ),
        "{all}"
    );

    // Other conventions are read at the top only (or in a diesel folder): not in a folder.
    let errors = load(vec![file("v1/001_a.sql", "select 1;"), file("x/y/002_b.up.sql", "select 2;")]).unwrap_err();
    let all = errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n");
    assert!(all.contains("v1/001_a.sql: is a migration in folder `v1`, where only Flyway's"), "{all}");
    assert!(all.contains("x/y/002_b.up.sql: is a migration in folder `x/y`"), "{all}");
    // yoyo's files, named by ids (its documentation's `0001.create-foo.sql`), where a `-- depends:`
    // header says the directory is yoyo's; one of no number is an error naming it.
    let set = load(vec![
        file("0001.create-foo.sql", "-- depends:\nselect 1;"),
        file("0001.create-foo.rollback.sql", "select 0;"),
        file("0002_bar.sql", "-- depends: 0001.create-foo\nselect 2;"),
    ])
    .unwrap();
    let read: Vec<(&str, &str, bool)> =
        set.migrations.iter().map(|m| (m.version_text.as_str(), m.name.as_str(), m.down.is_some())).collect();
    assert_eq!(read, [("0001", "create-foo", true), ("0002", "bar", false)]);
    let errors = load(vec![file("create-foo.sql", "-- depends:\nselect 1;")]).unwrap_err();
    assert!(errors[0].to_string().contains("yoyo's migration `create-foo` starts with no number"), "{errors:?}");
    // One whose SQL depends on a Python step only is yoyo's too (review).
    let steps = load(vec![file("0002.seed.sql", "-- depends: 0001.init\nselect 1;")]).unwrap();
    assert_eq!(steps.migrations[0].layout, Layout::Yoyo);
    // Not yoyo's (review): a `-- depends:` comment naming no file, or files of another layout.
    let dbmate = load(vec![
        file("20240101120000_a.sql", "-- migrate:up\ncreate table a (i int);\n-- migrate:down\ndrop table a;\n"),
        file(
            "20240102120000_b.sql",
            "-- depends: table a\n-- migrate:up\ncreate table b (i int);\n-- migrate:down\ndrop table b;\n",
        ),
    ])
    .unwrap();
    assert!(dbmate.migrations.iter().all(|m| m.layout == Layout::DbmateSections && m.down.is_some()));
    let pairs = load(vec![
        file("000001_users.up.sql", "-- depends:\ncreate table users (i int);\n"),
        file("000001_users.down.sql", "drop table users;\n"),
    ])
    .unwrap();
    assert_eq!(pairs.migrations[0].layout, Layout::UpDownPair);
    // Old migrations kept aside in an `archive/` folder (node-pg-migrate, golang-migrate never
    // look there): left alone, and said.
    let set = load(vec![
        file("001_a.sql", "select 1;"),
        file("archive/0007_auth.sql", "select 2;"),
        // Another tool's files, of a naming shale does not read, too (slonik trial).
        file("old/2024-02-11 users.sql", "select 3;"),
    ])
    .unwrap();
    assert_eq!(set.migrations.len(), 1);
    assert!(set.ignored[0].reason.contains("in folder `archive`, kept aside"), "{:?}", set.ignored);
    assert!(set.ignored[1].reason.contains("in folder `old`, kept aside"), "{:?}", set.ignored);
    // Migrations a folder too deep (Hasura's folder of its database given, or graphile-migrate's
    // migrations/ holding committed/): the folder to point at is named.
    let errors = load(vec![file("default/1600000000000_a/up.sql", "select 1;"), file("notes.txt/x.sql", "select 1;")])
        .unwrap_err();
    assert!(
        errors[0].to_string().contains("is in migration folder `default/1600000000000_a`, inside folder `default`: point the migrations directory at `default`"),
        "{}",
        errors[0]
    );
    let errors = load(vec![file("2017-09-23-182408_x/V1__a.sql", "select 1;")]).unwrap_err();
    assert!(errors[0].to_string().contains("holds only up.sql"), "{}", errors[0]);
    // A folder per database: another database's are left alone, and every error points at
    // PostgreSQL's (breadth trial: vaultwarden's pointed at mysql, postgresql and sqlite by turns).
    let errors = load(vec![
        file("mysql/2018-02-17-205753_users/up.sql", "select 1;"),
        file("postgresql/2019-09-12-100000_users/up.sql", "select 1;"),
        file("sqlite/2018-02-17-205753_users/up.sql", "select 1;"),
    ])
    .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].to_string().contains("point the migrations directory at `postgresql`"), "{}", errors[0]);
}

#[test]
fn read_dir_reads_flyway_folders_to_their_depths() {
    let dir = std::env::temp_dir().join(format!("shale-core-layout-deep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("v1/more")).unwrap();
    std::fs::create_dir_all(dir.join("common/.git")).unwrap();
    std::fs::create_dir_all(dir.join("2020-01-01-000000_folder/nested")).unwrap();
    std::fs::write(dir.join("v1/V1__init.sql"), "select 1;").unwrap();
    std::fs::write(dir.join("v1/more/V1.1__more.sql"), "select 1;").unwrap();
    std::fs::write(dir.join("common/R__views.sql"), "select 1;").unwrap();
    std::fs::write(dir.join("common/.git/R__hidden.sql"), "garbage").unwrap();
    std::fs::write(dir.join("2020-01-01-000000_folder/up.sql"), "select 1;").unwrap();
    std::fs::write(dir.join("2020-01-01-000000_folder/nested/V9__not_read.sql"), "select 1;").unwrap();
    let set = MigrationSet::read_dir(&dir);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&dir, dir.join("v1/more/loop")).unwrap();
        let looped = MigrationSet::read_dir(&dir).unwrap_err();
        assert!(looped[0].to_string().contains("folders deep"), "{}", looped[0]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let set = set.unwrap();
    assert_eq!(versions(&set), ["1 init", "1.1 more", "2020-01-01-000000 folder", "R__views"]);
}

#[test]
fn flyway_placeholders_are_replaced_before_splitting_and_the_checksum_is_flyway_s() {
    let placeholders = Placeholders::new([("schema".to_string(), "app".to_string())]);
    let text = "CREATE TABLE ${schema}.a (id int);\n";
    let files = || {
        vec![
            file("V1__a.sql", text),
            file("R__v.sql", "CREATE VIEW ${schema}.v AS SELECT 1;\n"),
            file("2_plain.sql", "SELECT '${kept}';\n"),
        ]
    };
    let set = MigrationSet::load_with_placeholders(Path::new("m"), files(), &placeholders).unwrap();
    let v1 = &set.migrations[0];
    assert_eq!(v1.up.statement_text(0), "CREATE TABLE app.a (id int)");
    assert_eq!(v1.raw_text(), text);
    assert_eq!(v1.checksum, Checksum::of(text), "a versioned migration's is of the file as written");
    assert_eq!(
        set.migrations[2].checksum,
        Checksum::of("CREATE VIEW app.v AS SELECT 1;\n"),
        "a repeatable's of what runs"
    );
    assert_eq!(set.migrations[1].up.statement_text(0), "SELECT '${kept}'", "only Flyway's files have placeholders");

    let errors = MigrationSet::load(Path::new("m"), files()).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(
        errors[1].to_string(),
        "m/V1__a.sql:1:14: Flyway placeholder ${schema} has no value (hint: give it a value among the placeholders the migrations are read with: the value Flyway had as flyway.placeholders.schema; where Flyway ran with placeholder replacement off (placeholderReplacement=false) and the text is data, its own text: `schema = \"${schema}\"`)"
    );
    assert_eq!(errors[1].kind, LoadProblem::UnknownPlaceholder { name: "schema".into() });
}

#[test]
fn a_file_read_alone_has_its_placeholders_filled_as_loading_fills_them() {
    let placeholders = Placeholders::new([("schema".to_string(), "app".to_string())]);
    let text = "CREATE TABLE ${schema}.a (id int);\n";
    let fill = |path: &str, placeholders: &Placeholders| fill_placeholders(Path::new(path), text.into(), placeholders);
    let set =
        MigrationSet::load_with_placeholders(Path::new("m"), vec![file("V1__a.sql", text)], &placeholders).unwrap();
    assert_eq!(fill("m/V1__a.sql", &placeholders).unwrap(), (set.migrations[0].up.text.to_string(), Some(text.into())));
    assert_eq!(fill("elsewhere/R__a.sql", &placeholders).unwrap().0, "CREATE TABLE app.a (id int);\n");
    // Only Flyway's files have placeholders.
    assert_eq!(fill("m/1_a.sql", &placeholders).unwrap(), (text.to_string(), None));
    let loaded = MigrationSet::load(Path::new("m"), vec![file("V1__a.sql", text)]).unwrap_err();
    let alone = fill("m/V1__a.sql", &Placeholders::default()).unwrap_err();
    assert_eq!(alone.iter().map(ToString::to_string).collect::<Vec<_>>(), [loaded[0].to_string()]);
}

#[test]
fn pop_s_files_for_postgres_replace_those_for_every_database_and_the_others_are_left_alone() {
    let set = load(vec![
        // A version written for several databases (Ory's kratos keeps hundreds like it).
        file("20150100000001000000_networks.postgres.up.sql", "create table networks (id uuid primary key);"),
        file("20150100000001000000_networks.postgres.down.sql", "drop table networks;"),
        file("20150100000001000000_networks.mysql.up.sql", "create table networks (id char(36) primary key);"),
        file("20150100000001000000_networks.sqlite3.down.sql", "drop table networks;"),
        file("20150100000001000000_networks.cockroach.up.sql", "create table networks (id uuid primary key);"),
        // One file for every database, and one for PostgreSQL that runs instead (its down is the
        // one for every database).
        file("20220420102701000000_metadata.up.sql", "alter table networks add column meta json;"),
        file("20220420102701000000_metadata.PostgreSQL.up.sql", "alter table networks add column meta jsonb;"),
        file("20220420102701000000_metadata.down.sql", "alter table networks drop column meta;"),
        // Only for other databases: not a migration of PostgreSQL's.
        file("20230101000000000000_sqlite_only.sqlite.up.sql", "select 1;"),
        // A down for PostgreSQL whose up is for another database: nothing to undo, popx passes it over.
        file("20230102000000000000_mysql_only.mysql.up.sql", "select 1;"),
        file("20230102000000000000_mysql_only.postgres.down.sql", "select 1;"),
        // Outside a transaction, pop's way (for every database, and for PostgreSQL).
        file("20241029153900000001_index.autocommit.up.sql", "create index concurrently i on networks (meta);"),
        file("20241029153900000001_index.autocommit.down.sql", "drop index concurrently i;"),
        file("20241029153900000002_more.pg.autocommit.up.sql", "create index concurrently j on networks (id);"),
        // A golang-migrate name with a dot in it stays what it was.
        file("20250101000000000000_v1.2.up.sql", "select 2;"),
    ])
    .unwrap();
    assert_eq!(
        versions(&set),
        [
            "20150100000001000000 networks",
            "20220420102701000000 metadata",
            "20241029153900000001 index",
            "20241029153900000002 more",
            "20250101000000000000 v1.2",
        ]
    );
    let metadata = &set.migrations[1];
    assert_eq!(metadata.file, "20220420102701000000_metadata.PostgreSQL.up.sql");
    assert!(metadata.up.text.contains("jsonb"));
    assert_eq!(metadata.down.as_ref().unwrap().statement_text(0), "alter table networks drop column meta");
    assert!(set.migrations[0].up.no_transaction.is_none());
    for m in &set.migrations[2..4] {
        let why = m.up.no_transaction.as_deref().unwrap_or_default();
        assert!(why.contains(".autocommit"), "{}: {why:?}", m.file);
    }
    assert!(set.migrations[2].down.as_ref().unwrap().no_transaction.is_some());
    // Two files for PostgreSQL of one version are still a duplicate.
    let errors = load(vec![file("1_a.postgres.up.sql", "select 1;"), file("1_a.pg.up.sql", "select 2;")]).unwrap_err();
    assert!(errors[0].to_string().contains("duplicate version 1"), "{}", errors[0]);
    // So are a single-file migration and pop's file for PostgreSQL of one version.
    let errors = load(vec![file("2_b.sql", "select 1;"), file("2_b.postgres.up.sql", "select 2;")]).unwrap_err();
    assert!(errors[0].to_string().contains("duplicate version 2"), "{}", errors[0]);
}

#[test]
fn a_fizz_migration_is_an_error_unless_its_sql_is_beside_it() {
    let dir = std::env::temp_dir().join(format!("shale-core-fizz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("20190101000000_users.up.fizz"), "create_table(\"users\") {}").unwrap();
    std::fs::write(dir.join("20190101000000_users.up.sql"), "create table users (id uuid);").unwrap();
    std::fs::write(dir.join("20190102000000_posts.up.fizz"), "create_table(\"posts\") {}").unwrap();
    let errors = MigrationSet::read_dir(&dir).unwrap_err();
    std::fs::write(dir.join("20190102000000_posts.up.sql"), "create table posts (id uuid);").unwrap();
    // Written for PostgreSQL alone is written all the same.
    std::fs::write(dir.join("20190103000000_tags.up.fizz"), "create_table(\"tags\") {}").unwrap();
    std::fs::write(dir.join("20190103000000_tags.postgres.up.sql"), "create table tags (id uuid);").unwrap();
    let set = MigrationSet::read_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let shown = format!("{}", errors[0]);
    assert!(
        shown.contains("20190102000000_posts.up.fizz") && shown.contains("in `20190102000000_posts.up.sql`"),
        "{shown}"
    );
    assert!(errors[0].hint.as_deref().unwrap_or_default().contains("a baseline from the database"), "{:?}", errors[0]);
    assert_eq!(set.migrations.len(), 3);
}

/// A directory shared with another tool's migrations in code during a switch (Knex's `.js`,
/// Ecto's `.exs`): each named as left alone, in name order; other files stay silent.
#[test]
fn another_tool_s_code_migrations_are_named_as_left_alone() {
    let dir = std::env::temp_dir().join(format!("shale-core-code-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["20230105101502_orders.js", "20230105101500_users.js", "20230101000000_init.exs", "knexfile.js"] {
        std::fs::write(dir.join(name), "exports.up = () => {};").unwrap();
    }
    std::fs::write(dir.join("0001_baseline.sql"), "create table t (id int);").unwrap();
    let set = MigrationSet::read_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let named: Vec<String> =
        set.ignored.iter().map(|i| i.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(named, ["20230101000000_init.exs", "20230105101500_users.js", "20230105101502_orders.js"]);
    assert!(set.ignored[0].reason.contains("written in Elixir"), "{:?}", set.ignored[0]);
    assert!(set.ignored[1].reason.contains("written in JavaScript, which shale does not run"), "{:?}", set.ignored[1]);
    assert_eq!(set.migrations.len(), 1);
}

/// A drizzle-kit directory: a file its journal does not name, older than its newest entry, is
/// one drizzle-kit never ran (passed over, with a note); a newer one is a migration written since.
#[test]
fn a_file_drizzle_s_journal_does_not_name_is_passed_over() {
    let dir = std::env::temp_dir().join(format!("shale-core-drizzle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("meta")).unwrap();
    for name in ["0000_a.sql", "0001_b.sql", "0001_stray.sql", "0002_new.sql"] {
        std::fs::write(dir.join(name), "select 1;\n--> statement-breakpoint\nselect 2;\n").unwrap();
    }
    let journal = r#"{"version":"7","dialect":"postgresql","entries":[
        {"idx":0,"version":"7","when":1700000000000,"tag":"0000_a","breakpoints":true},
        {"idx":1,"version":"7","when":1700000010000,"tag":"0001_b","breakpoints":true}]}"#;
    std::fs::write(dir.join("meta/_journal.json"), journal).unwrap();
    let set = MigrationSet::read_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(versions(&set), ["0000 a", "0001 b", "0002 new"]);
    assert_eq!(set.ignored.len(), 1, "{:?}", set.ignored);
    assert!(set.ignored[0].path.ends_with("0001_stray.sql") && set.ignored[0].reason.contains("drizzle's journal"));
}

/// An entry of drizzle's journal whose file is gone (deleted, or renamed): drizzle refuses to
/// run, and so does shale, at the tag in the journal, rather than build a database without it.
#[test]
fn an_entry_of_drizzle_s_journal_without_its_file_is_an_error() {
    let dir = std::env::temp_dir().join(format!("shale-core-drizzle-gone-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("meta")).unwrap();
    for name in ["0000_a.sql", "0001_b_renamed.sql", "0002_c.sql"] {
        std::fs::write(dir.join(name), "select 1;\n").unwrap();
    }
    let journal = r#"{"version":"7","dialect":"postgresql","entries":[
        {"idx":0,"version":"7","when":1700000000000,"tag":"0000_a","breakpoints":true},
        {"idx":1,"version":"7","when":1700000010000,"tag":"0001_b","breakpoints":true},
        {"idx":2,"version":"7","when":1700000020000,"tag":"0002_c","breakpoints":true}]}"#;
    std::fs::write(dir.join("meta/_journal.json"), journal).unwrap();
    let errors = MigrationSet::read_dir(&dir).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let shown = errors[0].to_string();
    assert!(shown.contains("meta/_journal.json:3:"), "{shown}");
    assert!(shown.contains("names migration 0001_b, and there is no 0001_b.sql beside it"), "{shown}");
}

/// Atlas's `-- atlas:delimiter`: statements end at it, not at `;` (a blank line for `\n\n`, a
/// line `GO`), where shale split at `;` and refused the file at its second statement.
#[test]
fn atlas_delimiters_end_statements() {
    let blank = "-- atlas:delimiter \\n\\n\n\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$\n\nCREATE TABLE t (id int)\n";
    let go = "-- atlas:delimiter GO\n\nCREATE TABLE u (id int)\nGO\nINSERT INTO u VALUES (1)\nGO\n";
    let set = load(vec![file("1_blank.sql", blank), file("2_go.sql", go)]).unwrap();
    let texts = |i: usize| {
        let up = &set.migrations[i].up;
        (0..up.statements.len()).map(|n| up.statement_text(n).trim().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(
        texts(0),
        ["CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$", "CREATE TABLE t (id int)"]
    );
    assert_eq!(texts(1), ["CREATE TABLE u (id int)", "INSERT INTO u VALUES (1)"]);
    // As Atlas's scanner: never inside quotes, a dollar-quoted body or parentheses (a blank line in
    // a function's body or between columns); GO a word of its own, with no blank line needed
    // after the directive; any string, `\n---\n` too (re-check: such files were refused).
    let body = "-- atlas:delimiter \\n\\n\nCREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n\n  RETURN 1;\nEND $$\n\nCREATE TABLE v (\n  a int,\n\n  b text DEFAULT 'x\n\ny'\n)\n";
    let go_word = "-- atlas:delimiter GO\nCREATE TABLE good (id int)\nGO\nINSERT INTO good VALUES (1)\n";
    let dashes = "-- atlas:delimiter \\n---\\n\nCREATE TABLE w (id int)\n---\nCREATE TABLE données (id int)\n";
    let set = load(vec![file("1_body.sql", body), file("2_go.sql", go_word), file("3_dashes.sql", dashes)]).unwrap();
    let texts = |i: usize| {
        let up = &set.migrations[i].up;
        (0..up.statements.len()).map(|n| up.statement_text(n).trim().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(texts(0).len(), 2, "{:?}", texts(0));
    assert!(texts(0)[0].contains("RETURN 1;") && texts(0)[1].contains("'x\n\ny'"), "{:?}", texts(0));
    assert_eq!(texts(1), ["CREATE TABLE good (id int)", "INSERT INTO good VALUES (1)"]);
    assert_eq!(texts(2), ["CREATE TABLE w (id int)", "CREATE TABLE données (id int)"]);
}

/// A migration written in code tells when it was written by its name: milliseconds since 1970
/// (node-pg-migrate, TypeORM) in UTC, or a date and time (Knex, Sequelize) in a zone unknown.
#[test]
fn code_migrations_tell_when_they_were_written() {
    let of = |name: &str| CodeMigration::of(name, PathBuf::from(name));
    let ms = of("1751331728000_create-users.js").unwrap();
    assert_eq!((ms.written_at, ms.zone_known, ms.name.as_str()), (1751331728, true, "create-users"));
    let dated = of("20240101120000_users.ts").unwrap();
    assert_eq!((dated.written_at, dated.zone_known), (1704110400, false));
    let utc = of("20240101120000123_users.js").unwrap();
    assert_eq!((utc.written_at, utc.zone_known), (1704110400, true), "node-pg-migrate's utc names are UTC");
    // Ecto, Active Record and EF Core name theirs in UTC (Ecto trial: one written on the day of
    // the switch went unseen within the 14 hours a zone unknown is given).
    for name in ["20240101120000_add_y.exs", "20240101120000_add_y.rb", "20240101120000_AddY.Designer.cs"] {
        assert!(of(name).unwrap().zone_known, "{name}");
    }
    // Laravel's, its date and time in parts, in the application's zone (Ecto re-check: unseen).
    let laravel = of("2024_01_01_120000_create_webhooks_table.php").unwrap();
    assert_eq!(
        (laravel.version_text.as_str(), laravel.name.as_str(), laravel.written_at, laravel.zone_known),
        ("20240101120000", "create_webhooks_table", 1704110400, false)
    );
    assert!(of("2024_01_01_create_x.php").is_none());
    assert!(of("001_users.js").is_none() && of("20241301120000_bad.js").is_none());
    // ISO 8601's forms, as Kysely projects name them (Kysely trial: passed over, or version 2026).
    let basic = of("20240101T120000000Z-add-pronouns.ts").unwrap();
    assert_eq!(
        (basic.version_text.as_str(), basic.name.as_str(), basic.written_at, basic.zone_known),
        ("20240101120000000", "add-pronouns", 1704110400, true)
    );
    let extended = of("2024-01-01T12-00-00_add_pronouns.ts").unwrap();
    assert_eq!(
        (extended.version_text.as_str(), extended.name.as_str(), extended.written_at, extended.zone_known),
        ("20240101120000", "add_pronouns", 1704110400, false)
    );
}

/// One file named in milliseconds among another tool's does not make the directory
/// node-pg-migrate's: a note starting with its words stays a note (review: a dbmate file's index
/// moved into its down).
#[test]
fn one_file_named_in_milliseconds_does_not_make_a_directory_node_pg_migrate_s() {
    let invoices = "-- Up migration for billing\nCREATE TABLE invoices (id int);\n-- Down migration is not possible for the index below\nCREATE INDEX invoices_id ON invoices (id);\n";
    let set = load(vec![
        file("20240101120000_a.sql", "SELECT 1;\n"),
        file("20240102120000_b.sql", "SELECT 1;\n"),
        file("20240103120000_invoices.sql", invoices),
        file("1700000000000_x.sql", "SELECT 1;\n"),
    ])
    .unwrap();
    let m = set.migrations.iter().find(|m| m.name == "invoices").unwrap();
    assert_eq!((m.layout, m.up.statements.len()), (Layout::SingleFile, 2));
    // One written with node-pg-migrate's template markers does.
    let template = "-- Up Migration\nSELECT 1;\n-- Down Migration\nSELECT 2;\n";
    let set = load(vec![
        file("20240101120000_a.sql", "SELECT 1;\n"),
        file("20240102120000_b.sql", "SELECT 1;\n"),
        file("20240103120000_invoices.sql", invoices),
        file("1700000000000_x.sql", template),
    ])
    .unwrap();
    let m = set.migrations.iter().find(|m| m.name == "invoices").unwrap();
    assert_eq!((m.layout, m.up.statements.len()), (Layout::NodePgMigrate, 1));
}

/// Postgrator's `.do.`/`.undo.` files and db-migrate's `-up.sql`/`-down.sql` are pairs; a name of
/// another form ending in `-up` is a migration of its own.
#[test]
fn postgrator_and_db_migrate_files_pair_up() {
    let set = load(vec![
        file("001.do.users.sql", "CREATE TABLE users (id int);"),
        file("001.undo.users.sql", "DROP TABLE users;"),
        file("002.do.sql", "SELECT 1;"),
    ])
    .unwrap();
    assert_eq!(set.migrations.len(), 2);
    assert_eq!((set.migrations[0].layout, set.migrations[0].name.as_str()), (Layout::Postgrator, "users"));
    assert!(set.migrations[0].down.as_ref().is_some_and(|d| d.path.ends_with("001.undo.users.sql")));
    assert_eq!(set.migrations[1].name, "");
    let set = load(vec![
        file("sqls/20250101000001-create-users-up.sql", "CREATE TABLE users (id int);"),
        file("sqls/20250101000001-create-users-down.sql", "DROP TABLE users;"),
    ])
    .unwrap();
    assert_eq!(set.migrations.len(), 1);
    assert_eq!((set.migrations[0].layout, set.migrations[0].name.as_str()), (Layout::DbMigrate, "create-users"));
    let set = load(vec![file("0003_speed-up.sql", "SELECT 1;")]).unwrap();
    assert_eq!((set.migrations[0].layout, set.migrations[0].name.as_str()), (Layout::SingleFile, "speed-up"));
    // At the top, such a name is sql-migrate's, its sections read (review: its down ran in the up).
    let sections = "-- +migrate Up\nCREATE TABLE cleanup_jobs (id int);\n-- +migrate Down\nDROP TABLE cleanup_jobs;\n";
    let set = load(vec![file("20240102120000-clean-up.sql", sections)]).unwrap();
    assert_eq!((set.migrations[0].layout, set.migrations[0].name.as_str()), (Layout::SqlMigrate, "clean-up"));
    assert_eq!(set.migrations[0].up.statements.len(), 1);
}

/// A code migration named by an ISO 8601 time is numbered by the time's digits, not by its year:
/// beside `0001_baseline.sql` it is no `2024` that `shale new` numbers after (review).
#[test]
fn a_code_migration_named_by_an_iso_time_is_not_numbered_by_its_year() {
    let dir = std::env::temp_dir().join(format!("shale-core-iso-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("2024-01-02T12-00-00_users.ts"), "export async function up() {}").unwrap();
    std::fs::write(dir.join("0001_baseline.sql"), "create table t (id int);").unwrap();
    let set = MigrationSet::read_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(set.newest_version_of_any_file().map(|v| v.canonical()).as_deref(), Some("1"));
}

/// A script with no version in a folder of the migrations directory (tern's `data/sample.sql`,
/// which its templates include) is left alone with a note, as the tools that read the top leave it
/// (breadth trial: "folder `data` fits no migration convention" stopped every command).
#[test]
fn an_unversioned_script_in_a_folder_is_left_alone() {
    let set = load(vec![
        file("001_users.sql", "CREATE TABLE users (id int);\n---- create above / drop below ----\nDROP TABLE users;\n"),
        file("data/sample.sql", "INSERT INTO users VALUES (1);\n"),
    ])
    .unwrap();
    assert_eq!(versions(&set), ["001 users"]);
    assert!(
        set.ignored.iter().any(|i| i.reason.contains("in folder `data`, named with no version")),
        "{:?}",
        set.ignored
    );
}

/// A script of comments, or of a `BEGIN;` and `COMMIT;` around nothing (breadth trial: a Sqitch
/// revert), runs nothing; one statement between them is something.
#[test]
fn what_runs_nothing() {
    let script = |sql: &str| Script::parse(PathBuf::from("x.sql"), sql.to_string(), 0..sql.len(), None).unwrap();
    assert!(script("-- nothing yet\n").runs_nothing());
    assert!(script("-- Revert app:version_7\n\nBEGIN;\n\nCOMMIT;\n").runs_nothing());
    assert!(!script("BEGIN;\nDROP TABLE t;\nCOMMIT;\n").runs_nothing());
}
