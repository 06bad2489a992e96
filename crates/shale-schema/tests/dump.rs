//! Introspection and dump against a real PostgreSQL server (shale-testkit): the round trip
//! (dump, load into an empty database, dump again: same bytes), determinism whatever the
//! creation order, what is left out, and the fixed number of catalog queries.

use std::path::{Path, PathBuf};

use shale_pg::{connect, Client, ConnectionSettings, SessionSettings};
use shale_schema::compare::differences;
use shale_schema::introspect::round_trips_on_this_thread;
use shale_schema::{dump, introspect, Schema};
use shale_testkit::{fresh_database, shared_cluster, TestDb};

const HISTORY: (&str, &str) = ("public", "shale_migrations");

async fn client(db: &TestDb) -> Client {
    let settings = ConnectionSettings::parse(&db.url).unwrap();
    connect(&settings, &SessionSettings::default()).await.unwrap_or_else(|e| panic!("connecting to {}: {e}", db.name))
}

async fn model(db: &TestDb) -> Schema {
    introspect(&client(db).await, HISTORY).await.unwrap_or_else(|e| panic!("introspecting {}: {e}", db.name))
}

fn apply(db: &TestDb, sql: &str) {
    shared_cluster().psql(&db.name, sql).unwrap_or_else(|e| panic!("applying SQL to {}: {e}\n{sql}", db.name));
}

/// Load `dump` into a new empty database and dump that.
async fn reload(dump_text: &str, prefix: &str) -> (TestDb, Schema, String) {
    let b = fresh_database(prefix);
    if let Err(e) = shared_cluster().psql(&b.name, dump_text) {
        panic!("a dump does not load into an empty database: {e}\n--- dump ---\n{dump_text}");
    }
    let m = model(&b).await;
    let d = dump(&m);
    (b, m, d)
}

/// The lines only in `a` and the lines only in `b`.
fn line_diff<'t>(a: &'t str, b: &'t str) -> (Vec<&'t str>, Vec<&'t str>) {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    (la.iter().filter(|l| !lb.contains(l)).copied().collect(), lb.iter().filter(|l| !la.contains(l)).copied().collect())
}

/// Dump `a`, load the dump into a new empty database, dump that: both dumps and both models
/// must be identical. Returns the dump.
async fn round_trip(a: &TestDb, prefix: &str) -> String {
    let model_a = model(a).await;
    let dump_a = dump(&model_a);
    let (_b, model_b, dump_b) = reload(&dump_a, prefix).await;
    if dump_a != dump_b {
        let (only_a, only_b) = line_diff(&dump_a, &dump_b);
        panic!("the dump of {} changes in the round trip\nonly before: {only_a:#?}\nonly after: {only_b:#?}", a.name);
    }
    assert_eq!(model_a, model_b, "model after the round trip differs");
    dump_a
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// The up SQL of one example project, file by file in name order.
fn example_up_sql(name: &str) -> String {
    let dir = examples_dir().join(name).join("migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql") && !p.to_string_lossy().ends_with(".down.sql"))
        .collect();
    files.sort();
    let mut sql = String::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        // Single-file up/down migrations: keep the up part.
        let up = text.split("-- migrate:down").next().unwrap();
        sql.push_str(up);
        sql.push_str("\n;\n");
    }
    sql
}

/// A schema with most object kinds the dump covers, and some awkward names.
const RICH: &str = r#"
CREATE SCHEMA app;
CREATE EXTENSION pgcrypto;
CREATE EXTENSION citext WITH SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
ALTER TYPE app.mood ADD VALUE 'meh' BEFORE 'ok';
CREATE SEQUENCE app.invoice_no AS integer START 1000 INCREMENT 5 MAXVALUE 999999 CACHE 10 CYCLE;
CREATE SEQUENCE public.standalone;
CREATE FUNCTION app.double(x integer) RETURNS integer LANGUAGE sql IMMUTABLE RETURN x * 2;
CREATE FUNCTION app.double(x bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT x * 2 $$;
CREATE TABLE app.accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email app.citext NOT NULL UNIQUE,
    name text COLLATE "C" NOT NULL,
    mood app.mood NOT NULL DEFAULT 'ok',
    tags text[] NOT NULL DEFAULT '{}',
    profile jsonb NOT NULL DEFAULT '{}'::jsonb,
    name_lower text GENERATED ALWAYS AS (lower(name)) STORED,
    secret text DEFAULT encode(gen_random_bytes(8), 'hex'),
    "Weird ""Name""" integer,
    "order" integer,
    dropped_later integer,
    score integer DEFAULT app.double(21) CHECK (app.double(score) < 1000)
);
ALTER TABLE app.accounts DROP COLUMN dropped_later;
CREATE TABLE app.invoices (
    no integer PRIMARY KEY DEFAULT nextval('app.invoice_no'),
    account_id bigint NOT NULL,
    amount numeric(12, 2) NOT NULL,
    line serial,
    during tstzrange,
    EXCLUDE USING gist (during WITH &&)
);
ALTER TABLE app.invoices ADD CONSTRAINT amount_positive CHECK (amount > 0) NOT VALID;
ALTER TABLE app.invoices ADD CONSTRAINT invoices_account_fk FOREIGN KEY (account_id) REFERENCES app.accounts (id)
    ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
