//! The table lease against a real server: taken and released, a second runner times out naming
//! the holder, the heartbeat keeps it past its expiry, an expired lease is taken over, and a
//! stolen one is noticed.

use std::time::{Duration, Instant};

use shale_pg::lock::simple_rows;
use shale_pg::{
    connect, lock, Client, ConnectionSettings, HeldLock, HistoryTable, LeaseLock, LockEvent, LockHolder, LockKind,
    LockOptions, PgError, SessionSettings,
};
use shale_testkit::{fresh_database, TestDb};

fn settings(db: &TestDb) -> ConnectionSettings {
    ConnectionSettings::parse(db).unwrap_or_else(|e| panic!("parsing {db}: {e}"))
}

async fn acquire(
    s: &ConnectionSettings,
    table: &HistoryTable,
    ttl: Duration,
    timeout: Duration,
    seen: &mut Vec<LockHolder>,
) -> Result<LeaseLock, PgError> {
    LeaseLock::acquire(s, &SessionSettings::default(), table, ttl, timeout, &mut |h: &LockHolder| seen.push(h.clone()))
        .await
}

async fn rows(client: &Client, sql: &str) -> Vec<Vec<String>> {
    simple_rows(client, sql, "test query").await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The lease row: token, pid, host, application_name, seconds left.
async fn lease_row(client: &Client, table: &str) -> Option<Vec<String>> {
    rows(
        client,
        &format!(
            "SELECT token, pid, host, application_name, extract(epoch FROM expires_at - now())::float8,
                    heartbeat_at > acquired_at FROM {table}"
        ),
    )
    .await
    .into_iter()
    .next()
}

#[tokio::test]
async fn taken_named_and_released() {
    let db = fresh_database("lease_basic");
    let s = settings(&db);
    let table = HistoryTable::default();
    let observer = connect(&s, &SessionSettings::default()).await.expect("observer connection");

    let mut seen = Vec::new();
    let first = acquire(&s, &table, Duration::from_secs(30), Duration::ZERO, &mut seen).await.expect("a free lease");
    assert!(seen.is_empty(), "{seen:?}");
    assert!(first.took_over.is_none());
    first.ensure_held().expect("held right after taking it");
    let row = lease_row(&observer, "shale_migrations_lock").await.expect("the lease row exists");
    assert_eq!(row[1], std::process::id().to_string(), "{row:?}");
    assert_eq!(row[2], gethostname::gethostname().to_string_lossy(), "{row:?}");
    assert!(row[3].contains("shale"), "{row:?}");
    let left: f64 = row[4].parse().unwrap();
    assert!(left > 25.0 && left <= 30.0, "expires in {left}s, expected about 30s");

    // A second runner waits, is told who holds it, and gives up after its timeout.
    let mut seen = Vec::new();
    let started = Instant::now();
    let err = match acquire(&s, &table, Duration::from_secs(30), Duration::from_millis(700), &mut seen).await {
        Ok(_) => panic!("a held lease was taken again"),
        Err(e) => e,
    };
    assert!(started.elapsed() >= Duration::from_millis(650), "gave up after {:?}", started.elapsed());
    let message = err.to_string();
    // What to do about it is the error's hint, not its text.
    let hint = err.hint().unwrap_or_default();
    let PgError::LockTimeout { holder: Some(holder), .. } = err else { panic!("expected LockTimeout: {message}") };
    assert_eq!(holder.pid as u32, std::process::id());
    assert_eq!(holder.user, "postgres");
    assert_eq!(holder.lease.as_ref().map(|l| l.table.as_str()), Some("\"public\".\"shale_migrations_lock\""));
    assert_eq!(seen, vec![*holder.clone()], "on_wait is told once");
    assert!(message.contains("a lease of shale pid"), "{message}");
    assert!(hint.contains("DELETE FROM \"public\".\"shale_migrations_lock\""), "{hint}");

    first.release().await.expect("releasing");
    assert!(lease_row(&observer, "shale_migrations_lock").await.is_none(), "the row is deleted on release");
    let again =
        acquire(&s, &table, Duration::from_secs(30), Duration::ZERO, &mut Vec::new()).await.expect("free again");
    again.release().await.expect("releasing");
}

#[tokio::test]
async fn the_heartbeat_keeps_it_past_its_expiry_and_a_waiter_gets_it_on_release() {
    let db = fresh_database("lease_heartbeat");
    let s = settings(&db);
    let table = HistoryTable { schema: "ops".into(), table: "history".into() };
    let observer = connect(&s, &SessionSettings::default()).await.expect("observer connection");
    let ttl = Duration::from_secs(2);
    let lease = acquire(&s, &table, ttl, Duration::ZERO, &mut Vec::new()).await.expect("a free lease");
    let token = lease_row(&observer, "ops.history_lock").await.expect("the row, next to the history table")[0].clone();

    // A waiter that would take it over as soon as it expired.
    let waiter = {
        let (s, table) = (s.clone(), table.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let result = acquire(&s, &table, ttl, Duration::from_secs(20), &mut seen).await;
            (result, seen)
        })
    };
    // Three lease lengths later it is still the first holder's, renewed.
    tokio::time::sleep(ttl * 3).await;
    let row = lease_row(&observer, "ops.history_lock").await.expect("the row");
    assert_eq!(row[0], token, "the lease changed hands while its holder was alive");
    assert_eq!(row[5], "t", "never renewed: {row:?}");
    lease.ensure_held().expect("still held");
    assert!(!waiter.is_finished(), "the waiter got a lease that is renewed");

    lease.release().await.expect("releasing");
    let (result, seen) = waiter.await.expect("the waiter panicked");
    let second = result.expect("the waiter gets the lease once it is released");
    assert!(second.took_over.is_none(), "a released lease is not taken over");
    assert_eq!(seen.len(), 1, "{seen:?}");
    second.release().await.expect("releasing");
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_a_stolen_one_is_noticed() {
    let db = fresh_database("lease_takeover");
    let s = settings(&db);
    let table = HistoryTable::default();
    let observer = connect(&s, &SessionSettings::default()).await.expect("observer connection");

    // A runner that crashed: its row stays, and nobody renews it.
    let crashed = acquire(&s, &table, Duration::from_secs(1), Duration::ZERO, &mut Vec::new()).await.unwrap();
    rows(&observer, "UPDATE shale_migrations_lock SET pid = 424242, host = 'gone-host'").await;
    drop(crashed);

    let mut seen = Vec::new();
    let lease = acquire(&s, &table, Duration::from_secs(2), Duration::from_secs(10), &mut seen)
        .await
        .expect("the expired lease is taken over");
    let previous = lease.took_over.clone().expect("the previous holder is reported");
    assert_eq!((previous.pid, previous.client.as_str()), (424242, "gone-host"));
    assert!(seen.iter().all(|h| h.pid == 424242), "{seen:?}");
    lease.ensure_held().expect("held");

    // Someone else takes the row: the heartbeat notices at its next renewal.
    rows(&observer, "UPDATE shale_migrations_lock SET token = 'thief', expires_at = now() + interval '1 hour'").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while lease.ensure_held().is_ok() {
        assert!(Instant::now() < deadline, "a stolen lease still counts as held");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(matches!(lease.ensure_held(), Err(PgError::LockLost)));
    // Releasing deletes only this runner's own row.
    lease.release().await.expect("releasing");
    assert_eq!(lease_row(&observer, "shale_migrations_lock").await.expect("the thief's row stays")[0], "thief");
}

/// `lock::acquire` with each kind against a direct connection: `auto` keeps the advisory lock,
/// and both kinds are released the same way.
#[tokio::test]
async fn acquire_by_kind_on_a_direct_connection() {
    let db = fresh_database("lease_kinds");
    let s = settings(&db);
    let table = HistoryTable::default();
    let main = connect(&s, &SessionSettings::default()).await.expect("main connection");
    for (kind, expected) in [
        (LockKind::Auto, LockKind::Advisory),
        (LockKind::Advisory, LockKind::Advisory),
        (LockKind::Table, LockKind::Table),
    ] {
        let options = LockOptions { kind, lease_ttl: Duration::from_secs(5), wait: Duration::ZERO };
        let mut events = Vec::new();
        let held: HeldLock =
            lock::acquire(&s, &SessionSettings::default(), &table, &options, &mut |e: LockEvent<'_>| {
                events.push(format!("{e:?}"))
            })
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(held.kind(), expected, "{kind}");
        assert!(events.is_empty(), "{kind}: no pooler, nobody waiting: {events:?}");
        held.ensure_held().expect("held");
        let advisory = rows(&main, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").await;
        assert_eq!(advisory[0][0], if expected == LockKind::Advisory { "1" } else { "0" }, "{kind}");
        held.release().await.expect("releasing");
    }
    let left = rows(&main, "SELECT (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())), (SELECT count(*) FROM shale_migrations_lock)").await;
    assert_eq!(left, vec![vec!["0".to_string(), "0".to_string()]]);
}

/// Ends the lease's server session(s) in this database; returns how many were ended.
async fn end_lease_sessions(observer: &Client) -> String {
    rows(
        observer,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'shale (migration lock)'",
    )
    .await[0][0]
        .clone()
}

/// The lease lives in the table, not in a session: a dropped connection is opened again by the
/// heartbeat, and by the release.
#[tokio::test]
async fn a_dropped_connection_is_reopened_and_the_lease_kept() {
    let db = fresh_database("lease_reconnect");
    let s = settings(&db);
    let table = HistoryTable::default();
    let observer = connect(&s, &SessionSettings::default()).await.expect("observer connection");
    let ttl = Duration::from_millis(1500);
    let lease = acquire(&s, &table, ttl, Duration::ZERO, &mut Vec::new()).await.expect("a free lease");

    assert_eq!(end_lease_sessions(&observer).await, "1");
    let ended_at = rows(&observer, "SELECT now()::text").await[0][0].clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    let renewed = format!(
        "SELECT heartbeat_at > '{ended_at}'::timestamptz AND EXISTS (SELECT FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'shale (migration lock)')
         FROM shale_migrations_lock"
    );
    while rows(&observer, &renewed).await[0][0] != "t" {
        assert!(Instant::now() < deadline, "the lease was not renewed on a new connection");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    lease.ensure_held().expect("still held after its connection was dropped");

    assert_eq!(end_lease_sessions(&observer).await, "1");
    tokio::time::sleep(Duration::from_millis(100)).await;
    lease.release().await.expect("released over a new connection");
    assert!(lease_row(&observer, "shale_migrations_lock").await.is_none());
}

/// Advisory locks held in this database.
async fn advisory_locks(client: &Client) -> String {
    rows(
        client,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .await[0][0]
        .clone()
}

/// Runners on different kinds of lock still exclude each other: each takes its own, then looks
/// for the other kind and gives its own back when it finds one.
#[tokio::test]
async fn the_advisory_lock_and_the_lease_exclude_each_other() {
    let db = fresh_database("lease_mixed");
    let s = settings(&db);
    let table = HistoryTable::default();
    let main = connect(&s, &SessionSettings::default()).await.expect("main connection");

    // A runner on the advisory lock keeps a lease taker waiting, and is named.
    let advisory =
        shale_pg::MigrationLock::acquire(&s, &SessionSettings::default(), &table, Duration::ZERO, &mut |_| {})
            .await
            .expect("the advisory lock");
    let mut seen = Vec::new();
    let err = match acquire(&s, &table, Duration::from_secs(5), Duration::from_millis(700), &mut seen).await {
        Ok(_) => panic!("the lease was taken while a runner holds the advisory lock"),
        Err(e) => e,
    };
    let PgError::LockTimeout { holder: Some(holder), .. } = &err else { panic!("expected LockTimeout: {err}") };
    assert!(holder.lease.is_none() && holder.application_name.contains("migration lock"), "{holder:?}");
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(rows(&main, "SELECT count(*) FROM shale_migrations_lock").await[0][0], "0", "the lease was given back");
    advisory.release().await.unwrap();

    // A runner on the lease keeps advisory and auto takers waiting, and they leave no lock behind.
    let lease = acquire(&s, &table, Duration::from_secs(30), Duration::ZERO, &mut Vec::new()).await.unwrap();
    for kind in [LockKind::Advisory, LockKind::Auto] {
        let options = LockOptions { kind, lease_ttl: Duration::from_secs(5), wait: Duration::from_millis(700) };
        let mut events = Vec::new();
        let result = lock::acquire(&s, &SessionSettings::default(), &table, &options, &mut |e: LockEvent<'_>| {
            events.push(format!("{e:?}"))
        })
        .await;
        let Err(PgError::LockTimeout { holder: Some(holder), waited }) = &result else {
            panic!("{kind}: expected a timeout naming the lease holder")
        };
        assert_eq!(*waited, Duration::from_millis(700), "{kind}: the whole wait is reported");
        assert_eq!(holder.pid as u32, std::process::id(), "{kind}: {holder:?}");
        assert!(holder.lease.is_some(), "{kind}: {holder:?}");
        assert_eq!(events.len(), 1, "{kind}: told once: {events:?}");
        assert_eq!(advisory_locks(&main).await, "0", "{kind}");
    }
    lease.release().await.unwrap();

    // Free again: the advisory lock is taken, and kept.
    let options = LockOptions { kind: LockKind::Auto, lease_ttl: Duration::from_secs(5), wait: Duration::ZERO };
    let held = lock::acquire(&s, &SessionSettings::default(), &table, &options, &mut |_| {}).await.unwrap();
    assert_eq!(held.kind(), LockKind::Advisory);
    assert_eq!(advisory_locks(&main).await, "1");
    held.release().await.unwrap();
}
