use std::path::Path;

use super::*;
use crate::layout::SourceFile;

fn set(files: &[(&str, &str)]) -> MigrationSet {
    let files =
        files.iter().map(|(p, t)| SourceFile { relative: PathBuf::from(p), bytes: t.as_bytes().to_vec() }).collect();
    MigrationSet::load(Path::new("m"), files).unwrap()
}

/// The history row of `set`'s migration `version`, applied as it is now.
pub(super) fn applied(set: &MigrationSet, version: &str) -> AppliedRecord {
    let v = Version::parse(version).unwrap();
    let m = set.find(&v).unwrap();
    AppliedRecord {
        id: 1,
        version: v.canonical(),
        name: m.name.clone(),
        kind: RecordKind::Versioned,
        checksum: Some(m.checksum.0.clone()),
        status: RecordStatus::Succeeded,
        up_sql: Some(m.up.text.to_string()),
        down_sql: m.down.as_ref().map(|d| d.text.to_string()),
        applied_at: Some("2026-01-01T00:00:00Z".into()),
        duration_ms: Some(3),
        statements_done: None,
        error: None,
        path: Some(m.file.clone()),
        resume_cursor: None,
        reason: None,
    }
}

fn up_all() -> UpOptions {
    UpOptions { target: Target::All, allow_out_of_order: false }
}

fn labels(plan: &Plan) -> Vec<String> {
    plan.steps.iter().map(|s| s.label()).collect()
}

const THREE: &[(&str, &str)] = &[
    ("1_a.up.sql", "create table a (id int);"),
    ("1_a.down.sql", "drop table a;"),
    ("2_b.up.sql", "create table b (id int);"),
    ("2_b.down.sql", "drop table b;"),
    ("10_c.up.sql", "create table c (id int);"),
];

/// A Liquibase changeset changed by a parameter's value alone is told from one whose file changed.
#[test]
fn a_change_by_a_parameter_s_value_alone_is_named() {
    let mut s = set(THREE);
    s.liquibase_parameters = vec![("owner".into(), "".into()), ("schema".into(), "app2".into())];
    let applied = "CREATE TABLE app.t (id int);\nGRANT SELECT ON app.t TO reader;";
    let now = "CREATE TABLE app2.t (id int);\nGRANT SELECT ON app2.t TO reader;";
    assert_eq!(changed_by_parameter(&s, applied, now), Some("schema"));
    // Another edit beside it: the file changed.
    let edited = "CREATE TABLE app2.t (id bigint);\nGRANT SELECT ON app2.t TO reader;";
    assert_eq!(changed_by_parameter(&s, applied, edited), None);
    assert_eq!(changed_by_parameter(&s, applied, applied), None);
    // An edit where no parameter's value stands.
    assert_eq!(
        changed_by_parameter(&s, applied, "CREATE TABLE app.u (id int);\nGRANT SELECT ON app.t TO reader;"),
        None
    );
}

/// A failure written after the newest row this runner saw is another runner's, just now; one it
/// saw before it waited is its own to try again.
#[test]
fn a_failure_since_the_history_was_read_is_found() {
    let s = set(THREE);
    let failed =
        |id: i64| AppliedRecord { id, status: RecordStatus::Failed, error: Some("boom".into()), ..applied(&s, "2") };
    let h = History { records: vec![applied(&s, "1"), failed(5)] };
    let plan = plan_up(&s, &h, &up_all()).unwrap();
    assert_eq!(labels(&plan), ["2 b", "10 c"]);
    let (label, record) = failed_since(&plan, &h, 4).unwrap();
    assert_eq!((label.as_str(), record.error.as_deref()), ("2 b", Some("boom")));
    assert!(failed_since(&plan, &h, 5).is_none(), "seen before the wait: tried again");
    let succeeded = History { records: vec![applied(&s, "1")] };
    assert!(failed_since(&plan_up(&s, &succeeded, &up_all()).unwrap(), &succeeded, 0).is_none());
}

