//! The README's first command starts with `scripts/setup`, which must find and name every piece
//! a fresh machine lacks (a container is not available to try the install itself).

use std::path::Path;
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().parent().unwrap()
}

#[test]
fn setup_names_each_missing_piece_and_the_packages_to_install() {
    let empty = tempfile::tempdir().unwrap();
    let bin = empty.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // Only the shell and `id`: no cargo, no compiler, no clang, no PostgreSQL, no openssl.
    for tool in ["bash", "id"] {
        let found = ["/usr/bin", "/bin"].iter().map(|d| Path::new(d).join(tool)).find(|p| p.exists()).unwrap();
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    let out = Command::new(bin.join("bash"))
        .arg(repo().join("scripts/setup"))
        .arg("--check")
        .env_clear()
        .env("PATH", &bin)
        .env("SHALE_SETUP_ROOT", empty.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for piece in ["cargo", "a C compiler", "clang", "libclang", "the PostgreSQL server binaries", "openssl"] {
        assert!(text.contains(&format!("  - {piece}")), "{piece} not named:\n{text}");
    }
    assert!(
        text.contains("install with: apt-get install build-essential clang libclang-dev postgresql openssl"),
        "{text}"
    );
}

#[test]
fn setup_finds_what_this_machine_has() {
    // The tests run on a machine that builds shale and starts PostgreSQL: nothing is missing.
    let out = Command::new("bash").arg(repo().join("scripts/setup")).arg("--check").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("everything shale needs is here"), "{text}");
}