CREATE UNLOGGED TABLE public.cache (
    key text PRIMARY KEY,
    value bytea,
    id integer GENERATED BY DEFAULT AS IDENTITY (START WITH 10 INCREMENT BY 2)
);
CREATE INDEX accounts_tags ON app.accounts USING gin (tags);
CREATE INDEX accounts_profile ON app.accounts USING gin (profile jsonb_path_ops);
CREATE INDEX accounts_lower ON app.accounts (lower(name)) INCLUDE (mood) WHERE mood <> 'sad';
CREATE TABLE public.events (id bigint NOT NULL, at timestamptz NOT NULL, kind text NOT NULL, PRIMARY KEY (id, at, kind))
    PARTITION BY RANGE (at);
CREATE TABLE public.events_2024 PARTITION OF public.events
    FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00') PARTITION BY LIST (kind);
CREATE TABLE public.events_2024_a PARTITION OF public.events_2024 FOR VALUES IN ('a');
CREATE TABLE public.events_default PARTITION OF public.events DEFAULT;
CREATE INDEX events_at ON public.events (at);
ALTER TABLE public.events ADD CONSTRAINT events_kind CHECK (kind <> '');
CREATE VIEW app.happy_accounts AS SELECT id, email FROM app.accounts WHERE mood = 'happy';
CREATE VIEW app.happy_count AS SELECT count(*) AS n FROM app.happy_accounts;
CREATE VIEW app.a_first AS SELECT n FROM app.happy_count;
CREATE MATERIALIZED VIEW app.totals AS SELECT account_id, sum(amount) AS total FROM app.invoices GROUP BY account_id;
CREATE UNIQUE INDEX totals_account ON app.totals (account_id);
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.amount := NEW.amount;
    RETURN NEW;
END
$$;
CREATE FUNCTION app.account_label(a app.accounts) RETURNS text LANGUAGE sql STABLE AS $$ SELECT a.name $$;
CREATE FUNCTION app.account_count() RETURNS bigint LANGUAGE sql STABLE BEGIN ATOMIC SELECT count(*) FROM app.accounts; END;
CREATE PROCEDURE app.noop() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE TRIGGER invoices_touch BEFORE UPDATE ON app.invoices FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE TRIGGER invoices_touch_off BEFORE INSERT ON app.invoices FOR EACH ROW EXECUTE FUNCTION app.touch();
ALTER TABLE app.invoices DISABLE TRIGGER invoices_touch_off;
CREATE TRIGGER events_touch BEFORE UPDATE ON public.events FOR EACH ROW EXECUTE FUNCTION app.touch();
COMMENT ON TABLE app.accounts IS 'People''s accounts \ with a backslash';
COMMENT ON COLUMN app.accounts.email IS 'login, case-insensitive';
COMMENT ON VIEW app.happy_accounts IS 'only the happy ones';
COMMENT ON MATERIALIZED VIEW app.totals IS 'per account';
CREATE TABLE public.shale_migrations (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, version text NOT NULL);
CREATE INDEX shale_migrations_version ON public.shale_migrations (version);
"#;

