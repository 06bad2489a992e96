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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::model::{
    Collation, Column, Comment, CommentKind, CompositeType, ConstraintKind, DefaultPrivilegeKind, DefaultPrivileges,
    Domain, Function, Grant, ObjectPrivileges, Policy, PrivilegeKind, QualifiedName, RangeType, Schema,
    SequenceOptions, Table, Trigger, View,
};

pub use shale_core::ident::{ident, qualified};

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
    section(&mut out, "Functions", early.into_iter().map(function).collect());
    let late_types = user_types_in_order(schema, true);
    let mut types_using_functions: Vec<String> = schema
        .domains
        .iter()
        .filter(|d| d.needs_functions && !late_types.iter().any(|t| t.key.schema == d.schema && t.key.name == d.name))
        .flat_map(domain_default_and_checks)
        .collect();
    types_using_functions.extend(late_types.into_iter().map(|t| t.sql));
    section(&mut out, "Types using functions", types_using_functions);
    section(&mut out, "Functions using those types", using_late_types.into_iter().map(function).collect());
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
    section(&mut out, "Aggregates", schema.aggregates.iter().map(|a| a.definition.clone()).collect());
    section(&mut out, "Views", views_in_order(&schema.views).into_iter().map(create_view).collect());
    section(
        &mut out,
        "Indexes on materialized views",
        schema.indexes.iter().filter(|i| i.on_materialized_view).map(|i| format!("{};", i.definition)).collect(),
    );
    section(&mut out, "Triggers", schema.triggers.iter().map(trigger).collect());
    section(&mut out, "Row-level security", row_security(&schema.tables));
    section(&mut out, "Policies", schema.policies.iter().map(policy).collect());
    section(&mut out, "Comments", comments(schema));
    section(&mut out, "Privileges", schema.privileges.iter().flat_map(privileges).collect());
    // Last: they apply to objects created after them, which would otherwise get them too.
    section(&mut out, "Default privileges", schema.default_privileges.iter().flat_map(default_privileges).collect());
    out
}

/// `CREATE COLLATION` with the options that tell it apart (its version is the machine's, not the
/// schema's).
pub(crate) fn create_collation(c: &Collation) -> String {
    let mut options = vec![format!("provider = {}", c.provider)];
    let text = |o: &Option<String>| literal(o.as_deref().unwrap_or_default());
    if c.provider == "libc" {
        if c.lc_collate == c.lc_ctype {
            options.push(format!("locale = {}", text(&c.lc_collate)));
        } else {
            options.push(format!("lc_collate = {}", text(&c.lc_collate)));
            options.push(format!("lc_ctype = {}", text(&c.lc_ctype)));
        }
    } else {
        options.push(format!("locale = {}", text(&c.locale)));
    }
    if !c.deterministic {
        options.push("deterministic = false".into());
    }
    if let Some(rules) = &c.rules {
        options.push(format!("rules = {}", literal(rules)));
    }
    format!("CREATE COLLATION {} ({});", qualified(&c.schema, &c.name), options.join(", "))
}

/// A domain, composite or range type as SQL, with what it must come after.
pub(crate) struct UserType {
    pub(crate) key: QualifiedName,
    pub(crate) depends_on: Vec<QualifiedName>,
    pub(crate) sql: String,
}

