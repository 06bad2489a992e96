use super::*;
use crate::model::{Column, View};

#[test]
fn a_name_is_mentioned_only_as_a_whole_name() {
    assert!(mentions("SELECT x FROM public.users u", "public.users"));
    assert!(mentions("SELECT x FROM public.users", "public.users"));
    assert!(!mentions("SELECT x FROM public.users_archive", "public.users"));
    assert!(mentions("FROM public.users, public.users_archive", "public.users"));
}

fn table(name: &str, columns: &[(&str, &str)]) -> Table {
    Table {
        schema: "public".into(),
        name: name.into(),
        columns: columns
            .iter()
            .map(|(n, t)| Column { name: (*n).into(), data_type: (*t).into(), ..Default::default() })
            .collect(),
        ..Default::default()
    }
}

#[test]
fn destructive_statements_are_left_out_unless_allowed() {
    let from = Schema {
        schemas: vec!["public".into()],
        tables: vec![table("users", &[("id", "bigint"), ("legacy", "text")]), table("old", &[])],
        ..Default::default()
    };
    let to = Schema {
        schemas: vec!["public".into()],
        tables: vec![table("users", &[("id", "bigint"), ("email", "text")])],
        ..Default::default()
    };
    let d = diff(&from, &to);
    assert_eq!(d.destructive_count(), 2, "{d:#?}");
    let safe = d.to_sql(false);
    assert!(safe.contains("-- ALTER TABLE public.users DROP COLUMN legacy;"), "{safe}");
    assert!(safe.contains("-- DROP TABLE public.old;"), "{safe}");
    assert!(safe.contains("\nALTER TABLE public.users ADD COLUMN email text;"), "{safe}");
    let all = d.to_sql(true);
    assert!(
        all.contains("-- shale:allow destructive -- included on purpose\nALTER TABLE public.users DROP COLUMN legacy;"),
        "{all}"
    );
    // The reason given is the one each statement's allow records.
    assert!(safe.contains("-- destructive, left out:\n-- DROP TABLE public.old;"), "{safe}");
    let how = d.to_sql_with(Destructive::LeftOut { how_to_include: Some("say so to include it") });
    assert!(how.contains("-- destructive, left out (say so to include it):\n-- DROP TABLE public.old;"), "{how}");
    let because = d.to_sql_with(Destructive::Included { because: "the table is archived elsewhere" });
    assert!(
        because.contains("-- shale:allow destructive -- the table is archived elsewhere\nDROP TABLE public.old;"),
        "{because}"
    );
    assert!(diff(&to, &to).is_empty());
}

#[test]
fn a_view_reading_a_retyped_column_is_recreated_around_the_change() {
    let view = |def: &str| View {
        schema: "public".into(),
        name: "v".into(),
        materialized: false,
        definition: def.into(),
        comment: None,
        depends_on: Vec::new(),
        uses: Vec::new(),
    };
    let from = Schema {
        tables: vec![table("t", &[("a", "integer")])],
        views: vec![view(" SELECT t.a FROM public.t;")],
        ..Default::default()
    };
    let to = Schema {
        tables: vec![table("t", &[("a", "bigint")])],
        views: vec![view(" SELECT t.a FROM public.t;")],
        ..Default::default()
    };
    let d = diff(&from, &to);
    let objects: Vec<&str> = d.changes.iter().map(|c| c.object.as_str()).collect();
    assert_eq!(objects, ["view public.v", "column public.t.a", "view public.v"]);
}

/// Storage parameters (Rails trial: que's `fillfactor=90`, lost by every baseline): set, changed
/// and reset on a table that stays, written with a new one.
#[test]
fn storage_parameters_are_set_and_reset() {
    let with = |storage: &[&str]| Schema {
        schemas: vec!["public".into()],
        tables: vec![Table {
            storage: storage.iter().map(|s| s.to_string()).collect(),
            ..table("jobs", &[("id", "bigint")])
        }],
        ..Default::default()
    };
    let sql = diff(&with(&[]), &with(&["autovacuum_enabled=false", "fillfactor=90"])).to_sql(false);
    assert!(sql.contains("ALTER TABLE public.jobs SET (autovacuum_enabled='false', fillfactor='90');"), "{sql}");
    let sql = diff(&with(&["autovacuum_enabled=false", "fillfactor=90"]), &with(&["fillfactor=70"])).to_sql(false);
    assert!(sql.contains("ALTER TABLE public.jobs SET (fillfactor='70');"), "{sql}");
    assert!(sql.contains("ALTER TABLE public.jobs RESET (autovacuum_enabled);"), "{sql}");
    assert!(!sql.contains("RESET (fillfactor)"), "{sql}");
    let created = diff(&Schema { schemas: vec!["public".into()], ..Default::default() }, &with(&["fillfactor=90"]));
    assert!(created.to_sql(false).contains(") WITH (fillfactor='90');"), "{}", created.to_sql(false));
    assert!(diff(&with(&["fillfactor=90"]), &with(&["fillfactor=90"])).is_empty());
}
