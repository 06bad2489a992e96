//! Build-script side of embedded migrations.
//!
//! In `build.rs`: `shale_core::embed::build("migrations")`. It tells cargo to rebuild when anything in
//! the directory changes (an added file included), checks every file with the same loader the runtime
//! uses (a bad file fails the build with its path, line and column), and writes the file list that
//! `shale::embedded_migrations!()` includes, each file through `include_bytes!`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::layout::MigrationSet;

/// The generated file's name in OUT_DIR.
pub const GENERATED: &str = "shale_embedded_migrations.rs";

/// Run from a build script. Panics (failing the build) with every problem found.
pub fn build(dir: impl AsRef<Path>) {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let out = std::env::var_os("OUT_DIR").map(PathBuf::from).expect("OUT_DIR is set for build scripts");
    let dir = manifest.join(dir.as_ref());
    println!("cargo:rerun-if-changed={}", dir.display());
    match generate(&dir) {
        Ok(code) => std::fs::write(out.join(GENERATED), code).expect("writing the embedded migration list"),
        Err(problems) => panic!("\n{problems}\n"),
    }
}

/// The Rust expression listing the directory's files, or every problem as text.
pub fn generate(dir: &Path) -> Result<String, String> {
    let set = MigrationSet::read_dir(dir).map_err(|errors| {
        let mut text = String::new();
        for e in &errors {
            let _ = writeln!(text, "error: {e}");
        }
        let _ = write!(text, "{} problem(s) in the migrations embedded from {}", errors.len(), dir.display());
        text
    })?;
    let mut paths = Vec::new();
    for m in &set.migrations {
        paths.push(m.up.path.clone());
        if let Some(d) = &m.down {
            if d.path != m.up.path {
                paths.push(d.path.clone());
            }
        }
        let meta = m.up.path.with_file_name("metadata.toml");
        if m.layout == crate::Layout::DieselFolder && meta.exists() {
            paths.push(meta);
        }
    }
    paths.sort();
    let mut code = String::from("&[\n");
    for path in paths {
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        let _ = writeln!(
            code,
            "    ({:?}, include_bytes!({:?}) as &[u8]),",
            relative.to_string_lossy(),
            path.to_string_lossy()
        );
    }
    code.push(']');
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_file_or_reports_every_problem() {
        let dir = std::env::temp_dir().join(format!("shale-embed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("2020-01-01-000000_x")).unwrap();
        std::fs::write(dir.join("2020-01-01-000000_x/up.sql"), "select 1;").unwrap();
        std::fs::write(dir.join("2020-01-01-000000_x/metadata.toml"), "run_in_transaction = false").unwrap();
        std::fs::write(dir.join("1_a.up.sql"), "select 1;").unwrap();
        std::fs::write(dir.join("1_a.down.sql"), "select 2;").unwrap();
        let code = generate(&dir).unwrap();
        assert_eq!(code.matches("include_bytes!").count(), 4, "{code}");
        assert!(code.contains("(\"1_a.down.sql\""), "{code}");
        assert!(code.contains("metadata.toml"), "{code}");
        std::fs::write(dir.join("2_b.sql"), "select 'oops;").unwrap();
        let problems = generate(&dir).unwrap_err();
        assert!(problems.contains("2_b.sql:1:8: unterminated quoted string"), "{problems}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
