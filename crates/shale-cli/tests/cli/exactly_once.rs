//! Exactly once under faults: a runner whose lock goes mid-migration never commits or records
//! anything after that, the next runner never applies what is being committed, many runners
//! through PgBouncer in transaction and statement mode apply each migration once, and a
//! no-transaction statement whose outcome is unknown is checked, never run again blindly.

use crate::common;

use common::{finish, shown, Project, Run};
use shale_testkit::{shared_cluster, Pgbouncer};

/// Ends the server session holding the advisory migration lock, as a DBA or a failover would.
fn kill_lock_session(p: &Project) {
    let ended = p.psql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'shale (migration lock)'",
    );
    assert_eq!(ended, "1", "exactly one lock session");
}

#[test]
fn a_runner_whose_lock_session_ends_rolls_back_and_the_next_applies_once() {
    let p = Project::new("once_killed_lock");
    p.psql("CREATE TABLE log (step text)");
    p.write("001_slow.sql", "INSERT INTO log VALUES ('001');\nSELECT pg_sleep(2);\n");
    p.write("002_next.sql", "INSERT INTO log VALUES ('002');\n");
    let first = p.spawn(&["up"]);
    p.wait_running("pg_sleep(2)");
    kill_lock_session(&p);
    // A second runner gets the lock at once, while the first one's migration is still running.
    let second = p.spawn(&["up"]);
    let first = finish(first);
    let second = finish(second);
    assert_eq!(first.code, 3, "stdout:\n{}\nstderr:\n{}", first.stdout, first.stderr);
    assert!(first.stderr.contains("the migration lock was lost"), "{}", first.stderr);
    assert!(first.stderr.contains("migration 001 slow was rolled back and did not commit"), "{}", first.stderr);
    assert_eq!(second.code, 0, "stdout:\n{}\nstderr:\n{}", second.stdout, second.stderr);
    assert_eq!(p.psql("SELECT string_agg(step, ',' ORDER BY step) FROM log"), "001,002");
    assert_eq!(p.history(), vec!["1|versioned|succeeded", "2|versioned|succeeded"]);
}

#[test]
fn a_no_transaction_statement_in_doubt_is_never_run_again_blindly() {
    let p = Project::new("once_killed_lock_notx");
    p.psql("CREATE TABLE log (step text)");
    p.write(
        "001_steps.sql",
        // (A DO block cannot run in a block of its own, which would commit with its record.)
        "-- shale:no-transaction\nINSERT INTO log VALUES ('a');\nDO $$ BEGIN PERFORM pg_sleep(3); END $$;\nINSERT INTO log VALUES ('b');\n",
    );
    let first = p.spawn(&["up"]);
    p.wait_running("pg_sleep(3)");
    kill_lock_session(&p);
    // The next runner finds the statement still running, left by a runner that lost the lock.
    let second = p.shale(&["up"]);
    assert_eq!(second.code, 1, "stdout:\n{}\nstderr:\n{}", second.stdout, second.stderr);
    assert!(second.stderr.contains("statement 2 of migration 001 steps may or may not have run"), "{}", second.stderr);
    assert!(second.stderr.contains("it is still running on the server (pid"), "{}", second.stderr);
    let first = finish(first);
    assert_eq!(first.code, 3, "stdout:\n{}\nstderr:\n{}", first.stdout, first.stderr);
    assert!(
        first.stderr.contains("runs outside a transaction: it stopped at a statement boundary"),
        "{}",
        first.stderr
    );
    // It ended; whether it took effect cannot be read from the catalog: a person decides.
    snapshot!("in_doubt_after_the_runner_ended", shown(&p, &p.shale(&["up"])));
    assert_eq!(p.psql("SELECT string_agg(step, ',' ORDER BY step) FROM log"), "a", "nothing ran twice");
    p.shale(&["repair", "1", "--resume-at", "3", "--reason", "the sleep ran"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT string_agg(step, ',' ORDER BY step) FROM log"), "a,b");
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][0]["state"], "applied", "{status}");
}

