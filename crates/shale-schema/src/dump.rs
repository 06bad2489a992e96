//! The model as SQL: deterministic (the same model always gives the same bytes) and loadable with
//! `psql -v ON_ERROR_STOP=1` into an empty database.
//!
//! Order: schemas, extensions, collations, types (enums, then domains, composite and range types, each after
//! the types it is built on), sequences, functions that do not need tables, range types and domain
//! defaults/checks that call those functions, functions whose signature uses those range types
//! (or types built on them), tables (parents before their partitions and
//! inheriting children), sequence ownership, check/primary key/unique/exclusion constraints,
//! indexes, foreign keys, functions that need tables, aggregates, views (each after the views it
//! reads), indexes on materialized views, triggers, row-level security, policies, comments,
//! privileges, default privileges.
//!
//! `dump/order.rs` decides where each object goes, `dump/render.rs` writes each one.

use std::fmt::Write;

use crate::model::{ConstraintKind, DefaultPrivilegeKind, DefaultPrivileges, Function, PrivilegeKind, Schema};

pub(crate) mod order;
pub(crate) mod render;

pub(crate) use order::functions_in_order;
use order::{tables_in_order, types_after_functions, user_types_in_order, uses_any, views_in_order};
use render::{
    comments, create_collation, create_index, create_table, create_view, default_privileges, domain_default_and_checks,
    function, inherited_column_overrides, policy, privileges, row_security, sequence_options, trigger,
};

pub use shale_core::ident::{ident, qualified};

