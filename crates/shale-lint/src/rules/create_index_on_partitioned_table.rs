//! `CREATE INDEX` on an existing partitioned table.

use pg_query::NodeEnum;

use super::{on, Hit, Rule};
use crate::effect::relation_name;
use crate::{Context, TableState};

pub static RULE: Rule = rule!(
    "create-index-on-partitioned-table",
    Error,
    Lock,
    "CREATE INDEX on a partitioned table holds a SHARE lock on it and on every partition for the whole build, \
     and PostgreSQL cannot build a partitioned table's index CONCURRENTLY",
    "CREATE INDEX name ON ONLY the table (instant; the index is invalid until every partition has its own), \
     then for each partition CREATE INDEX CONCURRENTLY and ALTER INDEX name ATTACH PARTITION that index"
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let NodeEnum::IndexStmt(s) = node else { return };
    let Some(r) = s.relation.as_ref() else { return };
    let table = relation_name(r);
    if !context.is_partitioned(&table) {
        return;
    }
    // CONCURRENTLY is refused on a partitioned table, `ON ONLY` too, whatever the table holds
    // (partitioned tables trial: lint and the dry run passed it, and `up` failed on it).
    if s.concurrent {
        let message = format!("CREATE INDEX CONCURRENTLY on partitioned table {table}, which PostgreSQL refuses");
        hits.push(on(&RULE, &table, TableState::Existing, message));
        return;
    }
    // `ON ONLY` builds nothing (the parent's index alone).
    if !r.inh {
        return;
    }
    let state = context.table_state(&table);
    hits.push(on(&RULE, &table, state, format!("CREATE INDEX on partitioned table {table} locks every partition")));
}

#[cfg(test)]
mod tests {
    use crate::tests::{partitioned_rules, rules_after_applied};

    const RULE: &str = "create-index-on-partitioned-table";
    const EVENTS: &str = "CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at);\n\
                          CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');";

    #[test]
    fn must_flag() {
        // Declared partitioned by a file applied before: CONCURRENTLY is not the way.
        assert_eq!(rules_after_applied(EVENTS, "CREATE INDEX events_at ON events (at);"), [RULE]);
        // Partitioned in the database.
        assert_eq!(partitioned_rules("events", "CREATE INDEX events_at ON public.events (at);"), [RULE]);
        // CONCURRENTLY, which PostgreSQL refuses there, `ON ONLY` too, even on a table created
        // earlier in the run.
        let concurrently = "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY events_at ON events (at);";
        assert_eq!(rules_after_applied(EVENTS, concurrently), [RULE]);
        assert_eq!(partitioned_rules("events", "CREATE INDEX CONCURRENTLY events_at ON ONLY events (at);"), [RULE]);
        assert_eq!(
            crate::tests::rules(&format!("{EVENTS}\nCREATE INDEX CONCURRENTLY events_at ON events (at);")),
            [RULE]
        );
    }

    #[test]
    fn must_pass() {
        // The parent's own index, and each partition's built concurrently: the safe recipe.
        let recipe = "CREATE INDEX events_at ON ONLY events (at);";
        assert!(rules_after_applied(EVENTS, recipe).is_empty());
        let partition = "CREATE INDEX CONCURRENTLY events_2026_at ON events_2026 (at);";
        assert_eq!(rules_after_applied(EVENTS, partition), Vec::<&str>::new());
        // A table that is not partitioned has the other rule, whose fix is CONCURRENTLY.
        assert_eq!(
            rules_after_applied("CREATE TABLE t (id int);", "CREATE INDEX t_id ON t (id);"),
            ["create-index-non-concurrently"]
        );
    }
}