#[test]
fn pending_in_order_and_targets() {
    let s = set(THREE);
    let h = History { records: vec![applied(&s, "1")] };
    assert_eq!(labels(&plan_up(&s, &h, &up_all()).unwrap()), ["2 b", "10 c"]);
    let to = UpOptions { target: Target::Version(Version::parse("2").unwrap()), ..up_all() };
    assert_eq!(labels(&plan_up(&s, &h, &to).unwrap()), ["2 b"]);
    let step = UpOptions { target: Target::Steps(1), ..up_all() };
    assert_eq!(labels(&plan_up(&s, &h, &step).unwrap()), ["2 b"]);
    let none = History { records: (["1", "2", "10"]).iter().map(|v| applied(&s, v)).collect() };
    assert!(plan_up(&s, &none, &up_all()).unwrap().steps.is_empty());
    let unknown = UpOptions { target: Target::Version(Version::parse("7").unwrap()), ..up_all() };
    assert_eq!(plan_up(&s, &h, &unknown).unwrap_err(), vec![PlanError::UnknownVersion { version: "7".into() }]);
}

#[test]
fn modified_missing_and_out_of_order_are_refused() {
    let s = set(THREE);
    let mut changed = applied(&s, "1");
    changed.checksum = Some("0".repeat(64));
    let mut gone = applied(&s, "2");
    gone.version = "5".into();
    gone.name = "vanished".into();
    let h = History { records: vec![changed, gone, applied(&s, "10")] };
    let rows = status(&s, &h);
    let states: Vec<(Option<String>, State)> = rows.iter().map(|r| (r.version.clone(), r.state)).collect();
    assert_eq!(
        states,
        vec![
            (Some("1".into()), State::Modified),
            (Some("2".into()), State::OutOfOrder),
            (Some("5".into()), State::Missing),
            (Some("10".into()), State::Applied),
        ]
    );
    let errors = plan_up(&s, &h, &up_all()).unwrap_err();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors.iter().any(|e| matches!(e, PlanError::Modified { .. })));
    assert!(errors.iter().any(|e| matches!(e, PlanError::Missing { .. })));
    assert!(errors.iter().any(|e| matches!(e, PlanError::OutOfOrder { .. })));
    // Its version as its file wrote it, where the history recorded the file (Knex trial).
    let mut gone = applied(&s, "2");
    (gone.version, gone.path) = ("5".into(), Some("0005_vanished.sql".into()));
    let h = History { records: vec![gone] };
    assert_eq!(status(&s, &h).iter().find(|r| r.state == State::Missing).unwrap().version.as_deref(), Some("0005"));
    let errors = plan_up(&s, &h, &up_all()).unwrap_err();
    assert!(errors.iter().any(|e| matches!(e, PlanError::Missing { version, .. } if version == "0005")), "{errors:?}");
    assert_eq!(h.current_version().map(|v| h.written_version(&v)).as_deref(), Some("0005"));
    // Reverting it: what is missing is its file, not a down (re-check trial).
    let mut gone = h.records[0].clone();
    gone.down_sql = None;
    let errors = plan_down(&s, &History { records: vec![gone] }, &Target::Steps(1)).unwrap_err();
    assert!(matches!(&errors[0], PlanError::Missing { version, .. } if version == "0005"), "{errors:?}");
}

#[test]
fn out_of_order_allowed_by_flag_or_directive() {
    let s = set(&[("1_a.sql", "select 1;"), ("2_b.sql", "-- shale:out-of-order\nselect 2;"), ("3_c.sql", "select 3;")]);
    let h = History { records: vec![applied(&s, "3")] };
    let errors = plan_up(&s, &h, &up_all()).unwrap_err();
    assert_eq!(errors.len(), 1);
    // The library names no flag: the way out is the hint (the CLI words it --allow-out-of-order).
    assert!(matches!(errors[0], PlanError::OutOfOrder { .. }), "{errors:?}");
    assert!(errors[0].hint().is_some_and(|h| h.starts_with("allow out-of-order migrations")));
    assert!(!errors[0].to_string().contains("--"), "{}", errors[0]);
    let allowed = UpOptions { allow_out_of_order: true, ..up_all() };
    assert_eq!(labels(&plan_up(&s, &h, &allowed).unwrap()), ["1 a", "2 b"]);
}