/// `REVOKE`s of what the default privileges of the role loading the dump would give a table,
/// view or sequence it creates, and the object has not: loaded where those default privileges are
/// already in force (a Supabase project's grant `anon`, `authenticated` and `service_role` every
/// privilege on new tables), the object would otherwise get what was revoked from it, such as
/// `anon` reading a table whose policies assume it cannot. Loaded where they are not (they come
/// last in the dump), each is a no-op.
fn defaults_not_kept(schema: &Schema, in_force: &[DefaultPrivileges]) -> Vec<String> {
    let objects = schema
        .tables
        .iter()
        .map(|t| (PrivilegeKind::Table, DefaultPrivilegeKind::Tables, &t.schema, &t.name))
        .chain(schema.views.iter().map(|v| (PrivilegeKind::Table, DefaultPrivilegeKind::Tables, &v.schema, &v.name)))
        .chain(
            schema
                .sequences
                .iter()
                .map(|q| (PrivilegeKind::Sequence, DefaultPrivilegeKind::Sequences, &q.schema, &q.name)),
        );
    let mut out = Vec::new();
    for (kind, default_kind, object_schema, name) in objects {
        let has = schema
            .privileges
            .iter()
            .find(|p| p.kind == kind && &p.schema == object_schema && &p.name == name && p.column.is_none());
        let mut lacking: Vec<(&str, &str)> = schema
            .default_privileges
            .iter()
            .chain(in_force)
            .filter(|d| d.role.is_none() && d.kind == default_kind)
            .filter(|d| d.schema.as_ref().is_none_or(|s| s == object_schema))
            .flat_map(|d| d.granted.iter())
            .filter(|g| {
                !has.is_some_and(|p| p.granted.iter().any(|k| k.grantee == g.grantee && k.privilege == g.privilege))
            })
            .map(|g| (g.grantee.as_str(), g.privilege.as_str()))
            .collect();
        lacking.sort();
        lacking.dedup();
        let target = match kind {
            PrivilegeKind::Sequence => format!("SEQUENCE {}", qualified(object_schema, name)),
            _ => format!("TABLE {}", qualified(object_schema, name)),
        };
        for grantee in lacking.iter().map(|(g, _)| *g).collect::<std::collections::BTreeSet<_>>() {
            let what: Vec<&str> = lacking.iter().filter(|(g, _)| *g == grantee).map(|(_, p)| *p).collect();
            let to = if grantee == "PUBLIC" { "PUBLIC".to_string() } else { ident(grantee) };
            // Holding nothing there: all of it, whatever the server calls it (MAINTAIN from 17).
            let holds = has.is_some_and(|p| p.granted.iter().any(|k| k.grantee == grantee));
            let what = if holds { what.join(", ") } else { "ALL".to_string() };
            out.push(format!("REVOKE {what} ON {target} FROM {to};"));
        }
    }
    out
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

/// `body` between dollar quotes of a tag it does not hold (`$tag$`, else `$tag_$`, ...; `$$` for an
/// empty tag, else `$_$`): a DO block's body, whatever names are in it (review: a view named
/// `Stats$shale_fill$x`, a table named `t$$x`, broke the block).
pub fn dollar_quoted(tag: &str, body: &str) -> String {
    let mut quote = format!("${tag}$");
    while body.contains(&quote) {
        quote.insert(quote.len() - 1, '_');
    }
    format!("{quote}{body}{quote}")
}

/// The schema as a SQL script.
/// How every file [`dump`] writes begins: a file that does not was written by something else.
pub const DUMP_HEADER: &str = "-- Schema written by `shale dump`";

pub fn dump(schema: &Schema) -> String {
    dump_where(schema, &[])
}

/// [`dump`] for loading where `in_force` default privileges are in force for the loading role
/// already, besides the schema's own (a platform's: Supabase grants `anon`, `authenticated` and
/// `service_role` every privilege on new tables): what they would give an object it lacks is taken
/// back (see [`defaults_not_kept`]).
pub fn dump_where(schema: &Schema, in_force: &[DefaultPrivileges]) -> String {
    dump_rendered(schema, in_force)
}

/// [`dump_where`] as a migration that builds the schema (`baseline --from-database`, `squash`):
/// its materialized views filled with their data at the end, as where the schema came from
/// (Kysely trial: a database built from the baseline had them empty, "has not been populated", and
/// a `REFRESH ... CONCURRENTLY` refused them), where a dump for loading leaves them empty as
/// pg_dump does. Each is filled in a block that leaves it empty, with a warning, where its query
/// fails on the database being built (review: a view dividing by a count of rows, a foreign
/// table a CI database cannot reach), rather than fail the migration every database runs.
pub fn dump_as_migration(schema: &Schema, in_force: &[DefaultPrivileges]) -> String {
    let mut out = dump_where(schema, in_force);
    out.push_str(&fill_materialized_views(schema));
    out
}

/// The statements that fill the schema's materialized views, which a dump makes empty, each after
/// those it reads (see [`dump_as_migration`]); nothing where there are none.
pub fn fill_materialized_views(schema: &Schema) -> String {
    let mut out = String::new();
    let views = views_in_order(&schema.views);
    section(
        &mut out,
        "Materialized views filled",
        views.iter().filter(|v| v.materialized).map(|v| render::fill_view(v)).collect(),
    );
    out
}

/// A titled part of a dump, left out where it has no statement.
fn section(out: &mut String, title: &str, statements: Vec<String>) {
    if !statements.is_empty() {
        let _ = write!(out, "\n-- {title}\n\n");
        for s in statements {
            // Multi-line statements (tables, functions, views) get a blank line after them.
            let s = s.trim_end();
            out.push_str(s);
            out.push_str(if s.contains('\n') { "\n\n" } else { "\n" });
        }
    }
}

fn dump_rendered(schema: &Schema, in_force: &[DefaultPrivileges]) -> String {
    let mut out = String::new();
    out.push_str(DUMP_HEADER);
    out.push_str(
        ": the same schema always gives the same file. Do not edit.\n\
         -- Loads into an empty database with: psql -v ON_ERROR_STOP=1 -f FILE\n\n\
         SET client_min_messages = warning;\n\
         SET check_function_bodies = false;\n\
         SET search_path = pg_catalog;\n",
    );

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
    // Before the types and tables whose columns use them.
    section(&mut out, "Collations", schema.collations.iter().map(create_collation).collect());
    let mut types: Vec<String> = schema
        .enums
        .iter()
        .map(|e| {
            let values: Vec<String> = e.values.iter().map(|v| literal(v)).collect();
            format!("CREATE TYPE {} AS ENUM ({});", qualified(&e.schema, &e.name), values.join(", "))
        })
        .collect();
    types.extend(user_types_in_order(schema, false).into_iter().map(|t| t.sql));
    section(&mut out, "Types", types);
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
    let after_functions = types_after_functions(schema);
    let (early, using_late_types): (Vec<&Function>, Vec<&Function>) =
        early.into_iter().partition(|f| !uses_any(f, &after_functions));
    section(&mut out, "Functions", functions_in_order(early).into_iter().map(function).collect());
    let late_types = user_types_in_order(schema, true);
    let mut types_using_functions: Vec<String> = schema
        .domains
        .iter()
        .filter(|d| d.needs_functions && !late_types.iter().any(|t| t.key.schema == d.schema && t.key.name == d.name))
        .flat_map(domain_default_and_checks)
        .collect();
    types_using_functions.extend(late_types.into_iter().map(|t| t.sql));
    section(&mut out, "Types using functions", types_using_functions);
    section(
        &mut out,
        "Functions using those types",
        functions_in_order(using_late_types).into_iter().map(function).collect(),
    );
    // Before the tables: their defaults, checks and indexes may use them (but for those calling a
    // function that takes a table's row type, made after it).
    let late_operator = |o: &&crate::model::Operator| crate::diff::calls_late_function(schema, Some(&o.function));
    let late_cast = |c: &&crate::model::Cast| crate::diff::calls_late_function(schema, c.function.as_deref());
    let (late_operators, operators): (Vec<_>, Vec<_>) = schema.operators.iter().partition(late_operator);
    let (late_casts, casts): (Vec<_>, Vec<_>) = schema.casts.iter().partition(late_cast);
    section(&mut out, "Operators", operators.into_iter().map(render::create_operator).collect());
    section(&mut out, "Casts", casts.into_iter().map(render::create_cast).collect());
    // An inheriting table's own differences right after it: its children copy them when created.
    let tables: Vec<String> = tables_in_order(&schema.tables)
        .into_iter()
        .map(|t| {
            let mut sql = create_table(t);
            for o in inherited_column_overrides(t, &schema.tables) {
                let _ = writeln!(sql, "{o}");
            }
            sql
        })
        .collect();
    section(&mut out, "Tables", tables);
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
    // An index calling a function made after the tables waits for it.
    let late_functions = schema.functions_after_tables();
    let (late_indexes, indexes): (Vec<&crate::model::Index>, Vec<&crate::model::Index>) = schema
        .indexes
        .iter()
        .filter(|i| !i.on_materialized_view)
        .partition(|i| i.calls.iter().any(|c| late_functions.contains(c)));
    section(&mut out, "Indexes", indexes.into_iter().map(create_index).collect());
    section(
        &mut out,
        "Foreign keys",
        schema.constraints.iter().filter(|c| c.kind == ConstraintKind::ForeignKey).map(add_constraint).collect(),
    );
    section(&mut out, "Functions using table types", functions_in_order(late).into_iter().map(function).collect());
    section(&mut out, "Indexes using those", late_indexes.into_iter().map(create_index).collect());
    section(&mut out, "Operators using those", late_operators.into_iter().map(render::create_operator).collect());
    section(&mut out, "Casts using those", late_casts.into_iter().map(render::create_cast).collect());
    section(&mut out, "Aggregates", schema.aggregates.iter().map(|a| a.definition.clone()).collect());
    section(&mut out, "Views", views_in_order(&schema.views).into_iter().map(create_view).collect());
    section(
        &mut out,
        "Indexes on materialized views",
        schema.indexes.iter().filter(|i| i.on_materialized_view).map(create_index).collect(),
    );
    section(&mut out, "Triggers", schema.triggers.iter().map(trigger).collect());
    section(&mut out, "Row-level security", row_security(&schema.tables));
    section(&mut out, "Policies", schema.policies.iter().map(policy).collect());
    section(&mut out, "Comments", comments(schema));
    let mut granted: Vec<String> = defaults_not_kept(schema, in_force);
    granted.extend(schema.privileges.iter().flat_map(privileges));
    section(&mut out, "Privileges", granted);
    // Last: they apply to objects created after them, which would otherwise get them too.
    section(&mut out, "Default privileges", schema.default_privileges.iter().flat_map(default_privileges).collect());
    out
}
