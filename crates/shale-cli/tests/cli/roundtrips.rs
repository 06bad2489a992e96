//! Round trips are the cost that matters: counted from the server's own statement log.
//! Every simple query is one round trip and one `statement:` log entry.

use std::process::Command;

use shale_testkit::{Cluster, ClusterOptions};

struct Logged {
    cluster: Cluster,
    dir: tempfile::TempDir,
}

impl Logged {
    fn new() -> Logged {
        let options = ClusterOptions {
            extra_conf: vec![("log_statement".into(), "all".into()), ("log_line_prefix".into(), "<%a>".into())],
            ..Default::default()
        };
        let cluster = Cluster::start_temporary(options).unwrap();
        cluster.create_database("app").unwrap();
        Logged { cluster, dir: tempfile::tempdir().unwrap() }
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::create_dir_all(self.dir.path().join("migrations")).unwrap();
        std::fs::write(self.dir.path().join("migrations").join(name), text).unwrap();
    }

    /// Run shale and return how many statements its sessions sent.
    fn count(&self, args: &[&str]) -> usize {
        let before = self.log().len();
        let out = Command::new(env!("CARGO_BIN_EXE_shale"))
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .arg("--database-url")
            .arg(self.cluster.url("app"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // The log is written by the server asynchronously: wait for a marker after our run.
        let marker = format!("marker-{}", before);
        self.cluster.psql("app", &format!("SELECT '{marker}'")).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let log = self.log();
            if log[before.min(log.len())..].contains(&marker) {
                return log[before..].lines().filter(|l| is_shale(l)).count();
            }
            assert!(std::time::Instant::now() < deadline, "marker never reached the log");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.cluster.log_file()).unwrap_or_default()
    }
}

/// A statement sent by shale itself (its main session or its lock session).
fn is_shale(line: &str) -> bool {
    (line.starts_with("<shale>") || line.starts_with("<shale (migration lock)>")) && line.contains("statement: ")
}

#[test]
fn round_trips_do_not_grow_with_the_number_of_objects() {
    let db = Logged::new();
    for i in 1..=40 {
        db.write(
            &format!("{i:03}_t.sql"),
            &format!(
                "-- migrate:up\nCREATE TABLE t{i} (id bigserial PRIMARY KEY, doc jsonb, ref bigint);\nCREATE INDEX t{i}_doc ON t{i} USING gin (doc);\n-- migrate:down\nDROP TABLE t{i};\n"
            ),
        );
    }
    // Applying 40 migrations: one round trip each, plus a constant: the history (read, checked and
    // created, once shale's own history was looked for in other schemas), another tool's history
    // and the tables the migrations create (looked for while shale has no history here), the lock
    // (take, check for a transaction pooler, release), the server version for the linter, the
    // final version.
    let up = db.count(&["up", "-q"]);
    if up > 40 + 10 {
        let log = db.log();
        let lines: Vec<_> =
            log.lines().filter(|l| is_shale(l)).map(|l| l.chars().take(90).collect::<String>()).collect();
        panic!("up sent {up} statements for 40 migrations:\n{}", lines.join("\n"));
    }
    // Nothing to do: one query after connecting, no lock.
    assert_eq!(db.count(&["up", "-q"]), 1);
    // status: the history, then (on a database shale built) a look for another tool's history
    // that appeared since, the old tool still migrating.
    assert_eq!(db.count(&["status"]), 2);
    // Inspecting is one catalog query, whatever the number of tables.
    assert_eq!(db.count(&["inspect"]), 1);
    assert_eq!(db.count(&["inspect", "t7"]), 1);
    // Reverting reads the down SQL once, then one round trip per migration.
    let down = db.count(&["down", "--step", "40", "-q"]);
    assert!(down <= 40 + 6, "down sent {down} statements");
}
