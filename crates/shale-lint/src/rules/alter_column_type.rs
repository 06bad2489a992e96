//! `ALTER COLUMN ... TYPE` on an existing table: most type changes rewrite it.

use pg_query::protobuf::AlterTableType;
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
    let Some((r, commands)) = alter_table(node) else { return };
    let table = relation_name(r);
    for (kind, c) in commands {
        if kind == AlterTableType::AtAlterColumnType {
            let message = format!("changes the type of {table}.{}", c.name);
            hits.push(on(&RULE, &table, context.table_state(&table), message));
        }
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
}
