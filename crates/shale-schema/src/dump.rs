//! The model as SQL: deterministic (the same model always gives the same bytes) and loadable with
//! `psql -v ON_ERROR_STOP=1` into an empty database.
//!
//! Order: schemas, extensions, enums, sequences, functions that do not need tables, tables (parents
//! before their partitions), sequence ownership, check/primary key/unique/exclusion constraints,
//! indexes, foreign keys, functions that need tables, views (each after the views it reads),
//! indexes on materialized views, triggers, comments.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::model::{Column, ConstraintKind, Function, QualifiedName, Schema, SequenceOptions, Table, Trigger, View};

/// Keywords that cannot be used as a bare identifier everywhere (PostgreSQL's reserved,
/// type/function-name and column-name keywords). Unreserved keywords need no quotes.
#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between", "bigint",
    "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check", "coalesce", "collate",
    "collation", "column", "concurrently", "constraint", "create", "cross", "current_catalog", "current_date",
    "current_role", "current_schema", "current_time", "current_timestamp", "current_user", "dec", "decimal", "default",
    "deferrable", "desc", "distinct", "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float",
    "for", "foreign", "freeze", "from", "full", "grant", "greatest", "group", "grouping", "having", "ilike", "in",
    "initially", "inner", "inout", "int", "integer", "intersect", "interval", "into", "is", "isnull", "join", "json",
    "json_array", "json_arrayagg", "json_exists", "json_object", "json_objectagg", "json_query", "json_scalar",
    "json_serialize", "json_table", "json_value", "lateral", "leading", "least", "left", "like", "limit", "localtime",
    "localtimestamp", "merge_action", "national", "natural", "nchar", "none", "normalize", "not", "notnull", "null",
    "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer", "overlaps", "overlay", "placing",
    "position", "precision", "primary", "real", "references", "returning", "right", "row", "select", "session_user",
    "setof", "similar", "smallint", "some", "substring", "symmetric", "system_user", "table", "tablesample", "then",
    "time", "timestamp", "to", "trailing", "treat", "trim", "true", "union", "unique", "user", "using", "values",
    "varchar", "variadic", "verbose", "when", "where", "window", "with", "xmlattributes", "xmlconcat", "xmlelement",
    "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable",
];