#[test]
fn a_concurrent_index_build_killed_mid_way_is_checked_in_the_catalog() {
    let p = Project::new("once_index_in_doubt");
    p.psql("CREATE TABLE big (id int); INSERT INTO big SELECT generate_series(1, 1000)");
    p.write(
        "001_index.sql",
        "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY big_id ON big (id);\nINSERT INTO big VALUES (0);\n",
    );
    // A transaction with an old snapshot holds the build up (CREATE INDEX CONCURRENTLY waits for
    // it), long enough to kill the runner in the middle of it.
    let db = p.db.name.clone();
    let snapshot = std::thread::spawn(move || {
        shared_cluster()
            .psql(&db, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM big; SELECT pg_sleep(2); COMMIT")
            .unwrap()
    });
    p.wait_running("pg_sleep(2)");
    let mut runner = p.spawn(&["up"]);
    wait_for_statement(&p, "CREATE INDEX CONCURRENTLY big_id");
    runner.kill().unwrap(); // SIGKILL: it records nothing more
    runner.wait().unwrap();
    snapshot.join().unwrap();
    // The server finishes the build for a client that is gone.
    p.wait_for(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'CREATE INDEX CONCURRENTLY big_id%'",
        "0",
        "the build ended",
    );
    assert_eq!(p.psql("SELECT status || ' ' || statements_done FROM shale_migrations"), "running 0");
    // Cut off, not failed (operator trial: "failed", with no error to show).
    let status = p.shale(&["status"]).ok();
    assert!(
        status.stdout.contains(" stopped part-way ") && status.stdout.contains("1 stopped part-way"),
        "{}",
        status.stdout
    );

    let run = p.shale(&["up"]).ok();
    assert!(!run.stderr.contains("may or may not"), "{}", run.stderr);
    // Not built twice (that fails with "already exists"), and the rest ran once.
    assert_eq!(p.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_id'::regclass"), "t");
    assert_eq!(p.psql("SELECT count(*) FROM big WHERE id = 0"), "1");
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][0]["state"], "applied", "{status}");
}

/// A down outside a transaction whose runner is killed mid-statement goes on where it stopped:
/// the statements it got through do not run again, and the one left in doubt is checked in the
/// catalog. The migration stays applied until the down finishes.
#[test]
fn a_no_transaction_down_killed_mid_way_goes_on_where_it_stopped() {
    let p = Project::new("once_down_killed");
    p.psql("CREATE TABLE log (step text)");
    p.write("001_index.up.sql", "CREATE TABLE big (id int);\nINSERT INTO big SELECT generate_series(1, 1000);\nCREATE INDEX big_id ON big (id);");
    p.write(
        "001_index.down.sql",
        "-- shale:no-transaction\nINSERT INTO log VALUES ('first');\nDROP INDEX CONCURRENTLY big_id;\nINSERT INTO log VALUES ('last');\nDROP TABLE big;\n",
    );
    p.shale(&["up"]).ok();
    // A transaction reading the table holds the drop up (DROP INDEX CONCURRENTLY waits for it),
    // long enough to kill the runner in the middle of it.
    let db = p.db.name.clone();
    let reader = std::thread::spawn(move || {
        shared_cluster().psql(&db, "BEGIN; SELECT count(*) FROM big; SELECT pg_sleep(2); COMMIT").unwrap()
    });
    p.wait_running("pg_sleep(2)");
    let mut runner = p.spawn(&["down", "--step", "1"]);
    wait_for_statement(&p, "DROP INDEX CONCURRENTLY big_id");
    runner.kill().unwrap(); // SIGKILL: it records nothing more
    runner.wait().unwrap();
    reader.join().unwrap();
    p.wait_for(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'DROP INDEX CONCURRENTLY%'",
        "0",
        "the drop ended",
    );
    assert_eq!(
        p.psql("SELECT string_agg(kind || ' ' || status || ' ' || coalesce(statements_done, 0), ', ' ORDER BY id) FROM shale_migrations"),
        "versioned succeeded 0, audit running 1"
    );
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][0]["state"], "applied", "{status}");
    assert_eq!(status["migrations"][0]["down_stopped_at"], 2, "{status}");
    snapshot!("status_with_a_down_stopped", shown(&p, &p.shale(&["status"]).ok()));
    p.shale(&["up"]).ok();

    let run = p.shale(&["down", "--step", "1"]).ok();
    assert!(!run.stderr.contains("may or may not"), "{}", run.stderr);
    // Its first statement did not run again, and the drop (which ran) was not tried again.
    assert_eq!(p.psql("SELECT string_agg(step, ',' ORDER BY step) FROM log"), "first,last");
    assert_eq!(p.psql("SELECT to_regclass('big') IS NULL"), "t");
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][0]["state"], "pending", "{status}");
}

