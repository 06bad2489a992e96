//! Directory layouts read as the tools that wrote them read them: Flyway's folders (its
//! locations are read to any depth, the file's name giving the version).

use crate::common;

use common::{shown, Project};

/// A Flyway project with its versions in one folder per major version and its repeatables in
/// another: read to their depths, ordered by version, recorded with their folder.
#[test]
fn flyway_migrations_in_folders_are_read_to_their_depths() {
    let p = Project::new("layouts_flyway_folders");
    p.write("v1/V1.0__init.sql", "CREATE TABLE accounts (id bigint PRIMARY KEY);\n");
    p.write("v1/patches/V1.1__memo.sql", "ALTER TABLE accounts ADD COLUMN memo text;\n");
    p.write("common/R__01_views.sql", "CREATE OR REPLACE VIEW account_memos AS SELECT id, memo FROM accounts;\n");
    p.shale(&["validate"]).ok();
    snapshot!("flyway_folders_up", shown(&p, &p.shale(&["up"]).ok()));
    snapshot!("flyway_folders_status", shown(&p, &p.shale(&["status"]).ok()));
    assert_eq!(
        p.psql("SELECT string_agg(path, ', ' ORDER BY id) FROM shale_migrations"),
        "v1/V1.0__init.sql, v1/patches/V1.1__memo.sql, common/R__01_views.sql"
    );
    // The same version in two folders: both files are named, and nothing runs.
    p.write("v2/V1.1__other.sql", "SELECT 1;\n");
    p.write("v2/V2.0__more.sql", "CREATE TABLE more (id int);\n");
    snapshot!("flyway_folders_duplicate", shown(&p, &p.shale(&["up"])));
    assert!(!p.tables().contains(&"more".to_string()));
}
