//! Execution semantics against a real PostgreSQL: no-transaction migrations and resuming, lock
//! timeouts, concurrent runners, COPY data, SQL-standard function bodies.

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{shown, Project, Run};

/// A failed attempt's row says how long it ran, though it is written after the rollback (the
/// package trial: a second's attempt recorded as lasting 1 ms).
#[test]
fn a_failed_attempt_is_recorded_with_its_own_duration() {
    let p = Project::new("exec_failed_duration");
    p.write("001_bad.sql", "SELECT pg_sleep(0.4);\nSELECT * FROM nowhere;\n");
    assert_eq!(p.shale(&["up"]).code, 1);
    let row = p.psql(
        "SELECT status, duration_ms >= 350, finished_at - started_at >= interval '350 milliseconds' FROM shale_migrations",
    );
    assert_eq!(row, "failed|t|t");
}

#[test]
fn no_transaction_migration_resumes_at_the_failed_statement() {
    let p = Project::new("exec_resume");
    p.write(
        "001_t.sql",
        "CREATE TABLE t (id int, v int);\nINSERT INTO t SELECT g, g FROM generate_series(1, 100) g;\n",
    );
    p.write(
        "002_idx.sql",
        "CREATE INDEX CONCURRENTLY t_v ON t (v);\nCREATE UNIQUE INDEX CONCURRENTLY t_v_unique ON t ((v % 10));\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n",
    );
    snapshot!("failed_part_way", shown(&p, &p.shale(&["up"])));
    // The first statement stays applied; the failed build left an INVALID index behind.
    assert_eq!(p.psql("SELECT indexrelid::regclass::text || ':' || indisvalid FROM pg_index WHERE indrelid = 't'::regclass ORDER BY 1"), "t_v:true\nt_v_unique:false");
    assert_eq!(p.psql("SELECT status || ':' || statements_done FROM shale_migrations WHERE version = '2'"), "failed:1");
    assert_eq!(p.shale(&["status", "--json"]).ok().json()["migrations"][1]["state"], "failed");

    // Editing an already-applied statement is refused: shale will not guess.
    let fixed_second = "CREATE UNIQUE INDEX CONCURRENTLY t_v_unique ON t (id);";
    p.write(
        "002_idx.sql",
        &format!(
            "CREATE INDEX CONCURRENTLY t_v ON t (v, id);\n{fixed_second}\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n"
        ),
    );
    snapshot!("applied_statement_edited", shown(&p, &p.shale(&["up"])));

    // Fixing only the failed statement resumes there: statement 1 is not run again (it would fail:
    // t_v exists), and the INVALID index is dropped before the retry.
    p.write(
        "002_idx.sql",
        &format!(
            "CREATE INDEX CONCURRENTLY t_v ON t (v);\n{fixed_second}\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n"
        ),
    );
    snapshot!("resumed", shown(&p, &p.shale(&["up", "-v"]).ok()));
    assert_eq!(
        p.psql("SELECT indexrelid::regclass::text || ':' || indisvalid FROM pg_index WHERE indrelid = 't'::regclass ORDER BY 1"),
        "t_id:true\nt_v:true\nt_v_unique:true"
    );
    assert_eq!(p.history(), ["1|versioned|succeeded", "2|versioned|failed", "2|versioned|succeeded"]);
    assert_eq!(p.psql("SELECT statements_done FROM shale_migrations ORDER BY id DESC LIMIT 1"), "3");
}

#[test]
fn vacuum_and_the_no_transaction_directive_run_statement_by_statement() {
    let p = Project::new("exec_vacuum");
    p.write("001_t.sql", "CREATE TABLE t (id int);");
    p.write("002_v.sql", "VACUUM t;");
    p.write(
        "003_sys.sql",
        "-- shale:no-transaction\nALTER TABLE t ADD COLUMN x int;\nALTER TABLE t ADD COLUMN y int;\n",
    );
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 't'"), "3");
    let rows = p.psql(
        "SELECT version || ':' || statements_done FROM shale_migrations WHERE statements_done IS NOT NULL ORDER BY id",
    );
    assert_eq!(rows, "2:1\n3:2");
}

