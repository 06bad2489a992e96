use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::settings::{Settings, CONFIG_TEMPLATE};

pub fn run(settings: &Settings) -> Result<i32> {
    let config = settings.root.join("shale.toml");
    if config.exists() {
        bail!(shale::Error::Invalid(format!(
            "{} already exists; edit it, or remove it to start over",
            config.display()
        )));
    }
    std::fs::create_dir_all(&settings.dir).with_context(|| format!("creating {}", settings.dir.display()))?;
    std::fs::write(&config, CONFIG_TEMPLATE).with_context(|| format!("writing {}", config.display()))?;
    // The development server's data lives in .shale/: never commit it.
    let gitignore = settings.root.join(".gitignore");
    let existing = std::fs::read_to_string(&gitignore).unwrap_or_default();
    if !existing.lines().any(|l| matches!(l.trim(), ".shale" | ".shale/" | "/.shale" | "/.shale/")) {
        let sep = if existing.is_empty() || existing.ends_with('\n') { "" } else { "\n" };
        std::fs::write(&gitignore, format!("{existing}{sep}.shale/\n"))
            .with_context(|| format!("writing {}", gitignore.display()))?;
    }
    if !settings.quiet {
        println!("created {} and {} (and .shale/ in .gitignore)", show(&settings.dir), show(&config));
        println!("next: `shale new create_users` to write a migration, then `shale up`");
    }
    Ok(0)
}

fn show(p: &Path) -> String {
    p.strip_prefix("./").unwrap_or(p).display().to_string()
}
