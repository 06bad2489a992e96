//! Indexes, on tables and on materialized views: dropped and created again when their definition
//! changes or a column they use is rebuilt.

use std::collections::{BTreeMap, BTreeSet};

use super::{key, Differ, Key};
use crate::dump::qualified;
use crate::model::{Index, View};

/// Indexes to drop and to create.
pub(super) type IndexPlan<'a> = (Vec<&'a Index>, Vec<&'a Index>);

impl<'a> Differ<'a> {
    pub(super) fn index_plan(&self, recreated_views: &BTreeSet<Key>) -> IndexPlan<'a> {
        let from: BTreeMap<Key, &'a Index> = self.from.indexes.iter().map(|i| (key(&i.schema, &i.name), i)).collect();
        let to: BTreeMap<Key, &'a Index> = self.to.indexes.iter().map(|i| (key(&i.schema, &i.name), i)).collect();
        let to_views: BTreeMap<Key, &View> = self.to.views.iter().map(|v| (key(&v.schema, &v.name), v)).collect();
        let (mut drop, mut add) = (Vec::new(), Vec::new());
        for (k, i) in &from {
            if self.table_is_gone(&i.schema, &i.table) {
                continue;
            }
            let on_recreated_view = recreated_views.contains(&key(&i.schema, &i.table));
            // An index on a materialized view that goes goes with it.
            let view_gone = i.on_materialized_view && !to_views.contains_key(&key(&i.schema, &i.table));
            match to.get(k) {
                None if !on_recreated_view && !view_gone => drop.push(*i),
                // An invalid index is built again: PostgreSQL never uses it, and a rerun of its
                // `CREATE INDEX [CONCURRENTLY] IF NOT EXISTS` would leave it as it is.
                Some(n)
                    if (n.definition != i.definition
                        || (n.valid && !i.valid)
                        || self.rebuilt(&i.schema, &i.table, &i.uses, &i.definition))
                        && !on_recreated_view =>
                {
                    drop.push(*i);
                    add.push(*n);
                }
                _ => {}
            }
        }
        for (k, n) in &to {
            let table = key(&n.schema, &n.table);
            let kept_copy = self.kept_copies.contains(&(n.schema.clone(), n.table.clone(), n.name.clone()));
            if (!from.contains_key(k) && !kept_copy)
                || self.created_tables.contains(&table)
                || recreated_views.contains(&table)
            {
                add.push(*n);
            }
        }
        add.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        add.dedup_by(|a, b| a.schema == b.schema && a.name == b.name);
        (drop, add)
    }

    pub(super) fn drop_indexes(&mut self, drop: &[&Index]) {
        for i in drop {
            let object = format!("index {}.{}", i.schema, i.name);
            let sql = format!("DROP INDEX {};", qualified(&i.schema, &i.name));
            if i.valid {
                self.push_replaced(object, sql);
            } else {
                self.replaced.insert(object.clone());
                let note = "INVALID: a failed CREATE INDEX CONCURRENTLY left it unfinished".to_string();
                self.push(object, sql, false, Some(note));
            }
        }
    }

    pub(super) fn add_indexes(&mut self, add: &[&Index], on_materialized_views: bool) {
        let mut changes = Vec::new();
        let existed: BTreeSet<Key> = self.from.indexes.iter().map(|i| key(&i.schema, &i.name)).collect();
        for i in add.iter().filter(|i| i.on_materialized_view == on_materialized_views) {
            let existing = !self.created_tables.contains(&key(&i.schema, &i.table)) && !on_materialized_views;
            let note = existing.then(|| "builds while blocking writes to the table (CONCURRENTLY needs its own migration without a transaction)".to_string());
            let object = format!("index {}.{}", i.schema, i.name);
            if existed.contains(&key(&i.schema, &i.name)) {
                // Created again (with its materialized view, say): its comment is set again.
                self.replaced.insert(object.clone());
            }
            changes.push((object, format!("{};", i.definition), note, key(&i.schema, &i.table)));
        }
        // A partitioned table's own index cannot be built CONCURRENTLY (its partitions' can).
        let partitioned: BTreeSet<Key> =
            self.to.tables.iter().filter(|t| t.partition_key.is_some()).map(|t| key(&t.schema, &t.name)).collect();
        for (object, sql, note, table) in changes {
            let apart = note.is_some() && !partitioned.contains(&table);
            self.push(object, sql, false, note);
            if let Some(change) = self.out.last_mut() {
                change.build_apart = apart;
            }
        }
    }
}
