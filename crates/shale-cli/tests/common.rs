//! A throwaway project (temp dir + fresh database on the shared real server) driven through the
//! real `shale` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use shale_testkit::{fresh_database, shared_cluster, TestDb};

pub struct Project {
    pub dir: tempfile::TempDir,
    pub db: TestDb,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
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
        }
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
        for var in ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE", "NO_COLOR"] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// `shale --database-url URL ARGS...` in the project directory.
    pub fn shale(&self, args: &[&str]) -> Run {
        let mut cmd = self.bare();
        cmd.arg("--database-url").arg(&self.db.url).args(args);
        cmd.output().unwrap().into()
    }

    pub fn psql(&self, sql: &str) -> String {
        shared_cluster().psql(&self.db.name, sql).unwrap()
    }

    /// Names of the user tables in public, sorted.
    pub fn tables(&self) -> Vec<String> {
        let out = self.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
        out.lines().map(str::to_string).filter(|l| !l.is_empty()).collect()
    }

    /// Rows of the history: version|kind|status, oldest first.
    pub fn history(&self) -> Vec<String> {
        let out = self.psql("SELECT version || '|' || kind || '|' || status FROM shale_migrations ORDER BY id");
        out.lines().map(str::to_string).collect()
    }
}