/// The domains, composite and range types that go before the functions (`after_functions`
/// false) or after them (range types with a user canonical or subdiff function, and the types
/// built on those), each after the types it is built on.
pub(crate) fn user_types_in_order(schema: &Schema, after_functions: bool) -> Vec<UserType> {
    let key = |schema: &str, name: &str| QualifiedName { schema: schema.into(), name: name.into() };
    let mut late: BTreeSet<QualifiedName> =
        schema.range_types.iter().filter(|r| r.needs_functions).map(|r| key(&r.schema, &r.name)).collect();
    let mut types: Vec<UserType> = Vec::new();
    types.extend(schema.domains.iter().map(|d| UserType {
        key: key(&d.schema, &d.name),
        depends_on: d.depends_on.clone(),
        sql: String::new(),
    }));
    types.extend(schema.composite_types.iter().map(|c| UserType {
        key: key(&c.schema, &c.name),
        depends_on: c.depends_on.clone(),
        sql: create_composite_type(c),
    }));
    types.extend(schema.range_types.iter().map(|r| UserType {
        key: key(&r.schema, &r.name),
        depends_on: r.depends_on.clone(),
        sql: create_range_type(r),
    }));
    let mut types = in_dependency_order(types, |t| &t.key, |t| &t.depends_on);
    // In dependency order, one pass finds every type built on a late one.
    for t in &types {
        if t.depends_on.iter().any(|d| late.contains(d)) {
            late.insert(t.key.clone());
        }
    }
    // A late domain is created whole: the functions its default and checks call exist by then.
    for d in &schema.domains {
        if let Some(t) = types.iter_mut().find(|t| t.key.schema == d.schema && t.key.name == d.name) {
            t.sql = create_domain(d, late.contains(&t.key));
        }
    }
    types.retain(|t| late.contains(&t.key) == after_functions);
    types
}

/// The types [`user_types_in_order`] puts after the functions.
pub(crate) fn types_after_functions(schema: &Schema) -> BTreeSet<QualifiedName> {
    user_types_in_order(schema, true).into_iter().map(|t| t.key).collect()
}

/// Whether `f`'s signature (or body) uses one of `types`.
pub(crate) fn uses_any(f: &Function, types: &BTreeSet<QualifiedName>) -> bool {
    f.depends_on.iter().any(|t| types.contains(t))
}

/// `CREATE DOMAIN`, with its default and checks unless they call user functions and the domain
/// is created before the functions (then they come later, from [`domain_default_and_checks`]).
pub(crate) fn create_domain(d: &Domain, after_functions: bool) -> String {
    let whole = after_functions || !d.needs_functions;
    let mut sql = format!("CREATE DOMAIN {} AS {}", qualified(&d.schema, &d.name), d.data_type);
    if let Some(collation) = &d.collation {
        let _ = write!(sql, " COLLATE {collation}");
    }
    if let (Some(default), true) = (&d.default, whole) {
        let _ = write!(sql, " DEFAULT {default}");
    }
    if d.not_null {
        sql.push_str(" NOT NULL");
    }
    sql.push(';');
    if whole {
        for check in domain_default_and_checks(d).into_iter().skip(usize::from(d.default.is_some())) {
            sql.push('\n');
            sql.push_str(&check);
        }
    }
    sql
}

/// `ALTER DOMAIN ... SET DEFAULT` (when there is a default), then one `ADD CONSTRAINT` per check
/// (as `ALTER DOMAIN`, which unlike `CREATE DOMAIN` accepts `NOT VALID`).
pub(crate) fn domain_default_and_checks(d: &Domain) -> Vec<String> {
    let name = qualified(&d.schema, &d.name);
    let default = d.default.iter().map(|e| format!("ALTER DOMAIN {name} SET DEFAULT {e};"));
    let checks =
        d.checks.iter().map(|c| format!("ALTER DOMAIN {name} ADD CONSTRAINT {} {};", ident(&c.name), c.definition));
    default.chain(checks).collect()
}

pub(crate) fn create_composite_type(c: &CompositeType) -> String {
    let attributes: Vec<String> = c
        .attributes
        .iter()
        .map(|a| match &a.collation {
            Some(collation) => format!("    {} {} COLLATE {collation}", ident(&a.name), a.data_type),
            None => format!("    {} {}", ident(&a.name), a.data_type),
        })
        .collect();
    if attributes.is_empty() {
        format!("CREATE TYPE {} AS ();", qualified(&c.schema, &c.name))
    } else {
        format!("CREATE TYPE {} AS (\n{}\n);\n", qualified(&c.schema, &c.name), attributes.join(",\n"))
    }
}