#[tokio::test]
async fn rich_schema_round_trips_byte_for_byte() {
    let a = fresh_database("schema_rich");
    apply(&a, RICH);
    let dumped = round_trip(&a, "schema_rich_b").await;

    for expected in [
        "CREATE SCHEMA app;",
        "CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA app;",
        "CREATE TYPE app.mood AS ENUM ('sad', 'meh', 'ok', 'happy');",
        "CREATE SEQUENCE app.invoice_no AS integer START WITH 1000 INCREMENT BY 5 MINVALUE 1 MAXVALUE 999999 CACHE 10 CYCLE;",
        "CREATE SEQUENCE public.standalone AS bigint",
        "ALTER SEQUENCE app.invoices_line_seq OWNED BY app.invoices.line;",
        "id bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME app.accounts_id_seq",
        "GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME public.cache_id_seq START WITH 10 INCREMENT BY 2",
        "name text COLLATE pg_catalog.\"C\" NOT NULL",
        "\"Weird \"\"Name\"\"\" integer,",
        "\"order\" integer,",
        "name_lower text GENERATED ALWAYS AS (lower(name)) STORED",
        "CREATE UNLOGGED TABLE public.cache",
        ") PARTITION BY RANGE (at);",
        "CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM",
        "PARTITION BY LIST (kind);",
        "CREATE TABLE public.events_default PARTITION OF public.events DEFAULT;",
        "CREATE INDEX events_at ON public.events USING btree (at);",
        "CHECK ((amount > (0)::numeric)) NOT VALID;",
        "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;",
        "EXCLUDE USING gist (during WITH &&);",
        "USING gin (profile jsonb_path_ops);",
        "CREATE MATERIALIZED VIEW app.totals AS",
        "CREATE UNIQUE INDEX totals_account ON app.totals USING btree (account_id);",
        "CREATE OR REPLACE PROCEDURE app.noop()",
        "ALTER TABLE app.invoices DISABLE TRIGGER invoices_touch_off;",
        "CREATE TRIGGER events_touch BEFORE UPDATE ON public.events",
        "COMMENT ON TABLE app.accounts IS E'People''s accounts \\\\ with a backslash';",
        "COMMENT ON COLUMN app.accounts.email IS 'login, case-insensitive';",
        "COMMENT ON VIEW app.happy_accounts IS",
        "COMMENT ON MATERIALIZED VIEW app.totals IS",
    ] {
        assert!(dumped.contains(expected), "the dump lacks {expected:?}\n--- dump ---\n{dumped}");
    }
    // Views after the views they read, whatever their names.
    let at = |s: &str| dumped.find(s).unwrap_or_else(|| panic!("no {s:?} in\n{dumped}"));
    assert!(at("CREATE VIEW app.happy_accounts") < at("CREATE VIEW app.happy_count"));
    assert!(at("CREATE VIEW app.happy_count") < at("CREATE VIEW app.a_first"));
    // Functions a default uses come before the tables; those reading tables after them.
    assert!(at("FUNCTION app.double(x integer)") < at("CREATE TABLE app.accounts"));
    assert!(at("CREATE TABLE app.accounts") < at("FUNCTION app.account_label"));
    assert!(at("CREATE TABLE app.accounts") < at("FUNCTION app.account_count"));
    // Foreign keys after every table and unique constraint.
    assert!(at("CREATE UNLOGGED TABLE public.cache") < at("invoices_account_fk"));
    // Partition copies of constraints, indexes and triggers are not repeated.
    assert!(!dumped.contains("events_2024_a_pkey"), "{dumped}");
    assert!(!dumped.contains("events_2024_a_at_idx"), "{dumped}");
    assert_eq!(dumped.matches("CREATE TRIGGER events_touch").count(), 1, "{dumped}");
    assert_eq!(dumped.matches("events_kind").count(), 1, "{dumped}");
}

#[tokio::test]
async fn history_table_and_extension_objects_are_left_out() {
    let a = fresh_database("schema_leftout");
    apply(&a, RICH);
    let m = model(&a).await;
    let dumped = dump(&m);
    assert!(!dumped.contains("shale_migrations"), "{dumped}");
    assert!(dumped.contains("CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;"), "{dumped}");
    assert!(dumped.contains("CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA app;"), "{dumped}");
    // pgcrypto's functions and citext's type, functions and operators belong to the extensions.
    assert!(!m.functions.iter().any(|f| f.name == "gen_random_bytes" || f.name == "crypt"), "{:?}", m.functions);
    assert!(!m.functions.iter().any(|f| f.name.starts_with("citext")), "{:?}", m.functions);
    assert!(!dumped.contains("FUNCTION public.crypt"), "{dumped}");
    assert!(!dumped.contains("CREATE TYPE app.citext"), "{dumped}");
    // The user's own functions are there.
    assert!(m.functions.iter().any(|f| f.name == "touch"), "{:?}", m.functions);
    // With another history table name, the table is dumped like any other.
    let other = introspect(&client(&a).await, ("public", "some_other_history")).await.unwrap();
    assert!(dump(&other).contains("CREATE TABLE public.shale_migrations"));
}

/// The same schema built in two different orders (and with a dropped column in one) dumps the same.
#[tokio::test]
async fn creation_order_does_not_matter() {
    let one = fresh_database("schema_order_1");
    let two = fresh_database("schema_order_2");
    apply(
        &one,
        "CREATE TYPE color AS ENUM ('red', 'green');
         CREATE TABLE parent (id serial PRIMARY KEY, name text NOT NULL, c color);
         CREATE TABLE child (id bigserial PRIMARY KEY, parent_id integer NOT NULL REFERENCES parent (id), note text);
         CREATE INDEX child_parent ON child (parent_id);
         CREATE INDEX parent_name ON parent (name);
         CREATE VIEW v1 AS SELECT id FROM parent;
         CREATE VIEW v2 AS SELECT id FROM v1;
         CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TRIGGER t1 BEFORE INSERT ON child FOR EACH ROW EXECUTE FUNCTION f();
         CREATE TRIGGER t2 BEFORE INSERT ON parent FOR EACH ROW EXECUTE FUNCTION f();
         COMMENT ON TABLE child IS 'children';",
    );
    apply(
        &two,
        "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TYPE color AS ENUM ('red', 'green');
         CREATE TABLE parent (id serial PRIMARY KEY, gone integer, name text NOT NULL, c color);
         ALTER TABLE parent DROP COLUMN gone;
         CREATE VIEW v1 AS SELECT id FROM parent;
         CREATE VIEW v2 AS SELECT id FROM v1;
         CREATE INDEX parent_name ON parent (name);
         CREATE TRIGGER t2 BEFORE INSERT ON parent FOR EACH ROW EXECUTE FUNCTION f();
         CREATE TABLE child (id bigserial PRIMARY KEY, parent_id integer NOT NULL, note text);
         COMMENT ON TABLE child IS 'children';
         CREATE TRIGGER t1 BEFORE INSERT ON child FOR EACH ROW EXECUTE FUNCTION f();
         CREATE INDEX child_parent ON child (parent_id);
         ALTER TABLE child ADD CONSTRAINT child_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES parent (id);",
    );
    let (d1, d2) = (dump(&model(&one).await), dump(&model(&two).await));
    assert_eq!(d1, d2);
    assert!(d1.contains("CREATE TABLE public.child") && d1.contains("child_parent_id_fkey"), "{d1}");

    // And a real difference shows.
    apply(&two, "CREATE INDEX child_note ON child (note);");
    assert_ne!(d1, dump(&model(&two).await));
}

