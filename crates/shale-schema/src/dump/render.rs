//! One model object as SQL text: the statements [`dump()`](super::dump()) writes, which the diff
//! reuses to create, alter, grant or comment on what changes. Where each statement goes is
//! [`super::order`]'s and [`super::dump()`]'s concern, not this module's.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{ident, literal, qualified};
use crate::model::{
    Collation, Column, Comment, CommentKind, CompositeType, DefaultPrivilegeKind, DefaultPrivileges, Domain, Function,
    Grant, Index, ObjectPrivileges, Policy, PrivilegeKind, RangeType, Schema, SequenceOptions, Table, Trigger, View,
};

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

pub(super) fn row_security(tables: &[Table]) -> Vec<String> {
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
    if !t.storage.is_empty() {
        let _ = write!(sql, " WITH ({})", storage_parameters(&t.storage));
    }
    sql.push_str(";\n");
    sql
}

/// Storage parameters as `WITH (...)` and `ALTER TABLE ... SET (...)` take them: `fillfactor='90'`,
/// each value quoted as pg_dump quotes it (`toast.autovacuum_enabled='false'`).
pub(crate) fn storage_parameters(options: &[String]) -> String {
    let quoted: Vec<String> = options
        .iter()
        .map(|o| match o.split_once('=') {
            Some((name, value)) => format!("{name}={}", crate::dump::literal(value)),
            None => o.clone(),
        })
        .collect();
    quoted.join(", ")
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

/// An index's statement. An invalid one (a failed `CREATE INDEX CONCURRENTLY` left it) is written
/// as a comment, as pg_dump leaves it out: built from the dump it would be valid, which the
/// database's is not.
pub(crate) fn create_index(index: &Index) -> String {
    if index.valid {
        format!("{};", index.definition)
    } else {
        format!("-- INVALID, left unfinished by a failed CREATE INDEX CONCURRENTLY: {};", index.definition)
    }
}

pub(crate) fn create_view(v: &View) -> String {
    let body = v.definition.trim().trim_end_matches(';').trim_end();
    if v.materialized {
        format!("CREATE MATERIALIZED VIEW {} AS\n{body}\nWITH NO DATA;\n", qualified(&v.schema, &v.name))
    } else {
        format!("CREATE VIEW {} AS\n{body};\n", qualified(&v.schema, &v.name))
    }
}

/// [`create_view`], a materialized view made with its data (a migration's, where a dump for
/// loading leaves it empty).
pub(crate) fn create_view_filled(v: &View) -> String {
    let body = v.definition.trim().trim_end_matches(';').trim_end();
    match v.materialized {
        true => format!("CREATE MATERIALIZED VIEW {} AS\n{body};\n", qualified(&v.schema, &v.name)),
        false => create_view(v),
    }
}

/// Fills a materialized view made empty ([`create_view`]); where its query fails on this
/// database, the view stays empty and a warning says why.
pub(crate) fn fill_view(v: &View) -> String {
    let name = qualified(&v.schema, &v.name);
    let body = format!(
        "\nBEGIN\n  REFRESH MATERIALIZED VIEW {name};\nEXCEPTION WHEN others THEN\n  \
         RAISE WARNING 'materialized view % left empty: %', {}, SQLERRM;\nEND\n",
        literal(&name)
    );
    format!("DO {};", super::dollar_quoted("shale_fill", &body))
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

pub(super) fn comments(schema: &Schema) -> Vec<String> {
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

/// `CREATE OPERATOR`, with each option the operator has.
pub(crate) fn create_operator(o: &crate::model::Operator) -> String {
    let mut options = vec![format!("FUNCTION = {}", o.function)];
    if let Some(left) = &o.left {
        options.push(format!("LEFTARG = {left}"));
    }
    options.push(format!("RIGHTARG = {}", o.right));
    for (word, value) in
        [("COMMUTATOR", &o.commutator), ("NEGATOR", &o.negator), ("RESTRICT", &o.restrict), ("JOIN", &o.join)]
    {
        if let Some(value) = value {
            options.push(format!("{word} = {value}"));
        }
    }
    if o.hashes {
        options.push("HASHES".into());
    }
    if o.merges {
        options.push("MERGES".into());
    }
    format!("CREATE OPERATOR {}.{} ({});", ident(&o.schema), o.name, options.join(", "))
}

/// `DROP OPERATOR` of `o`, by its argument types.
pub(crate) fn drop_operator(o: &crate::model::Operator) -> String {
    format!("DROP OPERATOR {}.{} ({}, {});", ident(&o.schema), o.name, o.left.as_deref().unwrap_or("NONE"), o.right)
}

/// `CREATE CAST`, as pg_cast says it is made.
pub(crate) fn create_cast(c: &crate::model::Cast) -> String {
    let how = match (c.method.as_str(), &c.function) {
        ("f", Some(function)) => format!("WITH FUNCTION {function}"),
        ("i", _) => "WITH INOUT".to_string(),
        _ => "WITHOUT FUNCTION".to_string(),
    };
    let context = match c.context.as_str() {
        "i" => " AS IMPLICIT",
        "a" => " AS ASSIGNMENT",
        _ => "",
    };
    format!("CREATE CAST ({} AS {}) {how}{context};", c.source, c.target)
}

#[cfg(test)]
mod fill_tests {
    use super::*;

    /// The fill block's quote tag is one the view's name does not hold.
    #[test]
    fn the_fill_block_s_quote_is_not_in_the_name() {
        let view = |name: &str| View {
            schema: "Rep".into(),
            name: name.into(),
            materialized: true,
            definition: "SELECT 1;".into(),
            comment: None,
            depends_on: Vec::new(),
            uses: Vec::new(),
        };
        assert!(fill_view(&view("stats")).starts_with("DO $shale_fill$\n"));
        let odd = fill_view(&view("Stats$shale_fill$x"));
        assert!(odd.starts_with("DO $shale_fill_$\n") && odd.ends_with("\n$shale_fill_$;"), "{odd}");
    }
}
