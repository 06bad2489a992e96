//! Diff of two 2,000-table models (issue 4's target: under 100 ms), without a server: the models
//! are built the way introspection fills them for `bench/schema.sh`'s schema (bigserial keys,
//! jsonb with GIN, partial unique expression indexes, a foreign key chain, a view on every 10th
//! table, a trigger on every 5th, a SELECT grant on every table, a policy on every 10th). The
//! second model changes about one object in ten: new and dropped tables, added and retyped
//! columns (which recreate the views reading them), changed indexes and policies.
//!
//! Run: `cargo bench -p shale-schema --bench diff`

use criterion::{criterion_group, criterion_main, Criterion};
use shale_schema::diff::diff;
use shale_schema::model::{
    Column, Constraint, ConstraintKind, Function, FunctionKind, Grant, Index, ObjectPrivileges, Policy, PrivilegeKind,
    Schema, Sequence, SequenceOptions, Table, TableUse, Trigger, View,
};

fn column(name: &str, data_type: &str, not_null: bool, default: Option<&str>) -> Column {
    Column {
        name: name.into(),
        data_type: data_type.into(),
        not_null,
        default: default.map(str::to_string),
        ..Default::default()
    }
}

/// `n` tables; `changed` applies the second model's edits.
fn model(n: usize, changed: bool) -> Schema {
    let mut s = Schema { schemas: vec!["public".into()], ..Default::default() };
    s.functions.push(Function {
        schema: "public".into(),
        name: "touch".into(),
        arguments: String::new(),
        kind: FunctionKind::Function,
        definition: "CREATE OR REPLACE FUNCTION public.touch()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$ BEGIN NEW.updated_at := now(); RETURN NEW; END $function$\n".into(),
        needs_tables: false,
        depends_on: Vec::new(),
        uses: Vec::new(),
        calls: Vec::new(),
    });
    for i in 1..=n {
        // The second model drops every 100th table and adds as many new ones at the end.
        if changed && i.is_multiple_of(100) {
            continue;
        }
        push_table(&mut s, i, changed);
    }
    if changed {
        for i in n + 1..=n + n / 100 {
            push_table(&mut s, i, changed);
        }
    }
    s.normalize();
    s
}

fn push_table(s: &mut Schema, i: usize, changed: bool) {
    let t = format!("t{i}");
    let public = || "public".to_string();
    let mut columns = vec![
        column("id", "bigint", true, Some(&format!("nextval('public.{t}_id_seq'::regclass)"))),
        column("name", if changed && i.is_multiple_of(20) { "character varying(200)" } else { "text" }, true, None),
        column("doc", "jsonb", true, Some("'{}'::jsonb")),
        column("tags", "text[]", true, Some("'{}'::text[]")),
        column("updated_at", "timestamp with time zone", true, Some("now()")),
        column("parent_id", "bigint", false, None),
    ];
    if changed && i.is_multiple_of(10) {
        columns.push(column("archived_at", "timestamp with time zone", false, None));
    }
    s.tables.push(Table { schema: public(), name: t.clone(), columns, ..Default::default() });
    s.sequences.push(Sequence {
        schema: public(),
        name: format!("{t}_id_seq"),
        options: SequenceOptions {
            data_type: "bigint".into(),
            start: 1,
            increment: 1,
            min: 1,
            max: i64::MAX,
            cache: 1,
            cycle: false,
        },
        owned_by: Some(shale_schema::model::ColumnRef { schema: public(), table: t.clone(), column: "id".into() }),
    });
    // What pg_depend records: the columns each object uses.
    let uses = |table: &str, columns: &[&str]| TableUse {
        schema: public(),
        table: table.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        row_type: false,
    };
    let constraint = |name: String, kind, definition: String, used: Vec<TableUse>| Constraint {
        schema: public(),
        table: t.clone(),
        name,
        kind,
        definition,
        validated: true,
        deferrable: false,
        deferred: false,
        uses: used,
    };
    s.constraints.push(constraint(
        format!("{t}_pkey"),
        ConstraintKind::PrimaryKey,
        "PRIMARY KEY (id)".into(),
        vec![uses(&t, &["id"])],
    ));
    if i > 1 {
        let parent = format!("t{}", i - 1);
        s.constraints.push(constraint(
            format!("{t}_parent_id_fkey"),
            ConstraintKind::ForeignKey,
            format!("FOREIGN KEY (parent_id) REFERENCES public.{parent}(id) ON DELETE CASCADE"),
            vec![uses(&t, &["parent_id"]), uses(&parent, &["id"])],
        ));
    }
    let index = |name: String, definition: String, used: Vec<TableUse>| Index {
        schema: public(),
        table: t.clone(),
        name,
        definition,
        on_materialized_view: false,
        valid: true,
        uses: used,
        calls: Vec::new(),
    };
    let ops = if changed && i % 10 == 5 { " jsonb_path_ops" } else { "" };
    s.indexes.push(index(
        format!("{t}_doc"),
        format!("CREATE INDEX {t}_doc ON public.{t} USING gin (doc{ops})"),
        vec![uses(&t, &["doc"])],
    ));
    s.indexes.push(index(
        format!("{t}_name"),
        format!("CREATE UNIQUE INDEX {t}_name ON public.{t} USING btree (lower(name)) WHERE (name <> ''::text)"),
        vec![uses(&t, &["name"])],
    ));
    s.privileges.push(ObjectPrivileges {
        kind: PrivilegeKind::Table,
        schema: public(),
        name: t.clone(),
        column: None,
        arguments: None,
        granted: vec![Grant { grantee: "bench_reader".into(), privilege: "SELECT".into(), grantable: false }],
        revoked: Vec::new(),
    });
    if i.is_multiple_of(10) {
        s.views.push(View {
            schema: public(),
            name: format!("v{i}"),
            materialized: false,
            definition: format!(
                " SELECT {t}.id,\n    {t}.name\n   FROM public.{t}\n  WHERE ({t}.doc ? 'active'::text);"
            ),
            comment: None,
            depends_on: Vec::new(),
            uses: vec![uses(&t, &["doc", "id", "name"])],
        });
        let using = if changed && i.is_multiple_of(30) { "(name = SESSION_USER)" } else { "(name = CURRENT_USER)" };
        s.policies.push(Policy {
            schema: public(),
            table: t.clone(),
            name: format!("{t}_own"),
            permissive: true,
            command: "ALL".into(),
            roles: vec!["PUBLIC".into()],
            using: Some(using.into()),
            with_check: None,
            uses: vec![uses(&t, &["name"])],
        });
    }
    if i.is_multiple_of(5) {
        s.triggers.push(Trigger {
            schema: public(),
            table: t.clone(),
            name: format!("{t}_touch"),
            definition: format!(
                "CREATE TRIGGER {t}_touch BEFORE UPDATE ON public.{t} FOR EACH ROW EXECUTE FUNCTION public.touch()"
            ),
            enabled: "O".into(),
            uses: vec![uses(&t, &[])],
        });
    }
}

fn bench(c: &mut Criterion) {
    let (a, b) = (model(2000, false), model(2000, true));
    let changes = diff(&a, &b);
    assert!(changes.changes.len() > 500, "the models differ: {} changes", changes.changes.len());
    assert!(diff(&a, &a).is_empty());
    eprintln!(
        "2,000-table models: {} changes, {} statements of SQL text",
        changes.changes.len(),
        changes.to_sql(true).lines().count()
    );
    c.bench_function("diff 2000-table models (about 10% changed)", |bench| bench.iter(|| diff(&a, &b)));
    c.bench_function("diff 2000-table models (identical)", |bench| bench.iter(|| diff(&a, &a)));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