#[tokio::test]
async fn example_projects_round_trip() {
    for example in ["dht", "textbook", "paiid"] {
        let a = fresh_database(&format!("schema_ex_{example}"));
        apply(&a, &example_up_sql(example));
        let dumped = round_trip(&a, &format!("schema_ex_{example}_b")).await;
        assert!(dumped.contains("CREATE TABLE public.users"), "{example}: suspiciously small dump:\n{dumped}");
        match example {
            "dht" => {
                assert!(dumped.contains("PARTITION OF public.usage_records FOR VALUES FROM"), "{dumped}");
                assert!(dumped.contains("CREATE TABLE public.usage_records_default PARTITION OF"), "{dumped}");
                assert!(dumped.contains("USING gin (scopes)"), "{dumped}");
            }
            "textbook" => assert!(dumped.contains("USING gin (profile)"), "{dumped}"),
            _ => {}
        }
    }
}

/// One catalog round trip, however many objects there are.
#[tokio::test]
async fn introspection_sends_one_query_whatever_the_size() {
    let empty = fresh_database("schema_q_empty");
    let rich = fresh_database("schema_q_rich");
    apply(&rich, RICH);
    let mut many = String::new();
    for i in 0..60 {
        many.push_str(&format!(
            "CREATE TABLE t{i} (id serial PRIMARY KEY, v text); CREATE INDEX t{i}_v ON t{i} (v);
             CREATE VIEW v{i} AS SELECT * FROM t{i};\n"
        ));
    }
    apply(&rich, &many);

    for (db, min_tables) in [(&empty, 0), (&rich, 60)] {
        let c = client(db).await;
        let before = round_trips_on_this_thread();
        let m = introspect(&c, HISTORY).await.unwrap();
        assert_eq!(round_trips_on_this_thread() - before, 1, "{}", db.name);
        assert!(m.tables.len() >= min_tables);
        // The connection is usable afterwards (the transaction was closed).
        c.simple_query("SELECT 1").await.unwrap();
    }
}

/// betterauth and urtraining have `varchar_column IN ('a', 'b')` checks: PostgreSQL deparses them
/// as `(col)::text = ANY ((ARRAY['a'::varchar, ...])::text[])`, which parses back into a different
/// (equivalent) tree that deparses as `ANY (ARRAY[('a'::varchar)::text, ...])` (pg_dump output has
/// the same effect). So the first reload may rewrite exactly those lines; from then on the dump
/// is stable byte for byte.
#[tokio::test]
async fn varchar_in_checks_round_trip_after_one_normalization() {
    for example in ["betterauth", "urtraining"] {
        let a = fresh_database(&format!("schema_ex_{example}"));
        apply(&a, &example_up_sql(example));
        let dump_a = dump(&model(&a).await);
        let (_b, _, dump_b) = reload(&dump_a, &format!("schema_ex_{example}_b")).await;
        let (only_a, only_b) = line_diff(&dump_a, &dump_b);
        assert_eq!(only_a.len(), only_b.len(), "{example}: {only_a:#?} {only_b:#?}");
        for line in only_a.iter().chain(&only_b) {
            assert!(
                line.contains("_check CHECK (") && line.contains("= ANY ("),
                "{example}: unexpected change: {line}"
            );
        }
        let (_c, _, dump_c) = reload(&dump_b, &format!("schema_ex_{example}_c")).await;
        if dump_b != dump_c {
            let (only_b, only_c) = line_diff(&dump_b, &dump_c);
            panic!("{example}: the dump is not stable after one reload: {only_b:#?} {only_c:#?}");
        }
        assert!(dump_b.contains("CREATE TABLE public.users"), "{dump_b}");
        if example == "betterauth" {
            for expected in ["LANGUAGE plpgsql", "CREATE TRIGGER update_users_updated_at", "USING gin (", "text[]"] {
                assert!(dump_b.contains(expected), "no {expected:?} in\n{dump_b}");
            }
        }
    }
}

/// Roles are per cluster (shared by every test database): create them once, whoever comes first.
fn ensure_roles() {
    let create = |role: &str| {
        format!(
            "DO $$ BEGIN CREATE ROLE {role}; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;\n"
        )
    };
    let sql = create("shale_test_reader") + &create("\"Shale Test Writer\"");
    shared_cluster().psql("postgres", &sql).unwrap_or_else(|e| panic!("creating test roles: {e}"));
}

