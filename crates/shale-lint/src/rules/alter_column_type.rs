//! `ALTER COLUMN ... TYPE` on an existing table: most type changes rewrite it.

use pg_query::protobuf::{AlterTableType, TypeName};
use pg_query::NodeEnum;

use super::{alter_table, on, Hit, Rule};
use crate::effect::relation_name;
use crate::Context;

pub static RULE: Rule = rule!(
    "alter-column-type",
    Error,
    Lock,
    "changing a column's type rewrites the table (and its indexes) under ACCESS EXCLUSIVE for most type changes",
    "add a new column, backfill it in batches, switch the application, then drop the old column"
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let Some((table, changed)) = rewriting_changes(node, context) else { return };
    for column in changed {
        let message = format!("changes the type of {table}.{column}");
        hits.push(on(&RULE, &table, context.table_state(&table), message));
    }
}

/// Whether the statement's type changes rewrite its table (the lock line says so).
pub(crate) fn rewrites(node: &NodeEnum, context: &Context) -> bool {
    rewriting_changes(node, context).is_some_and(|(_, changed)| !changed.is_empty())
}

/// The table of an `ALTER TABLE` and the columns whose type change rewrites it: all but those
/// whose current type is known and [`keeps_the_rows`].
fn rewriting_changes<'n>(node: &'n NodeEnum, context: &Context) -> Option<(String, Vec<&'n str>)> {
    let (r, commands) = alter_table(node)?;
    let table = relation_name(r);
    let changed = commands
        .filter(|(kind, _)| *kind == AlterTableType::AtAlterColumnType)
        .filter(|(_, c)| {
            let new = match c.def.as_ref().and_then(|d| d.node.as_ref()) {
                Some(NodeEnum::ColumnDef(def)) if def.raw_default.is_none() => def.type_name.as_ref(),
                _ => None,
            };
            let old = context.column_type(&table, &c.name);
            !old.zip(new).is_some_and(|(old, new)| keeps_the_rows(old, new))
        })
        .map(|(_, c)| c.name.as_str())
        .collect();
    Some((table, changed))
}

