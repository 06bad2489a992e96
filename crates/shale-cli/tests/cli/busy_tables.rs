//! Strong locks on busy tables: a statement that would stall the application waits, without
//! queueing for its lock, until no session holds the table; it names what holds it, gives up
//! after --lock-wait-max, and cancels (or ends) the holders when asked.

use crate::common;

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use common::{finish, Project};

fn table_with_rows(name: &str) -> Project {
    let p = Project::new(name);
    p.write("001_t.sql", "CREATE TABLE t (id bigint PRIMARY KEY, v text);");
    p.shale(&["up"]).ok();
    p.fill("t", 1000);
    p
}

fn psql_as(p: &Project, application: &str) -> Command {
    let cluster = shale_testkit::shared_cluster();
    let mut cmd = Command::new(cluster.binaries().psql());
    cmd.arg(cluster.conninfo(&p.db.name)).args(["-X", "-q"]).env("PGAPPNAME", application);
    cmd
}

/// Until a session named `application` holds a lock on t.
fn wait_until_holding(p: &Project, application: &str) {
    wait_until_holding_table(p, application, "t");
}

/// Until a session named `application` holds a lock on `table`.
fn wait_until_holding_table(p: &Project, application: &str, table: &str) {
    p.wait_for(
        &format!(
            "SELECT count(*) > 0 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
              WHERE a.application_name = '{application}' AND l.relation = '{table}'::regclass AND l.granted"
        ),
        "t",
        "the holder holds its table",
    );
}

