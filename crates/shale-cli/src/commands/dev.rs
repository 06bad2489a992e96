//! `shale dev`: a project-local PostgreSQL under .shale/dev, from the server binaries on this machine.

use anyhow::{Context, Result};
use shale_testkit::{Cluster, ClusterOptions};

use crate::args::DevAction;
use crate::settings::Settings;

const DATABASE: &str = "postgres";

/// The development server listens on its unix socket only, in the project's `.shale/dev/`
/// (0700): its superuser needs no password there, so no other local user may reach it, as they
/// could on 127.0.0.1.
fn options() -> ClusterOptions {
    ClusterOptions { socket_only: true, ..ClusterOptions::default() }
}

/// Start the development server if needed and return its URL (over the unix socket).
pub fn ensure_started(settings: &Settings) -> Result<String> {
    let dir = settings.dev_dir();
    if !settings.quiet && !settings.json && Cluster::status_persistent(&dir).ok().flatten().is_none() {
        let first = if dir.join("PG_VERSION").exists() { "" } else { " (the first time: initdb, a few seconds)" };
        crate::output::plain(
            "dev_server_starting",
            &format!("starting the development PostgreSQL in {}{first}", dir.display()),
        );
    }
    let cluster = Cluster::start_persistent(&dir, options())
        .with_context(|| format!("starting the development PostgreSQL in {}", dir.display()))?;
    Ok(cluster.socket_url(DATABASE))
}

pub fn run(settings: &Settings, action: DevAction) -> Result<i32> {
    let dir = settings.dev_dir();
    match action {
        DevAction::Start => {
            let url = ensure_started(settings)?;
            if settings.json {
                super::print_json(&serde_json::json!({ "running": true, "url": url }));
            } else {
                println!("{url}");
                if !settings.quiet {
                    eprintln!(
                        "development PostgreSQL running from {}; use `shale --dev up`, or the URL above",
                        dir.display()
                    );
                }
            }
        }
        DevAction::Stop => {
            let stopped = Cluster::stop_persistent(&dir)?;
            if !settings.quiet {
                println!("{}", if stopped { "stopped" } else { "not running" });
            }
        }
        DevAction::Status => {
            let port = Cluster::status_persistent(&dir)?;
            if settings.json {
                super::print_json(&serde_json::json!({ "running": port.is_some(), "port": port, "dir": dir }));
            } else {
                match port {
                    Some(p) => println!("running on port {p} from {}", dir.display()),
                    None => println!("not running ({})", dir.display()),
                }
            }
            return Ok(if port.is_some() { 0 } else { 1 });
        }
        DevAction::Url => println!("{}", ensure_started(settings)?),
        DevAction::Psql { args } => {
            let cluster = Cluster::start_persistent(&dir, options())?;
            let status = std::process::Command::new(cluster.binaries().psql())
                .arg("--dbname")
                .arg(cluster.conninfo(DATABASE))
                .args(args)
                .status()
                .context("running psql")?;
            return Ok(status.code().unwrap_or(1));
        }
    }
    Ok(0)
}
