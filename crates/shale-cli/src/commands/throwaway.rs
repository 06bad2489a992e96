//! Throwaway databases for `drift` and `check`: a scratch database on the server given with
//! `--dev-url` (shale creates and drops it), else a temporary local server. Removed when dropped,
//! also when the command fails.

use anyhow::{Context, Result};
use shale::ConnectionSettings;
use shale_pg::sql::quote_ident;
use shale_testkit::{Cluster, ClusterOptions};

use super::block_on;

pub enum Throwaway {
    /// A temporary server from the local binaries (its directory goes with it).
    Local(Cluster),
    /// A scratch database on the user's development server.
    Remote { admin: ConnectionSettings, name: String, url: ConnectionSettings },
}

impl Throwaway {
    pub fn create(dev_url: Option<&str>) -> Result<Throwaway> {
        let Some(dev_url) = dev_url else {
            let cluster = Cluster::start_temporary(ClusterOptions::default()).context(
                "starting a throwaway PostgreSQL (or give --dev-url, a server where shale may create databases)",
            )?;
            cluster.create_database("shale_scratch")?;
            return Ok(Throwaway::Local(cluster));
        };
        let mut admin = ConnectionSettings::parse(dev_url).map_err(|e| anyhow::anyhow!("{e} (from --dev-url)"))?;
        admin.fill_from_env(&|k| std::env::var(k).ok())?;
        let name = format!("shale_scratch_{}_{}", std::process::id(), chrono::Utc::now().format("%H%M%S"));
        let sql = format!("CREATE DATABASE {}", quote_ident(&name));
        block_on(async {
            let client = shale_pg::connect(&admin, &Default::default()).await?;
            client
                .batch_execute(&sql)
                .await
                .map_err(|e| shale_pg::PgError::query("creating a scratch database on --dev-url", e))
        })
        .map_err(shale::Error::Pg)
        .context("--dev-url must name a server where this user may CREATE DATABASE")?;
        let mut url = admin.clone();
        url.dbname = Some(name.clone());
        Ok(Throwaway::Remote { admin, name, url })
    }

    pub fn connection(&self) -> Result<ConnectionSettings> {
        Ok(match self {
            Throwaway::Local(cluster) => ConnectionSettings::parse(&cluster.url("shale_scratch"))?,
            Throwaway::Remote { url, .. } => url.clone(),
        })
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        if let Throwaway::Remote { admin, name, .. } = self {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
            let _ = block_on(async {
                let client = shale_pg::connect(admin, &Default::default()).await.ok()?;
                client.batch_execute(&sql).await.ok()
            });
        }
    }
}
