//! The library with `MigratorConfig::lock` set to the table lease: a held lease makes `up` wait,
//! report the holder and time out with a typed error; once it is free, `up` runs under a lease of
//! its own and releases it.

use std::time::Duration;

use shale::pg::{LeaseLock, LockKind, PgError, SessionSettings};
use shale::{ConnectionSettings, EmbeddedMigrations, Error, Event, Migrator, UpRequest};
use shale_testkit::fresh_database;

static MIGRATIONS: EmbeddedMigrations = EmbeddedMigrations {
    dir: "migrations",
    files: &[("001_t.sql", b"CREATE TABLE t (id int);"), ("002_u.sql", b"CREATE TABLE u (id int);")],
};

#[tokio::test(flavor = "current_thread")]
async fn up_waits_for_a_held_lease_then_runs_under_its_own() {
    let db = fresh_database("lib_lease");
    let settings = ConnectionSettings::parse(&db.url).unwrap();
    let mut migrator = Migrator::embedded(&MIGRATIONS, settings.clone()).unwrap();
    migrator.config.lock = LockKind::Table;
    migrator.config.lease_ttl = Duration::from_secs(5);
    migrator.config.lock_wait = Duration::from_millis(600);

    let other = LeaseLock::acquire(
        &settings,
        &SessionSettings::default(),
        &migrator.config.history,
        Duration::from_secs(30),
        Duration::ZERO,
        &mut |_| {},
    )
    .await
    .expect("another runner's lease");
    let mut events = Vec::new();
    let error = migrator.up(&UpRequest::default(), &mut |e| events.push(e)).await.unwrap_err();
    let Error::Pg(PgError::LockTimeout { holder: Some(holder), .. }) = &error else { panic!("{error:?}") };
    assert!(holder.lease.is_some(), "{holder:?}");
    assert!(matches!(&events[..], [Event::LockWaiting(h)] if h == &**holder), "{events:?}");

    other.release().await.unwrap();
    let mut events = Vec::new();
    let report = migrator.up(&UpRequest::default(), &mut |e| events.push(e)).await.unwrap();
    assert_eq!(report.steps.len(), 2);
    assert!(events.iter().any(|e| matches!(e, Event::LockAcquired { .. })), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, Event::PoolerDetected { .. } | Event::LeaseTakenOver(_))));

    // The lease is gone, so another runner gets it at once.
    let next = LeaseLock::acquire(
        &settings,
        &SessionSettings::default(),
        &migrator.config.history,
        Duration::from_secs(30),
        Duration::ZERO,
        &mut |_| {},
    )
    .await
    .expect("the lease was released");
    next.release().await.unwrap();
}
