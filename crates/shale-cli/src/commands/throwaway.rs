//! Throwaway databases for `diff`, `drift` and `check`: scratch databases on the server given with
//! `--dev-url` (shale creates and drops them), else a temporary local server. Removed when the
//! `Throwaway` is dropped, also when the command fails, and on Ctrl-C (see [`interrupt_cleanup`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use anyhow::{Context, Result};
use shale::ConnectionSettings;
use shale_pg::sql::quote_ident;
use shale_testkit::{Cluster, ClusterOptions};

use super::block_on;

pub enum Throwaway {
    /// A temporary server from the local binaries (its directory goes with it; its watchdog
    /// removes it if shale dies without cleaning up).
    Local { cluster: Cluster, databases: usize },
    /// Scratch databases on the user's development server.
    Remote { admin: ConnectionSettings, names: Vec<String> },
}

/// Scratch databases on `--dev-url` servers that exist right now, for the Ctrl-C handler.
static LIVE_SCRATCH: Mutex<Vec<(ConnectionSettings, String)>> = Mutex::new(Vec::new());

/// Set (under `CLEANING`) once Ctrl-C was pressed.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Held by the Ctrl-C handler while it drops the scratch databases, until it exits the process.
static CLEANING: Mutex<()> = Mutex::new(());

/// On Ctrl-C (SIGINT) or SIGTERM: drop the scratch databases still alive, then exit 130.
/// Installed once, by the commands that make throwaway databases.
pub fn interrupt_cleanup() {
    let _ = ctrlc::set_handler(|| {
        let _cleaning = CLEANING.lock();
        INTERRUPTED.store(true, Ordering::SeqCst);
        let live: Vec<(ConnectionSettings, String)> =
            LIVE_SCRATCH.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
        for (admin, name) in live {
            drop_database(&admin, &name);
        }
        eprintln!("interrupted: scratch databases removed");
        std::process::exit(130);
    });
}

fn drop_database(admin: &ConnectionSettings, name: &str) {
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    let _ = block_on(async {
        let client = shale_pg::connect(admin, &Default::default()).await.ok()?;
        client.batch_execute(&sql).await.ok()
    });
}

impl Throwaway {
    /// A throwaway server (or `--dev-url` server) with one scratch database.
    pub fn create(dev_url: Option<&str>) -> Result<Throwaway> {
        let mut throwaway = Throwaway::server(dev_url)?;
        throwaway.database()?;
        Ok(throwaway)
    }

    /// The server only: scratch databases are made with [`Throwaway::database`].
    pub fn server(dev_url: Option<&str>) -> Result<Throwaway> {
        interrupt_cleanup();
        let Some(dev_url) = dev_url else {
            let cluster = Cluster::start_temporary(ClusterOptions::default()).context(
                "starting a throwaway PostgreSQL (or give --dev-url, a server where shale may create databases)",
            )?;
            return Ok(Throwaway::Local { cluster, databases: 0 });
        };
        let mut admin = ConnectionSettings::parse(dev_url).map_err(|e| anyhow::anyhow!("{e} (from --dev-url)"))?;
        admin.fill_from_env(&|k| std::env::var(k).ok())?;
        Ok(Throwaway::Remote { admin, names: Vec::new() })
    }

    /// A new empty scratch database on the throwaway server.
    pub fn database(&mut self) -> Result<ConnectionSettings> {
        match self {
            Throwaway::Local { cluster, databases } => {
                *databases += 1;
                let name = format!("shale_scratch_{databases}");
                cluster.create_database(&name)?;
                Ok(ConnectionSettings::parse(&cluster.url(&name))?)
            }
            Throwaway::Remote { admin, names } => {
                let name = format!(
                    "shale_scratch_{}_{}_{}",
                    std::process::id(),
                    chrono::Utc::now().format("%H%M%S"),
                    names.len() + 1
                );
                let sql = format!("CREATE DATABASE {}", quote_ident(&name));
                block_on(async {
                    let client = shale_pg::connect(admin, &Default::default()).await?;
                    client
                        .batch_execute(&sql)
                        .await
                        .map_err(|e| shale_pg::PgError::query("creating a scratch database on --dev-url", e))
                })
                .map_err(shale::Error::Pg)
                .context("--dev-url must name a server where this user may CREATE DATABASE")?;
                names.push(name.clone());
                if let Ok(mut live) = LIVE_SCRATCH.lock() {
                    live.push((admin.clone(), name.clone()));
                }
                let mut url = admin.clone();
                url.dbname = Some(name);
                Ok(url)
            }
        }
    }

    /// The first scratch database.
    pub fn connection(&self) -> Result<ConnectionSettings> {
        Ok(match self {
            Throwaway::Local { cluster, .. } => ConnectionSettings::parse(&cluster.url("shale_scratch_1"))?,
            Throwaway::Remote { admin, names } => {
                let mut url = admin.clone();
                url.dbname = names.first().cloned();
                url
            }
        })
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        if INTERRUPTED.load(Ordering::SeqCst) {
            // The command failed because the handler is dropping its database: let the handler
            // finish and exit with 130 rather than report that failure.
            let _wait = CLEANING.lock();
        }
        if let Throwaway::Remote { admin, names } = self {
            for name in names.iter() {
                drop_database(admin, name);
            }
            if let Ok(mut live) = LIVE_SCRATCH.lock() {
                live.retain(|(_, n)| !names.contains(n));
            }
        }
    }
}