/// A down outside a transaction that failed part-way goes on at the failed statement once it is
/// fixed; one whose earlier statements were changed since is refused, naming the down.
#[test]
fn a_failed_no_transaction_down_goes_on_at_the_failed_statement() {
    let p = Project::new("once_down_resumes");
    p.psql("CREATE TABLE log (step text)");
    p.write("001_t.up.sql", "CREATE TABLE t (id int);");
    p.write(
        "001_t.down.sql",
        "-- shale:no-transaction\nINSERT INTO log VALUES ('first');\nDROP TABLE nope;\nDROP TABLE t;\n",
    );
    p.shale(&["up"]).ok();
    let failed = p.shale(&["down", "--step", "1"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(failed.stderr.contains("run `shale down` again to go on at statement 2"), "{}", failed.stderr);
    // Changing a statement that already ran is refused: where to go on is no longer known.
    p.write("001_t.down.sql", "-- shale:no-transaction\nINSERT INTO log VALUES ('changed');\nDROP TABLE t;\n");
    snapshot!("down_resume_changed", shown(&p, &p.shale(&["down", "--step", "1"])));
    p.write(
        "001_t.down.sql",
        "-- shale:no-transaction\nINSERT INTO log VALUES ('first');\nDROP TABLE IF EXISTS nope;\nDROP TABLE t;\n",
    );
    p.shale(&["down", "--step", "1"]).ok();
    assert_eq!(p.psql("SELECT string_agg(step, ',') FROM log"), "first", "the first statement ran once");
    assert_eq!(p.psql("SELECT to_regclass('t') IS NULL"), "t");
}

/// A down that stopped part-way, its work put back by hand: `repair --applied` records that (the
/// next down starts over), rather than say there is nothing to record.
#[test]
fn repair_applied_ends_a_down_that_stopped_part_way() {
    let p = Project::new("once_down_repaired");
    p.psql("CREATE TABLE log (step text)");
    p.write("001_t.up.sql", "CREATE TABLE t (id int);");
    p.write("001_t.down.sql", "-- shale:no-transaction\nINSERT INTO log VALUES ('first');\nDROP TABLE nope;\n");
    p.shale(&["up"]).ok();
    assert_eq!(p.shale(&["down", "--step", "1"]).code, 1);
    let stopped = || p.shale(&["status", "--json"]).ok().json()["migrations"][0]["down_stopped_at"].clone();
    assert_eq!(stopped(), 2);
    let run = p.shale(&["repair", "1", "--applied", "--reason", "put back by hand"]).ok();
    assert!(run.stdout.contains("recorded: migration 001 is applied"), "{}{}", run.stdout, run.stderr);
    assert!(stopped().is_null());
}

#[test]
fn a_runner_that_lost_its_lease_records_no_failure_after_the_fact() {
    let p = Project::new("once_lease_failed_row");
    std::fs::write(p.path().join("shale.toml"), "lock = \"table\"\nlock_lease_ttl = \"1s\"\n").unwrap();
    p.write("001_fails.sql", "SELECT pg_sleep(3);\nSELECT 1 / 0;\n");
    let runner = p.spawn(&["up"]);
    p.wait_running("pg_sleep(3)");
    // Another runner takes the lease over (as after an expiry) while this one is stalled.
    p.psql("UPDATE shale_migrations_lock SET token = 'thief', expires_at = now() + interval '1 hour'");
    let run = finish(runner);
    assert_eq!(run.code, 3, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("the migration lock was lost"), "{}", run.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations"), "0", "no failed row written without the lease");
}

/// A migration that failed in another runner while this one waited for the lock is not tried
/// again by this one, where it would fail the same way (the package trial: three workers, three
/// failed attempts, each as long as the first); a later run tries it again.
#[test]
fn a_migration_another_runner_just_failed_is_not_run_again_at_once() {
    let p = Project::new("once_failed_meanwhile");
    p.psql("CREATE SEQUENCE tries");
    p.write("001_ok.sql", "CREATE TABLE ok (id int);\n");
    p.write("002_bad.sql", "SELECT nextval('tries');\nSELECT pg_sleep(2);\nSELECT * FROM nowhere;\n");
    let runners: Vec<_> = (0..3).map(|_| p.spawn(&["up"])).collect();
    let runs: Vec<Run> = runners.into_iter().map(finish).collect();
    let said: Vec<&str> = runs.iter().map(|r| r.stderr.as_str()).collect();
    assert!(runs.iter().all(|r| r.code == 1), "{said:#?}");
    let waited = said.iter().filter(|s| s.contains("failed in another runner while this one waited")).count();
    assert_eq!(waited, 2, "{said:#?}");
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations WHERE status = 'failed'"), "1");
    // (nextval is not rolled back: it counts the attempts.)
    assert_eq!(p.psql("SELECT last_value FROM tries"), "1");
    // A run after it tries it again.
    assert_eq!(p.shale(&["up"]).code, 1);
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations WHERE status = 'failed'"), "2");
}

/// Many runners at once through a pooler, the default `lock = auto`: each migration runs once,
/// nothing is recorded twice or as failed, and no lock is left behind.
fn many_runners_through(pool_mode: &str, runners: usize) {
    let bouncer = Pgbouncer::start(shared_cluster(), pool_mode).unwrap();
    let p = Project::new(&format!("once_{pool_mode}_{runners}"));
    p.psql("CREATE TABLE log (step int)");
    for i in 1..=6 {
        p.write(
            &format!("{i:03}_m.sql"),
            &format!(
                "CREATE TABLE t{i} (id bigint PRIMARY KEY);\nINSERT INTO log VALUES ({i});\nSELECT pg_sleep(0.05);\n"
            ),
        );
    }
    p.write(
        "007_notx.sql",
        "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY t1_id ON t1 (id);\nINSERT INTO log VALUES (7);\n",
    );
    let url = bouncer.url(shared_cluster(), &p.db.name);
    let children: Vec<_> = (0..runners).map(|_| p.spawn_via(&url, &["up"])).collect();
    let runs: Vec<Run> = children.into_iter().map(finish).collect();
    for run in &runs {
        assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}\npgbouncer log:\n{}", run.stdout, run.stderr, bouncer.log());
    }
    assert_eq!(p.psql("SELECT string_agg(step::text, ',' ORDER BY step) FROM log"), "1,2,3,4,5,6,7");
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations"), "7", "one row per migration, none failed");
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations WHERE status <> 'succeeded'"), "0");
    let left = p.psql(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    assert_eq!(left, "0", "no advisory lock left on a pooled server session");
    if p.psql("SELECT to_regclass('shale_migrations_lock') IS NOT NULL") == "t" {
        assert_eq!(p.psql("SELECT count(*) FROM shale_migrations_lock"), "0");
    }
}

#[test]
fn sixteen_and_thirty_two_runners_through_a_transaction_pooler() {
    many_runners_through("transaction", 16);
    many_runners_through("transaction", 32);
}

#[test]
fn sixteen_and_thirty_two_runners_through_a_statement_pooler() {
    many_runners_through("statement", 16);
    many_runners_through("statement", 32);
}

#[test]
fn each_migration_starts_from_the_same_session_state() {
    let p = Project::new("once_session_state");
    p.psql("CREATE SCHEMA elsewhere; CREATE ROLE once_session_role");
    p.write("001_moves.sql", "SET search_path = elsewhere;\nSET ROLE once_session_role;\nSET lock_timeout = '1ms';\n");
    p.write("002_table.sql", "CREATE TABLE lands_here (id int);\nCREATE TABLE timeouts AS SELECT current_setting('lock_timeout') AS lock_timeout, current_user::text AS who;\n");
    p.shale(&["up"]).ok();
    // Run alone, 002 creates its tables in public, as the connecting user, with shale's own
    // lock_timeout: the same in a run after 001.
    assert_eq!(p.tables(), vec!["lands_here", "shale_migrations", "timeouts"]);
    assert_eq!(p.psql("SELECT lock_timeout || ' ' || who FROM timeouts"), "5s postgres");
    p.psql("DROP ROLE once_session_role");
}

#[test]
fn tenant_schemas_through_a_transaction_pooler_land_in_their_schema() {
    let bouncer = Pgbouncer::start(shared_cluster(), "transaction").unwrap();
    let p = Project::new("once_schemas_pooler");
    p.psql("CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b");
    p.write("001_items.sql", "CREATE TABLE items (id bigint PRIMARY KEY);\nINSERT INTO items VALUES (1);\n");
    let url = bouncer.url(shared_cluster(), &p.db.name);
    let mut cmd = p.bare();
    cmd.arg("--database-url").arg(&url).args(["--schemas", "tenant_*", "up"]);
    let run: Run = cmd.output().unwrap().into();
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let placed =
        p.psql("SELECT string_agg(schemaname, ',' ORDER BY schemaname) FROM pg_tables WHERE tablename = 'items'");
    assert_eq!(placed, "tenant_a,tenant_b", "nothing in public");

    // Outside a transaction the search_path cannot travel with each statement: refused.
    p.write("002_index.sql", "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY items_id ON items (id);\n");
    let mut cmd = p.bare();
    cmd.arg("--database-url").arg(&url).args(["--schemas", "tenant_*", "up"]);
    let run: Run = cmd.output().unwrap().into();
    assert_eq!(run.code, 1, "each target fails:\nstdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("runs outside a transaction, so its statements rely on the session's search_path"),
        "{}",
        run.stdout
    );
    assert_eq!(p.psql("SELECT count(*) FROM pg_indexes WHERE indexname = 'items_id'"), "0");
    // Straight to the server, it runs in each schema.
    p.shale(&["--schemas", "tenant_*", "up"]).ok();
    assert_eq!(
        p.psql("SELECT string_agg(schemaname, ',' ORDER BY schemaname) FROM pg_indexes WHERE indexname = 'items_id'"),
        "tenant_a,tenant_b"
    );
}

/// Through a transaction pooler, a migration's session keeps its name after the `RESET ALL` each
/// starts with (TLS trial: PgBouncer's server session showed none in `pg_stat_activity`), the
/// URL's own where it gives one.
#[test]
fn a_migration_keeps_its_application_name_through_a_transaction_pooler() {
    let bouncer = Pgbouncer::start(shared_cluster(), "transaction").unwrap();
    let p = Project::new("once_named_pooler");
    p.write("001_seen.sql", "CREATE TABLE seen AS SELECT current_setting('application_name') AS name;\n");
    let url = format!("{}?application_name=deploy-42", bouncer.url(shared_cluster(), &p.db.name));
    let mut cmd = p.bare();
    cmd.arg("--database-url").arg(&url).arg("up");
    let run: Run = cmd.output().unwrap().into();
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(p.psql("SELECT name FROM seen"), "deploy-42");
}

#[test]
fn a_migration_that_drops_the_history_is_refused_before_anything_runs() {
    let p = Project::new("once_own_tables");
    p.write("001_a.sql", "CREATE TABLE a (id int);\n");
    p.write("002_wipe.sql", "-- shale:no-transaction\nCREATE TABLE b (id int);\nDROP TABLE shale_migrations;\n");
    snapshot!("drops_the_history", shown(&p, &p.shale(&["up"])));
    assert_eq!(p.tables(), Vec::<String>::new(), "not even 001 ran");
    let dry = p.shale(&["up", "--dry-run"]);
    assert_eq!(dry.code, 2, "{}", dry.stderr);

    // A migration dropping the schema the history is in (Hasura projects start so: `DROP SCHEMA
    // public CASCADE`): the message names the setting that keeps the history elsewhere, and with
    // it the migration runs.
    let p = Project::new("once_drop_public");
    p.write("001_reset.sql", "DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\nCREATE TABLE public.a (id int);\n");
    let up = p.shale(&["up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("changes schema public") && up.stderr.contains("history_schema = \"shale\""),
        "{}",
        up.stderr
    );
    std::fs::write(p.path().join("shale.toml"), "history_schema = \"shale\"\n").unwrap();
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM shale.shale_migrations WHERE status = 'succeeded'"), "1");
}

/// Waits until a session runs the statement starting with `start`, sent alone: not the history
/// row written before a no-transaction migration, which holds its text and, on a loaded machine,
/// is caught in the middle of its INSERT (a kill then lands before the first statement).
fn wait_for_statement(p: &Project, start: &str) {
    p.wait_for(
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'
               AND query LIKE '{start}%' AND pid <> pg_backend_pid()"
        ),
        "1",
        &format!("a migration runs `{start}`"),
    );
}

/// Waits until a session runs the statement holding `text` in a block of its own (`BEGIN; SET
/// LOCAL ...; statement`), as shale sends it: not the history row that holds the file's text.
fn wait_for_block(p: &Project, text: &str) {
    p.wait_for(
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'
               AND query LIKE 'BEGIN;%{text}%' AND pid <> pg_backend_pid()"
        ),
        "1",
        &format!("a block runs `{text}`"),
    );
}

/// Through a transaction-mode pooler, a migration that runs outside a transaction set its
/// settings for the session, ran the statement and reset them in three statements, each on
/// whichever server session was free: the application's sessions kept a 50 ms lock_timeout (its
/// queries failed), and the ALTER TABLE ran with none (it queued behind a report, and the
/// application behind it) (production trial). Each statement that can runs in a transaction block
/// of its own with its settings SET LOCAL, on one server session; none is left behind.
#[test]
fn a_statement_outside_a_transaction_keeps_its_settings_through_a_transaction_pooler() {
    for mode in ["transaction", "statement"] {
        settings_kept_through(mode);
    }
}

fn settings_kept_through(mode: &str) {
    let bouncer = Pgbouncer::start_round_robin(shared_cluster(), mode).unwrap();
    let p = Project::new(&format!("once_notx_settings_{mode}"));
    // Four server sessions in the pool, handed out in turn.
    let url = bouncer.url(shared_cluster(), &p.db.name);
    let warm: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(shared_cluster().binaries().psql())
                .args(["-X", "-q", "-d", &url, "-c", "SELECT pg_sleep(0.3)"])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in warm {
        child.wait().unwrap();
    }
    std::fs::write(p.path().join("shale.toml"), "lock_timeout = \"4321ms\"\n").unwrap();
    p.psql("CREATE TABLE t (id int PRIMARY KEY, n int); CREATE TABLE seen (lock text, statement text)");
    // The file's own block only where the pooler takes one over several statements.
    let own_block = match mode {
        "transaction" => "BEGIN;\nINSERT INTO seen SELECT current_setting('lock_timeout'), current_setting('statement_timeout');\nCOMMIT;\n",
        _ => "INSERT INTO seen SELECT current_setting('lock_timeout'), current_setting('statement_timeout');\n",
    };
    p.write(
        "001_notx.sql",
        &format!(
            "-- shale:no-transaction\n\
             ALTER TABLE t ADD CONSTRAINT t_n CHECK (n > 0) NOT VALID;\n\
             INSERT INTO seen SELECT current_setting('lock_timeout'), current_setting('statement_timeout');\n\
             {own_block}\
             ALTER TABLE t VALIDATE CONSTRAINT t_n;\n\
             CREATE INDEX CONCURRENTLY t_n_idx ON t (n);\n"
        ),
    );
    let run = finish(p.spawn_via(&url, &["up"]));
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    // Alone, and in the file's own transaction block (production re-check: none reached it).
    assert_eq!(p.psql("SELECT string_agg(lock || ' ' || statement, ', ') FROM seen"), "4321ms 0, 4321ms 0");
    // The CONCURRENTLY one cannot carry its settings there: none set, and said.
    assert!(run.stderr.contains("drops the settings shale sends when it connects"), "{}", run.stderr);
    assert_eq!(p.psql("SELECT convalidated FROM pg_constraint WHERE conname = 't_n'"), "t");
    // The pooled server sessions went back as they were.
    let pooled = std::process::Command::new(shared_cluster().binaries().psql())
        .args(["-X", "-A", "-t", "-d", &url, "-c", "SHOW lock_timeout"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&pooled.stdout).trim(), "0", "{pooled:?}");
}

/// A migration outside a transaction that a runner is applying now is being applied, not failed:
/// `status` said failed, `version` dirty and `validate` exited 1 during a live backfill
/// (production trial). Once its runner is gone, it is what it was.
#[test]
fn a_migration_being_applied_now_is_not_shown_as_failed() {
    let p = Project::new("once_status_while_running");
    p.write("001_slow.sql", "-- shale:no-transaction\nCREATE TABLE t (id int);\nSELECT pg_sleep(4);\n");
    let runner = p.spawn(&["up"]);
    p.wait_running("pg_sleep(4)");
    let status = p.shale(&["status"]).ok();
    assert!(status.stdout.contains("running (being applied now)"), "{}", status.stdout);
    assert!(
        status.stdout.contains("1 being applied now by the runner holding the migration lock"),
        "{}",
        status.stdout
    );
    let version = p.shale(&["version"]).ok();
    assert!(!version.stdout.contains("dirty"), "{}", version.stdout);
    p.shale(&["validate"]).ok();
    assert_eq!(finish(runner).code, 0);
    assert!(p.shale(&["status"]).ok().stdout.contains("applied"));
}

/// A statement outside a transaction that can run in a block runs in one of its own, which commits
/// its record with it: a runner killed while it ran leaves both or neither, never a statement in
/// doubt (production re-check: a VALIDATE that committed as its runner died was "cannot be
/// checked", and a person had to look).
#[test]
fn a_runner_killed_in_a_statement_s_own_block_leaves_nothing_in_doubt() {
    let p = Project::new("once_killed_statement_block");
    p.psql("CREATE TABLE log (step text)");
    p.write(
        "001_steps.sql",
        "-- shale:no-transaction\nINSERT INTO log VALUES ('a');\nINSERT INTO log SELECT 'slept' FROM pg_sleep(2);\nINSERT INTO log VALUES ('b');\n",
    );
    let mut runner = p.spawn(&["up"]);
    wait_for_block(&p, "pg_sleep(2)");
    runner.kill().unwrap(); // SIGKILL: it records nothing more
    let _ = runner.wait();
    p.wait_for(&common::running_sql("pg_sleep(2)"), "0", "the abandoned statement ends");
    let run = p.shale(&["up"]);
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("may or may not"), "{}", run.stderr);
    assert_eq!(p.psql("SELECT string_agg(step, ',' ORDER BY step) FROM log"), "a,b,slept", "each ran once");
    let status = p.shale(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][0]["state"], "applied", "{status}");
}

