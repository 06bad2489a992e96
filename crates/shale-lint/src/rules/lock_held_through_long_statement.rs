//! A long statement (an UPDATE or DELETE of every row, a VALIDATE's scan) after one that took a
//! lock the application waits on, in the same transaction: that lock is held until COMMIT, so
//! the application waits through the long statement too, whatever the long statement's own lock
//! (live-traffic trial: ADD COLUMN then an UPDATE of every row stalled every client 16.9 s; a
//! foreign key added NOT VALID, then validated in the same file, held SHARE ROW EXCLUSIVE through
//! the validation, longer than the plain foreign key; neither was said).

use pg_query::NodeEnum;
use shale_core::locks::LockMode;

use super::{on, Hit, Rule};
use crate::effect::relation_name;
use crate::{Context, Effect};

pub static RULE: Rule = rule!(
    "lock-held-through-long-statement",
    Warning,
    Lock,
    "a lock the application waits on, taken by an earlier statement of the same transaction, is held until it commits: the application waits through this long statement too (a NOT VALID constraint validated in the transaction that adds it saves nothing)",
    "commit before it: put it in a migration of its own, after the one taking the lock, or give the file `-- shale:no-transaction` so each statement commits on its own (a long UPDATE as `-- shale:backfill`)"
);

/// A lock held since an earlier statement of the script's transaction, on a table there before.
#[derive(Debug, Clone)]
pub(crate) struct HeldLock {
    table: String,
    mode: LockMode,
    line: usize,
}

/// Judges `node` (taking `effects`) against the locks held since earlier statements.
pub(crate) fn check(node: &NodeEnum, effects: &[Effect], context: &Context) -> Option<Hit> {
    let held = context.locks_held.first()?;
    let (table, what) = long_statement(node, effects, context)?;
    let state = context.table_state(&table);
    let message = format!(
        "{} stays locked {} (line {}) through this {what} {table}: the transaction holds it until COMMIT",
        held.table, held.mode, held.line
    );
    Some(on(&RULE, &table, state, message))
}

/// The table a statement spends long on, and what it does there: an UPDATE or DELETE of every
/// row (not a batched backfill), or a scan under a lock the application does not wait on (a
/// VALIDATE). One whose own lock stalls the application is its own rule's finding.
fn long_statement(node: &NodeEnum, effects: &[Effect], context: &Context) -> Option<(String, &'static str)> {
    // Of every row: a WHERE may pick one row by its key in a millisecond (re-check: a finding
    // for `WHERE id = 42` on a table of a million rows), which the statement's text cannot tell
    // from one matching most of them.
    match node {
        NodeEnum::UpdateStmt(u) if !context.in_backfill && u.where_clause.is_none() => {
            Some((relation_name(u.relation.as_ref()?), "UPDATE of every row of"))
        }
        NodeEnum::DeleteStmt(d) if d.where_clause.is_none() => {
            Some((relation_name(d.relation.as_ref()?), "DELETE of every row of"))
        }
        _ => effects
            .iter()
            .find(|e| e.scans && !e.rewrites && !e.lock.stalls_application() && !e.table.is_empty())
            .map(|e| (e.table.clone(), "scan of")),
    }
}

/// Remembers the locks `effects` take that the application waits on, on tables there before the
/// run, for the statements after it in the transaction (`line`: where it is written).
pub(crate) fn remember(effects: &[Effect], line: usize, context: &mut Context) {
    if !context.in_transaction {
        return;
    }
    let held: Vec<HeldLock> = effects
        .iter()
        .filter(|e| e.lock.stalls_application() && !e.table.is_empty() && context.table_state(&e.table).existed())
        .map(|e| HeldLock { table: e.table.clone(), mode: e.lock, line })
        .collect();
    context.locks_held.extend(held);
}

#[cfg(test)]
mod tests {
    use crate::tests::{large_table_rules, rules, rules_after};

    #[test]
    fn a_long_statement_after_a_strong_lock_in_one_transaction() {
        // The two shapes of the live-traffic trial.
        let backfill_in_place = "ALTER TABLE orders ADD COLUMN total_cents bigint;\nUPDATE orders SET total_cents = 0;";
        assert!(rules(backfill_in_place).contains(&"lock-held-through-long-statement"));
        let validated_with_it = "ALTER TABLE orders ADD CONSTRAINT orders_customer FOREIGN KEY (customer_id) \
                                 REFERENCES customers NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_customer;";
        assert_eq!(rules(validated_with_it), ["lock-held-through-long-statement"]);
        // Committed in between (a file of its own, or no transaction), nothing is held through it.
        assert!(rules(&format!("-- shale:no-transaction\n{validated_with_it}")).is_empty());
        // A narrow data fix after it is short; a table made in this run keeps no one waiting.
        assert!(
            rules("ALTER TABLE orders ADD COLUMN note text;\nUPDATE orders SET note = 'x' WHERE id = 1;").is_empty()
        );
        assert!(rules_after(
            "CREATE TABLE orders (id int);",
            "ALTER TABLE orders ADD COLUMN n int;\nUPDATE orders SET n = 0;"
        )
        .iter()
        .all(|r| *r != "lock-held-through-long-statement"));
        // Of a large table, every row; a row picked by its key is not (re-check).
        let every = "ALTER TABLE orders ADD COLUMN n int;\nUPDATE orders SET n = 0;";
        assert!(large_table_rules("orders", every).contains(&"lock-held-through-long-statement"));
        let one = "ALTER TABLE orders ADD COLUMN n int;\nUPDATE orders SET n = 0 WHERE id = 42;";
        assert!(!large_table_rules("orders", one).contains(&"lock-held-through-long-statement"));
    }
}
