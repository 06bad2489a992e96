//! Triggers: dropped before what they use changes and created after; those that stay may only change
//! their enabled state.

use std::collections::{BTreeMap, BTreeSet};

use super::{key, Differ, Key, TableKey};
use crate::dump::render::trigger;
use crate::dump::{ident, qualified};
use crate::model::Trigger;

impl<'a> Differ<'a> {
    /// Triggers to drop (phase 1) and to create (phase 5): changed ones, those calling a function
    /// that is dropped, those using a column that changes type (`UPDATE OF`, `WHEN`), and those on
    /// a view that is created again (dropping the view dropped them); new ones and those of new
    /// tables and views are created.
    pub(super) fn trigger_plan(&self, recreated_views: &BTreeSet<Key>) -> (Vec<&'a Trigger>, Vec<&'a Trigger>) {
        let tkey = |t: &Trigger| (t.schema.clone(), t.table.clone(), t.name.clone());
        let from: BTreeMap<TableKey, &'a Trigger> = self.from.triggers.iter().map(|t| (tkey(t), t)).collect();
        let to: BTreeMap<TableKey, &'a Trigger> = self.to.triggers.iter().map(|t| (tkey(t), t)).collect();
        let to_views: BTreeSet<Key> = self.to.views.iter().map(|v| key(&v.schema, &v.name)).collect();
        let from_views: BTreeSet<Key> = self.from.views.iter().map(|v| key(&v.schema, &v.name)).collect();
        let (mut drop, mut create) = (Vec::new(), Vec::new());
        for (k, g) in &from {
            let on = key(&g.schema, &g.table);
            // Dropped with their table, or with their view (one that goes, or is created again).
            let view_dropped = recreated_views.contains(&on) || (from_views.contains(&on) && !to_views.contains(&on));
            if self.table_is_gone(&g.schema, &g.table) || view_dropped {
                continue;
            }
            match to.get(k) {
                None => drop.push(*g),
                Some(n)
                    if n.definition != g.definition
                        || self.calls_gone_function(&g.definition)
                        || self.affected(&g.uses, &g.definition) =>
                {
                    drop.push(*g);
                    create.push(*n);
                }
                Some(_) => {}
            }
        }
        for (k, n) in &to {
            let on = key(&n.schema, &n.table);
            if !from.contains_key(k) || self.created_tables.contains(&on) || recreated_views.contains(&on) {
                create.push(*n);
            }
        }
        create.sort_by_key(|t| tkey(t));
        create.dedup_by_key(|t| tkey(t));
        (drop, create)
    }

    pub(super) fn drop_triggers(&mut self, plan: &(Vec<&'a Trigger>, Vec<&'a Trigger>)) {
        for g in &plan.0 {
            self.push_replaced(
                format!("trigger {}.{}.{}", g.schema, g.table, g.name),
                format!("DROP TRIGGER {} ON {};", ident(&g.name), qualified(&g.schema, &g.table)),
            );
        }
    }

    fn calls_gone_function(&self, definition: &str) -> bool {
        self.gone_functions.iter().any(|(s, f, _)| definition.contains(&format!("{}(", qualified(s, f))))
    }

    pub(super) fn create_triggers(&mut self, plan: &(Vec<&'a Trigger>, Vec<&'a Trigger>)) {
        let mut changes = Vec::new();
        let tkey = |t: &Trigger| (t.schema.clone(), t.table.clone(), t.name.clone());
        let created: BTreeSet<TableKey> = plan.1.iter().map(|t| tkey(t)).collect();
        let from: BTreeMap<TableKey, &Trigger> = self.from.triggers.iter().map(|t| (tkey(t), t)).collect();
        for g in &plan.1 {
            let object = format!("trigger {}.{}.{}", g.schema, g.table, g.name);
            if from.contains_key(&tkey(g)) {
                // Created again (its view was): its comment is set again.
                self.replaced.insert(object.clone());
            }
            changes.push((object, trigger(g)));
        }
        // Those that stay: only their enabled state may change.
        for g in &self.to.triggers {
            let k = tkey(g);
            if created.contains(&k) {
                continue;
            }
            let Some(o) = from.get(&k) else { continue };
            if o.enabled != g.enabled {
                let state = match g.enabled.as_str() {
                    "D" => "DISABLE",
                    "R" => "ENABLE REPLICA",
                    "A" => "ENABLE ALWAYS",
                    _ => "ENABLE",
                };
                changes.push((
                    format!("trigger {}.{}.{}", g.schema, g.table, g.name),
                    format!("ALTER TABLE {} {state} TRIGGER {};", qualified(&g.schema, &g.table), ident(&g.name)),
                ));
            }
        }
        for (object, sql) in changes {
            self.push(object, sql, false, None);
        }
    }
}