/// A runner killed inside a file's own transaction block: the next run resumes at its BEGIN
/// (production re-check: it refused for good, taking its own lock session's `BEGIN;` for the
/// statement still running).
#[test]
fn a_runner_killed_inside_the_file_s_own_block_is_resumed() {
    let p = Project::new("once_killed_in_own_block");
    p.write(
        "001_block.sql",
        "-- shale:no-transaction\nCREATE TABLE a (id int);\nBEGIN;\nCREATE TABLE b (id int);\nSELECT pg_sleep(2);\nCOMMIT;\n",
    );
    let mut runner = p.spawn(&["up"]);
    p.wait_running("pg_sleep(2)");
    runner.kill().unwrap();
    let _ = runner.wait();
    // The server ends the abandoned statement's session once it finishes.
    p.wait_for(&common::running_sql("pg_sleep(2)"), "0", "the abandoned statement ends");
    let run = p.shale(&["up"]);
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(p.tables(), ["a", "b", "shale_migrations"]);
}

/// A down under a migration that stopped part-way outside a transaction is refused (production
/// re-check: `down --step 1` reverted the migration under it, dropping the table its committed
/// INSERT had written to, and the next `up`, resuming after that INSERT, lost the row for good).
#[test]
fn a_down_under_a_part_applied_migration_is_refused() {
    let p = Project::new("once_down_under_part_applied");
    p.write("005_t5.up.sql", "CREATE TABLE t5 (id int);\n");
    p.write("005_t5.down.sql", "DROP TABLE t5;\n");
    p.write(
        "006_part.sql",
        "-- shale:no-transaction\nINSERT INTO t5 VALUES (1);\nINSERT INTO t5 VALUES ('notanint');\n",
    );
    assert_eq!(p.shale(&["up"]).code, 1);
    let down = p.shale(&["down", "--step", "1"]);
    assert_ne!(down.code, 0, "{}", down.stderr);
    assert!(
        down.stderr
            .contains("migration 006 part stopped part-way outside a transaction, 1 of its statements committed"),
        "{}",
        down.stderr
    );
    assert_eq!(p.tables(), ["shale_migrations", "t5"], "nothing reverted");
    // Finished, it is reverted with the others.
    p.write("006_part.sql", "-- shale:no-transaction\nINSERT INTO t5 VALUES (1);\nINSERT INTO t5 VALUES (2);\n");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM t5"), "1,2");
}