/// Domains, composite and range types, inheritance, row-level security and policies, aggregates,
/// and the objects comments and privileges can be on. Type names are chosen so that name order
/// is not dependency order.
const MORE_KINDS: &str = r#"
CREATE SCHEMA billing;
CREATE TYPE billing.currency AS ENUM ('EUR', 'USD');
CREATE DOMAIN billing.z_positive AS numeric(12, 2) NOT NULL DEFAULT 0 CONSTRAINT positive_check CHECK (VALUE >= 0);
ALTER DOMAIN billing.z_positive ADD CONSTRAINT not_huge CHECK (VALUE < 1000000) NOT VALID;
CREATE DOMAIN billing.y_code AS text COLLATE "C" CHECK (VALUE ~ '^[A-Z]+$');
CREATE DOMAIN billing.codes AS billing.y_code[];
CREATE TYPE billing.money_amount AS (amount billing.z_positive, currency billing.currency, note text COLLATE "C");
CREATE TYPE billing.a_pair AS (first billing.money_amount, codes billing.codes);
CREATE TYPE billing.nothing AS ();
CREATE FUNCTION billing.time_diff(x time, y time) RETURNS float8 LANGUAGE sql IMMUTABLE STRICT
    AS 'SELECT EXTRACT(EPOCH FROM (x - y))';
CREATE TYPE billing.timerange AS RANGE (subtype = time, subtype_diff = billing.time_diff);
CREATE DOMAIN billing.a_hours AS billing.timerange CHECK (NOT isempty(VALUE));
CREATE TYPE billing.textrange AS RANGE (subtype = text, collation = "C", multirange_type_name = billing.text_ranges);
CREATE TYPE billing.pattern_span AS RANGE (subtype = text, subtype_opclass = text_pattern_ops);
CREATE FUNCTION billing.is_code(t text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT t ~ '^[A-Z]+$' $$;
CREATE FUNCTION billing.default_code() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'AAA' $$;
CREATE DOMAIN billing.checked_code AS text DEFAULT billing.default_code() CONSTRAINT is_code CHECK (billing.is_code(VALUE));
CREATE FUNCTION billing.add_len(s integer, t text) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT s + length(t)';
CREATE AGGREGATE billing.total(billing.z_positive) (SFUNC = numeric_add, STYPE = numeric, INITCOND = '0');
CREATE AGGREGATE billing.total_len(text) (SFUNC = billing.add_len, STYPE = integer, INITCOND = '0', PARALLEL = SAFE);
CREATE AGGREGATE billing.my_count(*) (SFUNC = int8inc, STYPE = int8, INITCOND = '0');
CREATE AGGREGATE billing.my_max(integer) (SFUNC = int4larger, STYPE = integer, SORTOP = >);
CREATE AGGREGATE billing.my_pct(float8 ORDER BY anyelement) (SFUNC = ordered_set_transition, STYPE = internal,
    FINALFUNC = percentile_disc_final, FINALFUNC_EXTRA);
CREATE PROCEDURE billing.close_books() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE TABLE billing.invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_name text NOT NULL DEFAULT current_user,
    total billing.money_amount,
    amount billing.z_positive,
    codes billing.codes,
    hours billing.a_hours,
    names billing.textrange,
    code billing.checked_code,
    pair billing.a_pair
);
CREATE INDEX invoices_owner ON billing.invoices (owner_name);
CREATE TABLE billing.base_b (id integer, flag boolean DEFAULT false);
CREATE TABLE billing.base_a (id integer NOT NULL, created timestamptz DEFAULT now(), note text);
CREATE TABLE billing.child (extra text, id integer NOT NULL) INHERITS (billing.base_b, billing.base_a);
ALTER TABLE billing.child ALTER COLUMN note SET DEFAULT 'child';
ALTER TABLE ONLY billing.child ALTER COLUMN flag SET NOT NULL;
CREATE TABLE billing.grandchild (more integer) INHERITS (billing.child);
ALTER TABLE billing.base_a ADD CONSTRAINT base_a_id_check CHECK (id > 0);
CREATE VIEW billing.invoice_totals AS SELECT owner_name, billing.total(amount) AS total FROM billing.invoices GROUP BY owner_name;
CREATE FUNCTION billing.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER invoices_touch BEFORE UPDATE ON billing.invoices FOR EACH ROW EXECUTE FUNCTION billing.touch();
ALTER TABLE billing.invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.invoices FORCE ROW LEVEL SECURITY;
ALTER TABLE billing.base_a ENABLE ROW LEVEL SECURITY;
"#;

