//! Migrations compiled into the application binary.

use std::path::Path;

use shale_core::{MigrationSet, SourceFile};

use crate::Error;

/// The files of a migrations directory, embedded at build time (see [`crate::embedded_migrations!`]).
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigrations {
    /// The directory as named in build.rs; shown in error messages.
    pub dir: &'static str,
    /// (path relative to `dir`, content)
    pub files: &'static [(&'static str, &'static [u8])],
}

impl EmbeddedMigrations {
    /// Load them with the same checks as files on disk.
    pub fn load(&self) -> Result<MigrationSet, Error> {
        let files = self
            .files
            .iter()
            .map(|(relative, bytes)| SourceFile { relative: relative.into(), bytes: bytes.to_vec() })
            .collect();
        MigrationSet::load(Path::new(self.dir), files).map_err(Error::Load)
    }
}

/// The migrations embedded by `shale_core::embed::build(DIR)` in this crate's build.rs:
///
/// ```ignore
/// // build.rs
/// fn main() { shale::core::embed::build("migrations"); }
/// // main.rs
/// static MIGRATIONS: shale::EmbeddedMigrations = shale::embedded_migrations!("migrations");
/// ```
#[macro_export]
macro_rules! embedded_migrations {
    ($dir:literal) => {
        $crate::EmbeddedMigrations {
            dir: $dir,
            files: include!(concat!(env!("OUT_DIR"), "/shale_embedded_migrations.rs")),
        }
    };
}