#[test]
fn baseline_counts_as_applied() {
    let s = set(THREE);
    let mut base = applied(&s, "2");
    base.kind = RecordKind::Baseline;
    base.name = "baseline".into();
    let h = History { records: vec![base] };
    assert_eq!(labels(&plan_up(&s, &h, &up_all()).unwrap()), ["10 c"]);
    assert_eq!(status(&s, &h)[0].state, State::Baseline);
    assert_eq!(h.current_version(), Version::parse("2"));
}

#[test]
fn down_newest_first_with_history_fallback() {
    let s = set(THREE);
    let mut h = History { records: vec![applied(&s, "1"), applied(&s, "2")] };
    let plan = plan_down(&s, &h, &Target::Steps(1)).unwrap();
    assert_eq!(labels(&plan), ["2 b"]);
    assert_eq!(plan.steps[0].script.statement_text(0), "drop table b");
    assert_eq!(labels(&plan_down(&s, &h, &Target::All).unwrap()), ["2 b", "1 a"]);
    assert_eq!(labels(&plan_down(&s, &h, &Target::Version(Version::parse("1").unwrap())).unwrap()), ["2 b"]);
    // The file of 2 is gone: its down still comes from the history.
    let only_one = set(&THREE[..2]);
    let plan = plan_down(&only_one, &h, &Target::All).unwrap();
    assert_eq!(plan.steps[0].script.statement_text(0), "drop table b");
    // Neither file nor history has a down for 10.
    let mut ten = applied(&s, "10");
    ten.down_sql = None;
    h.records.push(ten);
    assert!(matches!(&plan_down(&s, &h, &Target::Steps(1)).unwrap_err()[0], PlanError::NoDown { .. }));
}

#[test]
fn a_baseline_recorded_after_a_failed_attempt_settles_it() {
    let s = set(THREE);
    let mut failed = applied(&s, "1");
    failed.status = RecordStatus::Failed;
    let mut base = applied(&s, "2");
    (base.id, base.kind, base.name) = (2, RecordKind::Baseline, "baseline".into());
    // `baseline 2 --force` after `up` failed on 1: 1 and 2 count as applied, 10 runs.
    let h = History { records: vec![failed.clone(), base.clone()] };
    assert_eq!(labels(&plan_up(&s, &h, &up_all()).unwrap()), ["10 c"]);
    assert_eq!(status(&s, &h)[0].state, State::Baseline);
    // An attempt after the baseline (a migration it covers, applied again by hand) still counts.
    (failed.id, base.id) = (3, 2);
    let h = History { records: vec![base, failed] };
    assert_eq!(status(&s, &h)[0].state, State::Failed);
}

