//! Bad input is refused before anything runs, naming the file (and line and column where there
//! is one), and never shows what it should not.

use crate::common;

use common::{shown, Project, Run};

#[test]
fn a_nul_byte_is_refused_when_reading_with_its_position() {
    let p = Project::new("bad_nul");
    p.write("001_a.sql", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\0\n");
    snapshot!("nul_byte_validate", shown(&p, &p.shale(&["validate"])));
    snapshot!("nul_byte_up", shown(&p, &p.shale(&["up"])));
    assert!(p.tables().is_empty());
}

/// `validate` reads what `up` would run as `up` reads it: a statement that does not parse fails
/// it, named by file, line and column. With a database, the applied migrations ran already and
/// are not read again; without one, every migration is.
#[test]
fn validate_finds_the_syntax_error_up_would_refuse() {
    let p = Project::new("bad_validate_syntax");
    p.write("001_a.sql", "CREATE TABLE a (id int);\n");
    p.shale(&["up"]).ok();
    p.write("002_b.sql", "CREATE TABLE b (id int);\nCREATE INDEX ON b (id,);\n");
    snapshot!("validate_syntax_error", shown(&p, &p.shale(&["validate"])));
    let json = p.shale(&["validate", "--json"]).json();
    assert_eq!(json["ok"], false);
    assert_eq!(json["syntax_errors"][0]["line"], 2, "{json}");
    let offline: Run = p.bare().arg("validate").output().unwrap().into();
    assert_eq!(offline.code, 1, "{}", offline.stderr);
    assert!(offline.stderr.contains("002_b.sql:2:"), "{}", offline.stderr);

    p.write("002_b.sql", "CREATE TABLE b (id int);\nCREATE INDEX ON b (id);\n");
    p.shale(&["validate"]).ok();
    assert_eq!(p.shale(&["validate", "--json"]).ok().json()["syntax_errors"], serde_json::json!([]));
}

#[test]
fn new_refuses_a_name_that_is_not_one_line() {
    let p = Project::new("bad_new_name");
    let run: Run = p.bare().args(["new", "x\n-- shale:no-transaction"]).output().unwrap().into();
    snapshot!("new_name_two_lines", shown(&p, &run));
    assert!(!p.migrations().exists() || std::fs::read_dir(p.migrations()).unwrap().next().is_none());
}

#[test]
fn upper_case_extensions_are_migrations_too() {
    let p = Project::new("bad_case");
    p.write("001_a.SQL", "CREATE TABLE a (id int);\n");
    p.write("002_b.Sql", "CREATE TABLE b (id int);\n");
    p.shale(&["up"]).ok();
    assert_eq!(p.tables(), vec!["a", "b", "shale_migrations"]);
}

#[test]
fn a_symlink_leading_outside_the_directory_is_not_followed() {
    let p = Project::new("bad_symlink");
    let secret = p.path().join("secret.txt");
    std::fs::write(&secret, "password = hunter2\n").unwrap();
    p.write("001_a.sql", "CREATE TABLE a (id int);\n");
    std::os::unix::fs::symlink(&secret, p.migrations().join("002_b.sql")).unwrap();
    let run = p.shale(&["up"]);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    snapshot!("symlink_outside", shown(&p, &run));
    assert!(p.tables().is_empty());
    // Inside the directory, a link is fine.
    std::fs::remove_file(p.migrations().join("002_b.sql")).unwrap();
    std::fs::create_dir(p.migrations().join("shared")).unwrap();
    std::fs::write(p.migrations().join("shared/b.sql.txt"), "CREATE TABLE b (id int);\n").unwrap();
    std::os::unix::fs::symlink(p.migrations().join("shared/b.sql.txt"), p.migrations().join("002_b.sql")).unwrap();
    p.shale(&["up"]).ok();
    assert_eq!(p.tables(), vec!["a", "b", "shale_migrations"]);
}

#[test]
fn a_file_too_large_to_run_as_one_migration_is_refused_up_front() {
    let p = Project::new("bad_large");
    let line = "INSERT INTO t VALUES (1);\n";
    let text = line.repeat((64 * 1024 * 1024) / line.len() + 1);
    p.write("001_huge.sql", &text);
    snapshot!("file_too_large", shown(&p, &p.shale(&["up"])));
}

#[test]
fn marking_a_healthy_migration_rolled_back_needs_force() {
    let p = Project::new("bad_repair");
    p.write("001_a.sql", "CREATE TABLE a (id int);\n");
    p.shale(&["up"]).ok();
    let run = p.shale(&["repair", "001", "--rolled-back", "--reason", "oops"]);
    snapshot!("repair_healthy_without_force", shown(&p, &run));
    assert_eq!(p.history(), vec!["1|versioned|succeeded"], "nothing recorded");
    p.psql("DROP TABLE a");
    p.shale(&["repair", "001", "--rolled-back", "--reason", "dropped by hand", "--force"]).ok();
    p.shale(&["up"]).ok();
    assert_eq!(p.tables(), vec!["a", "shale_migrations"]);
}

/// A directory of SQL files none of which is a migration (a Sqitch project's deploy/ folder,
/// scripts): refused, not reported as up to date. Before, `up` said "nothing to apply" and
/// exited 0, so a deploy passed having deployed nothing.
#[test]
fn sql_files_without_one_migration_are_refused() {
    let p = Project::new("bad_no_migration");
    p.write("appschema.sql", "CREATE SCHEMA flipr;\n");
    p.write("users.sql", "CREATE TABLE flipr.users (id int);\n");
    for args in [&["up"][..], &["validate"], &["status"]] {
        let run = p.shale(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("holds 2 SQL file(s) and no migration"), "{}", run.stderr);
        assert!(run.stderr.contains("sqitch.plan"), "{}", run.stderr);
    }
    assert!(!p.psql("SELECT string_agg(nspname, ',') FROM pg_namespace").contains("flipr"));
    // The first migration can be written beside them, and then the scripts are left alone.
    let new = p.shale(&["new", "init"]).ok();
    assert!(new.stdout.contains("0001_init.sql"), "{}", new.stdout);
    p.write("0001_init.sql", "CREATE TABLE t (id int);\n");
    p.shale(&["up"]).ok();
    assert!(p.tables().contains(&"t".to_string()));
}