/// An identifier as SQL: bare when that reads back as the same name, else double-quoted.
pub fn ident(name: &str) -> String {
    let bare = !name.is_empty()
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !KEYWORDS.contains(&name);
    if bare {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `schema.name`, each part quoted when needed.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// A string literal: plain when it holds no backslash (then it reads the same whatever
/// `standard_conforming_strings` says), else an escape string.
pub fn literal(value: &str) -> String {
    if value.contains('\\') {
        shale_pg::sql::quote_literal(value)
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

/// The schema as a SQL script.
pub fn dump(schema: &Schema) -> String {
    let mut out = String::new();
    out.push_str(
        "-- Schema written by `shale dump`: the same schema always gives the same file. Do not edit.\n\
         -- Loads into an empty database with: psql -v ON_ERROR_STOP=1 -f FILE\n\n\
         SET client_min_messages = warning;\n\
         SET check_function_bodies = false;\n\
         SET search_path = pg_catalog;\n",
    );

    let section = |out: &mut String, title: &str, statements: Vec<String>| {
        if !statements.is_empty() {
            let _ = write!(out, "\n-- {title}\n\n");
            for s in statements {
                // Multi-line statements (tables, functions, views) get a blank line after them.
                let s = s.trim_end();
                out.push_str(s);
                out.push_str(if s.contains('\n') { "\n\n" } else { "\n" });
            }
        }
    };

    section(
        &mut out,
        "Schemas",
        schema
            .schemas
            .iter()
            .filter(|s| s.as_str() != "public")
            .map(|s| format!("CREATE SCHEMA {};", ident(s)))
            .collect(),
    );
    section(
        &mut out,
        "Extensions",
        schema
            .extensions
            .iter()
            .map(|x| format!("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {};", ident(&x.name), ident(&x.schema)))
            .collect(),
    );
    section(
        &mut out,
        "Types",
        schema
            .enums
            .iter()
            .map(|e| {
                let values: Vec<String> = e.values.iter().map(|v| literal(v)).collect();
                format!("CREATE TYPE {} AS ENUM ({});", qualified(&e.schema, &e.name), values.join(", "))
            })
            .collect(),
    );
    section(
        &mut out,
        "Sequences",
        schema
            .sequences
            .iter()
            .map(|s| {
                format!(
                    "CREATE SEQUENCE {} AS {} {};",
                    qualified(&s.schema, &s.name),
                    s.options.data_type,
                    sequence_options(&s.options)
                )
            })
            .collect(),
    );
    let (early, late): (Vec<&Function>, Vec<&Function>) = schema.functions.iter().partition(|f| !f.needs_tables);
    section(&mut out, "Functions", early.into_iter().map(function).collect());
    section(&mut out, "Tables", tables_in_order(&schema.tables).into_iter().map(create_table).collect());
    section(
        &mut out,
        "Sequence ownership",
        schema
            .sequences
            .iter()
            .filter_map(|s| {
                let o = s.owned_by.as_ref()?;
                Some(format!(
                    "ALTER SEQUENCE {} OWNED BY {}.{};",
                    qualified(&s.schema, &s.name),
                    qualified(&o.schema, &o.table),
                    ident(&o.column)
                ))
            })
            .collect(),
    );
    let add_constraint = |c: &crate::model::Constraint| {
        format!("ALTER TABLE {} ADD CONSTRAINT {} {};", qualified(&c.schema, &c.table), ident(&c.name), c.definition)
    };
    section(
        &mut out,
        "Constraints",
        schema.constraints.iter().filter(|c| c.kind != ConstraintKind::ForeignKey).map(add_constraint).collect(),
    );
    section(
        &mut out,
        "Indexes",
        schema.indexes.iter().filter(|i| !i.on_materialized_view).map(|i| format!("{};", i.definition)).collect(),
    );
    section(
        &mut out,
        "Foreign keys",
        schema.constraints.iter().filter(|c| c.kind == ConstraintKind::ForeignKey).map(add_constraint).collect(),
    );
    section(&mut out, "Functions using table types", late.into_iter().map(function).collect());
    section(&mut out, "Views", views_in_order(&schema.views).into_iter().map(create_view).collect());
    section(
        &mut out,
        "Indexes on materialized views",
        schema.indexes.iter().filter(|i| i.on_materialized_view).map(|i| format!("{};", i.definition)).collect(),
    );
    section(&mut out, "Triggers", schema.triggers.iter().map(trigger).collect());
    section(&mut out, "Comments", comments(schema));
    out
}

pub(crate) fn sequence_options(o: &SequenceOptions) -> String {
    format!(
        "START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {}{}",
        o.start,
        o.increment,
        o.min,
        o.max,
        o.cache,
        if o.cycle { " CYCLE" } else { " NO CYCLE" }
    )
}

pub(crate) fn function(f: &Function) -> String {
    format!("{};\n", f.definition.trim_end())
}

/// Non-partitions first, then partitions by depth (a parent always before its partitions).
pub(crate) fn tables_in_order(tables: &[Table]) -> Vec<&Table> {
    let parents: BTreeMap<(&str, &str), Option<&QualifiedName>> =
        tables.iter().map(|t| ((t.schema.as_str(), t.name.as_str()), t.partition_of.as_ref())).collect();
    let depth = |t: &Table| {
        let mut d = 0usize;
        let mut parent = t.partition_of.as_ref();
        while let Some(p) = parent {
            d += 1;
            if d > tables.len() {
                break;
            }
            parent = parents.get(&(p.schema.as_str(), p.name.as_str())).copied().flatten();
        }
        d
    };
    let mut ordered: Vec<(usize, &Table)> = tables.iter().map(|t| (depth(t), t)).collect();
    ordered.sort_by(|(da, a), (db, b)| (da, &a.schema, &a.name).cmp(&(db, &b.schema, &b.name)));
    ordered.into_iter().map(|(_, t)| t).collect()
}

pub(crate) fn create_table(t: &Table) -> String {
    let mut sql = String::from("CREATE ");
    if t.unlogged {
        sql.push_str("UNLOGGED ");
    }
    let _ = write!(sql, "TABLE {}", qualified(&t.schema, &t.name));
    match (&t.partition_of, &t.partition_bound) {
        (Some(parent), bound) => {
            let _ = write!(
                sql,
                " PARTITION OF {} {}",
                qualified(&parent.schema, &parent.name),
                bound.as_deref().unwrap_or("DEFAULT")
            );
        }
        (None, _) => {
            if t.columns.is_empty() {
                sql.push_str(" ()");
            } else {
                sql.push_str(" (\n");
                let columns: Vec<String> = t.columns.iter().map(|c| format!("    {}", column(c))).collect();
                sql.push_str(&columns.join(",\n"));
                sql.push_str("\n)");
            }
        }
    }
    if let Some(key) = &t.partition_key {
        let _ = write!(sql, " PARTITION BY {key}");
    }
    sql.push_str(";\n");
    sql
}

pub(crate) fn column(c: &Column) -> String {
    let mut sql = format!("{} {}", ident(&c.name), c.data_type);
    if let Some(collation) = &c.collation {
        let _ = write!(sql, " COLLATE {collation}");
    }
    if let Some(expr) = &c.generated {
        let _ = write!(sql, " GENERATED ALWAYS AS ({expr}) STORED");
    }
    if let Some(expr) = &c.default {
        let _ = write!(sql, " DEFAULT {expr}");
    }
    if let Some(identity) = &c.identity {
        let _ = write!(sql, " GENERATED {} AS IDENTITY", if identity.always { "ALWAYS" } else { "BY DEFAULT" });
        if let Some(s) = &identity.sequence {
            let _ = write!(sql, " (SEQUENCE NAME {} {})", qualified(&s.schema, &s.name), sequence_options(&s.options));
        }
    }
    if c.not_null {
        sql.push_str(" NOT NULL");
    }
    sql
}

/// Sorted by name, except that a view always comes after the views it reads.
pub(crate) fn views_in_order(views: &[View]) -> Vec<&View> {
    let key = |v: &View| QualifiedName { schema: v.schema.clone(), name: v.name.clone() };
    let by_name: BTreeMap<QualifiedName, &View> = views.iter().map(|v| (key(v), v)).collect();
    let mut waiting_on: BTreeMap<QualifiedName, usize> = BTreeMap::new();
    let mut readers: BTreeMap<QualifiedName, Vec<QualifiedName>> = BTreeMap::new();
    for v in views {
        let deps: BTreeSet<&QualifiedName> = v.depends_on.iter().filter(|d| by_name.contains_key(*d)).collect();
        waiting_on.insert(key(v), deps.len());
        for d in deps {
            readers.entry(d.clone()).or_default().push(key(v));
        }
    }
    let mut ready: BTreeSet<QualifiedName> =
        waiting_on.iter().filter(|(_, n)| **n == 0).map(|(k, _)| k.clone()).collect();
    let mut ordered = Vec::with_capacity(views.len());
    while let Some(next) = ready.pop_first() {
        for reader in readers.get(&next).into_iter().flatten() {
            let n = waiting_on.get_mut(reader).expect("every reader is a view");
            *n -= 1;
            if *n == 0 {
                ready.insert(reader.clone());
            }
        }
        waiting_on.remove(&next);
        ordered.push(by_name[&next]);
    }
    // A cycle cannot be created in PostgreSQL; should one show up, keep the rest in name order.
    ordered.extend(waiting_on.keys().map(|k| by_name[k]));
    ordered
}

pub(crate) fn create_view(v: &View) -> String {
    let body = v.definition.trim().trim_end_matches(';').trim_end();
    if v.materialized {
        format!("CREATE MATERIALIZED VIEW {} AS\n{body}\nWITH NO DATA;\n", qualified(&v.schema, &v.name))
    } else {
        format!("CREATE VIEW {} AS\n{body};\n", qualified(&v.schema, &v.name))
    }
}

pub(crate) fn trigger(g: &Trigger) -> String {
    let mut sql = format!("{};", g.definition.trim_end());
    let state = match g.enabled.as_str() {
        "D" => Some("DISABLE"),
        "R" => Some("ENABLE REPLICA"),
        "A" => Some("ENABLE ALWAYS"),
        _ => None,
    };
    if let Some(state) = state {
        let _ = write!(sql, "\nALTER TABLE {} {state} TRIGGER {};", qualified(&g.schema, &g.table), ident(&g.name));
    }
    sql
}

/// What can carry comments: a relation and its columns.
struct Commented<'a> {
    kind: &'static str,
    schema: &'a str,
    name: &'a str,
    comment: Option<&'a String>,
    columns: Vec<(&'a str, &'a String)>,
}

fn comments(schema: &Schema) -> Vec<String> {
    let mut objects: Vec<Commented> = Vec::new();
    for t in &schema.tables {
        let columns = t.columns.iter().filter_map(|c| c.comment.as_ref().map(|m| (c.name.as_str(), m))).collect();
        objects.push(Commented {
            kind: "TABLE",
            schema: &t.schema,
            name: &t.name,
            comment: t.comment.as_ref(),
            columns,
        });
    }
    for v in &schema.views {
        let kind = if v.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
        objects.push(Commented {
            kind,
            schema: &v.schema,
            name: &v.name,
            comment: v.comment.as_ref(),
            columns: Vec::new(),
        });
    }
    objects.sort_by(|a, b| (a.schema, a.name).cmp(&(b.schema, b.name)));
    let mut out = Vec::new();
    for o in objects {
        let target = qualified(o.schema, o.name);
        if let Some(c) = o.comment {
            out.push(format!("COMMENT ON {} {target} IS {};", o.kind, literal(c)));
        }
        for (column, c) in o.columns {
            out.push(format!("COMMENT ON COLUMN {target}.{} IS {};", ident(column), literal(c)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        assert_eq!(ident("users"), "users");
        assert_eq!(ident("user"), "\"user\"");
        assert_eq!(ident("Users"), "\"Users\"");
        assert_eq!(ident("a b"), "\"a b\"");
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(ident("1st"), "\"1st\"");
        assert_eq!(ident("_x1"), "_x1");
        assert_eq!(qualified("public", "order"), "public.\"order\"");
    }

    #[test]
    fn views_come_after_the_views_they_read() {
        let view = |name: &str, deps: &[&str]| View {
            schema: "public".into(),
            name: name.into(),
            materialized: false,
            definition: " SELECT 1;".into(),
            comment: None,
            depends_on: deps.iter().map(|d| QualifiedName { schema: "public".into(), name: (*d).into() }).collect(),
        };
        let views = vec![view("a", &["c"]), view("b", &[]), view("c", &["b"]), view("d", &[])];
        let order: Vec<&str> = views_in_order(&views).iter().map(|v| v.name.as_str()).collect();
        assert_eq!(order, ["b", "c", "a", "d"]);
    }
}