#[test]
fn failed_no_transaction_migration_resumes_when_unchanged() {
    let text = "create table t (id int);\ncreate index concurrently t_id on t (id);\ncreate index concurrently t_id2 on t (id);\n";
    let s = set(&[("1_a.sql", text)]);
    let mut failed = applied(&s, "1");
    failed.status = RecordStatus::Failed;
    failed.statements_done = Some(2);
    let h = History { records: vec![failed.clone()] };
    assert_eq!(status(&s, &h)[0].state, State::Failed);
    let plan = plan_up(&s, &h, &up_all()).unwrap();
    assert_eq!(plan.steps[0].resume_from, 2);
    // The first statement was edited after the failure: refuse to guess.
    let edited = set(&[("1_a.sql", &text.replace("(id int)", "(id bigint)"))]);
    let errors = plan_up(&edited, &h, &up_all()).unwrap_err();
    assert!(matches!(errors[0], PlanError::ResumeChanged { statement: 2, .. }));
    // It no longer runs outside a transaction: run whole, its first two statements would run again.
    let in_transaction = set(&[("1_a.sql", &text.replace("concurrently ", ""))]);
    let errors = plan_up(&in_transaction, &h, &up_all()).unwrap_err();
    assert!(
        matches!(errors[0], PlanError::ResumeChanged { statement: 2, now_in_a_transaction: true, .. }),
        "{errors:?}"
    );
    // Said as it is (Ecto trial: "statements before statement 2 changed since", of one unchanged).
    assert!(errors[0].to_string().contains("its statements 1 to 2 ran outside a transaction"), "{}", errors[0]);
}

#[test]
fn a_no_transaction_down_that_stopped_part_way_goes_on_where_it_stopped() {
    let down = "-- shale:no-transaction\ninsert into log values (1);\ndrop index concurrently t_a;\ndrop table t;\n";
    let s = set(&[("1_t.up.sql", "create table t (id int);"), ("1_t.down.sql", down)]);
    let attempt = |status: RecordStatus, id: i64| AppliedRecord {
        id,
        kind: RecordKind::Audit,
        status,
        statements_done: Some(2),
        down_sql: Some(down.to_string()),
        ..applied(&s, "1")
    };
    let step =
        |h: &History| plan_down(&s, h, &Target::Steps(1)).map(|p| (p.steps[0].resume_from, p.steps[0].resume_in_doubt));
    // Failed at its third statement: it goes on there, nothing in doubt.
    let failed = History { records: vec![applied(&s, "1"), attempt(RecordStatus::Failed, 2)] };
    assert_eq!(step(&failed).unwrap(), (2, false));
    assert_eq!(status(&s, &failed)[0].state, State::Applied);
    assert_eq!(status(&s, &failed)[0].down_stopped_at, Some(3));
    // Its runner died: the statement it was at is checked before it runs again.
    let killed = History { records: vec![applied(&s, "1"), attempt(RecordStatus::Running, 2)] };
    assert_eq!(step(&killed).unwrap(), (2, true));
    // An attempt older than the row that applied it (applied again since) is not this down's.
    let mut again = applied(&s, "1");
    again.id = 3;
    let applied_again = History { records: vec![again, attempt(RecordStatus::Failed, 2)] };
    assert_eq!(step(&applied_again).unwrap(), (0, false));
    assert_eq!(status(&s, &applied_again)[0].down_stopped_at, None);
    // A statement that ran was edited since: refused, naming the down.
    let edited = set(&[("1_t.up.sql", "create table t (id int);"), ("1_t.down.sql", &down.replace("(1)", "(2)"))]);
    let errors = plan_down(&edited, &failed, &Target::Steps(1)).unwrap_err();
    assert!(matches!(errors[0], PlanError::ResumeChanged { statement: 2, reverting: true, .. }), "{errors:?}");
    let in_transaction = set(&[
        ("1_t.up.sql", "create table t (id int);"),
        ("1_t.down.sql", &down.replace("-- shale:no-transaction\n", "").replace("concurrently ", "")),
    ]);
    let errors = plan_down(&in_transaction, &failed, &Target::Steps(1)).unwrap_err();
    assert!(matches!(errors[0], PlanError::ResumeChanged { statement: 2, reverting: true, .. }), "{errors:?}");
    assert!(errors[0].to_string().contains("the down of migration 1 t stopped part-way"), "{}", errors[0]);
}