/// The same under a migration whose run was cut off in its first statement, a DO block, which
/// cannot run in a block of its own: none is recorded, and it may have committed (review). Here
/// it did: the server finishes a statement for a client that is gone.
#[test]
fn a_down_under_a_migration_cut_off_in_its_first_statement_is_refused() {
    let p = Project::new("once_down_under_cut_off");
    p.write("005_t5.up.sql", "CREATE TABLE t5 (id int);\n");
    p.write("005_t5.down.sql", "DROP TABLE t5;\n");
    p.write(
        "006_do.sql",
        "-- shale:no-transaction\nDO $$ BEGIN PERFORM pg_sleep(2); INSERT INTO t5 VALUES (1); END $$;\nSELECT 1;\n",
    );
    p.shale(&["up", "--to", "005"]).ok();
    let mut runner = p.spawn(&["up"]);
    wait_for_statement(&p, "DO $$");
    runner.kill().unwrap(); // SIGKILL: it records nothing more
    runner.wait().unwrap();
    p.wait_for("SELECT count(*) FROM t5", "1", "the DO block committed");
    assert_eq!(p.psql("SELECT status || ' ' || statements_done FROM shale_migrations WHERE name = 'do'"), "running 0");
    let down = p.shale(&["down", "--step", "1"]);
    assert_ne!(down.code, 0, "{}", down.stderr);
    assert!(
        down.stderr.contains("was cut off outside a transaction in statement 1, which may have committed"),
        "{}",
        down.stderr
    );
    assert_eq!(p.psql("SELECT count(*) FROM t5"), "1", "nothing reverted");
}

