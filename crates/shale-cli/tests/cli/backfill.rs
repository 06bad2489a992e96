//! Batched backfills (`-- shale:backfill`): an UPDATE run in batches, each its own transaction
//! that commits with its position in the history, so a killed run resumes at the next batch and
//! no row is updated twice, even by a statement that is not idempotent.

use crate::common;

use common::{finish, Project};

/// SIGKILL: no handler runs, nothing is cleaned up.
fn kill(child: &std::process::Child) {
    // SAFETY: kill(2) on a child process id we own.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGKILL) }, 0);
}

#[test]
fn a_million_row_backfill_survives_a_kill_and_resumes_at_the_next_batch() {
    let p = Project::new("backfill_kill");
    p.write("001_items.sql", "CREATE TABLE items (id bigint PRIMARY KEY, n integer NOT NULL DEFAULT 0);");
    p.shale(&["up"]).ok();
    p.psql("INSERT INTO items (id) SELECT g FROM generate_series(1, 1000000) g; ANALYZE items");
    // Not idempotent: a batch run twice would leave n = 2 on its rows, a batch skipped n = 0.
    p.write("002_bump.sql", "-- shale:backfill batch=20000 pause=20ms\nUPDATE items SET n = n + 1;\n");
    let child = p.spawn(&["up"]);
    p.wait_for(
        "SELECT count(*) FROM shale_migrations WHERE name = 'bump' AND resume_cursor LIKE '[%'",
        "1",
        "a batch has committed",
    );
    kill(&child);
    let killed = finish(child);
    assert!(killed.code != 0);
    let done: i64 = p.psql("SELECT count(*) FROM items WHERE n = 1").parse().unwrap();
    assert!(done > 0 && done < 1_000_000, "killed half-way: {done} rows done");
    assert_eq!(p.psql("SELECT count(*) FROM items WHERE n > 1"), "0");
    // Said as stopped part-way, which `up` goes on from, not as a failure to fix.
    let validate = p.shale(&["validate"]);
    assert!(validate.stderr.contains("its last run stopped part-way"), "{}", validate.stderr);

    let run = p.shale(&["--log-format", "json", "up"]).ok();
    assert!(run.stderr.contains("\"event\":\"backfill_progress\""), "{}", run.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM items WHERE n = 1"), "1000000");
    assert_eq!(p.psql("SELECT count(*) FROM items WHERE n <> 1"), "0");
    assert_eq!(p.psql("SELECT status FROM shale_migrations WHERE name = 'bump' ORDER BY id DESC LIMIT 1"), "succeeded");
    assert_eq!(
        p.psql("SELECT count(*) FROM shale_migrations WHERE resume_cursor IS NOT NULL AND status = 'succeeded'"),
        "0"
    );
}

#[test]
fn composite_keys_and_the_statement_s_own_where() {
    let p = Project::new("backfill_composite");
    p.write(
        "001_pairs.sql",
        "CREATE TABLE pairs (a integer, b text, n integer NOT NULL DEFAULT 0, PRIMARY KEY (a, b));\n\
         INSERT INTO pairs (a, b) SELECT g % 7, 'k' || g FROM generate_series(1, 5000) g;",
    );
    p.write(
        "002_bump.sql",
        "UPDATE pairs SET n = -1 WHERE a = 0;\n\
         -- shale:backfill batch=300\n\
         UPDATE pairs AS p SET n = p.n + 1 WHERE p.a <> 0;\n",
    );
    let run = p.shale(&["up"]).ok();
    assert!(run.stdout.contains("002"), "{}", run.stdout);
    assert_eq!(p.psql("SELECT n, count(*) FROM pairs GROUP BY n ORDER BY n"), "-1|714\n1|4286");
}

#[test]
fn a_table_without_a_key_is_walked_by_pages_and_needs_a_where() {
    let p = Project::new("backfill_pages");
    p.write("001_logs.sql", "CREATE TABLE logs (msg text, flag boolean);\nINSERT INTO logs (msg) SELECT repeat('x', 50) FROM generate_series(1, 30000);\nANALYZE logs;");
    p.shale(&["up"]).ok();
    p.write("002_all.sql", "-- shale:backfill batch=1000\nUPDATE logs SET flag = true;\n");
    let refused = p.shale(&["up"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("has no primary key") && refused.stderr.contains("add a WHERE"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("002_all.sql:2:1"), "{}", refused.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM logs WHERE flag"), "0");

    p.write("002_all.sql", "-- shale:backfill batch=1000\nUPDATE logs SET flag = true WHERE flag IS NULL;\n");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM logs WHERE flag IS NULL"), "0");
}

#[test]
fn a_backfill_line_before_anything_but_an_update_names_its_line() {
    let p = Project::new("backfill_misplaced");
    p.write("001_t.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n-- shale:backfill batch=10\nDELETE FROM t;\n");
    let run = p.shale(&["up"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("001_t.sql:2:"), "{}", run.stderr);
    assert!(run.stderr.contains("before an UPDATE"), "{}", run.stderr);
    assert!(p.tables().is_empty());
}

/// A batch that meets a row the application keeps locked past lock_timeout is tried again, as a
/// statement is (production trial: the migration failed, its hint speaking of the table).
#[test]
fn a_batch_behind_a_locked_row_is_tried_again() {
    let p = Project::new("backfill_row_lock");
    p.write("001_items.sql", "CREATE TABLE items (id bigint PRIMARY KEY, n integer NOT NULL DEFAULT 0);");
    p.shale(&["up"]).ok();
    p.psql("INSERT INTO items (id) SELECT g FROM generate_series(1, 5000) g; ANALYZE items");
    std::fs::write(p.path().join("shale.toml"), "lock_timeout = \"100ms\"\n").unwrap();
    p.write("002_bump.sql", "-- shale:backfill batch=1000\nUPDATE items SET n = n + 1;\n");
    let db = p.db.name.clone();
    let holder = std::thread::spawn(move || {
        shale_testkit::shared_cluster()
            .psql(&db, "BEGIN; UPDATE items SET n = n WHERE id = 3000; SELECT pg_sleep(2); COMMIT")
            .unwrap()
    });
    p.wait_running("pg_sleep(2)");
    let run = p.shale(&["up"]);
    holder.join().unwrap();
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM items WHERE n = 1"), "5000", "each row once");
    // The wait is told, naming who holds the rows (the live-traffic trial: 29 s unsaid).
    assert!(run.stderr.contains("waits for rows another transaction holds"), "{}", run.stderr);
    assert!(run.stderr.contains("holds RowExclusiveLock on items: SELECT pg_sleep(2)"), "{}", run.stderr);
}

#[test]
fn a_failing_batch_keeps_the_committed_ones_and_the_rerun_resumes_at_it() {
    let p = Project::new("backfill_fail");
    p.write("001_items.sql", "CREATE TABLE items (id bigint PRIMARY KEY, n integer NOT NULL DEFAULT 0 CHECK (n < 2));");
    p.shale(&["up"]).ok();
    // Rows past 5,000 already hold 1: the batch reaching them breaks the CHECK.
    p.psql("INSERT INTO items (id, n) SELECT g, CASE WHEN g > 5000 THEN 1 ELSE 0 END FROM generate_series(1, 8000) g; ANALYZE items");
    p.write("002_bump.sql", "-- shale:backfill batch=1000\nUPDATE items SET n = n + 1;\n");
    let failed = p.shale(&["up"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(failed.stderr.contains("002_bump.sql"), "{}", failed.stderr);
    assert!(failed.stderr.contains("resumes at the next one"), "{}", failed.stderr);
    assert_eq!(
        p.psql("SELECT count(*) FROM items WHERE id <= 5000 AND n = 1"),
        "5000",
        "the batches before it committed"
    );
    // Fixed by hand; the rerun starts at the failed batch (a batch run twice would break the CHECK).
    p.psql("UPDATE items SET n = 0 WHERE id > 5000");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM items WHERE n = 1"), "8000");
}
