//! An UPDATE of a large table in one statement: every row it changes stays locked until the
//! migration commits.

use pg_query::NodeEnum;

use super::{on, Hit, Rule};
use crate::effect::relation_name;
use crate::{Context, TableState};

pub static RULE: Rule = rule!(
    "large-update",
    Warning,
    Lock,
    "one UPDATE holds a lock on every row it changes until its transaction commits: the application's writes to those rows wait for all of it (minutes on a large table), replicas fall behind, and a stop at 90% leaves nothing done",
    "batch it: `-- shale:backfill` on the line before it runs it in short transactions along the primary key, resuming where a stop left it"
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let NodeEnum::UpdateStmt(u) = node else { return };
    if context.in_backfill {
        return;
    }
    let Some(r) = u.relation.as_ref() else { return };
    let table = relation_name(r);
    let state = context.table_state(&table);
    // Known large, it fires whatever the WHERE; with nothing known of its size, only where no
    // WHERE narrows it (a data fix of a few rows is the usual UPDATE in a migration).
    let whole = u.where_clause.is_none();
    if matches!(state, TableState::Large { .. }) || whole {
        let what = if whole { "every row of" } else { "the rows it matches in" };
        hits.push(on(&RULE, &table, state, format!("UPDATE of {what} {table} in one statement")));
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::{large_table_rules, rules, rules_after};

    #[test]
    fn a_large_update_is_batched() {
        assert_eq!(rules("UPDATE users SET active = true;"), ["large-update"]);
        // Without the table's size, a narrowed UPDATE (a data fix) is let be.
        assert!(rules("UPDATE users SET active = true WHERE id = 7;").is_empty());
        // A table made in this run is empty.
        assert!(rules_after("CREATE TABLE users (id int, active bool);", "UPDATE users SET active = true;").is_empty());
        // Batched, it is what the rule asks for.
        assert!(rules("-- shale:backfill batch=1000\nUPDATE users SET active = true;").is_empty());
        // On a large table, a WHERE does not make it short.
        assert_eq!(large_table_rules("users", "UPDATE users SET total = 0 WHERE total IS NULL;"), ["large-update"]);
    }
}
