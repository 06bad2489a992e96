//! What a cluster is started with.

use std::path::PathBuf;

use crate::TlsFiles;

/// Options for starting a cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// TCP port on 127.0.0.1 (the unix socket uses the same number). `None`: a free port.
    pub port: Option<u16>,
    /// Enable `ssl=on` with this certificate and key (copied into the data directory).
    pub tls: Option<TlsFiles>,
    /// With `tls`: the CA whose client certificates the server trusts (copied into the data
    /// directory as `root.crt`, `ssl_ca_file`), for `cert` authentication in `pg_hba.conf`.
    pub client_ca: Option<PathBuf>,
    /// Extra server settings, passed as `-c name=value` at every start.
    pub extra_conf: Vec<(String, String)>,
    /// Listen on the unix socket only, not on 127.0.0.1. The socket lives in a 0700 directory,
    /// so only the user the server runs as (and root) can reach it, while every local user can
    /// reach 127.0.0.1, where `trust` would make them the superuser (able to run programs as the
    /// server's OS user with `COPY ... TO PROGRAM`). `shale dev` uses this.
    pub socket_only: bool,
}