pub(crate) fn create_range_type(r: &RangeType) -> String {
    let mut options = vec![format!("SUBTYPE = {}", r.subtype)];
    let mut option = |name: &str, value: &Option<String>| {
        if let Some(v) = value {
            options.push(format!("{name} = {v}"));
        }
    };
    option("SUBTYPE_OPCLASS", &r.subtype_opclass);
    option("COLLATION", &r.collation);
    option("CANONICAL", &r.canonical);
    option("SUBTYPE_DIFF", &r.subdiff);
    // Only a name of its own: PostgreSQL 13 has no multiranges, later versions derive the same name.
    if let Some(m) = &r.multirange {
        if m.schema != r.schema || m.name != r.default_multirange_name() {
            options.push(format!("MULTIRANGE_TYPE_NAME = {}", qualified(&m.schema, &m.name)));
        }
    }
    format!("CREATE TYPE {} AS RANGE ({});", qualified(&r.schema, &r.name), options.join(", "))
}

/// What an inheriting table holds differently from its parents in the columns it inherits (which
/// `CREATE TABLE ... INHERITS` does not list): its own default, or NOT NULL.
pub(crate) fn inherited_column_overrides(t: &Table, tables: &[Table]) -> Vec<String> {
    let mut out = Vec::new();
    for c in t.columns.iter().filter(|c| c.inherited) {
        let inherited_from = t
            .inherits
            .iter()
            .filter_map(|p| tables.iter().find(|t| t.schema == p.schema && t.name == p.name))
            .find_map(|p| p.columns.iter().find(|pc| pc.name == c.name));
        let Some(from) = inherited_from else { continue };
        let alter = format!("ALTER TABLE ONLY {} ALTER COLUMN {}", qualified(&t.schema, &t.name), ident(&c.name));
        if c.default != from.default && c.generated.is_none() {
            match &c.default {
                Some(e) => out.push(format!("{alter} SET DEFAULT {e};")),
                None => out.push(format!("{alter} DROP DEFAULT;")),
            }
        }
        if c.not_null && !from.not_null {
            out.push(format!("{alter} SET NOT NULL;"));
        }
    }
    out
}

fn row_security(tables: &[Table]) -> Vec<String> {
    let mut out = Vec::new();
    for t in tables {
        if t.row_security {
            out.push(format!("ALTER TABLE {} ENABLE ROW LEVEL SECURITY;", qualified(&t.schema, &t.name)));
        }
        if t.force_row_security {
            out.push(format!("ALTER TABLE {} FORCE ROW LEVEL SECURITY;", qualified(&t.schema, &t.name)));
        }
    }
    out
}

/// A role name as GRANT and CREATE POLICY take it.
pub(crate) fn role(name: &str) -> String {
    if name == "PUBLIC" {
        name.to_string()
    } else {
        ident(name)
    }
}

pub(crate) fn policy(p: &Policy) -> String {
    let mut sql = format!("CREATE POLICY {} ON {}", ident(&p.name), qualified(&p.schema, &p.table));
    if !p.permissive {
        sql.push_str(" AS RESTRICTIVE");
    }
    if p.command != "ALL" {
        let _ = write!(sql, " FOR {}", p.command);
    }
    if p.roles != ["PUBLIC"] {
        let roles: Vec<String> = p.roles.iter().map(|r| role(r)).collect();
        let _ = write!(sql, " TO {}", roles.join(", "));
    }
    if let Some(e) = &p.using {
        let _ = write!(sql, " USING ({e})");
    }
    if let Some(e) = &p.with_check {
        let _ = write!(sql, " WITH CHECK ({e})");
    }
    sql.push(';');
    sql
}

/// `name(arguments)` of a routine; `*` stands for no arguments of an aggregate.
pub(crate) fn routine(schema: &str, name: &str, arguments: Option<&str>, aggregate: bool) -> String {
    let arguments = arguments.unwrap_or("");
    let arguments = if aggregate && arguments.is_empty() { "*" } else { arguments };
    format!("{}({arguments})", qualified(schema, name))
}