/// One statement per line, independent of each other: the order test shuffles them.
const MORE_KINDS_EXTRAS: &str = r#"CREATE POLICY owner_only ON billing.invoices USING (owner_name = current_user);
CREATE POLICY no_big ON billing.invoices AS RESTRICTIVE FOR INSERT TO "Shale Test Writer", shale_test_reader WITH CHECK (amount < 500);
CREATE POLICY readers ON billing.invoices FOR SELECT TO shale_test_reader USING (billing.is_code(owner_name));
CREATE POLICY updates ON billing.invoices FOR UPDATE USING (true) WITH CHECK (amount > 0);
GRANT USAGE ON SCHEMA billing TO shale_test_reader;
GRANT SELECT ON billing.invoices TO shale_test_reader;
GRANT SELECT, INSERT, UPDATE ON billing.invoices TO "Shale Test Writer" WITH GRANT OPTION;
GRANT UPDATE (owner_name), REFERENCES (owner_name) ON billing.invoices TO shale_test_reader;
GRANT USAGE ON SEQUENCE billing.invoices_id_seq TO "Shale Test Writer";
REVOKE EXECUTE ON FUNCTION billing.time_diff(time, time) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.time_diff(time, time) TO shale_test_reader;
REVOKE EXECUTE ON PROCEDURE billing.close_books() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.total(billing.z_positive) TO shale_test_reader;
REVOKE USAGE ON TYPE billing.currency FROM PUBLIC;
GRANT USAGE ON DOMAIN billing.z_positive TO "Shale Test Writer";
GRANT USAGE ON TYPE billing.timerange TO shale_test_reader;
GRANT SELECT ON billing.invoice_totals TO PUBLIC;
REVOKE USAGE ON SCHEMA public FROM PUBLIC;
COMMENT ON SCHEMA billing IS 'money';
COMMENT ON TYPE billing.currency IS 'an enum';
COMMENT ON TYPE billing.money_amount IS 'a composite';
COMMENT ON COLUMN billing.money_amount.note IS 'an attribute';
COMMENT ON TYPE billing.timerange IS 'a range';
COMMENT ON DOMAIN billing.z_positive IS 'a domain';
COMMENT ON CONSTRAINT positive_check ON DOMAIN billing.z_positive IS 'a domain check';
COMMENT ON SEQUENCE billing.invoices_id_seq IS 'an identity sequence';
COMMENT ON INDEX billing.invoices_owner IS 'an index';
COMMENT ON INDEX billing.invoices_pkey IS 'a constraint''s index';
COMMENT ON CONSTRAINT invoices_pkey ON billing.invoices IS 'a constraint';
COMMENT ON FUNCTION billing.time_diff(time, time) IS 'a function';
COMMENT ON PROCEDURE billing.close_books() IS 'a procedure';
COMMENT ON AGGREGATE billing.my_count(*) IS 'an aggregate without arguments';
COMMENT ON AGGREGATE billing.my_pct(float8 ORDER BY anyelement) IS 'an ordered-set aggregate';
COMMENT ON TRIGGER invoices_touch ON billing.invoices IS 'a trigger';
COMMENT ON POLICY owner_only ON billing.invoices IS 'a policy';
COMMENT ON COLUMN billing.invoice_totals.total IS 'a view column';
COMMENT ON TABLE billing.child IS 'an inheriting table';"#;