/// A statement sent in a block of its own by a run that was killed, still running (waiting for a
/// row), cannot commit: its fence names the killed run's lock. The next run cancels it and runs
/// it again, where it refused as in doubt, exit 1 (live re-check).
#[test]
fn a_killed_run_s_statement_still_waiting_is_cancelled_and_run_again() {
    let p = Project::new("once_leftover_cancelled");
    p.psql("CREATE TABLE counter (n int); INSERT INTO counter VALUES (0)");
    std::fs::write(p.path().join("shale.toml"), "lock_timeout = \"0\"\n").unwrap();
    p.write("001_bump.sql", "-- shale:no-transaction\nUPDATE counter SET n = n + 1;\n");
    let db = p.db.name.clone();
    let holder = std::thread::spawn(move || {
        shared_cluster().psql(&db, "BEGIN; SELECT n FROM counter FOR UPDATE; SELECT pg_sleep(3); COMMIT").unwrap()
    });
    p.wait_running("pg_sleep(3)");
    let mut runner = p.spawn(&["up"]);
    p.wait_for(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
           AND query LIKE 'BEGIN;%UPDATE counter%'",
        "1",
        "the update waits for the row",
    );
    runner.kill().unwrap(); // SIGKILL: it records nothing more
    let _ = runner.wait();
    let run = p.shale(&["up"]);
    holder.join().unwrap();
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("was cancelled and runs again"), "{}", run.stderr);
    assert_eq!(p.psql("SELECT n FROM counter"), "1", "once");
}

