//! `shale erd`: a picture of the schema's tables and foreign keys, as Mermaid (an `erDiagram`,
//! which GitHub and GitLab render), Graphviz DOT or SVG. The schema comes from the same sources as
//! `shale diff` (read the same way): by default the configured database if there is one, else
//! what the migrations directory builds on a throwaway server. Also run after `up` when
//! `erd_after_up` names a file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use shale_schema::erd::{self, Diagram, Format, Selection};

use super::block_on;
use super::diff::{read, Source};
use super::throwaway::Throwaway;
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
pub struct ErdArgs {
    /// The schema: a database URL, a migrations directory, a schema SQL file or exec:COMMAND (its output is the schema as SQL) [default: the configured database, else the migrations directory]
    #[arg(long, value_name = "SRC")]
    pub from: Option<String>,
    /// mermaid (an erDiagram, rendered by GitHub and GitLab), dot (Graphviz) or svg (drawn by shale) [default: from the --output file's extension, else mermaid]
    #[arg(long, value_name = "FORMAT", value_parser = ["mermaid", "dot", "svg"])]
    pub format: Option<String>,
    /// Write to this file instead of stdout (a .md file gets the Mermaid in a ```mermaid fence)
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only these tables: comma-separated patterns (`*` any characters, `?` one), each `table` (in any schema) or `schema.table`; the tables their foreign keys reference are shown by name
    #[arg(long, value_name = "PATTERN[,PATTERN]")]
    pub tables: Option<String>,
    /// A server where shale may create (and drop) scratch databases, for a migrations directory, a schema file or exec: [default: a temporary local server]
    #[arg(long, value_name = "URL")]
    pub dev_url: Option<String>,
}

pub fn run(settings: &Settings, args: &ErdArgs) -> Result<i32> {
    let selection = match &args.tables {
        Some(text) => Selection::parse(text).map_err(|e| shale::Error::Invalid(format!("--tables: {e}")))?,
        None => Selection::all(),
    };
    let format = format(args.format.as_deref(), args.output.as_deref());
    let source = match &args.from {
        Some(text) => Source::parse(text)?,
        None if settings.database.is_some() => Source::Database(Box::new(super::connection(settings)?)),
        None => Source::Migrations(settings.dir.clone()),
    };
    // Scratch databases go when `throwaway` is dropped (also on error and on Ctrl-C).
    let mut throwaway: Option<Throwaway> = None;
    let schema = read(settings, &source, &mut throwaway, settings.scratch_server(args.dev_url.as_deref()))?.schema;
    drop(throwaway);
    let diagram = Diagram::build(&schema, &selection);
    if diagram.entities.is_empty() && args.tables.is_some() {
        anyhow::bail!(shale::Error::Invalid(format!(
            "no table of {} matches --tables '{}'",
            source.label(),
            args.tables.as_deref().unwrap_or_default()
        )));
    }
    let text = erd::render(&diagram, format);
    match &args.output {
        Some(path) => {
            write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            if !settings.quiet && !settings.json {
                eprintln!("wrote the diagram of {} table(s) to {}", shown_tables(&diagram), path.display());
            }
        }
        None => print!("{text}"),
    }
    Ok(0)
}

/// `--format`, else the output file's extension, else Mermaid; Mermaid in a .md file is fenced.
fn format(flag: Option<&str>, output: Option<&Path>) -> Format {
    let from_file = output.and_then(Format::for_file);
    match flag {
        Some("dot") => Format::Dot,
        Some("svg") => Format::Svg,
        Some(_) if from_file == Some(Format::MermaidMarkdown) => Format::MermaidMarkdown,
        Some(_) => Format::Mermaid,
        None => from_file.unwrap_or(Format::Mermaid),
    }
}

fn shown_tables(diagram: &Diagram) -> usize {
    diagram.entities.iter().filter(|e| !e.reference).count()
}

/// Write `text` to `path`, creating its directory.
fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

/// After an `up` that changed something: refresh the picture `erd_after_up` names (its format
/// from its extension, checked when shale.toml was read).
pub fn after_up(settings: &Settings, migrator: &shale::Migrator) -> Result<()> {
    let Some((path, format)) = &settings.erd_after_up else { return Ok(()) };
    let diagram = Diagram::build(&block_on(migrator.schema())?, &Selection::all());
    write(path, &erd::render(&diagram, *format))
        .with_context(|| format!("writing {} (erd_after_up in shale.toml)", path.display()))?;
    if !settings.quiet && !settings.json {
        crate::output::plain("refreshed", &format!("refreshed {}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_comes_from_the_flag_then_the_file() {
        let file = |name: &str| Some(Path::new(name).to_path_buf());
        assert_eq!(format(None, None), Format::Mermaid);
        assert_eq!(format(None, file("docs/schema.svg").as_deref()), Format::Svg);
        assert_eq!(format(None, file("README.md").as_deref()), Format::MermaidMarkdown);
        assert_eq!(format(Some("mermaid"), file("README.md").as_deref()), Format::MermaidMarkdown);
        assert_eq!(format(Some("dot"), file("schema.svg").as_deref()), Format::Dot);
        assert_eq!(format(None, file("schema.txt").as_deref()), Format::Mermaid);
    }
}
