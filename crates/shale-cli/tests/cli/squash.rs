//! `shale squash`: the migrations up to V become one migration holding the schema and rows they
//! build; databases past V skip it, fresh ones run it, ones in between are refused with the way out
//! (`up --from-archive`), and `shale check` proves both histories build the same schema.

use crate::common;

use common::{shown, Project};
use shale_testkit::{fresh_database, shared_cluster, TestDb};

const HISTORY: &[(&str, &str)] = &[
    ("001_users.sql", "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE);"),
    (
        "002_roles.sql",
        "CREATE TABLE roles (id serial PRIMARY KEY, name text NOT NULL UNIQUE);\n\
         INSERT INTO roles (name) VALUES ('admin'), ('member');\n\
         CREATE MATERIALIZED VIEW role_names AS SELECT name FROM roles;",
    ),
    (
        "003_user_roles.sql",
        "CREATE TABLE user_roles (user_id bigint REFERENCES users ON DELETE CASCADE, role_id int REFERENCES roles, PRIMARY KEY (user_id, role_id));\n\
         CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.email := lower(NEW.email); RETURN NEW; END $$;\n\
         CREATE TRIGGER users_stamp BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION stamp();",
    ),
    ("004_posts.sql", "CREATE TABLE posts (id bigint PRIMARY KEY, author bigint REFERENCES users, body jsonb);"),
];

/// `shale ARGS` on the project's files, against `db`.
fn shale_on(p: &Project, db: &TestDb, args: &[&str]) -> common::Run {
    let mut cmd = p.bare();
    cmd.arg("--database-url").arg(&db.url).args(args);
    cmd.output().unwrap().into()
}

fn psql(db: &TestDb, sql: &str) -> String {
    shared_cluster().psql(&db.name, sql).unwrap()
}

#[test]
fn a_squash_serves_databases_past_it_fresh_ones_and_ones_inside_it() {
    let p = Project::new("squash");
    for (name, text) in HISTORY {
        p.write(name, text);
    }
    // Before the squash: one database migrated to the end, one only to 002.
    p.shale(&["up"]).ok();
    let inside = fresh_database("squash_inside");
    shale_on(&p, &inside, &["up", "--to", "002"]).ok();

    // The file it would write: the schema, the rows 002 inserted, the sequences' positions.
    snapshot!("dry_run", shown(&p, &p.shale(&["squash", "--to", "003", "--dry-run"]).ok()));
    assert!(p.migrations().join("001_users.sql").exists(), "--dry-run moves nothing");

    snapshot!("squashed", shown(&p, &p.shale(&["squash", "--to", "003"]).ok()));
    let mut files: Vec<String> = std::fs::read_dir(p.migrations())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["003_squashed.sql", "004_posts.sql"]);
    let archive = p.path().join("migrations_archive");
    assert!(archive.join("001_users.sql").exists() && archive.join("003_user_roles.sql").exists());

    // Past it: nothing to do, nothing missing or modified.
    assert!(p.shale(&["up"]).ok().stdout.contains("nothing to apply"));
    let status = p.shale(&["status"]).ok().stdout;
    assert!(!status.contains("missing") && !status.contains("modified"), "{status}");

    // Fresh: the squash then 004, with the rows and sequence positions of the old history.
    let fresh = fresh_database("squash_fresh");
    shale_on(&p, &fresh, &["up"]).ok();
    assert_eq!(psql(&fresh, "SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM roles"), "1:admin,2:member");
    assert_eq!(psql(&fresh, "INSERT INTO roles (name) VALUES ('guest') RETURNING id"), "3");
    assert_eq!(psql(&fresh, "INSERT INTO users (email) VALUES ('A@B') RETURNING email"), "a@b", "the trigger");
    // A materialized view filled, after the rows, as 002 made it (review: made empty, "has not been
    // populated").
    assert_eq!(psql(&fresh, "SELECT string_agg(name, ',' ORDER BY name) FROM role_names"), "admin,member");

    // Inside it: refused, then migrated with the archived files.
    let refused = shale_on(&p, &inside, &["up"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    snapshot!("inside_the_squash", refused.stderr.replace(&inside.name, "[DB]"));
    let archive_arg = archive.to_str().unwrap();
    shale_on(&p, &inside, &["up", "--from-archive", archive_arg]).ok();
    assert!(shale_on(&p, &inside, &["up"]).ok().stdout.contains("nothing to apply"));
    assert_eq!(psql(&inside, "SELECT count(*) FROM posts"), "0");

    // Both histories build the same schema.
    snapshot!("check", shown(&p, &p.shale(&["check"]).ok()));
}

#[test]
fn squash_refuses_what_it_cannot_do() {
    let p = Project::new("squash_refuse");
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    snapshot!("nothing_to_squash", shown(&p, &p.shale(&["squash", "--to", "001"])));
    snapshot!("no_such_version", shown(&p, &p.shale(&["squash", "--to", "009"])));
}

/// Prisma folders sharing a timestamp run as `T` and `T.1`: a squash ending at either is refused
/// before anything is replayed or moved; one past both squashes them into one folder.
#[test]
fn a_squash_ending_at_a_prisma_twin_is_refused() {
    let p = Project::new("squash_prisma_twin");
    for (folder, sql) in [
        ("20240101000000_a", "CREATE TABLE a (id int PRIMARY KEY);"),
        ("20240102000000_b", "CREATE TABLE b (id int PRIMARY KEY);"),
        ("20240102000000_c", "CREATE TABLE c (id int PRIMARY KEY);"),
        ("20240103000000_d", "CREATE TABLE d (id int PRIMARY KEY);"),
    ] {
        p.write(&format!("{folder}/migration.sql"), sql);
    }
    for to in ["20240102000000", "20240102000000.1"] {
        let run = p.shale(&["squash", "--to", to]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("shares its number with 1 other migration(s)")
                && run
                    .stderr
                    .contains("squash up to the migration before 20240102000000 or to one after 20240102000000.1"),
            "{}",
            run.stderr
        );
    }
    assert!(p.migrations().join("20240102000000_c/migration.sql").exists(), "nothing moved");
    p.shale(&["squash", "--to", "20240103000000"]).ok();
    assert!(p.migrations().join("20240103000000_squashed/migration.sql").exists());
    p.shale(&["up"]).ok();
    assert_eq!(p.tables(), ["a", "b", "c", "d", "shale_migrations"]);
}

#[test]
fn up_down_pairs_move_whole_and_the_squash_keeps_the_layout() {
    let p = Project::new("squash_pairs");
    p.write("001_a.up.sql", "CREATE TABLE a (id int PRIMARY KEY);");
    p.write("001_a.down.sql", "DROP TABLE a;");
    p.write("002_b.up.sql", "CREATE TABLE b (id int PRIMARY KEY, a int REFERENCES a);");
    p.write("002_b.down.sql", "DROP TABLE b;");
    p.write("003_c.up.sql", "CREATE INDEX b_a ON b (a);");
    p.write("003_c.down.sql", "DROP INDEX b_a;");
    p.shale(&["squash", "--to", "002", "--archive", "old"]).ok();
    let mut files: Vec<String> = std::fs::read_dir(p.migrations())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["002_squashed.up.sql", "003_c.down.sql", "003_c.up.sql"]);
    assert!(p.path().join("old/001_a.down.sql").exists() && p.path().join("old/002_b.up.sql").exists());
    p.shale(&["up"]).ok();
    assert_eq!(p.tables(), ["a", "b", "shale_migrations"]);
    let check = p.shale(&["check", "--archive", "old"]).ok();
    assert!(check.stdout.contains("002 squashed builds the same schema"), "{}", check.stdout);
}
