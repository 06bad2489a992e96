//! 32-bit (or 16-bit) primary key and foreign key columns.

use pg_query::protobuf::{ColumnDef, ConstrType};
use pg_query::NodeEnum;

use super::{added_columns, defined_columns, hit, type_name, Hit, Rule};
use crate::effect::constraint_type;
use crate::fix::{Edit, Refusal, Rewrite, Target};
use crate::Context;

pub static RULE: Rule = rule!(
    "prefer-bigint-keys",
    Warning,
    Always,
    "integer keys run out at 2^31 (smallint at 2^15), and so do the foreign keys that copy them; changing the type later rewrites the table and its indexes",
    "bigint for key columns and the foreign keys that point at them",
    formerly: ["prefer-bigint-identity"],
    fixer: fix
);

pub(super) fn check(node: &NodeEnum, _: &Context, hits: &mut Vec<Hit>) {
    for (col, role) in key_columns(node) {
        let bits = match type_name(col).as_str() {
            "int4" => "integer (32-bit)",
            "int2" => "smallint (16-bit)",
            _ => continue,
        };
        if col.type_name.as_ref().is_some_and(|t| !t.array_bounds.is_empty()) {
            continue;
        }
        hits.push(hit(&RULE, format!("{role} {} is {bits}", col.colname)).at(col.location));
    }
}

/// `integer` / `smallint` -> `bigint`. The column is new (a table created, or a column added,
/// by this statement), so nothing is rewritten.
fn fix(t: &Target) -> Result<Rewrite, Refusal> {
    let col = t.column().ok_or("the column is not in the statement")?;
    let range = t.type_range(col).ok_or("the column's type is not in the statement")?;
    let text = t.cased(range.clone(), "BIGINT");
    Ok(Rewrite {
        edits: vec![Edit { range, text }],
        description: format!("{} becomes bigint", col.colname),
        outside_transaction: false,
    })
}

/// The key columns a statement defines, each once, in the order of the columns: a primary key
/// column or a foreign key column (said inline or by a table constraint of the same CREATE TABLE).
/// In a primary key of several columns, only one that counts up (an identity) is a key that runs
/// out: the others (a position, an attempt number) hold what the application puts there.
fn key_columns(node: &NodeEnum) -> Vec<(&ColumnDef, &'static str)> {
    let kind = |n: &pg_query::protobuf::Node| match n.node.as_ref() {
        Some(NodeEnum::Constraint(k)) => Some(constraint_type(k.contype)),
        _ => None,
    };
    // Table constraints: PRIMARY KEY (a, b), FOREIGN KEY (c) REFERENCES ...
    let mut primary = Vec::new();
    let mut composite = Vec::new();
    let mut foreign = Vec::new();
    if let NodeEnum::CreateStmt(s) = node {
        for e in &s.table_elts {
            if let Some(NodeEnum::Constraint(k)) = e.node.as_ref() {
                match constraint_type(k.contype) {
                    ConstrType::ConstrPrimary if k.keys.len() > 1 => composite.extend(names(&k.keys)),
                    ConstrType::ConstrPrimary => primary.extend(names(&k.keys)),
                    ConstrType::ConstrForeign => foreign.extend(names(&k.fk_attrs)),
                    _ => {}
                }
            }
        }
    }
    let columns = match node {
        NodeEnum::CreateStmt(_) => defined_columns(node),
        _ => added_columns(node).map(|(_, c)| c).unwrap_or_default(),
    };
    columns
        .into_iter()
        .filter_map(|col| {
            let inline = |t: ConstrType| col.constraints.iter().any(|n| kind(n) == Some(t));
            let counts_up = inline(ConstrType::ConstrIdentity);
            let in_composite = composite.contains(&col.colname.as_str());
            if inline(ConstrType::ConstrPrimary)
                || primary.contains(&col.colname.as_str())
                || (in_composite && counts_up)
            {
                Some((col, "primary key"))
            } else if inline(ConstrType::ConstrForeign) || foreign.contains(&col.colname.as_str()) {
                Some((col, "foreign key column"))
            } else {
                None
            }
        })
        .collect()
}

fn names(list: &[pg_query::protobuf::Node]) -> impl Iterator<Item = &str> {
    list.iter().filter_map(|n| match n.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use crate::fix::testing::fixed;
    use crate::tests::rules;

    const RULE: &str = "prefer-bigint-keys";

    #[test]
    fn must_fix() {
        assert_eq!(
            fixed(
                RULE,
                "CREATE TABLE orders (\n  id integer NOT NULL,\n  user_id pg_catalog.int4 REFERENCES users (id),\n  n int,\n  PRIMARY KEY (id)\n);\n"
            )
            .unwrap(),
            "CREATE TABLE orders (\n  id bigint NOT NULL,\n  user_id bigint REFERENCES users (id),\n  n int,\n  PRIMARY KEY (id)\n);\n"
        );
        assert_eq!(
            fixed(RULE, "alter table orders add column shop_id smallint references shops;").unwrap(),
            "alter table orders add column shop_id bigint references shops;"
        );
    }

    #[test]
    fn must_flag() {
        for sql in [
            "CREATE TABLE t (id integer PRIMARY KEY);",
            "CREATE TABLE t (id int4 PRIMARY KEY);",
            "CREATE TABLE t (id smallint PRIMARY KEY);",
            "CREATE TABLE t (id int, PRIMARY KEY (id));",
            "CREATE TABLE t (id bigint PRIMARY KEY, user_id int REFERENCES users (id));",
            "CREATE TABLE t (id bigint PRIMARY KEY, user_id integer, FOREIGN KEY (user_id) REFERENCES users);",
            "CREATE TABLE t (id pg_catalog.int4 CONSTRAINT t_pk PRIMARY KEY);",
            "ALTER TABLE orders ADD COLUMN user_id int REFERENCES users (id);",
        ] {
            assert_eq!(rules(sql), ["prefer-bigint-keys"], "{sql}");
        }
        // In a primary key of several columns: the one that counts up, and a foreign key.
        assert_eq!(
            rules("CREATE TABLE t (a int GENERATED ALWAYS AS IDENTITY, b smallint, PRIMARY KEY (a, b));"),
            ["prefer-bigint-keys"]
        );
        assert_eq!(
            rules("CREATE TABLE t (tenant int REFERENCES tenants, n int, PRIMARY KEY (tenant, n));"),
            ["prefer-bigint-keys"]
        );
    }

    #[test]
    fn must_pass() {
        for sql in [
            "CREATE TABLE t (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));",
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);",
            // Not a key: counts and unique codes may stay small.
            "CREATE TABLE t (id bigint PRIMARY KEY, n int, code int UNIQUE);",
            "CREATE TABLE t (id uuid PRIMARY KEY);",
            "ALTER TABLE users ADD COLUMN n int;",
            // serial is prefer-identity's business.
            "CREATE TABLE t (id serial PRIMARY KEY);",
            "CREATE TABLE t (ids int[] PRIMARY KEY);",
            // A key of several columns: a run's attempt number is no counter that runs out.
            "CREATE TABLE t (run_id bigint, retry_count int, PRIMARY KEY (run_id, retry_count));",
        ] {
            assert!(!rules(sql).contains(&"prefer-bigint-keys"), "{sql}: {:?}", rules(sql));
        }
    }
}