#[test]
fn rolled_back_is_pending_and_repeatables_follow_checksums() {
    let s = set(&[("V1__a.sql", "select 1;"), ("R__views.sql", "create or replace view v as select 1;")]);
    let mut back = applied(&s, "1");
    back.status = RecordStatus::RolledBack;
    let repeatable = AppliedRecord {
        kind: RecordKind::Repeatable,
        version: String::new(),
        name: "views".into(),
        checksum: Some(s.migrations[1].checksum.0.clone()),
        ..applied(&s, "1")
    };
    let h = History { records: vec![back, repeatable.clone()] };
    assert_eq!(labels(&plan_up(&s, &h, &up_all()).unwrap()), ["1 a"]);
    let changed = AppliedRecord { checksum: Some("x".into()), ..repeatable };
    let h = History { records: vec![changed] };
    assert_eq!(labels(&plan_up(&s, &h, &up_all()).unwrap()), ["1 a", "R__views"]);
}

#[test]
fn statements_that_change_shale_s_own_tables_are_refused_with_their_position() {
    let own =
        OwnTables { schema: "public".into(), tables: vec!["shale_migrations".into(), "shale_migrations_lock".into()] };
    let files = set(&[
        ("1_ok.sql", "SELECT count(*) FROM shale_migrations;\nGRANT SELECT ON shale_migrations TO app;\nCREATE VIEW history AS SELECT * FROM public.shale_migrations;\nCOMMENT ON TABLE shale_migrations IS 'x';\nCREATE TABLE notes (text text DEFAULT 'shale_migrations');\n"),
        ("2_drop.sql", "-- shale:no-transaction\nCREATE TABLE t (id int);\n  DROP TABLE shale_migrations;\n"),
        ("3_quoted.sql", "DELETE FROM \"public\".\"shale_migrations_lock\";\n"),
        ("4_schema.sql", "DROP SCHEMA public CASCADE;\n"),
    ]);
    let plan = plan_up(&files, &History::default(), &up_all()).unwrap();
    let errors = check_own_tables(&plan, &own).unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(text.len(), 3, "{text:#?}");
    assert!(text[0].starts_with("m/2_drop.sql:3:3: this statement changes public.shale_migrations,"), "{}", text[0]);
    assert!(
        text[1].starts_with("m/3_quoted.sql:1:1: this statement changes public.shale_migrations_lock,"),
        "{}",
        text[1]
    );
    assert!(text[2].starts_with("m/4_schema.sql:1:1: this statement changes schema public,"), "{}", text[2]);
    // A table of another name that only contains the name is fine.
    let other = set(&[("1_a.sql", "CREATE TABLE shale_migrations_archive (id int);\n")]);
    let plan = plan_up(&other, &History::default(), &up_all()).unwrap();
    assert!(check_own_tables(&plan, &own).is_ok());
}

#[test]
fn a_killed_backfill_resumes_at_its_cursor_with_nothing_in_doubt() {
    let s =
        set(&[("1_fill.sql", "alter table t add column c int;\n-- shale:backfill batch=10\nupdate t set c = 1;\n")]);
    assert!(s.migrations[0].up.no_transaction.as_deref().is_some_and(|r| r.contains("shale:backfill")));
    let killed = AppliedRecord {
        status: RecordStatus::Running,
        statements_done: Some(1),
        resume_cursor: Some("[\"40\"]".into()),
        ..applied(&s, "1")
    };
    let plan = plan_up(&s, &History { records: vec![killed.clone()] }, &up_all()).unwrap();
    let step = &plan.steps[0];
    assert_eq!((step.resume_from, step.resume_in_doubt), (1, false));
    assert_eq!(step.resume_cursor.as_deref(), Some("[\"40\"]"));
    // Killed during the ALTER (statement 1): that one is in doubt, and no cursor applies.
    let earlier = AppliedRecord { statements_done: Some(0), resume_cursor: None, ..killed };
    let plan = plan_up(&s, &History { records: vec![earlier] }, &up_all()).unwrap();
    assert_eq!(
        (plan.steps[0].resume_from, plan.steps[0].resume_in_doubt, plan.steps[0].resume_cursor.clone()),
        (0, true, None)
    );
}

