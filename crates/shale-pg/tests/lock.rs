//! The migration lock against a real server: a second runner times out naming the holder, one
//! lock per history table, and a waiter gets the lock as soon as it is released.

use std::time::{Duration, Instant};

use shale_pg::{
    connect, Client, ConnectionSettings, HistoryTable, LockHolder, MigrationLock, PgError, SessionSettings,
};
use shale_testkit::{fresh_database, TestDb};
use tokio_postgres::SimpleQueryMessage;

fn settings(db: &TestDb) -> ConnectionSettings {
    ConnectionSettings::parse(db).unwrap_or_else(|e| panic!("parsing {db}: {e}"))
}

async fn acquire(
    s: &ConnectionSettings,
    table: &HistoryTable,
    timeout: Duration,
    seen: &mut Vec<LockHolder>,
) -> Result<MigrationLock, PgError> {
    MigrationLock::acquire(s, &SessionSettings::default(), table, timeout, &mut |h: &LockHolder| seen.push(h.clone()))
        .await
}

async fn acquire_now(s: &ConnectionSettings, table: &HistoryTable, what: &str) -> MigrationLock {
    let mut seen = Vec::new();
    let started = Instant::now();
    let lock = match acquire(s, table, Duration::ZERO, &mut seen).await {
        Ok(lock) => lock,
        Err(e) => panic!("{what}: expected the lock at once, got: {e}"),
    };
    assert!(seen.is_empty(), "{what}: nobody should hold it: {seen:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "{what}: took {:?}", started.elapsed());
    lock
}

/// Rows of a simple query, as text.
async fn rows(client: &Client, sql: &str) -> Vec<Vec<String>> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).unwrap_or("").to_string()).collect()),
            _ => None,
        })
        .collect()
}

/// Pids holding (granted) and waiting for advisory locks in the current database.
async fn advisory(client: &Client, granted: bool) -> Vec<i32> {
    rows(
        client,
        &format!(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted = {granted}
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
             ORDER BY pid"
        ),
    )
    .await
    .iter()
    .map(|r| r[0].parse().unwrap())
    .collect()
}

#[tokio::test]
async fn second_runner_times_out_naming_the_holder() {
    let db = fresh_database("lock_timeout");
    let s = settings(&db);
    let table = HistoryTable::default();
    let observer = connect(&s, &SessionSettings::default()).await.expect("observer connection");

    let first = acquire_now(&s, &table, "the first runner").await;
    let holders = advisory(&observer, true).await;
    assert_eq!(holders.len(), 1, "exactly one advisory lock: {holders:?}");

    let mut seen = Vec::new();
    let started = Instant::now();
    let result = acquire(&s, &table, Duration::from_millis(600), &mut seen).await;
    let waited = started.elapsed();
    let err = match result {
        Ok(_) => panic!("the second runner got a lock that is held"),
        Err(e) => e,
    };
    let message = err.to_string();
    let PgError::LockTimeout { waited: reported, holder } = err else {
        panic!("expected PgError::LockTimeout, got: {message}");
    };
    let holder = holder.unwrap_or_else(|| panic!("the holder is not named: {message}"));
    assert!(holder.pid > 0, "{holder:?}");
    assert_eq!(holder.pid, holders[0], "the reported holder is not the lock's owner");
    assert!(holder.application_name.contains("shale"), "application_name: {holder:?}");
    assert_eq!(holder.user, "postgres");
    assert!(message.contains(&format!("pid {}", holder.pid)), "{message}");
    assert_eq!(reported, Duration::from_millis(600));
    assert_eq!(seen, vec![*holder.clone()], "on_wait must be told once, about the holder");
    assert!(waited >= Duration::from_millis(550), "gave up after {waited:?}, before its 600 ms timeout");
    assert!(waited < Duration::from_secs(5), "took {waited:?}");

    first.release().await.expect("releasing the first lock");
    let again = acquire_now(&s, &table, "after release").await;
    again.release().await.expect("releasing");
}

#[tokio::test]
async fn each_history_table_has_its_own_lock() {
    let db = fresh_database("lock_tables");
    let s = settings(&db);
    let main = HistoryTable::default();
    let other = HistoryTable { schema: "public".into(), table: "other_history".into() };
    let elsewhere = HistoryTable { schema: "audit".into(), table: "shale_migrations".into() };

    let first = acquire_now(&s, &main, "the default table").await;
    let second = acquire_now(&s, &other, "a table of another name, while the first is held").await;
    let third = acquire_now(&s, &elsewhere, "the same name in another schema").await;

    // The same table is still locked.
    let mut seen = Vec::new();
    assert!(matches!(
        acquire(&s, &main, Duration::ZERO, &mut seen).await,
        Err(PgError::LockTimeout { holder: Some(_), .. })
    ));
    assert_eq!(seen.len(), 1);

    // The same table in another database is another lock too.
    let db2 = fresh_database("lock_tables_other_db");
    let in_db2 = acquire_now(&settings(&db2), &main, "the same table in another database").await;

    for lock in [first, second, third, in_db2] {
        lock.release().await.expect("releasing");
    }
}

#[tokio::test]
async fn a_waiting_runner_gets_the_lock_when_released() {
    let db = fresh_database("lock_wait");
    let s = settings(&db);
    let table = HistoryTable::default();
    let observer = connect(&s, &SessionSettings::default()).await.expect("observer connection");
    let first = acquire_now(&s, &table, "the first runner").await;

    let waiting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let waiter = {
        let s = s.clone();
        let table = table.clone();
        let waiting = waiting.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let result = MigrationLock::acquire(
                &s,
                &SessionSettings::default(),
                &table,
                Duration::from_secs(10),
                &mut |h: &LockHolder| {
                    seen.push(h.clone());
                    waiting.store(true, std::sync::atomic::Ordering::SeqCst);
                },
            )
            .await;
            (result, seen, Instant::now())
        })
    };

    // Wait until the waiter has found the lock held, then hold on a little longer. (Waiters poll
    // rather than queue in the server, so that they keep no pooled server session to themselves.)
    let deadline = Instant::now() + Duration::from_secs(10);
    while !waiting.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the second runner never started waiting for the lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "the waiter got a lock that is held");
    let released = Instant::now();
    first.release().await.expect("releasing the first lock");

    let (result, seen, got) = waiter.await.expect("the waiting task panicked");
    let lock = match result {
        Ok(lock) => lock,
        Err(e) => panic!("the waiter did not get the lock: {e}"),
    };
    let after = got.saturating_duration_since(released);
    assert!(after < Duration::from_secs(2), "the waiter got the lock {after:?} after it was released");
    assert_eq!(seen.len(), 1, "on_wait must be told once: {seen:?}");
    assert!(seen[0].application_name.contains("shale"), "{seen:?}");

    // The waiter really holds it now.
    let holders = advisory(&observer, true).await;
    assert_eq!(holders.len(), 1, "{holders:?}");
    assert!(advisory(&observer, false).await.is_empty());
    let mut seen = Vec::new();
    assert!(acquire(&s, &table, Duration::ZERO, &mut seen).await.is_err());
    assert_eq!(seen.first().map(|h| h.pid), Some(holders[0]));
    lock.release().await.expect("releasing");
}
