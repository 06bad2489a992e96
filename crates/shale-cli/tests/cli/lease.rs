//! The table lease lock through the real binary: concurrent runners, a killed runner's lease taken
//! over after it expires, the heartbeat keeping a long migration's lease, a stolen lease stopping
//! the run; and `lock = "auto"` finding a real PgBouncer in transaction mode.

use crate::common;

use std::process::{Command, Stdio};

use common::{shown, Project, Run};
use shale_testkit::{shared_cluster, Pgbouncer};

/// shale.toml of a project whose runners use the table lease, expiring after `ttl`.
fn use_lease(p: &Project, ttl: &str) {
    std::fs::write(p.path().join("shale.toml"), format!("lock = \"table\"\nlock_lease_ttl = \"{ttl}\"\n")).unwrap();
}

#[test]
fn sixteen_runners_with_the_table_lease_apply_each_migration_exactly_once() {
    let p = Project::new("lease_concurrent");
    use_lease(&p, "30s");
    for i in 1..=12 {
        p.write(
            &format!("{i:03}_m.sql"),
            &format!("CREATE TABLE t{i} (id bigserial PRIMARY KEY, doc jsonb);\nCREATE INDEX t{i}_doc ON t{i} USING gin (doc);\nSELECT pg_sleep(0.02);\n"),
        );
    }
    let children: Vec<_> = (0..16).map(|_| p.spawn(&["up", "-v"])).collect();
    let runs: Vec<Run> = children.into_iter().map(|c| c.wait_with_output().unwrap().into()).collect();
    for run in &runs {
        assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
        assert!(!run.stderr.contains("took over"), "nobody crashed, nothing is taken over:\n{}", run.stderr);
    }
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations"), "12");
    assert_eq!(p.psql("SELECT count(DISTINCT version) FROM shale_migrations WHERE status = 'succeeded'"), "12");
    assert!(
        runs.iter().any(|r| r.stderr.contains("waiting for the migration lock, held by a lease of shale pid")),
        "no runner reported the lease holder"
    );
    // Released on exit.
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations_lock"), "0");
}

#[test]
fn a_killed_runner_s_lease_is_taken_over_after_it_expires() {
    let p = Project::new("lease_killed");
    use_lease(&p, "2s");
    p.write("001_slow.sql", "SELECT pg_sleep(60);\n");
    let mut first = p.spawn(&["up"]);
    let killed_pid = first.id();
    p.wait_running("pg_sleep(60)");
    assert_eq!(p.psql("SELECT pid FROM shale_migrations_lock"), killed_pid.to_string());

    first.kill().unwrap(); // SIGKILL: no chance to release anything
    first.wait().unwrap();
    // The server notices a vanished client only when it next talks to it; end the orphaned
    // migration session as it eventually would be.
    p.psql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
    );
    assert_eq!(
        p.psql("SELECT pid FROM shale_migrations_lock"),
        killed_pid.to_string(),
        "the lease outlives its holder"
    );

    p.write("001_slow.sql", "CREATE TABLE after_crash (id int);\n");
    let run = p.shale(&["up"]).ok();
    assert!(
        run.stderr.contains(&format!("waiting for the migration lock, held by a lease of shale pid {killed_pid} ")),
        "{}",
        run.stderr
    );
    let took_over = format!("took over an expired migration lock (a lease of shale pid {killed_pid} ");
    assert!(run.stderr.contains(&took_over), "{}", run.stderr);
    assert_eq!(p.history(), vec!["1|versioned|succeeded"]);
    assert!(p.tables().contains(&"after_crash".to_string()));
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations_lock"), "0");
}

#[test]
fn the_heartbeat_keeps_a_long_migration_s_lease() {
    let p = Project::new("lease_heartbeat");
    // The migration runs well past the time the lease lasts without renewal.
    use_lease(&p, "2s");
    p.write("001_long.sql", "SELECT pg_sleep(5);\n");
    p.write("002_after.sql", "CREATE TABLE after_long (id int);\n");
    let first = p.spawn(&["up"]);
    p.wait_running("pg_sleep(5)");
    let second = p.spawn(&["up", "-v"]);
    p.wait_for(
        "SELECT heartbeat_at > acquired_at + interval '2 seconds' FROM shale_migrations_lock",
        "t",
        "the heartbeat renewed the lease past its first expiry",
    );
    let first: Run = first.wait_with_output().unwrap().into();
    let second: Run = second.wait_with_output().unwrap().into();
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second.stderr.contains("waiting for the migration lock, held by a lease of shale pid"),
        "{}",
        second.stderr
    );
    assert!(!second.stderr.contains("took over"), "a renewed lease was taken over:\n{}", second.stderr);
    assert_eq!(p.history(), vec!["1|versioned|succeeded", "2|versioned|succeeded"]);
}

