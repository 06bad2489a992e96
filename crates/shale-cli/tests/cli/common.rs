//! A throwaway project (temp dir + fresh database on the shared real server) driven through the
//! real `shale` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use shale_testkit::{fresh_database, shared_cluster, TestDb};

pub struct Project {
    pub dir: tempfile::TempDir,
    pub db: TestDb,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The `shale` process, when it is known (see [`Run::of`]): what it made on a shared server
    /// carries it (scratch databases and schemas are named `shale_scratch_<pid>_...`).
    pub pid: Option<u32>,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            pid: None,
        }
    }
}

impl Run {
    /// Run `cmd` to the end, output captured, keeping its process id.
    pub fn of(mut cmd: Command) -> Run {
        let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let pid = child.id();
        Run { pid: Some(pid), ..finish(child) }
    }
}

impl Project {
    pub fn new(prefix: &str) -> Project {
        Project { dir: tempfile::tempdir().unwrap(), db: fresh_database(prefix) }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn migrations(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    /// Write a file under migrations/.
    pub fn write(&self, relative: &str, text: &str) {
        let path = self.migrations().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn remove(&self, relative: &str) {
        std::fs::remove_file(self.migrations().join(relative)).unwrap();
    }

    /// A `shale` command in the project directory, with no database configured.
    pub fn bare(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shale"));
        cmd.current_dir(self.path());
        for var in [
            "DATABASE_URL",
            "SHALE_DATABASE_URL",
            "PGHOST",
            "PGPORT",
            "PGUSER",
            "PGPASSWORD",
            "PGDATABASE",
            "PGSSLMODE",
            "NO_COLOR",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// `shale --database-url URL ARGS...` in the project directory.
    pub fn shale(&self, args: &[&str]) -> Run {
        let mut cmd = self.bare();
        cmd.arg("--database-url").arg(&self.db.url).args(args);
        Run::of(cmd)
    }

    /// `shale --database-url URL ARGS...` started in the background, output captured.
    pub fn spawn_via(&self, url: &str, args: &[&str]) -> Child {
        let mut cmd = self.bare();
        cmd.arg("--database-url").arg(url).args(args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    /// `shale ARGS...` on the project's database, started in the background.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.spawn_via(&self.db.url, args)
    }

    /// Polls `sql` until it returns `expected` (20 s at most).
    #[track_caller]
    pub fn wait_for(&self, sql: &str, expected: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.psql(sql) != expected {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Until a session of this database runs a statement containing `text`.
    #[track_caller]
    pub fn wait_running(&self, text: &str) {
        self.wait_for(&running_sql(text), "1", &format!("a migration runs `{text}`"));
    }

    /// Gives `table` (with a bigint `id` column and nullable others) `rows` rows and fresh
    /// statistics: a table with data, as production has, which the safety check judges by it.
    pub fn fill(&self, table: &str, rows: u32) {
        self.psql(&format!("INSERT INTO {table} (id) SELECT g FROM generate_series(1, {rows}) g; ANALYZE {table}"));
    }

    pub fn psql(&self, sql: &str) -> String {
        shared_cluster().psql(&self.db.name, sql).unwrap()
    }

    /// Names of the user tables in public, sorted.
    pub fn tables(&self) -> Vec<String> {
        let out = self.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
        out.lines().map(str::to_string).filter(|l| !l.is_empty()).collect()
    }

    /// The state of each migration as `status --json` gives it, in its order.
    pub fn states(&self) -> Vec<String> {
        let status = self.shale(&["status", "--json"]).ok().json();
        status["migrations"].as_array().unwrap().iter().map(|m| m["state"].as_str().unwrap().to_string()).collect()
    }

    /// Writes into this project's migrations directory the files `relative` of `other`'s.
    pub fn copy_from(&self, other: &Project, relative: &[&str]) {
        for file in relative {
            self.write(file, &std::fs::read_to_string(other.migrations().join(file)).unwrap());
        }
    }

    /// Rows of the history: version|kind|status, oldest first.
    pub fn history(&self) -> Vec<String> {
        let out = self.psql("SELECT version || '|' || kind || '|' || status FROM shale_migrations ORDER BY id");
        out.lines().map(str::to_string).collect()
    }
}

/// How many other sessions of the current database are running a statement containing `text`.
pub fn running_sql(text: &str) -> String {
    format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'
           AND query LIKE '%{text}%' AND pid <> pg_backend_pid()"
    )
}

/// A background run's exit code and output.
pub fn finish(child: Child) -> Run {
    let pid = child.id();
    Run { pid: Some(pid), ..child.wait_with_output().unwrap().into() }
}

/// How many scratch databases the `shale` processes of `runs` left on the shared server (every
/// test's runs share it, so only their own count).
pub fn scratch_databases_left(runs: &[&Run]) -> String {
    let pids: Vec<String> = runs.iter().map(|r| r.pid.expect("a run with a known process id").to_string()).collect();
    shared_cluster()
        .psql(
            "postgres",
            &format!("SELECT count(*) FROM pg_database WHERE datname ~ '^shale_scratch_({})_'", pids.join("|")),
        )
        .unwrap()
}

/// stdout and stderr of a run with its exit code, as a user sees them, for a snapshot: the
/// project's directory and database name redacted (the [`snapshot!`] filters do the rest).
pub fn shown(p: &Project, run: &Run) -> String {
    redacted(p, &format!("exit {}\n--- stdout\n{}--- stderr\n{}", run.code, run.stdout, run.stderr))
}

/// `text` (output, or a file shale wrote) with the project's directory and database name redacted.
pub fn redacted(p: &Project, text: &str) -> String {
    text.replace(&p.path().display().to_string(), "[PROJECT]").replace(&p.db.name, "[DB]")
}

/// What changes from run to run in shale's output, for snapshots: timings, ports, temporary
/// paths, timestamps.
pub const REDACTIONS: &[(&str, &str)] = &[
    (r"\d+ ms", "[N] ms"),
    (r"\b\d+\.\d+ s\b", "[N] s"),
    // Table cells padded to a redacted timing's width.
    (r" +\n", "\n"),
    (r"port \d+", "port [PORT]"),
    (r":\d{4,5}/", ":[PORT]/"),
    // A server's socket directory, wherever the temporary directory is.
    (r"host=/[^\s&'`)]+", "host=[SOCKET]"),
    (r"/tmp/[^\s:'`]+", "[TMP]"),
    (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]"),
];

/// `insta::assert_snapshot!` with [`REDACTIONS`] applied.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ filters => $crate::common::REDACTIONS.iter().copied() }, {
            insta::assert_snapshot!($name, $value);
        });
    };
}