/// The object a generic comment is on, as `COMMENT ON` names it.
pub(crate) fn comment_target(c: &Comment) -> String {
    let parent = || qualified(&c.schema, c.parent.as_deref().unwrap_or_default());
    let args = c.arguments.as_deref();
    match c.kind {
        CommentKind::Schema => format!("SCHEMA {}", ident(&c.name)),
        CommentKind::Type => format!("TYPE {}", qualified(&c.schema, &c.name)),
        CommentKind::Domain => format!("DOMAIN {}", qualified(&c.schema, &c.name)),
        CommentKind::Sequence => format!("SEQUENCE {}", qualified(&c.schema, &c.name)),
        CommentKind::Index => format!("INDEX {}", qualified(&c.schema, &c.name)),
        CommentKind::Constraint => format!("CONSTRAINT {} ON {}", ident(&c.name), parent()),
        CommentKind::DomainConstraint => format!("CONSTRAINT {} ON DOMAIN {}", ident(&c.name), parent()),
        CommentKind::Function => format!("FUNCTION {}", routine(&c.schema, &c.name, args, false)),
        CommentKind::Procedure => format!("PROCEDURE {}", routine(&c.schema, &c.name, args, false)),
        CommentKind::Aggregate => format!("AGGREGATE {}", routine(&c.schema, &c.name, args, true)),
        CommentKind::Trigger => format!("TRIGGER {} ON {}", ident(&c.name), parent()),
        CommentKind::Policy => format!("POLICY {} ON {}", ident(&c.name), parent()),
        CommentKind::Column => format!("COLUMN {}.{}", parent(), ident(&c.name)),
        CommentKind::Extension => format!("EXTENSION {}", ident(&c.name)),
        CommentKind::Collation => format!("COLLATION {}", qualified(&c.schema, &c.name)),
    }
}

/// REVOKE the defaults taken away, then GRANT what was given beyond them: one statement per
/// grantee (and grant option), privileges in name order.
pub(crate) fn privileges(p: &ObjectPrivileges) -> Vec<String> {
    revokes_and_grants("", &privilege_target(p), p.column.as_deref(), &p.revoked, &p.granted)
}

/// [`privileges`] for default privileges: `ALTER DEFAULT PRIVILEGES ... REVOKE/GRANT`.
pub(crate) fn default_privileges(p: &DefaultPrivileges) -> Vec<String> {
    revokes_and_grants(&default_privileges_prefix(p), default_privilege_target(p.kind), None, &p.revoked, &p.granted)
}

/// `ALTER DEFAULT PRIVILEGES [FOR ROLE r] [IN SCHEMA s] `.
pub(crate) fn default_privileges_prefix(p: &DefaultPrivileges) -> String {
    let mut sql = String::from("ALTER DEFAULT PRIVILEGES ");
    if let Some(r) = &p.role {
        let _ = write!(sql, "FOR ROLE {} ", ident(r));
    }
    if let Some(s) = &p.schema {
        let _ = write!(sql, "IN SCHEMA {} ", ident(s));
    }
    sql
}

pub(crate) fn default_privilege_target(kind: DefaultPrivilegeKind) -> &'static str {
    match kind {
        DefaultPrivilegeKind::Tables => "TABLES",
        DefaultPrivilegeKind::Sequences => "SEQUENCES",
        DefaultPrivilegeKind::Functions => "FUNCTIONS",
        DefaultPrivilegeKind::Types => "TYPES",
        DefaultPrivilegeKind::Schemas => "SCHEMAS",
    }
}