#[tokio::test]
async fn every_object_kind_round_trips() {
    ensure_roles();
    let a = fresh_database("schema_kinds");
    apply(&a, &format!("{MORE_KINDS}\n{MORE_KINDS_EXTRAS}"));
    let dumped = round_trip(&a, "schema_kinds_b").await;

    for expected in [
        "CREATE DOMAIN billing.z_positive AS numeric(12,2) DEFAULT 0 NOT NULL;",
        "ALTER DOMAIN billing.z_positive ADD CONSTRAINT not_huge CHECK ((VALUE < (1000000)::numeric)) NOT VALID;",
        "CREATE DOMAIN billing.y_code AS text COLLATE pg_catalog.\"C\";",
        "CREATE DOMAIN billing.codes AS billing.y_code[];",
        "CREATE TYPE billing.money_amount AS (\n    amount billing.z_positive,\n    currency billing.currency,\n    note text COLLATE pg_catalog.\"C\"\n);",
        "CREATE TYPE billing.nothing AS ();",
        "CREATE TYPE billing.timerange AS RANGE (SUBTYPE = time without time zone, SUBTYPE_DIFF = billing.time_diff);",
        "CREATE TYPE billing.textrange AS RANGE (SUBTYPE = text, COLLATION = pg_catalog.\"C\", MULTIRANGE_TYPE_NAME = billing.text_ranges);",
        "CREATE TYPE billing.pattern_span AS RANGE (SUBTYPE = text, SUBTYPE_OPCLASS = pg_catalog.text_pattern_ops);",
        "CREATE DOMAIN billing.a_hours AS billing.timerange;",
        "ALTER DOMAIN billing.checked_code SET DEFAULT billing.default_code();",
        "CREATE AGGREGATE billing.my_count(*) (SFUNC = int8inc, STYPE = bigint, INITCOND = '0');",
        "CREATE AGGREGATE billing.total_len(text) (SFUNC = billing.add_len, STYPE = integer, INITCOND = '0', PARALLEL = SAFE);",
        "SORTOP = OPERATOR(pg_catalog.>)",
        "CREATE AGGREGATE billing.my_pct(double precision ORDER BY anyelement)",
        ") INHERITS (billing.base_b, billing.base_a);",
        "ALTER TABLE ONLY billing.child ALTER COLUMN note SET DEFAULT 'child'::text;",
        "ALTER TABLE ONLY billing.child ALTER COLUMN flag SET NOT NULL;",
        "ALTER TABLE billing.invoices ENABLE ROW LEVEL SECURITY;",
        "ALTER TABLE billing.invoices FORCE ROW LEVEL SECURITY;",
        "ALTER TABLE billing.base_a ENABLE ROW LEVEL SECURITY;",
        "CREATE POLICY no_big ON billing.invoices AS RESTRICTIVE FOR INSERT TO \"Shale Test Writer\", shale_test_reader WITH CHECK (",
        "CREATE POLICY owner_only ON billing.invoices USING (",
        "CREATE POLICY readers ON billing.invoices FOR SELECT TO shale_test_reader USING (",
        "GRANT USAGE ON SCHEMA billing TO shale_test_reader;",
        "REVOKE USAGE ON SCHEMA public FROM PUBLIC;",
        "GRANT INSERT, SELECT, UPDATE ON TABLE billing.invoices TO \"Shale Test Writer\" WITH GRANT OPTION;",
        "GRANT SELECT ON TABLE billing.invoices TO shale_test_reader;",
        "GRANT REFERENCES (owner_name), UPDATE (owner_name) ON TABLE billing.invoices TO shale_test_reader;",
        "GRANT USAGE ON SEQUENCE billing.invoices_id_seq TO \"Shale Test Writer\";",
        "REVOKE EXECUTE ON FUNCTION billing.time_diff(x time without time zone, y time without time zone) FROM PUBLIC;",
        "GRANT EXECUTE ON FUNCTION billing.time_diff(x time without time zone, y time without time zone) TO shale_test_reader;",
        "REVOKE EXECUTE ON PROCEDURE billing.close_books() FROM PUBLIC;",
        "GRANT EXECUTE ON FUNCTION billing.total(billing.z_positive) TO shale_test_reader;",
        "REVOKE USAGE ON TYPE billing.currency FROM PUBLIC;",
        "GRANT USAGE ON DOMAIN billing.z_positive TO \"Shale Test Writer\";",
        "GRANT SELECT ON TABLE billing.invoice_totals TO PUBLIC;",
        "COMMENT ON SCHEMA billing IS 'money';",
        "COMMENT ON TYPE billing.currency IS 'an enum';",
        "COMMENT ON COLUMN billing.money_amount.note IS 'an attribute';",
        "COMMENT ON DOMAIN billing.z_positive IS 'a domain';",
        "COMMENT ON CONSTRAINT positive_check ON DOMAIN billing.z_positive IS 'a domain check';",
        "COMMENT ON SEQUENCE billing.invoices_id_seq IS 'an identity sequence';",
        "COMMENT ON INDEX billing.invoices_pkey IS 'a constraint''s index';",
        "COMMENT ON CONSTRAINT invoices_pkey ON billing.invoices IS 'a constraint';",
        "COMMENT ON PROCEDURE billing.close_books() IS 'a procedure';",
        "COMMENT ON AGGREGATE billing.my_count(*) IS",
        "COMMENT ON AGGREGATE billing.my_pct(double precision ORDER BY anyelement) IS",
        "COMMENT ON TRIGGER invoices_touch ON billing.invoices IS 'a trigger';",
        "COMMENT ON POLICY owner_only ON billing.invoices IS 'a policy';",
        "COMMENT ON COLUMN billing.invoice_totals.total IS 'a view column';",
    ] {
        assert!(dumped.contains(expected), "the dump lacks {expected:?}\n--- dump ---\n{dumped}");
    }
    let at = |s: &str| dumped.find(s).unwrap_or_else(|| panic!("no {s:?} in\n{dumped}"));
    // Types after the types they are built on, whatever their names.
    assert!(at("CREATE DOMAIN billing.z_positive") < at("CREATE TYPE billing.money_amount"));
    assert!(at("CREATE TYPE billing.money_amount") < at("CREATE TYPE billing.a_pair"));
    assert!(at("CREATE DOMAIN billing.y_code") < at("CREATE DOMAIN billing.codes"));
    assert!(at("CREATE DOMAIN billing.codes") < at("CREATE TYPE billing.a_pair"));
    // A range with a user subdiff function, and a domain over it, after the functions.
    assert!(at("FUNCTION billing.time_diff") < at("CREATE TYPE billing.timerange"));
    assert!(at("CREATE TYPE billing.timerange") < at("CREATE DOMAIN billing.a_hours"));
    assert!(at("CREATE DOMAIN billing.a_hours") < at("CREATE TABLE billing.invoices"));
    // Parents before inheriting tables; inherited columns are not repeated, own ones are.
    assert!(at("CREATE TABLE billing.base_b") < at("CREATE TABLE billing.child"));
    assert!(at("CREATE TABLE billing.child") < at("CREATE TABLE billing.grandchild"));
    let child = &dumped[at("CREATE TABLE billing.child")..];
    let child = &child[..child.find(";").unwrap()];
    assert!(child.contains("extra text") && child.contains("id integer NOT NULL"), "{child}");
    assert!(!child.contains("created") && !child.contains("flag"), "{child}");
    assert_eq!(dumped.matches("base_a_id_check").count(), 1, "{dumped}");
    // Aggregates before the views that use them; policies, comments and privileges at the end.
    assert!(at("CREATE AGGREGATE billing.total(") < at("CREATE VIEW billing.invoice_totals"));
    assert!(at("CREATE TRIGGER invoices_touch") < at("CREATE POLICY"));
    assert!(at("CREATE POLICY") < at("COMMENT ON POLICY"));
    assert!(at("COMMENT ON POLICY") < at("GRANT "));
    // Owners are not dumped.
    assert!(!dumped.contains("OWNER TO"), "{dumped}");

    // The grandchild got the child's own default when created, so none is repeated for it.
    let m = model(&a).await;
    let grandchild = m.tables.iter().find(|t| t.name == "grandchild").unwrap();
    let note = grandchild.columns.iter().find(|c| c.name == "note").unwrap();
    assert_eq!(note.default.as_deref(), Some("'child'::text"));
    assert_eq!(grandchild.inherits.len(), 1);
}

