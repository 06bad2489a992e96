//! `ALTER TYPE ... ADD VALUE` inside a transaction, which PostgreSQL 11 and older refuse.

use pg_query::NodeEnum;

use super::{hit, Hit, Rule};
use crate::Context;

pub static RULE: Rule = rule!(
    "enum-add-value-in-transaction",
    Error,
    Always,
    "before PostgreSQL 12, ALTER TYPE ... ADD VALUE cannot run inside a transaction block: the migration fails",
    "put it in its own migration with `-- shale:no-transaction`"
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let NodeEnum::AlterEnumStmt(s) = node else { return };
    if s.old_val.is_empty() && context.in_transaction && context.pg_major.is_some_and(|v| v < 12) {
        hits.push(hit(&RULE, format!("ALTER TYPE ... ADD VALUE '{}' inside a transaction", s.new_val)))
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules_on_version;

    #[test]
    fn only_before_postgresql_12_and_in_a_transaction() {
        let add_value = "ALTER TYPE mood ADD VALUE 'meh';";
        assert_eq!(rules_on_version(Some(11), add_value), ["enum-add-value-in-transaction"]);
        assert!(rules_on_version(Some(12), add_value).is_empty());
        assert!(rules_on_version(None, add_value).is_empty(), "unknown version: a current server is assumed");
        assert!(rules_on_version(Some(11), &format!("-- shale:no-transaction\n{add_value}")).is_empty());
    }
}