/// A session named `application` that reads t and keeps its transaction open for `seconds`.
fn long_reader(p: &Project, application: &str, seconds: f64) -> Child {
    let child = psql_as(p, application)
        .args(["-c", &format!("BEGIN; SELECT count(*) FROM t; SELECT pg_sleep({seconds}); COMMIT;")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_holding(p, application);
    child
}

/// A session named `application` that read t and sits idle in its transaction until dropped.
fn idle_in_transaction(p: &Project, application: &str) -> (Child, ChildStdin) {
    idle_in_transaction_on(p, application, "t")
}

/// A session named `application` that read `table` and sits idle in its transaction until dropped.
fn idle_in_transaction_on(p: &Project, application: &str, table: &str) -> (Child, ChildStdin) {
    let mut child =
        psql_as(p, application).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("BEGIN;\nSELECT count(*) FROM {table};\n").as_bytes()).unwrap();
    stdin.flush().unwrap();
    wait_until_holding_table(p, application, table);
    (child, stdin)
}

/// Until shale has looked at least once for the sessions holding its tables.
fn wait_until_shale_waits(p: &Project) {
    p.wait_for(
        "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE 'WITH RECURSIVE target(name, modes%' AND datname = current_database()",
        "t",
        "shale looks for the sessions holding t",
    );
}

/// Whether a short read of t, as the application makes, gets through within a second.
fn application_reads(p: &Project) -> bool {
    let out = psql_as(p, "app").args(["-c", "SET lock_timeout = '1s'; SELECT count(*) FROM t;"]).output().unwrap();
    out.status.success()
}

fn columns(p: &Project) -> String {
    p.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 't'")
}

/// A policy locks its table whole (Supabase's on storage.objects), and a new table with a foreign
/// key locks the table it points at against writes: both wait for a busy table, without queueing,
/// as an ALTER TABLE does.
#[test]
fn a_policy_and_a_foreign_key_of_a_new_table_wait_for_a_busy_table() {
    let p = table_with_rows("busy_policy");
    p.write("002_policy.sql", "CREATE POLICY readers ON t FOR SELECT USING (true);");
    let holder = long_reader(&p, "report-job", 2.0);
    let run = p.spawn(&["up"]);
    wait_until_shale_waits(&p);
    assert!(application_reads(&p), "a read of t stalled behind the waiting migration");
    let run = finish(run);
    finish(holder);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("waiting without queueing"), "{}", run.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM pg_policies WHERE tablename = 't'"), "1");
    // A writer holds t: the foreign key's SHARE ROW EXCLUSIVE would queue behind it.
    p.write("003_child.sql", "CREATE TABLE child (id int, t_id bigint REFERENCES t (id));");
    let writer = psql_as(&p, "writer-job")
        .args(["-c", "BEGIN; UPDATE t SET v = v WHERE id = 1; SELECT pg_sleep(2); COMMIT;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_holding(&p, "writer-job");
    let run = finish(p.spawn(&["up"]));
    finish(writer);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("waiting without queueing"), "{}", run.stderr);
}

/// Dropping a table, or a column, with a foreign key to a busy table takes ACCESS EXCLUSIVE on
/// the busy table too (its side of the foreign key goes): shale waits for that table's readers,
/// naming them, instead of trying again and again past them (each try stalling them).
#[test]
fn dropping_a_foreign_key_waits_for_the_busy_table_it_points_at() {
    let p = table_with_rows("busy_fk_drop");
    p.write(
        "002_children.sql",
        "CREATE TABLE child (id int, t_id bigint REFERENCES t (id));\nCREATE TABLE other (id int, t_id bigint CONSTRAINT other_t REFERENCES t (id), note text);",
    );
    p.shale(&["up"]).ok();
    for (file, sql) in
        [("003_drop.sql", "DROP TABLE child;"), ("004_drop_column.sql", "ALTER TABLE other DROP COLUMN t_id;")]
    {
        p.write(file, sql);
        let holder = long_reader(&p, "report-job", 2.0);
        let run = p.spawn(&["up"]);
        wait_until_shale_waits(&p);
        assert!(application_reads(&p), "a read of t stalled behind the waiting migration");
        let run = finish(run);
        finish(holder);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stderr.contains("waiting without queueing"), "{file}: {}", run.stderr);
        assert!(run.stderr.contains("report-job"), "{file}: the holder of t is named: {}", run.stderr);
    }
    assert_eq!(p.psql("SELECT count(*) FROM pg_constraint WHERE confrelid = 't'::regclass"), "0");
}

/// The migration's role cannot see another role's sessions in full (no `pg_read_all_stats`, as on
/// a managed server): their times and queries are hidden, their locks are not. Such a session is
/// waited for, without queueing, as one of its own role is.
#[test]
fn a_session_of_another_role_is_waited_for_without_queueing() {
    let p = Project::new("busy_other_role");
    p.psql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shale_busy_owner') THEN \
         CREATE ROLE shale_busy_owner LOGIN; END IF; END $$",
    );
    p.psql(&format!(
        "ALTER DATABASE \"{}\" OWNER TO shale_busy_owner; ALTER SCHEMA public OWNER TO shale_busy_owner",
        p.db.name
    ));
    let owner = p.db.url.replacen("postgres@", "shale_busy_owner@", 1);
    p.write("001_t.sql", "CREATE TABLE t (id bigint PRIMARY KEY, v text);");
    let first = finish(p.spawn_via(&owner, &["up"]));
    assert_eq!(first.code, 0, "{}", first.stderr);
    p.fill("t", 1000);
    p.write("002_add.sql", "ALTER TABLE t ADD COLUMN x int;");
    // Held by the superuser's session, which the owner sees without its times or query.
    let holder = long_reader(&p, "report-job", 2.0);
    let run = p.spawn_via(&owner, &["up"]);
    wait_until_shale_waits(&p);
    assert!(application_reads(&p), "a read of t stalled behind the waiting migration");
    let run = finish(run);
    finish(holder);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("waiting without queueing"), "{}", run.stderr);
    // Its role is named: every role may see it.
    assert!(run.stderr.contains("a session of the role postgres:"), "{}", run.stderr);
    assert!(!run.stderr.contains("0.0s old"), "an age made up: {}", run.stderr);
    assert_eq!(columns(&p), "3");
    // Asked to cancel it, a role that may not (no pg_signal_backend) says so and waits on (the
    // re-check of real servers: the run failed, blaming the history schema).
    p.write("003_more.sql", "ALTER TABLE t ADD COLUMN y int;");
    let holder = long_reader(&p, "report-three", 2.0);
    let run = finish(p.spawn_via(&owner, &["up", "--cancel-blockers-after", "100ms", "--lock-wait-max", "20s"]));
    finish(holder);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("may not cancel") && run.stderr.contains("pg_signal_backend"), "{}", run.stderr);
    assert_eq!(columns(&p), "4");
    // A CONCURRENTLY statement names the transactions of other roles it will wait for, though
    // their times are hidden (re-trial of real servers: it waited seconds and said nothing).
    p.write("004_index.sql", "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY t_x ON t (x);\n");
    let holder = long_reader(&p, "report-two", 2.0);
    let run = finish(p.spawn_via(&owner, &["up"]));
    finish(holder);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("older than it") && run.stderr.contains("report-two"), "{}", run.stderr);

    // With pg_signal_backend, a session of another (not superuser) role idle in a transaction,
    // whose state is hidden, is cancelled first, then ended with --terminate (round-3 re-check:
    // "cancelled" nine times, to no effect).
    p.psql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shale_busy_reader') THEN \
         CREATE ROLE shale_busy_reader LOGIN; END IF; END $$; GRANT pg_signal_backend TO shale_busy_owner",
    );
    p.psql("GRANT SELECT ON t TO shale_busy_reader");
    let cluster = shale_testkit::shared_cluster();
    let mut reader = Command::new(cluster.binaries().psql())
        .arg(p.db.url.replacen("postgres@", "shale_busy_reader@", 1))
        .args(["-X", "-q"])
        .env("PGAPPNAME", "reader-console")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = reader.stdin.take().unwrap();
    stdin.write_all(b"BEGIN;\nSELECT count(*) FROM t;\n").unwrap();
    stdin.flush().unwrap();
    wait_until_holding(&p, "reader-console");
    p.write("005_last.sql", "ALTER TABLE t ADD COLUMN z int;");
    let run = finish(
        p.spawn_via(&owner, &["up", "--cancel-blockers-after", "100ms", "--terminate", "--lock-wait-max", "20s"]),
    );
    drop(stdin);
    finish(reader);
    p.psql("REVOKE pg_signal_backend FROM shale_busy_owner");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("ended the session of pid"), "{}", run.stderr);
}