#[test]
fn a_squash_runs_on_fresh_databases_and_counts_as_applied_where_its_files_ran() {
    let before = set(&[
        ("1_a.sql", "create table a (id int);"),
        ("2_b.sql", "create table b (id int);"),
        ("3_c.sql", "create table c (id int);"),
        ("4_d.sql", "create table d (id int);"),
    ]);
    let after = set(&[
        (
            "3_squashed.sql",
            "-- shale:squashed 1..3\ncreate table a (id int);\ncreate table b (id int);\ncreate table c (id int);",
        ),
        ("4_d.sql", "create table d (id int);"),
    ]);
    // Fresh: the squash, then the rest.
    assert_eq!(labels(&plan_up(&after, &History::default(), &up_all()).unwrap()), ["3 squashed", "4 d"]);
    // Migrated with the old files up to 3: only 4, and the archived versions are not missing.
    let old = |versions: &[&str]| History { records: versions.iter().map(|v| applied(&before, v)).collect() };
    let past = old(&["1", "2", "3"]);
    assert_eq!(labels(&plan_up(&after, &past, &up_all()).unwrap()), ["4 d"]);
    assert!(status(&after, &past).iter().all(|r| r.state != State::Missing && r.state != State::Modified));
    // Inside the squash: refused, pointing at the archive.
    let errors = plan_up(&after, &old(&["1"]), &up_all()).unwrap_err();
    assert!(matches!(&errors[..], [PlanError::InsideSquash { applied, .. }] if applied == "1"), "{errors:?}");
    // The hint points at the archive; the CLI names its flag (--from-archive).
    assert!(errors[0].hint().is_some_and(|h| h.contains("archived files")), "{:?}", errors[0].hint());
}

#[test]
fn an_unsplit_set_is_split_where_up_may_run_it() {
    use crate::layout::Splitting;
    let files = |extra: &str| {
        let mut files: Vec<SourceFile> = THREE
            .iter()
            .map(|(p, t)| SourceFile { relative: PathBuf::from(p), bytes: t.as_bytes().to_vec() })
            .collect();
        files.push(SourceFile { relative: PathBuf::from("11_d.sql"), bytes: extra.as_bytes().to_vec() });
        files
    };
    let eager = MigrationSet::load(Path::new("m"), files("create table d (id int);")).unwrap();
    let history = History { records: vec![applied(&eager, "1"), applied(&eager, "2")] };
    let mut lazy =
        MigrationSet::load_splitting(Path::new("m"), files("create table d (id int);"), Splitting::Later).unwrap();
    split_for_up(&mut lazy, &history).unwrap();
    let split: Vec<bool> = lazy.migrations.iter().map(|m| m.up.is_split()).collect();
    assert_eq!(split, [false, false, true, true], "applied ones stay unsplit");
    let plan = plan_up(&lazy, &history, &up_all()).unwrap();
    assert_eq!(labels(&plan), ["10 c", "11 d"]);
    assert!(plan.steps.iter().all(|s| s.script.is_split() && s.script.statements.len() == 1));

    // The history changed under the lock (another runner reverted 2): its step is split then.
    let mut plan = plan_up(&lazy, &History { records: vec![applied(&eager, "1")] }, &up_all()).unwrap();
    assert!(!plan.steps[0].script.is_split());
    plan.split_scripts().unwrap();
    assert_eq!(plan.steps[0].script.statements.len(), 1);

    // A file that will run and cannot be split is reported; one that will not run is not split.
    let mut lazy =
        MigrationSet::load_splitting(Path::new("m"), files("select 'unterminated;"), Splitting::Later).unwrap();
    let errors = split_for_up(&mut lazy, &history).unwrap_err();
    assert!(errors[0].to_string().contains("11_d.sql:1:8"), "{}", errors[0]);
}

