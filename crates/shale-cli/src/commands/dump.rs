//! `shale dump [-o FILE]`: the database's schema as a deterministic SQL script (the same schema
//! always gives the same bytes), which loads back into an empty database with psql. With
//! `--json`, the schema model as JSON instead.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::{block_on, migrator_with};
use crate::settings::Settings;

/// After an `up` that changed something: refresh the schema file `dump_after_up` names.
pub fn after_up(settings: &Settings, migrator: &shale::Migrator) -> Result<()> {
    let Some(path) = &settings.dump_after_up else { return Ok(()) };
    // A file something else wrote (Rails' db/structure.sql, dbmate's db/schema.sql, pg_dump's) is
    // another tool's to read: replaced by shale's format, it would lose what that tool needs.
    let written_by_others =
        std::fs::read_to_string(path).is_ok_and(|t| !t.starts_with(shale_schema::dump::DUMP_HEADER));
    if written_by_others {
        crate::output::warning(&format!(
            "{} (dump_after_up in shale.toml) was not written by `shale dump` (pg_dump's, Rails' or \
             dbmate's?), so it is left as it is: shale writes its own format, without what that tool keeps there. \
             Point dump_after_up at another file, of shale's own, or delete this one to let shale write it",
            path.display()
        ));
        return Ok(());
    }
    let (schema, in_force) = schema_to_dump(settings, migrator)?;
    let text = shale_schema::dump_where(&schema, &in_force);
    std::fs::write(path, text).with_context(|| format!("writing {} (dump_after_up in shale.toml)", path.display()))?;
    if !settings.quiet && !settings.json {
        crate::output::plain("refreshed", &format!("refreshed {}", path.display()));
    }
    Ok(())
}

/// The database's schema as the dump shows it: without what Supabase manages and without another
/// tool's history (Knex's, dbmate's, ...), as `baseline --from-database`, `diff` and `drift` leave
/// them out, so that the file is the same whichever database last ran `up`; each named in a note,
/// with the objects of kinds shale does not read; with the default privileges the platform puts in
/// force where it loads (see [`super::drift::platform_default_grants`]).
fn schema_to_dump(
    settings: &Settings,
    migrator: &shale::Migrator,
) -> Result<(shale_schema::Schema, Vec<shale_schema::model::DefaultPrivileges>)> {
    let live = block_on(migrator.schema())?;
    let in_force = super::drift::platform_default_grants(&live);
    let schema = super::drift::without_supabase_managed(settings, live, "the dump");
    let schema = super::drift::without_other_tools_histories(settings, schema, &Default::default());
    crate::output::note_unread(settings, &schema, "the database", "the dump");
    Ok((schema, in_force))
}

#[derive(clap::Args, Debug)]
pub struct DumpArgs {
    /// Write to this file instead of stdout
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub fn run(settings: &Settings, args: &DumpArgs) -> Result<i32> {
    // Only the database is read: no migrations directory needed.
    let migrator = migrator_with(settings, Default::default())?;
    let (schema, in_force) = schema_to_dump(settings, &migrator)?;
    let text = if settings.json {
        let mut json = serde_json::to_string_pretty(&schema).expect("serializable");
        json.push('\n');
        json
    } else {
        shale_schema::dump_where(&schema, &in_force)
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            if !settings.quiet && !settings.json {
                eprintln!("wrote the schema to {}", path.display());
            }
        }
        None => print!("{text}"),
    }
    Ok(0)
}