/// `{prefix}REVOKE ... ON {target} FROM ...` per grantee, then `{prefix}GRANT ... TO ...` per
/// grantee and grant option; privileges on `column` when given.
fn revokes_and_grants(
    prefix: &str,
    target: &str,
    column: Option<&str>,
    revoked: &[Grant],
    granted: &[Grant],
) -> Vec<String> {
    let privilege = |name: &str| match column {
        Some(column) => format!("{name} ({})", ident(column)),
        None => name.to_string(),
    };
    let mut out = Vec::new();
    let mut by_grantee: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for g in revoked {
        by_grantee.entry(&g.grantee).or_default().push(privilege(&g.privilege));
    }
    for (grantee, list) in by_grantee {
        out.push(format!("{prefix}REVOKE {} ON {target} FROM {};", list.join(", "), role(grantee)));
    }
    let mut by_grantee: BTreeMap<(&str, bool), Vec<String>> = BTreeMap::new();
    for g in granted {
        by_grantee.entry((&g.grantee, g.grantable)).or_default().push(privilege(&g.privilege));
    }
    for ((grantee, grantable), list) in by_grantee {
        let option = if grantable { " WITH GRANT OPTION" } else { "" };
        out.push(format!("{prefix}GRANT {} ON {target} TO {}{option};", list.join(", "), role(grantee)));
    }
    out
}