/// Holds an ACCESS EXCLUSIVE lock on `table` for `seconds` from another session.
fn hold_lock(p: &Project, table: &str, seconds: f64) -> std::process::Child {
    let cluster = shale_testkit::shared_cluster();
    let child = Command::new(cluster.binaries().psql())
        .arg(cluster.conninfo(&p.db.name))
        .args(["-X", "-q", "-c", &format!("BEGIN; LOCK TABLE {table}; SELECT pg_sleep({seconds}); COMMIT;")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the lock is really held.
    let deadline = Instant::now() + Duration::from_secs(10);
    while p.psql(&format!("SELECT count(*) FROM pg_locks WHERE relation = '{table}'::regclass AND mode = 'AccessExclusiveLock' AND granted")) != "1" {
        assert!(Instant::now() < deadline, "the lock holder never got its lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn queued_lock_timeouts_are_retried_with_backoff_then_reported() {
    let p = Project::new("exec_locktimeout");
    p.write("001_t.sql", "CREATE TABLE t (id int);");
    p.shale(&["up"]).ok();
    p.write("002_alter.sql", "ALTER TABLE t ADD COLUMN x int;");
    let mut holder = hold_lock(&p, "t", 1.2);
    let run = p.shale(&["up", "--lock-acquire", "queue", "--session-lock-timeout", "150ms"]).ok();
    holder.wait().unwrap();
    assert!(run.stderr.contains("lock_timeout hit; retrying"), "{}", run.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 't'"), "2");

    // With retries exhausted, the failure says what to do; nothing of the migration stays.
    std::fs::write(
        p.path().join("shale.toml"),
        "lock_acquire = \"queue\"\nlock_retries = 1\nlock_timeout = \"100ms\"\n",
    )
    .unwrap();
    p.write("003_alter.sql", "ALTER TABLE t ADD COLUMN y int;");
    let mut holder = hold_lock(&p, "t", 2.0);
    let run = p.shale(&["up"]);
    holder.wait().unwrap();
    snapshot!("lock_timeout_retries_exhausted", shown(&p, &run));
    assert_eq!(p.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 't'"), "2");

    // A file may raise its own lock_timeout: it then waits the holder out.
    p.write("003_alter.sql", "-- shale:lock-timeout=5s\nALTER TABLE t ADD COLUMN y int;");
    let mut holder = hold_lock(&p, "t", 0.8);
    let run = p.shale(&["up"]);
    holder.wait().unwrap();
    // The file changed after a failed (rolled back) attempt: that is allowed, it never applied.
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("retrying"), "{}", run.stderr);
}

#[test]
fn sixteen_runners_at_once_apply_each_migration_exactly_once() {
    let p = Project::new("exec_concurrent");
    for i in 1..=12 {
        p.write(
            &format!("{i:03}_m.sql"),
            &format!("CREATE TABLE t{i} (id bigserial PRIMARY KEY, doc jsonb);\nCREATE INDEX t{i}_doc ON t{i} USING gin (doc);\nSELECT pg_sleep(0.02);\n"),
        );
    }
    let children: Vec<_> = (0..16)
        .map(|_| {
            let mut cmd = p.bare();
            cmd.arg("--database-url").arg(&p.db.url).args(["up", "-v"]);
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    let runs: Vec<Run> = children.into_iter().map(|c| c.wait_with_output().unwrap().into()).collect();
    for run in &runs {
        assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    }
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations"), "12");
    assert_eq!(p.psql("SELECT count(DISTINCT version) FROM shale_migrations WHERE status = 'succeeded'"), "12");
    assert!(
        runs.iter().any(|r| r.stderr.contains("waiting for the migration lock, held by pid")),
        "no runner reported the lock holder"
    );
}

#[test]
fn copy_from_stdin_and_sql_standard_function_bodies() {
    let p = Project::new("exec_copy");
    p.write(
        "001_data.sql",
        "CREATE TABLE courses (id int PRIMARY KEY, title text, note text);\nCOPY courses (id, title, note) FROM stdin;\n1\tStrength; basics\t'quoted'\n2\tYoga\t\\N\n\\.\nCREATE FUNCTION course_count() RETURNS bigint LANGUAGE sql\nBEGIN ATOMIC\n  SELECT count(*) FROM courses;\nEND;\nINSERT INTO courses VALUES (3, 'HIIT', NULL);\n",
    );
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT course_count()"), "3");
    assert_eq!(
        p.psql("SELECT title || '|' || coalesce(note, 'null') FROM courses ORDER BY id"),
        "Strength; basics|'quoted'\nYoga|null\nHIIT|null"
    );
    // A failing COPY is reported at its statement and rolled back with everything else.
    let q = Project::new("exec_copy_fail");
    q.write("001_data.sql", "CREATE TABLE c (id int);\nCOPY c FROM stdin;\n1\nnot a number\n\\.\n");
    snapshot!("copy_fails", shown(&q, &q.shale(&["up"])));
    assert!(q.tables().iter().all(|t| t == "shale_migrations"));
}

#[test]
fn begin_commit_wrapper_from_psql_files_is_accepted() {
    let p = Project::new("exec_wrapper");
    p.write("001_a.sql", "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n");
    p.shale(&["up"]).ok();
    assert_eq!(p.tables(), ["a", "shale_migrations"]);
}

/// A file with transaction blocks of its own (`BEGIN; ... COMMIT;` more than once, as golang-migrate
/// projects write them) runs as psql runs it: each block commits whole or not at all. A failure in
/// a block rolls the block back, and the next run resumes at its BEGIN.
#[test]
fn a_file_s_own_transaction_blocks_commit_whole() {
    let p = Project::new("exec_blocks");
    p.write("001_t.sql", "CREATE TABLE t (id int);");
    let file = |middle: &str| {
        format!(
            "BEGIN;\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;\nALTER TABLE t ADD COLUMN d int;\n\
             BEGIN;\nALTER TABLE t ADD COLUMN e int;\n{middle}ALTER TABLE t ADD COLUMN f int;\nCOMMIT;\n"
        )
    };
    p.write("002_blocks.sql", &file("SELECT 1 / 0;\n"));
    let columns = || {
        p.psql("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0")
    };
    let failed = p.shale(&["up"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(failed.stderr.contains("statements 1 to 4 of this file are applied"), "{}", failed.stderr);
    assert_eq!(columns(), "id,c,d", "the failed block went whole");
    assert_eq!(p.psql("SELECT statements_done FROM shale_migrations WHERE version = '2'"), "4");

    p.write("002_blocks.sql", &file(""));
    let resumed = p.shale(&["up"]);
    // The statements before the block are unchanged, so the run resumes at the block's BEGIN.
    assert_eq!(resumed.code, 0, "{}{}", resumed.stdout, resumed.stderr);
    assert_eq!(columns(), "id,c,d,e,f");

    // One file between a BEGIN and a COMMIT with more blocks inside is not one wrapper: its first
    // block stays when its second fails.
    let q = Project::new("exec_blocks_inner");
    q.write("001_t.sql", "CREATE TABLE t (id int);");
    q.write(
        "002_x.sql",
        "BEGIN;\nALTER TABLE t ADD a int;\nCOMMIT;\nBEGIN;\nALTER TABLE t ADD b int;\nSELECT 1 / 0;\nCOMMIT;\n",
    );
    assert_eq!(q.shale(&["up"]).code, 1);
    assert_eq!(q.psql("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0"), "id,a");
}

/// The record of a block's end commits with the block; a block the file leaves open is committed
/// at its end with the record; a backfill inside a block is refused, as its batches would commit it.
#[test]
fn a_block_and_its_record_commit_together() {
    let p = Project::new("exec_blocks_record");
    p.write("001_t.sql", "CREATE TABLE t (id int);");
    p.write(
        "002_blocks.sql",
        "INSERT INTO t VALUES (1);\nBEGIN;\nINSERT INTO t VALUES (2);\nCOMMIT;\nBEGIN;\nINSERT INTO t VALUES (3);\n",
    );
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM t"), "1,2,3");
    assert_eq!(
        p.psql("SELECT statements_done || ' ' || status FROM shale_migrations WHERE version = '2'"),
        "6 succeeded"
    );
    // Nothing runs twice.
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM t"), "3");

    p.write(
        "003_fill.sql",
        "SELECT 1;\nBEGIN;\nALTER TABLE t ADD COLUMN v int;\n-- shale:backfill batch=10\nUPDATE t SET v = id WHERE v IS NULL;\nCOMMIT;\n",
    );
    let refused = p.shale(&["up"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("003_fill.sql:4:4: `-- shale:backfill` inside the file's own transaction block"),
        "{}",
        refused.stderr
    );
}

/// A baseline whose read of another tool's history fails (held locked past the session's
/// lock_timeout) records nothing and removes the file it wrote, so the command can run again
/// (review: the file stayed, unrecorded, and the command then refused the directory).
#[test]
fn a_baseline_that_cannot_read_another_tool_s_history_leaves_no_file() {
    let p = Project::new("exec_baseline_locked");
    p.psql(
        "CREATE TABLE users (id int);
         CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('a1')",
    );
    std::fs::create_dir_all(p.migrations()).unwrap();
    let mut holder = hold_lock(&p, "alembic_version", 3.0);
    let run = p.shale(&["baseline", "--from-database", "--session-lock-timeout", "200ms"]);
    holder.wait().unwrap();
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("nothing was recorded") && run.stderr.contains("run the command again"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_dir(p.migrations()).unwrap().count(), 0, "the file is gone");
    p.shale(&["baseline", "--from-database"]).ok();
}

/// A seed's INSERT of megabytes (the size real projects' city and postal-code seeds have): it runs
/// whole, its history row keeps its text, and an error in a row far down is placed at its line
/// with nothing of it applied. (bench/startup.sh measures its memory.)
#[test]
fn a_seed_of_megabytes_applies_whole_or_not_at_all() {
    let p = Project::new("exec_seed");
    p.write("001_items.sql", "CREATE TABLE items (id int PRIMARY KEY, name text);\n");
    let rows = |n: usize, bad: Option<usize>| -> String {
        let rows: Vec<String> = (0..n)
            .map(|i| match bad == Some(i) {
                true => format!("({i}, 'x' 'y')"),
                false => format!("({i}, 'item number {i}, a name long enough to weigh')"),
            })
            .collect();
        format!("INSERT INTO items (id, name) VALUES\n{}\nON CONFLICT (id) DO NOTHING;\n", rows.join(",\n"))
    };
    let seed = rows(40_000, None);
    assert!(seed.len() > 2_000_000, "{}", seed.len());
    p.write("002_seed.sql", &seed);
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM items"), "40000");
    assert_eq!(p.psql("SELECT length(up_sql) FROM shale_migrations WHERE version = '2'"), seed.len().to_string());
    // A row the linter does not read (it judges a long INSERT by its first row) fails on the
    // server, which names it; nothing of the file is applied.
    p.write("003_more.sql", &rows(40_000, Some(30_000)));
    let failed = p.shale(&["up"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(failed.stderr.contains("003_more.sql:30002:13"), "{}", failed.stderr);
    assert!(failed.stderr.contains("syntax error at or near \"'y'\""), "{}", failed.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM items"), "40000");
    assert_eq!(p.history(), ["1|versioned|succeeded", "2|versioned|succeeded", "3|versioned|failed"]);
    // A row changed far down the applied seed is a change, not one of comments (review: the
    // comparison read the first row only).
    p.remove("003_more.sql");
    p.write("002_seed.sql", &seed.replace("(39000, 'item number 39000,", "(39000, 'another name,"));
    let changed = p.shale(&["validate"]);
    assert_ne!(changed.code, 0, "{}", changed.stderr);
    assert!(changed.stderr.contains("002_seed.sql") && !changed.stderr.contains("comments"), "{}", changed.stderr);
}