#[test]
fn a_plan_names_the_schemas_its_statements_qualify_names_with() {
    let s = set(&[(
        "1_a.sql",
        "ALTER TABLE billing.invoices ADD COLUMN n int;\nCREATE INDEX ON \"Sales\".\"Orders\" (x);\nCREATE TABLE plain (id int);\n",
    )]);
    let plan = plan_up(&s, &History::default(), &up_all()).unwrap();
    assert_eq!(plan.named_schemas(), ["Sales", "billing"]);
}

/// Prisma folders sharing a timestamp: one added since, sorting before an applied one, would
/// give it the applied one's version; `up` refuses, naming both, rather than run either wrongly.
#[test]
fn a_prisma_twin_added_before_an_applied_one_is_refused() {
    let before = set(&[("20260630120000_zap/migration.sql", "select 1;")]);
    let history = History { records: vec![applied(&before, "20260630120000")] };
    let after =
        set(&[("20260630120000_add/migration.sql", "select 2;"), ("20260630120000_zap/migration.sql", "select 1;")]);
    let errors = plan_up(&after, &history, &up_all()).unwrap_err();
    assert!(
        errors.iter().any(|e| matches!(e, PlanError::TwinMoved { recorded, .. } if recorded == "20260630120000_zap")),
        "{errors:?}"
    );
    // Added after it instead: the applied one keeps its version, the new one runs.
    let later =
        set(&[("20260630120000_zap/migration.sql", "select 1;"), ("20260630120000_zz/migration.sql", "select 3;")]);
    assert_eq!(labels(&plan_up(&later, &history, &up_all()).unwrap()), ["20260630120000.1 zz"]);
}

/// A history row written before shale kept a script's own section holds a dbmate file whole: with
/// the file gone, `down` runs its down section alone, not its up too. New rows keep the section.
#[test]
fn a_down_from_the_history_of_a_sectioned_file_is_its_down_section() {
    let text = "-- migrate:up\ncreate table t (id int);\n\n-- migrate:down\ndrop table t;\n";
    let s = set(&[("1_t.sql", text)]);
    let new_row = applied(&s, "1");
    let step = up_step(&s.migrations[0], 0);
    assert_eq!(step.down_sql.as_deref().map(str::trim), Some("drop table t;"));
    let old_row = AppliedRecord { down_sql: Some(text.to_string()), ..new_row };
    let gone = set(&[]);
    let plan = plan_down(&gone, &History { records: vec![old_row] }, &Target::Steps(1)).unwrap();
    let script = &plan.steps[0].script;
    let statements: Vec<&str> = (0..script.statements.len()).map(|i| script.statement_text(i)).collect();
    assert_eq!(statements, ["drop table t"]);
}

#[test]
fn a_change_in_comments_and_white_space_only() {
    use super::differs_in_comments_only as only;
    assert!(only("CREATE TABLE t (id int);", "-- the t table\nCREATE TABLE t (\n  id int\n); /* done */"));
    assert!(!only("CREATE TABLE t (id int);", "CREATE TABLE t (id bigint);"));
    assert!(!only("SELECT 'a';", "SELECT 'A';"), "a string literal is no comment");
    // A dollar-quoted body is as written: its case, its spaces and its `--` lines are its own.
    let body = |b: &str| format!("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$SELECT '{b}'$$;");
    assert!(!only(&body("x"), &body("X")));
    let plpgsql =
        |b: &str| format!("CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN {b} RETURN 1; END $fn$;");
    assert!(!only(&plpgsql(""), &plpgsql("-- a note\n")));
    assert!(only(&plpgsql(""), &format!("-- g\n{}", plpgsql(""))));
    assert!(!only("SELECT 1;", "SELECT 1;"), "the same text is no change");
}

