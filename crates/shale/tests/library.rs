//! The library as an application uses it: embedded migrations, typed reports and errors,
//! async and blocking, against a real PostgreSQL.

use shale::{ConnectionSettings, EmbeddedMigrations, Error, Migrator, UpRequest};
use shale_testkit::fresh_database;

static GOOD: EmbeddedMigrations = EmbeddedMigrations {
    dir: "migrations",
    files: &[
        ("001_users.up.sql", b"CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL);"),
        ("001_users.down.sql", b"DROP TABLE users;"),
        ("002_profile.sql", b"ALTER TABLE users ADD COLUMN profile jsonb NOT NULL DEFAULT '{}';"),
    ],
};

static BAD: EmbeddedMigrations = EmbeddedMigrations {
    dir: "migrations",
    files: &[(
        "001_users.sql",
        b"CREATE TABLE users (id bigserial PRIMARY KEY);\nALTER TABLE userz ADD COLUMN x int;\n",
    )],
};

fn settings(url: &str) -> ConnectionSettings {
    ConnectionSettings::parse(url).unwrap()
}

#[test]
fn blocking_migrator_applies_reports_and_reverts() {
    let db = fresh_database("lib_blocking");
    let migrator = shale::blocking::Migrator::new(Migrator::embedded(&GOOD, settings(&db.url)).unwrap()).unwrap();
    let report = migrator.up(&UpRequest::default()).unwrap();
    assert_eq!(report.steps.len(), 2);
    assert_eq!(report.current_version.as_deref(), Some("002"), "as the file writes it");
    assert!(migrator.up(&UpRequest::default()).unwrap().steps.is_empty());
    let status = migrator.status().unwrap();
    assert!(status.migrations.iter().all(|m| m.state.as_str() == "applied"));
    // 002 has no down: reverting it is refused with a typed plan error, nothing changes.
    match migrator.down(&shale::Target::All) {
        Err(Error::Plan(problems)) => assert_eq!(problems.len(), 1),
        other => panic!("expected a plan error, got {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn async_failure_is_typed_and_names_the_file() {
    let db = fresh_database("lib_async_fail");
    let migrator = Migrator::embedded(&BAD, settings(&db.url)).unwrap();
    let mut events = Vec::new();
    let error = migrator.up(&UpRequest::default(), &mut |e| events.push(format!("{e:?}"))).await.unwrap_err();
    let Error::Pg(shale::pg::PgError::Migration { failure, .. }) = &error else { panic!("{error:?}") };
    assert_eq!(failure.sqlstate, "42P01");
    let location = failure.location.as_ref().unwrap();
    assert_eq!((location.line, location.column), (2, 1), "the statement, located by replay");
    assert_eq!(
        error.to_string(),
        "migration 001 users failed at migrations/001_users.sql:2:1: relation \"userz\" does not exist"
    );
    assert!(events.iter().any(|e| e.contains("StepStarted")), "{events:?}");
    // Bad embedded files are a typed load error before anything connects.
    let broken = EmbeddedMigrations { dir: "m", files: &[("001_x.sql", b"select 'unterminated")] };
    assert!(matches!(broken.load(), Err(Error::Load(_))));
}
