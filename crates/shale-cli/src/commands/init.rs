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
    // A project another tool migrates keeps its files where that tool does: shale reads them there.
    let found = (settings.dir == settings.root.join("migrations") && !settings.dir.exists())
        .then(|| OTHER_TOOLS_DIRS.iter().find(|(dir, _)| has_files(&settings.root.join(dir))))
        .flatten();
    let dir = match found {
        Some((relative, _)) => settings.root.join(relative),
        None => settings.dir.clone(),
    };
    let template = match found {
        Some((relative, _)) => CONFIG_TEMPLATE.replacen("dir = \"migrations\"", &format!("dir = \"{relative}\""), 1),
        None => CONFIG_TEMPLATE.to_string(),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(&config, template).with_context(|| format!("writing {}", config.display()))?;
    // The development server's data lives in .shale/: never commit it.
    let gitignore = settings.root.join(".gitignore");
    let existing = std::fs::read_to_string(&gitignore).unwrap_or_default();
    if !existing.lines().any(|l| matches!(l.trim(), ".shale" | ".shale/" | "/.shale" | "/.shale/")) {
        let sep = if existing.is_empty() || existing.ends_with('\n') { "" } else { "\n" };
        std::fs::write(&gitignore, format!("{existing}{sep}.shale/\n"))
            .with_context(|| format!("writing {}", gitignore.display()))?;
    }
    if settings.quiet {
        return Ok(0);
    }
    match found {
        Some((relative, tool)) => {
            println!(
                "created {} with dir = \"{relative}\", where {tool} keeps its migrations (and .shale/ in .gitignore)",
                show(&config)
            );
            println!("next: `shale status`, then `shale adopt` on a database {tool} migrated");
        }
        None => {
            println!("created {} and {} (and .shale/ in .gitignore)", show(&dir), show(&config));
            println!("next: `shale new create_users` to write a migration, then `shale up`");
        }
    }
    Ok(0)
}

/// Where other tools keep migrations shale reads, under a project's root, and whose they are.
const OTHER_TOOLS_DIRS: &[(&str, &str)] = &[
    ("prisma/migrations", "Prisma"),
    ("drizzle", "drizzle-kit"),
    ("db/migrations", "dbmate"),
    ("supabase/migrations", "the Supabase CLI"),
    ("src/main/resources/db/migration", "Flyway"),
];

fn has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

fn show(p: &Path) -> String {
    p.strip_prefix("./").unwrap_or(p).display().to_string()
}
