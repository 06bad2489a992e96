//! `ADD COLUMN` with a per-row default (a volatile function, a serial type), or with any default
//! on PostgreSQL 10 and older: the table is rewritten.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{added_columns, on, type_name, Hit, Rule};
use crate::effect::{constraint_type, relation_name};
use crate::Context;

pub static RULE: Rule = rule!(
    "add-column-volatile-default",
    Error,
    Lock,
    "a volatile default (or a serial type) is computed for every existing row: the table is rewritten under ACCESS EXCLUSIVE",
    "add the column without a default (or with a constant one), then set the default and backfill in batches"
);

/// Functions whose value differs per row: a default using one rewrites the table.
const VOLATILE: &[&str] =
    &["random", "gen_random_uuid", "uuid_generate_v4", "clock_timestamp", "timeofday", "nextval", "txid_current"];

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let Some((r, columns)) = added_columns(node) else { return };
    let table = relation_name(r);
    let state = context.table_state(&table);
    for col in columns {
        let default = default_of(col);
        let volatile = default.is_some_and(calls_volatile);
        // Before PostgreSQL 11 every default, even a constant, rewrote the table.
        let old_server = context.pg_major.is_some_and(|v| v < 11) && default.is_some();
        if !(volatile || is_serial(col) || old_server) {
            continue;
        }
        let why = if volatile || is_serial(col) {
            "a per-row default"
        } else {
            "a default (PostgreSQL 10 and older rewrite the table for any default)"
        };
        hits.push(on(&RULE, &table, state, format!("adds column {} to {table} with {why}", col.colname)));
    }
}

/// The expression of a column's DEFAULT, if it has one.
pub(super) fn default_of(col: &pg_query::protobuf::ColumnDef) -> Option<&pg_query::protobuf::Node> {
    col.constraints.iter().find_map(|n| match n.node.as_ref() {
        Some(NodeEnum::Constraint(k)) if constraint_type(k.contype) == ConstrType::ConstrDefault => {
            k.raw_expr.as_deref()
        }
        _ => None,
    })
}

/// `serial`, `bigserial`, `smallserial` and their aliases: a sequence default.
pub(super) fn is_serial(col: &pg_query::protobuf::ColumnDef) -> bool {
    matches!(type_name(col).as_str(), "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2")
}

fn calls_volatile(node: &pg_query::protobuf::Node) -> bool {
    let Some(node) = node.node.as_ref() else { return false };
    node.nodes().iter().any(|(n, ..)| match n {
        pg_query::NodeRef::FuncCall(f) => f.funcname.iter().any(|p| {
            matches!(p.node.as_ref(), Some(NodeEnum::String(s)) if VOLATILE.contains(&s.sval.to_ascii_lowercase().as_str()))
        }),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use crate::tests::{rules, rules_on_version};

    #[test]
    fn per_row_defaults() {
        assert_eq!(
            rules("ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();"),
            ["add-column-volatile-default"]
        );
        assert_eq!(rules("ALTER TABLE users ADD COLUMN n bigserial;"), ["add-column-volatile-default"]);
        assert!(rules("ALTER TABLE users ADD COLUMN n int NOT NULL DEFAULT 0;").is_empty());
        assert!(rules("ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now();").is_empty(), "now() is stable");
        assert!(rules("ALTER TABLE users ADD COLUMN IF NOT EXISTS username text;").is_empty());
    }

    #[test]
    fn any_default_before_postgresql_11() {
        let constant_default = "ALTER TABLE users ADD COLUMN n int DEFAULT 0;";
        assert_eq!(rules_on_version(Some(10), constant_default), ["add-column-volatile-default"]);
        assert!(rules_on_version(Some(11), constant_default).is_empty());
    }
}