#[test]
fn a_stolen_lease_stops_the_run_and_its_migration_does_not_commit() {
    let p = Project::new("lease_stolen");
    use_lease(&p, "1s");
    p.write("001_slow.sql", "CREATE TABLE slow_one (id int);\nSELECT pg_sleep(3);\n");
    p.write("002_next.sql", "CREATE TABLE next_one (id int);\n");
    let runner = p.spawn(&["up"]);
    p.wait_running("pg_sleep(3)");
    p.psql("UPDATE shale_migrations_lock SET token = 'thief', expires_at = now() + interval '1 hour'");
    let run: Run = runner.wait_with_output().unwrap().into();
    assert_eq!(run.code, 3, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("the migration lock was lost"), "{}", run.stderr);
    // The lease is checked inside the migration's transaction just before COMMIT: the migration
    // that was running when the lease went is rolled back, and the next never starts.
    let history = p.psql("SELECT count(*) FROM shale_migrations WHERE status = 'succeeded'");
    assert_eq!(history, "0", "no migration committed without the lease");
    assert!(!p.tables().contains(&"slow_one".to_string()));
    assert!(!p.tables().contains(&"next_one".to_string()));
    // Its release left the thief's row alone.
    assert_eq!(p.psql("SELECT token FROM shale_migrations_lock"), "thief");

    p.psql("DELETE FROM shale_migrations_lock");
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"slow_one".to_string()) && p.tables().contains(&"next_one".to_string()));
}

#[test]
fn a_stolen_lease_stops_a_migration_outside_a_transaction_at_its_next_statement() {
    let p = Project::new("lease_stolen_notx");
    use_lease(&p, "1s");
    p.psql("CREATE TABLE log (step int)");
    p.write(
        "001_steps.sql",
        "-- shale:no-transaction\nINSERT INTO log VALUES (1);\nSELECT pg_sleep(3);\nINSERT INTO log VALUES (2);\n",
    );
    let runner = p.spawn(&["up"]);
    p.wait_running("pg_sleep(3)");
    p.psql("UPDATE shale_migrations_lock SET token = 'thief', expires_at = now() + interval '1 hour'");
    let run: Run = runner.wait_with_output().unwrap().into();
    assert_eq!(run.code, 3, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("the migration lock was lost"), "{}", run.stderr);
    // Progress is recorded behind the fence: the statement after the theft never ran.
    assert_eq!(p.psql("SELECT string_agg(step::text, ',') FROM log"), "1");
    assert_eq!(p.psql("SELECT token FROM shale_migrations_lock"), "thief");
}

