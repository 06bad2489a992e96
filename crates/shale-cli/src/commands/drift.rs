//! `shale drift`: replay the migrations into a throwaway database and compare its schema with the
//! live one, object by object. Exit 1 when they differ. Never offers to reset anything.

use anyhow::{Context, Result};
use comfy_table::Cell;
use shale::{ConnectionSettings, Migrator, MigratorConfig, UpRequest};
use shale_schema::compare::differences;
use shale_testkit::{Cluster, ClusterOptions};

use super::{block_on, migrator, print_json};
use crate::output::table;
use crate::settings::Settings;

pub fn run(settings: &Settings) -> Result<i32> {
    let live = migrator(settings)?;
    let actual = block_on(live.schema())?;
    // The throwaway server stops and its directory goes when `cluster` is dropped (also on error).
    let cluster = Cluster::start_temporary(ClusterOptions::default())
        .context("starting a throwaway PostgreSQL to replay the migrations into")?;
    cluster.create_database("shale_drift")?;
    let mut config = MigratorConfig::new(ConnectionSettings::parse(&cluster.url("shale_drift"))?);
    config.history = live.config.history.clone();
    let replay = Migrator::new(live.set.clone(), config);
    block_on(replay.up(&UpRequest { allow_out_of_order: true, ..Default::default() }, &mut |_| {}))?;
    let expected = block_on(replay.schema())?;
    let drift = differences(&expected, &actual);
    if settings.json {
        print_json(&serde_json::json!({ "drifted": !drift.is_empty(), "differences": drift }));
    } else if drift.is_empty() {
        println!("no drift: the database matches what the {} migration(s) build", live.set.migrations.len());
    } else {
        let mut t = table(&["object", "expected (migrations)", "actual (database)"]);
        for d in &drift {
            t.add_row(vec![
                Cell::new(&d.object),
                Cell::new(d.expected.as_deref().unwrap_or("(absent)")),
                Cell::new(d.actual.as_deref().unwrap_or("(absent)")),
            ]);
        }
        println!("{t}\n\n{} difference(s) between the migrations and the database", drift.len());
    }
    Ok(if drift.is_empty() { 0 } else { 1 })
}