/// An application's session running the same text as a leftover statement is left alone: only
/// shale's own block is cancelled (review: the application's REFRESH was cancelled).
#[test]
fn an_application_s_statement_of_the_same_text_is_not_cancelled() {
    let p = Project::new("once_leftover_not_theirs");
    p.write("001_sleep.sql", "-- shale:no-transaction\nSELECT pg_sleep(4);\n");
    let mut runner = p.spawn(&["up"]);
    wait_for_block(&p, "pg_sleep(4)");
    runner.kill().unwrap();
    let _ = runner.wait();
    let db = p.db.name.clone();
    let application = std::thread::spawn(move || shared_cluster().psql(&db, "SELECT pg_sleep(4)"));
    p.wait_for(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(4)'",
        "1",
        "the application's statement runs",
    );
    let run = p.shale(&["up"]);
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("was cancelled and runs again"), "{}", run.stderr);
    assert!(application.join().unwrap().is_ok(), "the application's statement ran to its end");
}

/// A run killed while it waited for a table an application's statement of the same text held:
/// that session is not shale's leftover, and the next run neither refuses as in doubt nor names it
/// to be cancelled (re-check: "may or may not have run", with the application's pid).
#[test]
fn an_application_s_statement_of_the_same_text_leaves_nothing_in_doubt() {
    let p = Project::new("once_same_text_not_in_doubt");
    p.psql("CREATE MATERIALIZED VIEW mv AS SELECT x FROM generate_series(1, 3) x, pg_sleep(4) WITH NO DATA");
    p.write("001_first.sql", "CREATE TABLE a (id int);\n");
    p.shale(&["up"]).ok();
    p.write("002_refresh.sql", "-- shale:no-transaction\nSELECT 1;\nREFRESH MATERIALIZED VIEW mv;\n");
    let db = p.db.name.clone();
    let application = std::thread::spawn(move || shared_cluster().psql(&db, "REFRESH MATERIALIZED VIEW mv"));
    p.wait_for(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'REFRESH MATERIALIZED VIEW mv'",
        "1",
        "the application refreshes",
    );
    let mut runner = p.spawn(&["up"]);
    p.wait_for(
        "SELECT count(*) FROM shale_migrations WHERE status = 'running' AND statements_done = 1",
        "1",
        "the run waits for the view",
    );
    runner.kill().unwrap();
    let _ = runner.wait();
    let run = p.shale(&["up"]);
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("may or may not"), "{}", run.stderr);
    assert!(application.join().unwrap().is_ok(), "the application's refresh ran to its end");
}