/// A CONCURRENTLY statement waits for the transactions older than it (a long report), holding no
/// lock the application waits on: it waits as a busy table is waited for, where the session's
/// 300 ms lock_timeout ran out and left an INVALID index the retry tripped over ("already
/// exists"). Queueing with lock_timeout (`--lock-acquire queue`), a detach that ran out is left
/// pending: the retry finishes it with FINALIZE, where it failed with "already pending detach".
#[test]
fn a_concurrently_statement_out_of_time_is_retried_from_where_it_stopped() {
    let p = table_with_rows("busy_concurrently");
    p.write("002_index.sql", "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY t_v ON t (v);\n");
    p.write(
        "003_events.sql",
        "CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);\n\
         CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n",
    );
    p.write("004_detach.sql", "ALTER TABLE events DETACH PARTITION events_2026 CONCURRENTLY;\n");
    p.shale(&["up", "--to", "001"]).ok();
    let holder = long_reader(&p, "report-job", 2.5);
    let run = finish(p.spawn(&["up", "--to", "002", "--session-lock-timeout", "300ms", "-v"]));
    finish(holder);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("retrying"), "it waited: {}", run.stderr);
    assert_eq!(p.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v'::regclass"), "t");
    p.shale(&["up", "--to", "003"]).ok();
    let reader = psql_as(&p, "events-report")
        .args(["-c", "BEGIN; SELECT count(*) FROM events; SELECT pg_sleep(2.5); COMMIT;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    p.wait_for(
        "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = 'events-report' AND query LIKE '%pg_sleep%'",
        "t",
        "the report reads events",
    );
    let run = finish(p.spawn(&["up", "--session-lock-timeout", "300ms", "--lock-acquire", "queue", "-v"]));
    finish(reader);
    assert!(run.stderr.contains("retrying"), "it ran out of time at least once: {}", run.stderr);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM pg_inherits WHERE inhrelid = 'events_2026'::regclass"), "0");
}

#[test]
fn a_busy_table_is_waited_for_without_stalling_its_readers() {
    let p = table_with_rows("busy_wait");
    p.write("002_add.sql", "ALTER TABLE t ADD COLUMN x int;");

    let holder = long_reader(&p, "report-job", 2.5);
    let run = p.spawn(&["up", "--log-format", "json"]);
    wait_until_shale_waits(&p);
    // shale has not asked for its lock: the application's reads go on.
    assert!(application_reads(&p), "a read of t stalled behind the waiting migration");
    assert_eq!(columns(&p), "2", "the migration ran while t was held");
    let run = finish(run);
    finish(holder);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(columns(&p), "3");
    let blocked: Vec<serde_json::Value> = run
        .stderr
        .lines()
        .chain(run.stdout.lines())
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "lock_blocked")
        .collect();
    assert_eq!(blocked.len(), 1, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let blocker = &blocked[0]["blockers"][0];
    assert_eq!(blocker["application_name"], "report-job");
    assert_eq!(blocker["relation"], "t");
    assert_eq!(blocker["mode"], "AccessShareLock");

    // Queueing for the lock, as other tools do, stalls the same read: the comparison shows the
    // check above can fail.
    p.write("003_add.sql", "ALTER TABLE t ADD COLUMN y int;");
    let holder = long_reader(&p, "report-job", 2.5);
    let run = p.spawn(&["up", "--lock-acquire", "queue", "--session-lock-timeout", "20s"]);
    p.wait_for(
        "SELECT count(*) FROM pg_locks WHERE relation = 't'::regclass AND mode = 'AccessExclusiveLock' AND NOT granted",
        "1",
        "shale queues for its lock",
    );
    assert!(!application_reads(&p), "a read of t got through while the migration queued");
    finish(holder);
    assert_eq!(finish(run).code, 0);
}

#[test]
fn a_table_held_too_long_fails_the_migration_naming_the_holder() {
    let p = table_with_rows("busy_max");
    p.write("002_add.sql", "ALTER TABLE t ADD COLUMN x int;");
    let (holder, stdin) = idle_in_transaction(&p, "forgotten-console");

    let started = Instant::now();
    let run = p.shale(&["up", "--lock-wait-max", "700ms"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(run.stderr.contains("forgotten-console"), "{}", run.stderr);
    assert!(run.stderr.contains("idle in transaction"), "{}", run.stderr);
    assert!(run.stderr.contains("--cancel-blockers-after"), "{}", run.stderr);
    // Nothing ran; the migration is still pending.
    assert_eq!(columns(&p), "2");
    assert_eq!(p.shale(&["status", "--json"]).ok().json()["migrations"][1]["state"], "pending");

    // A cancel does not reach a session idle in a transaction: it still holds t.
    let run = p.shale(&["up", "--lock-wait-max", "700ms", "--cancel-blockers-after", "100ms"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(columns(&p), "2");
    // Said while it waits, once (the live-traffic trial: nothing until the run failed).
    assert_eq!(run.stderr.matches("not cancelling pid").count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("`--terminate` ends such sessions"), "{}", run.stderr);

    // --terminate ends it, and the migration lands.
    let run = p.shale(&["up", "--lock-wait-max", "10s", "--cancel-blockers-after", "100ms", "--terminate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("ended the session of pid"), "{}", run.stderr);
    assert!(run.stderr.contains("forgotten-console"), "{}", run.stderr);
    assert_eq!(columns(&p), "3");
    drop(stdin);
    finish(holder);
}

#[test]
fn a_long_query_holding_the_table_is_cancelled_when_asked() {
    let p = table_with_rows("busy_cancel");
    p.write("002_add.sql", "ALTER TABLE t ADD COLUMN x int;");
    let holder = psql_as(&p, "slow-report")
        .args(["-c", "SELECT count(*) FROM t, pg_sleep(60);"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_holding(&p, "slow-report");

    let started = Instant::now();
    let run = p.shale(&["up", "--cancel-blockers-after", "300ms"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    assert!(run.stderr.contains("cancelled the query of pid"), "{}", run.stderr);
    assert!(run.stderr.contains("slow-report"), "{}", run.stderr);
    assert_eq!(columns(&p), "3");
    assert_ne!(finish(holder).code, 0, "the holder's query was not cancelled");
}

#[test]
fn a_migration_outside_a_transaction_waits_statement_by_statement() {
    let p = table_with_rows("busy_notx");
    p.write(
        "002_notx.sql",
        "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY t_v ON t (v);\nALTER TABLE t ADD COLUMN x int;\n",
    );
    // The wait runs out: the index (which stalls nobody) is built, the ALTER is not sent, and
    // nothing is in doubt.
    let (holder, stdin) = idle_in_transaction(&p, "console");
    let run = p.shale(&["up", "--lock-wait-max", "500ms"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("console"), "{}", run.stderr);
    assert_eq!(columns(&p), "2");
    // Failed on the wait, said as failed with its reason: not a run cut off (review: "stopped
    // part-way", and validate said its runner was stopped or died).
    let status = p.shale(&["status"]);
    assert!(status.stdout.contains("failed") && !status.stdout.contains("stopped part-way"), "{}", status.stdout);
    let json = p.shale(&["status", "--json"]).ok().json();
    assert!(json["migrations"][1]["error"].to_string().contains("its tables were held"), "{json}");
    drop(stdin);
    finish(holder);

    // Once the table is free, the next run starts at the ALTER.
    let holder = long_reader(&p, "report-job", 1.0);
    let run = p.shale(&["up", "-v"]);
    finish(holder);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("resuming at statement 2"), "{}", run.stderr);
    assert!(run.stderr.contains("report-job"), "{}", run.stderr);
    assert_eq!(columns(&p), "3");
    assert_eq!(p.history(), ["1|versioned|succeeded", "2|versioned|failed", "2|versioned|succeeded"]);
}

#[test]
fn each_schema_of_a_fleet_waits_for_its_own_table() {
    let p = Project::new("busy_fleet");
    p.psql("CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b;");
    p.write("001_t.sql", "CREATE TABLE t (id bigint PRIMARY KEY, v text);");
    p.shale(&["--schemas", "tenant_*", "up"]).ok();
    p.write("002_add.sql", "ALTER TABLE t ADD COLUMN x int;");
    let tenant_columns = || {
        p.psql("SELECT table_schema || ':' || count(*) FROM information_schema.columns WHERE table_name = 't' GROUP BY table_schema ORDER BY table_schema")
    };

    // tenant_a's table is held by a session idle in its transaction: tenant_a fails naming it after
    // the wait, tenant_b is migrated.
    let mut holder = psql_as(&p, "tenant-a-console")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = holder.stdin.take().unwrap();
    stdin.write_all(b"BEGIN;\nSELECT count(*) FROM tenant_a.t;\n").unwrap();
    stdin.flush().unwrap();
    p.wait_for(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
          WHERE a.application_name = 'tenant-a-console' AND l.relation = 'tenant_a.t'::regclass AND l.granted",
        "1",
        "the holder holds tenant_a.t",
    );
    let run = p.shale(&["--schemas", "tenant_*", "up", "--lock-wait-max", "700ms"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("tenant-a-console"), "{}", run.stderr);
    assert_eq!(tenant_columns(), "tenant_a:2\ntenant_b:3");

    // Ended by --terminate, the rerun migrates tenant_a.
    let run = p.shale(&["--schemas", "tenant_*", "up", "--cancel-blockers-after", "100ms", "--terminate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(tenant_columns(), "tenant_a:3\ntenant_b:3");
    drop(stdin);
    finish(holder);
}

/// The INVALID index an interrupted or failed CREATE INDEX CONCURRENTLY left is dropped before
/// the build is tried again waiting as the build waits, not under the session's lock_timeout (the
/// live trial: behind a report, the drop ran out of time and the migration failed at once).
#[test]
fn an_invalid_index_left_is_dropped_waiting_as_the_build_waits() {
    let p = table_with_rows("busy_invalid_index");
    p.write("002_index.sql", "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY t_v ON t (v);\n");
    // What a stopped build leaves: the index, INVALID.
    p.psql("CREATE INDEX t_v ON t (v); UPDATE pg_index SET indisvalid = false WHERE indexrelid = 't_v'::regclass");
    let holder = long_reader(&p, "report-job", 2.5);
    let run = finish(p.spawn(&["up", "--session-lock-timeout", "300ms", "-v"]));
    finish(holder);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(p.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v'::regclass"), "t");
}

/// A VALIDATE that fails on the rows there drops again the constraint the file added NOT VALID,
/// which held the application's new rows to it (the live trial: `lint --fix`'s SET NOT NULL
/// failing left every insert of a NULL refused, where the plain form fails leaving nothing); the
/// next run, once the rows are fixed, starts again at the ADD.
#[test]
fn a_failed_validate_drops_the_constraint_added_not_valid() {
    let p = table_with_rows("busy_not_valid");
    p.psql("ALTER TABLE t ADD COLUMN ref text; UPDATE t SET ref = 'r' WHERE id > 1");
    p.write(
        "002_ref_not_null.sql",
        "-- shale:no-transaction\n\
         ALTER TABLE t ADD CONSTRAINT t_ref_not_null CHECK (ref IS NOT NULL) NOT VALID;\n\
         ALTER TABLE t VALIDATE CONSTRAINT t_ref_not_null;\n\
         ALTER TABLE t ALTER COLUMN ref SET NOT NULL;\n\
         ALTER TABLE t DROP CONSTRAINT t_ref_not_null;\n",
    );
    let failed = p.shale(&["up"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("the constraint t_ref_not_null that statement 1 added NOT VALID was dropped again"),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("resume at statement 1") || failed.stderr.contains("nothing of this file"),
        "{}",
        failed.stderr
    );
    assert_eq!(p.psql("SELECT count(*) FROM pg_constraint WHERE conname = 't_ref_not_null'"), "0");
    // The application goes on writing rows without it.
    p.psql("INSERT INTO t (id, v) VALUES (-1, 0)");
    p.psql("UPDATE t SET ref = 'r' WHERE ref IS NULL");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT attnotnull FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'ref'"), "t");
}

/// A unique index built CONCURRENTLY over duplicates fails, leaving the index INVALID: the error
/// says so and how to drop it, where a removed migration would leave it for good (the live trial:
/// unsaid); the next run drops it before building it again.
#[test]
fn a_failed_concurrent_build_names_the_invalid_index_it_left() {
    let p = table_with_rows("busy_failed_build");
    p.psql("UPDATE t SET v = 'same' WHERE id <= 2");
    p.write("002_unique.sql", "-- shale:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v);\n");
    let failed = p.shale(&["up"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("left the index t_v_key INVALID")
            && failed.stderr.contains("DROP INDEX CONCURRENTLY t_v_key"),
        "{}",
        failed.stderr
    );
    p.psql("UPDATE t SET v = NULL WHERE id = 2");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v_key'::regclass"), "t");
}

/// Where the constraint cannot be dropped again in time (a report holds the table past
/// --lock-wait-max), the error gives the SQL, and the next run starts at the ADD: dropped by hand
/// and the rows fixed, it finishes (the re-check: it resumed at the VALIDATE of a constraint
/// dropped by hand, for good).
#[test]
fn a_constraint_not_dropped_in_time_is_named_and_the_file_starts_again_at_its_add() {
    let p = table_with_rows("busy_not_valid_held");
    // A slow check, its one breaking row last: the VALIDATE scans for a while, then fails.
    p.psql(
        "ALTER TABLE t ADD COLUMN ref text DEFAULT 'r'; ALTER TABLE t ALTER COLUMN ref DROP DEFAULT;
         INSERT INTO t (id, ref) VALUES (1001, NULL);
         CREATE FUNCTION slow_nn(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT pg_sleep(0.002) IS NOT NULL AND $1 IS NOT NULL'",
    );
    p.write(
        "002_ref_not_null.sql",
        "-- shale:no-transaction\n\
         ALTER TABLE t ADD CONSTRAINT t_ref_nn CHECK (slow_nn(ref)) NOT VALID;\n\
         ALTER TABLE t VALIDATE CONSTRAINT t_ref_nn;\n",
    );
    let run = p.spawn(&["up", "--lock-wait-max", "1s"]);
    // The report starts while the VALIDATE scans, after the ADD, and outlasts the wait.
    p.wait_running("VALIDATE CONSTRAINT t_ref_nn");
    let holder = long_reader(&p, "report-job", 4.0);
    let failed = finish(run);
    finish(holder);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("still holds the application's new rows to it")
            && failed.stderr.contains("ALTER TABLE t DROP CONSTRAINT t_ref_nn"),
        "{}",
        failed.stderr
    );
    p.psql("ALTER TABLE t DROP CONSTRAINT t_ref_nn; UPDATE t SET ref = 'r' WHERE ref IS NULL");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT convalidated FROM pg_constraint WHERE conname = 't_ref_nn'"), "t");
}

/// The review's cases: with statements between the ADD and its failing VALIDATE (an index built
/// between them), the constraint is left, said to be in force, and the file goes on at the
/// VALIDATE (set back to the ADD, the index would have been built again); a constraint of the
/// same name on another schema's table is not the one dropped; a VALIDATE stopped by
/// statement_timeout drops its constraint as a failure does (not as a Ctrl-C).
#[test]
fn a_failed_validate_drops_only_the_constraint_its_add_just_made() {
    let p = table_with_rows("busy_not_valid_cases");
    p.psql("ALTER TABLE t ADD COLUMN ref text; UPDATE t SET ref = 'r' WHERE id > 1");
    p.write(
        "002_between.sql",
        "-- shale:no-transaction\n\
         ALTER TABLE t ADD CONSTRAINT t_ref_nn CHECK (ref IS NOT NULL) NOT VALID;\n\
         CREATE INDEX CONCURRENTLY t_ref ON t (ref);\n\
         ALTER TABLE t VALIDATE CONSTRAINT t_ref_nn;\n",
    );
    let failed = p.shale(&["up"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(failed.stderr.contains("holds the application's new rows to it"), "{}", failed.stderr);
    assert!(failed.stderr.contains("statements 1 to 2 of this file are applied"), "{}", failed.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM pg_constraint WHERE conname = 't_ref_nn'"), "1");
    p.psql("UPDATE t SET ref = 'r' WHERE ref IS NULL");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT convalidated FROM pg_constraint WHERE conname = 't_ref_nn'"), "t");

    // Two schemas' tables, one constraint name: the failing one's ADD is the one that counts.
    p.psql(
        "CREATE SCHEMA ta; CREATE SCHEMA tb; CREATE TABLE ta.o (x int); CREATE TABLE tb.o (x int);
         INSERT INTO ta.o VALUES (NULL); INSERT INTO tb.o VALUES (1)",
    );
    p.write(
        "003_tenants.sql",
        "-- shale:no-transaction\n\
         ALTER TABLE tb.o ADD CONSTRAINT o_x_nn CHECK (x IS NOT NULL) NOT VALID;\n\
         ALTER TABLE ta.o ADD CONSTRAINT o_x_nn CHECK (x IS NOT NULL) NOT VALID;\n\
         ALTER TABLE ta.o VALIDATE CONSTRAINT o_x_nn;\n\
         ALTER TABLE tb.o VALIDATE CONSTRAINT o_x_nn;\n",
    );
    let failed = p.shale(&["up"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(failed.stderr.contains("that statement 2 added NOT VALID was dropped again"), "{}", failed.stderr);
    let left = "SELECT string_agg(conrelid::regclass::text, ',') FROM pg_constraint WHERE conname = 'o_x_nn'";
    assert_eq!(p.psql(left), "tb.o", "the healthy one stays, the failing one went");
}

#[test]
fn a_validate_out_of_statement_timeout_drops_its_constraint() {
    let p = table_with_rows("busy_not_valid_timeout");
    p.psql(
        "CREATE FUNCTION slow_ok(bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT pg_sleep(0.01) IS NOT NULL'",
    );
    p.write(
        "002_slow_check.sql",
        "-- shale:no-transaction\n-- shale:statement-timeout=1s\n\
         ALTER TABLE t ADD CONSTRAINT t_slow CHECK (slow_ok(id)) NOT VALID;\n\
         ALTER TABLE t VALIDATE CONSTRAINT t_slow;\n",
    );
    let failed = p.shale(&["up"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("statement timeout") && failed.stderr.contains("was dropped again"),
        "{}",
        failed.stderr
    );
    assert_eq!(p.psql("SELECT count(*) FROM pg_constraint WHERE conname = 't_slow'"), "0");
}

/// A CONCURRENTLY statement sent while a long transaction is open names it first: the build waits
/// for it on the server, which says nothing (the second live re-check: minutes unsaid).
#[test]
fn a_concurrently_statement_names_the_older_transactions_it_waits_for() {
    let p = table_with_rows("busy_older_transactions");
    p.write("002_index.sql", "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY t_v ON t (v);\n");
    let holder = long_reader(&p, "nightly-report", 3.0);
    std::thread::sleep(Duration::from_millis(1200));
    let run = finish(p.spawn(&["up"]));
    finish(holder);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("waits for 1 transaction(s) older than it to end") && run.stderr.contains("nightly-report"),
        "{}",
        run.stderr
    );
}

/// A CONCURRENTLY statement waits for older transactions up to --lock-wait-max in all: out of
/// time, it fails then, where it was sent again with the whole wait each time (`lock_retries`,
/// six times the wait by default).
#[test]
fn a_concurrently_statement_waits_no_longer_than_the_wait_in_all() {
    let p = table_with_rows("busy_concurrently_bound");
    p.write("002_index.sql", "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY t_v ON t (v);\n");
    let mut holder = long_reader(&p, "nightly-report", 60.0);
    let run = finish(p.spawn(&["up", "--lock-wait-max", "1s", "-v"]));
    // Ended on the server: a killed psql's session sleeps on, holding its snapshot, for a minute.
    p.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'nightly-report'");
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("retrying"), "sent again past the wait: {}", run.stderr);
    // The INVALID index it left is dropped and built again by the next run.
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v'::regclass"), "t");
}

/// A session reading one partition holds up a statement on the partitioned table, which locks
/// every partition: it is waited for, named, and ended when asked; ATTACH PARTITION waits for
/// the default partition, which it scans (partitioned tables trial: the report on a partition
/// went unseen, the application's sessions on the table were named and advised ended instead,
/// and ATTACH queued for the default partition, stalling its readers).
#[test]
fn a_session_on_one_partition_is_waited_for_and_named() {
    let p = Project::new("busy_partition");
    p.write(
        "001_events.sql",
        "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events_rest PARTITION OF events DEFAULT PARTITION BY RANGE (at);
CREATE TABLE events_rest_all PARTITION OF events_rest DEFAULT;
CREATE TABLE events_2025 (id bigint NOT NULL, at date NOT NULL, x int);",
    );
    p.shale(&["up"]).ok();
    p.write("002_add.sql", "ALTER TABLE events ADD COLUMN x int;");
    let (holder, stdin) = idle_in_transaction_on(&p, "partition-report", "events_2026");
    let run = p.shale(&["up", "--lock-wait-max", "700ms"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("partition-report") && run.stderr.contains("events_2026"), "{}", run.stderr);
    let run = p.shale(&["up", "--lock-wait-max", "10s", "--cancel-blockers-after", "100ms", "--terminate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("partition-report"), "{}", run.stderr);
    drop(stdin);
    finish(holder);

    p.write(
        "003_attach.sql",
        "ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
    );
    // (A report on a partition of the default partition, itself partitioned: round-3 re-check.)
    let (holder, stdin) = idle_in_transaction_on(&p, "default-report", "events_rest_all");
    let started = Instant::now();
    let run = p.shale(&["up", "--lock-wait-max", "700ms"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(run.stderr.contains("default-report") && run.stderr.contains("events_rest_all"), "{}", run.stderr);
    drop(stdin);
    finish(holder);
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM pg_inherits WHERE inhrelid = 'events_2025'::regclass"), "1");
}

/// A generated down run because its table held no row checks again under the table's lock: rows
/// a session committed while the down waited for it refuse it (the re-check: a row committed
/// during the wait was dropped with its table).
#[test]
fn a_generated_down_checks_again_under_the_lock_that_the_table_holds_no_row() {
    let p = Project::new("busy_downgen_guard");
    p.write("001_t.sql", "CREATE TABLE t (id int);");
    p.write("002_p.sql", "CREATE TABLE p (id int);");
    p.shale(&["up"]).ok();
    let (holder, mut stdin) = idle_in_transaction_on(&p, "writer", "p");
    let down = p.spawn(&["down", "--step", "1", "--generate"]);
    wait_until_shale_waits(&p);
    stdin.write_all(b"INSERT INTO p VALUES (1);\nCOMMIT;\n").unwrap();
    drop(stdin);
    finish(holder);
    let down = finish(down);
    assert_eq!(down.code, 1, "{}{}", down.stdout, down.stderr);
    assert!(down.stderr.contains("this generated down would drop the rows public.p holds now"), "{}", down.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM p"), "1", "the row committed during the wait stays");
    // Empty again, it runs.
    p.psql("DELETE FROM p");
    p.shale(&["down", "--step", "1", "--generate"]).ok();
    assert!(!p.tables().contains(&"p".to_string()));
}
