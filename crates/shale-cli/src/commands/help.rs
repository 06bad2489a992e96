//! Shell completions and manual pages, generated from the clap definitions.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::args::Cli;

pub fn completions(shell: &str) -> Result<i32> {
    let shell: clap_complete::Shell = shell.parse().map_err(|e: String| shale::Error::Invalid(e))?;
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "shale", &mut std::io::stdout());
    Ok(0)
}

pub fn man(out: Option<&Path>) -> Result<i32> {
    let command = Cli::command();
    match out {
        None => {
            clap_mangen::Man::new(command).render(&mut std::io::stdout())?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("writing manual pages to {}", dir.display()))?;
            eprintln!("wrote the manual pages to {}", dir.display());
        }
    }
    Ok(0)
}
