//! TLS for a cluster: the server's certificate and key, and the CA it trusts for client certificates.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::io_err;
use crate::process::{chown, set_mode};
use crate::{Cluster, Error};

/// PEM certificate and private key for the server.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Cluster {
    /// Copy the certificate and key into the data directory as `server.crt`/`server.key`
    /// (key 0600), and the client CA as `root.crt`, owned by the server user.
    pub(crate) fn install_tls(&self, tls: &TlsFiles, client_ca: Option<&Path>) -> Result<(), Error> {
        let mut files = vec![(tls.cert.as_path(), "server.crt", 0o644), (tls.key.as_path(), "server.key", 0o600)];
        files.extend(client_ca.map(|ca| (ca, "root.crt", 0o644)));
        for (src, name, mode) in files {
            let dst = self.data_dir.join(name);
            let bytes = fs::read(src).map_err(io_err("reading TLS file", src))?;
            let _ = fs::remove_file(&dst);
            fs::write(&dst, bytes).map_err(io_err("writing", &dst))?;
            set_mode(&dst, mode)?;
            chown(&dst, self.run_as.as_ref())?;
        }
        Ok(())
    }
}