/// A failed attempt that left nothing (in its transaction) of a migration whose file was deleted
/// is not the failure of the new file written at its version (FastAPI trial: the new file showed
/// as failed); one of the same name still is, and one that stopped part-way outside a transaction
/// stays in the way whatever the name.
#[test]
fn a_failed_attempt_of_another_migration_of_the_version_is_not_this_one_s() {
    let s = set(THREE);
    let mut failed = applied(&s, "2");
    failed.status = RecordStatus::Failed;
    failed.name = "bad".into();
    let h = History { records: vec![applied(&s, "1"), failed.clone()] };
    assert_eq!(labels(&plan_up(&s, &h, &up_all()).unwrap()), ["2 b", "10 c"]);
    let state = |h: &History| status(&s, h)[1].state;
    assert_eq!(state(&h), State::Pending);
    failed.name = "b".into();
    let h = History { records: vec![applied(&s, "1"), failed.clone()] };
    assert_eq!(state(&h), State::Failed);
    failed.name = "bad".into();
    failed.statements_done = Some(1);
    let h = History { records: vec![applied(&s, "1"), failed] };
    assert_eq!(state(&h), State::Failed);
}

#[test]
fn a_file_added_under_the_baseline_after_it_was_recorded_is_out_of_order() {
    let s = set(THREE);
    let mut base = applied(&s, "2");
    (base.kind, base.name) = (RecordKind::Baseline, "baseline".into());
    // The baseline at 2 was recorded when only 2 was there: 1 came later.
    let mut covers = applied(&s, "2");
    (covers.id, covers.kind, covers.version) = (2, RecordKind::Audit, String::new());
    covers.name = covered::COVERED_ROW_NAME.into();
    covers.reason = Some(covered::covered_reason(&Version::parse("2").unwrap(), [&Version::parse("2").unwrap()]));
    let h = History { records: vec![base.clone(), covers.clone()] };
    let states: Vec<State> = status(&s, &h).iter().map(|r| r.state).collect();
    assert_eq!(states, [State::OutOfOrder, State::Baseline, State::Pending]);
    let errors = plan_up(&s, &h, &up_all()).unwrap_err();
    assert!(matches!(&errors[0], PlanError::OutOfOrder { under_baseline: Some(b), .. } if b == "2"), "{errors:?}");
    assert!(errors[0].to_string().contains("is under the baseline 2 but was added after"), "{}", errors[0]);
    let allowed = UpOptions { allow_out_of_order: true, ..up_all() };
    assert_eq!(labels(&plan_up(&s, &h, &allowed).unwrap()), ["1 a", "10 c"]);
    // Listed, it is covered; and a list written for another baseline says nothing of this one.
    let both = [Version::parse("1").unwrap(), Version::parse("2").unwrap()];
    covers.reason = Some(covered::covered_reason(&Version::parse("2").unwrap(), &both));
    let h = History { records: vec![base.clone(), covers.clone()] };
    assert_eq!(labels(&plan_up(&s, &h, &up_all()).unwrap()), ["10 c"]);
    covers.reason = Some(covered::covered_reason(&Version::parse("10").unwrap(), &both[1..]));
    let h = History { records: vec![base.clone(), covers.clone()] };
    assert_eq!(labels(&plan_up(&s, &h, &up_all()).unwrap()), ["10 c"]);
    // A file of the baseline's own version added after it (the baseline had none): not covered
    // either (review); it runs in its place.
    covers.reason = Some(covered::covered_reason(&Version::parse("2").unwrap(), []));
    let h = History { records: vec![base, covers] };
    let states: Vec<State> = status(&s, &h).iter().map(|r| r.state).collect();
    assert_eq!(states, [State::OutOfOrder, State::Pending, State::Pending]);
    assert_eq!(status(&s, &h)[0].under_baseline.as_deref(), Some("2"));
    // Once run here (out of order allowed), it is applied, and no longer said to be under it
    // (review: the row kept `under_baseline`).
    let mut ran = applied(&s, "1");
    ran.id = 3;
    let h = History { records: [h.records, vec![ran]].concat() };
    let first = &status(&s, &h)[0];
    assert_eq!((first.state, first.under_baseline.as_deref()), (State::Applied, None));
}