#[test]
fn runners_on_either_lock_exclude_each_other() {
    let p = Project::new("lease_mixed");
    p.write("001_slow.sql", "CREATE TABLE slow (id int);\nSELECT pg_sleep(3);\n");
    let advisory = p.spawn(&["--lock", "advisory", "up"]);
    p.wait_running("pg_sleep(3)");
    let on_lease = p.shale(&["--lock", "table", "up"]).ok();
    assert!(on_lease.stderr.contains("waiting for the migration lock, held by pid"), "{}", on_lease.stderr);
    let advisory: Run = advisory.wait_with_output().unwrap().into();
    assert_eq!(advisory.code, 0, "{}", advisory.stderr);
    assert_eq!(p.history(), vec!["1|versioned|succeeded"]);

    // A burst of runners, half on each kind.
    for i in 2..=9 {
        p.write(&format!("{i:03}_m.sql"), &format!("CREATE TABLE t{i} (id int);\nSELECT pg_sleep(0.05);\n"));
    }
    let children: Vec<_> =
        (0..10).map(|n| p.spawn(&["--lock", if n % 2 == 0 { "advisory" } else { "table" }, "up"])).collect();
    for child in children {
        let run: Run = child.wait_with_output().unwrap().into();
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations"), "9");
    assert_eq!(p.psql("SELECT count(DISTINCT version) FROM shale_migrations WHERE status = 'succeeded'"), "9");
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations_lock"), "0");
    assert_eq!(advisory_locks(&p), "0");
}

#[test]
fn the_lock_settings_are_checked() {
    let p = Project::new("lease_settings");
    p.write("001_t.sql", "CREATE TABLE t (id int);\n");
    std::fs::write(p.path().join("shale.toml"), "dir = \"migrations\"\nlock = \"tabel\"\n").unwrap();
    snapshot!("lock_kind_misspelt", shown(&p, &p.shale(&["up"])));

    std::fs::write(p.path().join("shale.toml"), "lock_lease_ttl = \"100ms\"\n").unwrap();
    snapshot!("lease_ttl_too_short", shown(&p, &p.shale(&["up"])));

    std::fs::remove_file(p.path().join("shale.toml")).unwrap();
    snapshot!("lock_flag_unknown", shown(&p, &p.shale(&["--lock", "session", "up"])));

    // The flag picks the lease; no pooler is between, so nothing is said about one.
    let run = p.shale(&["--lock", "table", "up"]).ok();
    assert!(!run.stderr.contains("pooler"), "{}", run.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations_lock"), "0", "the lease table exists and is empty");
    // Like the history table, it is shale's own: not part of the schema dumped, compared or inspected.
    let dumped = p.shale(&["dump"]).ok().stdout;
    assert!(dumped.contains("CREATE TABLE public.t") && !dumped.contains("shale_migrations"), "{dumped}");
    let inspected = p.shale(&["inspect"]).ok().stdout;
    assert!(inspected.contains('t') && !inspected.contains("shale_migrations"), "{inspected}");
}

fn shale_via(p: &Project, url: &str, args: &[&str]) -> Run {
    let mut cmd: Command = p.bare();
    cmd.arg("--database-url").arg(url).args(args);
    cmd.output().unwrap().into()
}

/// Advisory locks held in the project's database, seen directly on the server.
fn advisory_locks(p: &Project) -> String {
    p.psql(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
}

#[test]
fn auto_keeps_the_advisory_lock_through_a_transaction_pooler_and_leaves_nothing_behind() {
    let bouncer = Pgbouncer::start(shared_cluster(), "transaction").unwrap();
    let p = Project::new("lease_pgbouncer");
    p.write("001_a.sql", "CREATE TABLE a (id int);\n");
    p.write("002_b.sql", "CREATE TABLE b (id int);\n");
    let run = shale_via(&p, &bouncer.url(shared_cluster(), &p.db.name), &["up"]);
    assert_eq!(run.code, 0, "stderr:\n{}\npgbouncer log:\n{}", run.stderr, bouncer.log());
    // The advisory lock lives in an open transaction, which the pooler keeps on one server
    // session: nothing to detect, nothing to fall back to.
    assert!(!run.stderr.contains("pooler"), "{}", run.stderr);
    assert_eq!(p.history(), vec!["1|versioned|succeeded", "2|versioned|succeeded"]);
    assert_eq!(advisory_locks(&p), "0", "no advisory lock is left on a pooled server session");
}

/// A pooler left as shipped (or a managed one) refuses the startup `options` parameter the
/// session settings ride on: shale connects again without it, and each migration sets them in its
/// own transaction.
#[test]
fn a_pooler_that_refuses_startup_options_is_used_all_the_same() {
    let bouncer = Pgbouncer::start_refusing_options(shared_cluster(), "transaction").unwrap();
    let p = Project::new("lease_pgbouncer_options");
    p.write("001_a.sql", "CREATE TABLE a (id int);\n");
    let run = shale_via(&p, &bouncer.url(shared_cluster(), &p.db.name), &["up"]);
    assert_eq!(run.code, 0, "stderr:\n{}\npgbouncer log:\n{}", run.stderr, bouncer.log());
    assert!(bouncer.log().contains("unsupported startup parameter: options"), "the pooler did refuse them");
    assert_eq!(p.history(), vec!["1|versioned|succeeded"]);
}

#[test]
fn auto_takes_the_lease_through_a_statement_pooler_and_advisory_refuses() {
    let bouncer = Pgbouncer::start(shared_cluster(), "statement").unwrap();
    let p = Project::new("lease_statement_pooler");
    p.write("001_a.sql", "CREATE TABLE a (id int);\n");
    let url = bouncer.url(shared_cluster(), &p.db.name);
    let run = shale_via(&p, &url, &["--lock", "advisory", "up"]);
    assert_eq!(run.code, 2, "stderr:\n{}", run.stderr);
    assert!(run.stderr.contains("use lock = \"table\""), "{}", run.stderr);
    assert!(p.psql("SELECT to_regclass('shale_migrations') IS NULL") == "t", "nothing was created");

    let run = shale_via(&p, &url, &["up"]);
    assert_eq!(run.code, 0, "stderr:\n{}\npgbouncer log:\n{}", run.stderr, bouncer.log());
    assert!(run.stderr.contains("statement pooling mode"), "{}", run.stderr);
    assert!(run.stderr.contains("using the table lease lock"), "{}", run.stderr);
    assert_eq!(p.history(), vec!["1|versioned|succeeded"]);
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations_lock"), "0");
    assert_eq!(advisory_locks(&p), "0");
}

#[test]
fn runners_through_a_transaction_pooler_share_the_lease() {
    let bouncer = Pgbouncer::start(shared_cluster(), "transaction").unwrap();
    let p = Project::new("lease_pgbouncer_many");
    use_lease(&p, "5s");
    for i in 1..=8 {
        p.write(&format!("{i:03}_m.sql"), &format!("CREATE TABLE t{i} (id int);\nSELECT pg_sleep(0.05);\n"));
    }
    let url = bouncer.url(shared_cluster(), &p.db.name);
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut cmd = p.bare();
            cmd.arg("--database-url").arg(&url).args(["up", "-v"]);
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    let runs: Vec<Run> = children.into_iter().map(|c| c.wait_with_output().unwrap().into()).collect();
    for run in &runs {
        assert_eq!(run.code, 0, "stderr:\n{}\npgbouncer log:\n{}", run.stderr, bouncer.log());
    }
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations"), "8");
    assert_eq!(p.psql("SELECT count(DISTINCT version) FROM shale_migrations WHERE status = 'succeeded'"), "8");
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations_lock"), "0");
    assert_eq!(advisory_locks(&p), "0");
}