/// The object of [`ObjectPrivileges`] as `GRANT ... ON` names it (a column's table for a column).
pub(crate) fn privilege_target(p: &ObjectPrivileges) -> String {
    match p.kind {
        PrivilegeKind::Schema => format!("SCHEMA {}", ident(&p.name)),
        PrivilegeKind::Table => format!("TABLE {}", qualified(&p.schema, &p.name)),
        PrivilegeKind::Sequence => format!("SEQUENCE {}", qualified(&p.schema, &p.name)),
        PrivilegeKind::Function => format!("FUNCTION {}", routine(&p.schema, &p.name, p.arguments.as_deref(), false)),
        PrivilegeKind::Procedure => format!("PROCEDURE {}", routine(&p.schema, &p.name, p.arguments.as_deref(), false)),
        PrivilegeKind::Type => format!("TYPE {}", qualified(&p.schema, &p.name)),
        PrivilegeKind::Domain => format!("DOMAIN {}", qualified(&p.schema, &p.name)),
    }
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

/// Tables that have no parent first, then partitions and inheriting tables by depth (a parent
/// always before its children).
pub(crate) fn tables_in_order(tables: &[Table]) -> Vec<&Table> {
    let by_name: BTreeMap<(&str, &str), &Table> =
        tables.iter().map(|t| ((t.schema.as_str(), t.name.as_str()), t)).collect();
    fn depth<'t>(
        t: &'t Table,
        by_name: &BTreeMap<(&str, &str), &'t Table>,
        known: &mut BTreeMap<(&'t str, &'t str), usize>,
        limit: usize,
    ) -> usize {
        if let Some(d) = known.get(&(t.schema.as_str(), t.name.as_str())) {
            return *d;
        }
        let mut d = 0;
        // The limit stops a (corrupt) cycle; PostgreSQL allows none.
        if limit > 0 {
            for p in t.partition_of.iter().chain(&t.inherits) {
                if let Some(parent) = by_name.get(&(p.schema.as_str(), p.name.as_str())) {
                    d = d.max(1 + depth(parent, by_name, known, limit - 1));
                }
            }
        }
        known.insert((t.schema.as_str(), t.name.as_str()), d);
        d
    }
    let mut known = BTreeMap::new();
    let mut ordered: Vec<(usize, &Table)> =
        tables.iter().map(|t| (depth(t, &by_name, &mut known, tables.len()), t)).collect();
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
        (None, _) if t.of_type.is_some() => {
            // The columns come from the type: only what they hold beyond it is listed.
            let ty = t.of_type.as_ref().expect("matched");
            let _ = write!(sql, " OF {}", qualified(&ty.schema, &ty.name));
            let columns: Vec<String> = t
                .columns
                .iter()
                .filter(|c| !column_options(c).is_empty())
                .map(|c| format!("    {} WITH OPTIONS{}", ident(&c.name), column_options(c)))
                .collect();
            if !columns.is_empty() {
                sql.push_str(" (\n");
                sql.push_str(&columns.join(",\n"));
                sql.push_str("\n)");
            }
        }
        (None, _) => {
            // Inherited columns come from the parents (their differences: inherited_column_overrides).
            let columns: Vec<String> =
                t.columns.iter().filter(|c| !c.inherited).map(|c| format!("    {}", column(c))).collect();
            if columns.is_empty() {
                sql.push_str(" ()");
            } else {
                sql.push_str(" (\n");
                sql.push_str(&columns.join(",\n"));
                sql.push_str("\n)");
            }
            if !t.inherits.is_empty() {
                let parents: Vec<String> = t.inherits.iter().map(|p| qualified(&p.schema, &p.name)).collect();
                let _ = write!(sql, " INHERITS ({})", parents.join(", "));
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
    sql.push_str(&column_options(c));
    sql
}

/// What a column definition says after its type and collation (each part with a leading space).
fn column_options(c: &Column) -> String {
    let mut sql = String::new();
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
    let keyed: Vec<(QualifiedName, &View)> =
        views.iter().map(|v| (QualifiedName { schema: v.schema.clone(), name: v.name.clone() }, v)).collect();
    in_dependency_order(keyed, |(k, _)| k, |(_, v)| &v.depends_on).into_iter().map(|(_, v)| v).collect()
}

/// Sorted by key, except that an item always comes after the items it depends on (dependencies
/// on keys that are not among the items are ignored).
fn in_dependency_order<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> &QualifiedName,
    depends_on: impl Fn(&T) -> &[QualifiedName],
) -> Vec<T> {
    let mut by_key: BTreeMap<QualifiedName, T> = BTreeMap::new();
    for item in items {
        by_key.insert(key(&item).clone(), item);
    }
    let mut waiting_on: BTreeMap<QualifiedName, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<QualifiedName, Vec<QualifiedName>> = BTreeMap::new();
    for (k, item) in &by_key {
        let deps: BTreeSet<&QualifiedName> =
            depends_on(item).iter().filter(|d| *d != k && by_key.contains_key(*d)).collect();
        waiting_on.insert(k.clone(), deps.len());
        for d in deps {
            dependents.entry(d.clone()).or_default().push(k.clone());
        }
    }
    let mut ready: BTreeSet<QualifiedName> =
        waiting_on.iter().filter(|(_, n)| **n == 0).map(|(k, _)| k.clone()).collect();
    let mut order = Vec::with_capacity(by_key.len());
    while let Some(next) = ready.pop_first() {
        for dependent in dependents.get(&next).into_iter().flatten() {
            let n = waiting_on.get_mut(dependent).expect("every dependent is an item");
            *n -= 1;
            if *n == 0 {
                ready.insert(dependent.clone());
            }
        }
        waiting_on.remove(&next);
        order.push(next);
    }
    // A cycle cannot be created in PostgreSQL; should one show up, keep the rest in key order.
    order.extend(waiting_on.into_keys());
    order.into_iter().map(|k| by_key.remove(&k).expect("every key is an item")).collect()
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
    comment_targets(schema).into_iter().map(|(target, c)| format!("COMMENT ON {target} IS {};", literal(c))).collect()
}

/// Every comment with the object it is on, as `COMMENT ON` names it (`TABLE app.t`, ...), in
/// dump order.
pub(crate) fn comment_targets(schema: &Schema) -> Vec<(String, &String)> {
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
            out.push((format!("{} {target}", o.kind), c));
        }
        for (column, c) in o.columns {
            out.push((format!("COLUMN {target}.{}", ident(column)), c));
        }
    }
    out.extend(schema.comments.iter().map(|c| (comment_target(c), &c.comment)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_come_after_the_views_they_read() {
        let view = |name: &str, deps: &[&str]| View {
            schema: "public".into(),
            name: name.into(),
            materialized: false,
            definition: " SELECT 1;".into(),
            comment: None,
            depends_on: deps.iter().map(|d| QualifiedName { schema: "public".into(), name: (*d).into() }).collect(),
            uses: Vec::new(),
        };
        let views = vec![view("a", &["c"]), view("b", &[]), view("c", &["b"]), view("d", &[])];
        let order: Vec<&str> = views_in_order(&views).iter().map(|v| v.name.as_str()).collect();
        assert_eq!(order, ["b", "c", "a", "d"]);
    }
}
