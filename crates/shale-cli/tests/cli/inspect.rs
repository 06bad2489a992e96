//! `shale inspect` against a real schema with every kind of table object.

use crate::common;

use common::Project;

#[test]
fn inspect_shows_columns_constraints_indexes_triggers_and_keys_both_ways() {
    let p = Project::new("inspect");
    p.write(
        "001_schema.sql",
        r#"CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    name text COLLATE "C",
    profile jsonb NOT NULL DEFAULT '{}',
    tags text[] NOT NULL DEFAULT '{}',
    email_lower text GENERATED ALWAYS AS (lower(email)) STORED,
    deleted_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE users IS 'accounts';
ALTER TABLE users ADD CONSTRAINT email_has_at CHECK (email LIKE '%@%') NOT VALID;
CREATE UNIQUE INDEX users_email ON users (email) INCLUDE (name) WHERE deleted_at IS NULL;
CREATE INDEX users_profile ON users USING gin (profile);
CREATE INDEX users_lower ON users (lower(email), updated_at DESC);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TABLE sessions (id serial PRIMARY KEY, user_id bigint REFERENCES users (id) ON DELETE CASCADE);
"#,
    );
    p.shale(&["up"]).ok();
    let list = p.shale(&["inspect", "--json"]).ok().json();
    let names: Vec<_> = list.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["sessions", "users"], "the history table is left out");

    let d = p.shale(&["inspect", "users", "--json"]).ok().json();
    let columns = d["columns"].as_array().unwrap();
    assert_eq!(columns[0]["name"], "id");
    assert_eq!(columns[0]["identity"], "always");
    assert_eq!(columns[0]["nullable"], false);
    assert_eq!(columns[2]["collation"], "C");
    assert_eq!(columns[4]["type"], "text[]");
    assert_eq!(columns[4]["default"], "'{}'::text[]");
    assert_eq!(columns[5]["generated"], "lower(email)");
    assert_eq!(d["comment"], "accounts");
    let check = d["constraints"].as_array().unwrap().iter().find(|c| c["name"] == "email_has_at").unwrap();
    assert_eq!(check["kind"], "check");
    assert_eq!(check["validated"], false);
    let index = |name: &str| d["indexes"].as_array().unwrap().iter().find(|i| i["name"] == name).unwrap().clone();
    let email = index("users_email");
    assert_eq!(email["unique"], true);
    assert_eq!(email["include"], serde_json::json!(["name"]));
    assert_eq!(email["predicate"], "deleted_at IS NULL");
    assert_eq!(index("users_profile")["method"], "gin");
    assert_eq!(index("users_lower")["keys"], serde_json::json!(["lower(email)", "updated_at DESC"]));
    assert!(d["triggers"][0]["definition"]
        .as_str()
        .unwrap()
        .contains("BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()"));
    assert_eq!(d["referenced_by"][0]["table"], "sessions");
    assert!(d["referenced_by"][0]["definition"].as_str().unwrap().contains("ON DELETE CASCADE"));
    let s = p.shale(&["inspect", "public.sessions", "--json"]).ok().json();
    assert_eq!(s["foreign_keys"][0]["references"], "users");

    let human = p.shale(&["inspect", "users"]).ok().stdout;
    assert!(human.contains("users_email  btree, unique (email) include (name) where deleted_at IS NULL"), "{human}");
    assert!(human.contains("(NOT VALID)"), "{human}");
    let missing = p.shale(&["inspect", "nope"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("no table named nope"), "{}", missing.stderr);
}