/// The new kinds, with grants, policies and comments given in the opposite order (so ACLs,
/// policy role lists and catalog rows come out in another order), dump the same.
#[tokio::test]
async fn every_object_kind_is_independent_of_creation_order() {
    ensure_roles();
    let one = fresh_database("schema_kinds_order_1");
    let two = fresh_database("schema_kinds_order_2");
    apply(&one, &format!("{MORE_KINDS}\n{MORE_KINDS_EXTRAS}"));
    // Reversed, but policies still before their comments.
    let mut reversed: Vec<&str> = MORE_KINDS_EXTRAS.lines().rev().collect();
    reversed.sort_by_key(|l| l.starts_with("COMMENT"));
    let reversed = reversed
        .join("\n")
        .replace("TO \"Shale Test Writer\", shale_test_reader", "TO shale_test_reader, \"Shale Test Writer\"");
    apply(&two, &format!("{MORE_KINDS}\n{reversed}"));
    let (d1, d2) = (dump(&model(&one).await), dump(&model(&two).await));
    if d1 != d2 {
        let (only_1, only_2) = line_diff(&d1, &d2);
        panic!("creation order shows in the dump\nonly in one: {only_1:#?}\nonly in two: {only_2:#?}");
    }
}

/// Drift (compare) sees a difference in each of the new kinds, and none between equal schemas.
#[tokio::test]
async fn compare_reports_differences_in_every_new_kind() {
    ensure_roles();
    let base = "CREATE TABLE base (id integer);
        CREATE DOMAIN d AS integer CONSTRAINT d_positive CHECK (VALUE > 0);
        CREATE TYPE c AS (a integer);
        CREATE TYPE r AS RANGE (subtype = integer);
        CREATE AGGREGATE agg(integer) (SFUNC = int4larger, STYPE = integer);";
    let expected = fresh_database("schema_cmp_expected");
    let same = fresh_database("schema_cmp_same");
    let actual = fresh_database("schema_cmp_actual");
    let expected_sql = format!(
        "{base}
        CREATE TABLE t (x integer) INHERITS (base);
        ALTER TABLE t ENABLE ROW LEVEL SECURITY;
        CREATE POLICY p ON t USING (x > 0);
        GRANT SELECT ON t TO shale_test_reader;
        COMMENT ON DOMAIN d IS 'positive';"
    );
    apply(&expected, &expected_sql);
    apply(&same, &expected_sql);
    apply(
        &actual,
        &format!(
            "{base}
            CREATE TABLE t (x integer);
            ALTER TABLE t ENABLE ROW LEVEL SECURITY;
            ALTER TABLE t FORCE ROW LEVEL SECURITY;
            CREATE POLICY p ON t USING (x > 1);
            GRANT SELECT, INSERT ON t TO shale_test_reader;
            COMMENT ON DOMAIN d IS 'changed';
            ALTER DOMAIN d DROP CONSTRAINT d_positive;
            ALTER DOMAIN d ADD CONSTRAINT d_positive CHECK (VALUE >= 0);
            ALTER TYPE c ALTER ATTRIBUTE a TYPE bigint;
            DROP AGGREGATE agg(integer);
            CREATE AGGREGATE agg(integer) (SFUNC = int4smaller, STYPE = integer);
            DROP TYPE r;
            CREATE TYPE r AS RANGE (subtype = bigint);"
        ),
    );
    let (m_expected, m_same, m_actual) = (model(&expected).await, model(&same).await, model(&actual).await);
    assert_eq!(differences(&m_expected, &m_same), vec![]);
    let found: Vec<String> = differences(&m_expected, &m_actual).into_iter().map(|d| d.object).collect();
    for object in [
        "table public.t",
        "row level security public.t",
        "policy public.t.p",
        "privileges on TABLE public.t",
        "comment on DOMAIN public.d",
        "domain constraint public.d.d_positive",
        "type public.c",
        "type public.r",
        "aggregate public.agg(integer)",
    ] {
        assert!(found.iter().any(|f| f == object), "no difference reported for {object}: {found:#?}");
    }
}
