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
    if !settings.quiet {
        println!("created {} and {}", show(&settings.dir), show(&config));
        println!("next: `shale new create_users` to write a migration, then `shale up`");
    }
    Ok(0)
}

fn show(p: &Path) -> String {
    p.strip_prefix("./").unwrap_or(p).display().to_string()
}
