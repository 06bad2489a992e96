//! `shale drift`: replay the migrations into a throwaway database and compare its schema with the
//! live one, object by object. Exit 1 when they differ. Never offers to reset anything.

use super::throwaway::Throwaway;
use anyhow::Result;
use comfy_table::Cell;
use shale::{Migrator, MigratorConfig, UpRequest};
use shale_schema::compare::differences;

use super::{block_on, migrator, print_json};
use crate::output::table;
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
pub struct DriftArgs {
    /// A server where shale may create (and drop) a scratch database [default: a temporary local server]
    #[arg(long, value_name = "URL")]
    pub dev_url: Option<String>,
}

pub fn run(settings: &Settings, args: &DriftArgs) -> Result<i32> {
    let live = migrator(settings)?;
    let actual = block_on(live.schema())?;
    // The scratch database goes when `scratch` is dropped (also on error).
    let scratch = Throwaway::create(args.dev_url.as_deref())?;
    let mut config = MigratorConfig::new(scratch.connection()?);
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
