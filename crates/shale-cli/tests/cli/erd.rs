//! `shale erd` through the real binary against a real server: the picture of a database built by
//! migrations (a foreign key with ON DELETE CASCADE, a composite primary key, UNIQUE, a partitioned
//! table, a second schema) as Mermaid and DOT snapshots, the same picture from the migrations
//! directory, `--tables`, SVG written to a file, and `erd_after_up`.

use crate::common;

use common::{shown, Project, Run};
use shale_testkit::shared_cluster;

const SHOP: &str = "CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name varchar(100)
);
CREATE TABLE orders (
    id bigint NOT NULL,
    at timestamptz NOT NULL,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    total numeric(10,2) NOT NULL DEFAULT 0,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE orders_2024 PARTITION OF orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE orders_2025 PARTITION OF orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE order_items (
    order_id bigint,
    order_at timestamptz,
    line integer,
    sku text NOT NULL,
    PRIMARY KEY (order_id, order_at, line),
    FOREIGN KEY (order_id, order_at) REFERENCES orders (id, at) ON DELETE CASCADE
);
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (
    id bigserial PRIMARY KEY,
    number text NOT NULL UNIQUE,
    order_id bigint,
    order_at timestamptz,
    FOREIGN KEY (order_id, order_at) REFERENCES orders (id, at) ON DELETE SET NULL
);
";

fn shop() -> Project {
    let p = Project::new("erd");
    p.write("001_shop.sql", SHOP);
    p.shale(&["up"]).ok();
    p
}

fn dev_url() -> String {
    shared_cluster().url("postgres")
}

#[test]
fn the_picture_of_a_migrated_database_as_mermaid_and_dot() {
    let p = shop();
    let mermaid = p.shale(&["erd"]).ok().stdout;
    insta::assert_snapshot!("shop_mermaid", mermaid);
    assert!(!mermaid.contains("orders_2024") && !mermaid.contains("shale_migrations"), "{mermaid}");
    insta::assert_snapshot!("shop_dot", p.shale(&["erd", "--format", "dot"]).ok().stdout);

    // The same picture from the migrations, replayed on a throwaway server: explicitly, and by
    // default when no database is configured.
    let dev = dev_url();
    assert_eq!(p.shale(&["erd", "--from", "migrations", "--dev-url", &dev]).ok().stdout, mermaid);
    let run: Run = p.bare().args(["erd", "--dev-url", &dev]).output().unwrap().into();
    assert_eq!(run.ok().stdout, mermaid);
    // And from a schema file.
    std::fs::write(p.path().join("schema.sql"), SHOP).unwrap();
    assert_eq!(p.shale(&["erd", "--from", "schema.sql", "--dev-url", &dev]).ok().stdout, mermaid);
}

#[test]
fn tables_picks_a_part_and_shows_what_it_references_by_name() {
    let p = shop();
    let run = p.shale(&["erd", "--tables", "order*"]).ok();
    insta::assert_snapshot!("shop_orders_only", run.stdout);
    assert!(!run.stdout.contains("    users {"), "users is a reference, drawn by name only:\n{}", run.stdout);
    assert!(run.stdout.contains("orders }o..|| users : \"user_id, ON DELETE CASCADE\""), "{}", run.stdout);

    let billing = p.shale(&["erd", "--tables", "billing.*", "--format", "dot"]).ok().stdout;
    snapshot!("billing_dot", billing);

    snapshot!("no_table_matches", shown(&p, &p.shale(&["erd", "--tables", "nothing*"])));
    snapshot!("empty_pattern", shown(&p, &p.shale(&["erd", "--tables", "users,"])));
}

#[test]
fn svg_written_to_a_file_is_xml_naming_every_table() {
    let p = shop();
    let run = p.shale(&["erd", "--format", "svg", "--output", "docs/x.svg"]).ok();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("wrote the diagram of 4 table(s) to docs/x.svg"), "{}", run.stderr);
    let text = std::fs::read_to_string(p.path().join("docs/x.svg")).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("not XML ({e}):\n{text}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    for table in ["users", "orders (partitioned by RANGE (at))", "order_items", "billing.invoices"] {
        assert!(texts.contains(&table), "no {table:?} in {texts:?}");
    }
    // The extension alone picks the format.
    p.shale(&["erd", "-o", "y.svg"]).ok();
    assert_eq!(std::fs::read_to_string(p.path().join("y.svg")).unwrap(), text);
    p.shale(&["erd", "-o", "y.dot"]).ok();
    assert!(std::fs::read_to_string(p.path().join("y.dot")).unwrap().starts_with("digraph schema {"));
}

#[test]
fn up_refreshes_the_picture_named_by_erd_after_up() {
    let p = Project::new("erd_after_up");
    std::fs::write(p.path().join("shale.toml"), "erd_after_up = \"docs/schema.md\"\n").unwrap();
    p.write("001_a.sql", "CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);");
    let run = p.shale(&["up"]).ok();
    assert!(run.stderr.contains("refreshed docs/schema.md"), "{}", run.stderr);
    let file = std::fs::read_to_string(p.path().join("docs/schema.md")).expect("written after up");
    assert_eq!(file, format!("```mermaid\n{}```\n", p.shale(&["erd"]).ok().stdout), "what `shale erd` prints, fenced");

    p.write(
        "002_b.sql",
        "CREATE TABLE notes (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts ON DELETE CASCADE);",
    );
    p.shale(&["up"]).ok();
    let file = std::fs::read_to_string(p.path().join("docs/schema.md")).unwrap();
    assert!(file.contains("notes }o..o| accounts : \"account_id, ON DELETE CASCADE\""), "{file}");

    // Nothing to apply: nothing refreshed.
    std::fs::remove_file(p.path().join("docs/schema.md")).unwrap();
    p.shale(&["up"]).ok();
    assert!(!p.path().join("docs/schema.md").exists());

    // An extension that names no format is a configuration error, before anything runs.
    std::fs::write(p.path().join("shale.toml"), "erd_after_up = \"schema.png\"\n").unwrap();
    snapshot!("erd_after_up_no_format", shown(&p, &p.shale(&["status"])));
}

/// docs/schema.md's example: the picture under its SQL is what `shale erd` draws of that SQL now.
#[test]
fn the_example_in_the_docs_is_what_shale_erd_draws() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schema.md")).unwrap();
    let section = &docs[docs.find("## Schema picture: `shale erd`").expect("the ERD section")..];
    let block = |fence: &str| {
        let start = section.find(fence).unwrap_or_else(|| panic!("no {fence} block")) + fence.len();
        &section[start..start + section[start..].find("```\n").unwrap()]
    };
    let p = Project::new("erd_docs");
    std::fs::write(p.path().join("schema.sql"), block("```sql\n")).unwrap();
    let run = p.shale(&["erd", "--from", "schema.sql", "--dev-url", &dev_url()]).ok();
    assert_eq!(block("```mermaid\n"), run.stdout, "docs/schema.md: paste this picture under the example");
}
