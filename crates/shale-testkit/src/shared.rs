//! The one temporary server shared by every test in a test binary, and fresh databases on it.

use std::sync::OnceLock;

use crate::{Cluster, ClusterOptions, TestDb};

static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// One temporary server shared by every test in this test binary, started on first use.
///
/// It is never dropped (statics are not), so a watchdog process, detached into its own process
/// group, stops it (immediate shutdown) and deletes its directory within ~0.2 s of this process
/// exiting, however it exits. Panics if the server cannot be started (every later call panics
/// with the same message without retrying).
pub fn shared_cluster() -> &'static Cluster {
    match try_shared_cluster() {
        Ok(cluster) => cluster,
        Err(e) => panic!("shale-testkit: could not start the shared PostgreSQL test server:\n{e}"),
    }
}

/// [`shared_cluster`] without the panic.
pub fn try_shared_cluster() -> Result<&'static Cluster, &'static str> {
    SHARED
        .get_or_init(|| Cluster::start_temporary(ClusterOptions::default()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(String::as_str)
}

/// A fresh, empty database on [`shared_cluster`], named `<prefix>_<pid>_<counter>` (prefix
/// lowercased, characters other than `[a-z0-9_]` replaced by `_`, shortened so the name fits in
/// 63 bytes). Returns its name and unix-socket URL; the [`TestDb`] derefs to the URL.
/// Panics on failure.
pub fn fresh_database(prefix: &str) -> TestDb {
    match shared_cluster().fresh_database(prefix) {
        Ok(db) => db,
        Err(e) => panic!("shale-testkit: could not create a test database: {e}"),
    }
}
