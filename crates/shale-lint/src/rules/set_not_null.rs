//! `ALTER COLUMN ... SET NOT NULL` on an existing table: a full scan under ACCESS EXCLUSIVE.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::{alter_table, on, Hit, Rule};
use crate::effect::relation_name;
use crate::Context;

pub static RULE: Rule = rule!(
    "set-not-null",
    Warning,
    Lock,
    "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) already proves it",
    "ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT; then SET NOT NULL (PostgreSQL 12+ skips the scan)"
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let Some((r, commands)) = alter_table(node) else { return };
    let table = relation_name(r);
    for (kind, c) in commands {
        if kind == AlterTableType::AtSetNotNull {
            hits.push(on(&RULE, &table, context.table_state(&table), format!("SET NOT NULL on {table}.{}", c.name)));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn set_not_null_on_an_existing_table() {
        assert_eq!(rules("ALTER TABLE users ALTER COLUMN email SET NOT NULL;"), ["set-not-null"]);
        assert!(rules("ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;").is_empty());
        assert!(rules("CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;").is_empty());
    }
}