/// A type change PostgreSQL makes in the catalog alone, without rewriting or checking a row
/// (9.2 and later): a longer or unbounded `varchar`, `text` for a `varchar`, an unbounded
/// `varchar` for a `text`, more digits before the point of a `numeric` (or none at all). `old` is
/// the column's type as `format_type` writes it; a USING clause is not passed here (it may
/// compute anything).
fn keeps_the_rows(old: &str, new: &TypeName) -> bool {
    let name = super::base_type(new);
    if !new.array_bounds.is_empty() || new.setof {
        return false;
    }
    let Some(modifiers) = super::type_modifiers(new) else { return false };
    let (old_name, old_modifiers) = match old.split_once('(') {
        Some((name, rest)) => {
            let numbers: Option<Vec<i64>> =
                rest.trim_end_matches(')').split(',').map(|n| n.trim().parse().ok()).collect();
            match numbers {
                Some(numbers) => (name, numbers),
                None => return false,
            }
        }
        None => (old, Vec::new()),
    };
    match (old_name, name.as_deref(), modifiers.as_slice()) {
        ("character varying", Some("varchar"), [longer]) => old_modifiers.first().is_some_and(|n| longer >= n),
        ("character varying" | "text", Some("varchar"), []) => true,
        ("character varying", Some("text"), []) => true,
        ("numeric", Some("numeric"), []) => true,
        ("numeric", Some("numeric"), [precision, scale]) => {
            matches!(old_modifiers.as_slice(), [p, s] if s == scale && precision >= p)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn type_changes_of_existing_columns() {
        assert_eq!(rules("ALTER TABLE users ALTER COLUMN id TYPE bigint;"), ["alter-column-type"]);
        assert!(rules("CREATE TABLE public.t (id int);\nALTER TABLE t ALTER COLUMN id TYPE bigint;").is_empty());
    }

    /// On a table with rows, judged by the type the column has: a widening touches no row.
    #[test]
    fn a_widening_of_a_column_with_a_known_type_passes() {
        let on = |old: &str, sql: &str| {
            let mut live = crate::LiveDatabase { large_rows: 10, ..Default::default() };
            live.tables.insert("registry".into(), crate::TableSize { rows: 20_000, bytes: 8_000_000 });
            live.column_types.insert("registry.access_key".into(), old.into());
            let s = crate::tests::script("001.sql", sql);
            crate::lint_with([&s], crate::LintOptions { live: Some(live), ..Default::default() })
                .findings
                .iter()
                .map(|f| f.rule)
                .collect::<Vec<_>>()
        };
        let alter = |to: &str| format!("ALTER TABLE registry ALTER COLUMN access_key TYPE {to};");
        for (old, to) in [
            ("character varying(255)", "varchar(4096)"),
            ("character varying(255)", "character varying(255)"),
            ("character varying(255)", "varchar"),
            ("character varying(255)", "text"),
            ("text", "varchar"),
            ("numeric(10,2)", "numeric(12,2)"),
            ("numeric(10,2)", "numeric"),
        ] {
            assert!(on(old, &alter(to)).is_empty(), "{old} -> {to}");
        }
        for (old, to) in [
            ("character varying(255)", "varchar(10)"),
            ("text", "varchar(10)"),
            ("integer", "text"),
            ("integer", "bigint"),
            ("numeric(10,2)", "numeric(12,3)"),
            ("character varying(255)", "varchar(4096)[]"),
        ] {
            assert_eq!(on(old, &alter(to)), ["alter-column-type"], "{old} -> {to}");
        }
        // A USING clause may compute anything; an unknown column type is judged as before.
        assert_eq!(
            on(
                "character varying(255)",
                "ALTER TABLE registry ALTER COLUMN access_key TYPE varchar(4096) USING lower(access_key);"
            ),
            ["alter-column-type"]
        );
        assert_eq!(
            on("character varying(255)", "ALTER TABLE registry ALTER COLUMN other TYPE text;"),
            ["alter-column-type"]
        );
    }

    /// A column dropped and added again in the run has the type it was added with, not the one
    /// the database had: also in a schema other than public.
    #[test]
    fn a_column_added_in_the_run_is_not_judged_by_the_database_s_type() {
        let mut live = crate::LiveDatabase { large_rows: 10, ..Default::default() };
        live.tables.insert("app.registry".into(), crate::TableSize { rows: 20_000, bytes: 8_000_000 });
        live.column_types.insert("app.registry.access_key".into(), "character varying(255)".into());
        let s = crate::tests::script(
            "001.sql",
            "ALTER TABLE app.registry DROP COLUMN access_key;\nALTER TABLE app.registry ADD COLUMN access_key integer;\nALTER TABLE app.registry ALTER COLUMN access_key TYPE text;",
        );
        let report = crate::lint_with([&s], crate::LintOptions { live: Some(live), ..Default::default() });
        let found: Vec<_> = report.findings.iter().filter(|f| f.rule == "alter-column-type").map(|f| f.line).collect();
        assert_eq!(found, [3]);
    }

    /// With no database, the type an earlier file declared (already applied, not linted) decides:
    /// a wider varchar rewrites nothing; a narrower one, or a column whose type no file says, does.
    #[test]
    fn an_earlier_file_s_type_decides_without_a_database() {
        let earlier = crate::tests::script("001.sql", "CREATE TABLE t (id int PRIMARY KEY, v varchar(10), n int);");
        let on = |sql: &str| {
            let s = crate::tests::script("002.sql", sql);
            let report = crate::lint_after([&earlier], [&s], Default::default());
            let rewrites = report.effects.iter().any(|(_, _, e)| e.rewrites);
            (report.findings.iter().map(|f| f.rule).collect::<Vec<_>>(), rewrites)
        };
        assert_eq!(on("ALTER TABLE t ALTER COLUMN v TYPE varchar(20);"), (vec![], false));
        assert_eq!(on("ALTER TABLE t ALTER COLUMN v TYPE varchar(5);"), (vec!["alter-column-type"], true));
        assert_eq!(on("ALTER TABLE t ALTER COLUMN n TYPE bigint;"), (vec!["alter-column-type"], true));
        // The earlier file's table exists, with data: it is not new to this run.
        assert_eq!(on("ALTER TABLE t ADD COLUMN w int NOT NULL;").0, ["add-column-not-null-without-default"]);
        // Widened twice in the run, each judged by the type before it.
        assert_eq!(
            on("ALTER TABLE t ALTER COLUMN v TYPE varchar(20);\nALTER TABLE t ALTER COLUMN v TYPE varchar(15);").0,
            ["alter-column-type"]
        );
    }
}
