//! Views and materialized views: dropped (dependents first) and created again (in dependency order)
//! when they change or read something that changes.

use std::collections::{BTreeMap, BTreeSet};

use super::{key, mentions, Differ, Key};
use crate::dump::order::views_in_order;
use crate::dump::qualified;
use crate::dump::render::create_view_filled;
use crate::model::View;

impl<'a> Differ<'a> {
    /// Views (by key) that must be dropped and created again: changed ones, and those reading a
    /// reshaped or recreated table, a function that is dropped, or another such view.
    pub(super) fn views_to_recreate(&self) -> BTreeSet<Key> {
        let to: BTreeMap<Key, &View> = self.to.views.iter().map(|v| (key(&v.schema, &v.name), v)).collect();
        let mut recreate: BTreeSet<Key> = BTreeSet::new();
        let mut gone: BTreeSet<Key> = BTreeSet::new();
        for v in &self.from.views {
            let k = key(&v.schema, &v.name);
            match to.get(&k) {
                None => {
                    gone.insert(k);
                }
                Some(n) => {
                    let reads_changed = self.affected(&v.uses, &v.definition)
                        || self.gone_functions.iter().any(|(s, f, _)| mentions(&v.definition, &qualified(s, f)))
                        || self.names_recreated_collation(&v.definition);
                    if n.definition != v.definition || n.materialized != v.materialized || reads_changed {
                        recreate.insert(k);
                    }
                }
            }
        }
        loop {
            let before = recreate.len();
            for v in &self.from.views {
                let k = key(&v.schema, &v.name);
                let reads_dropped = v
                    .depends_on
                    .iter()
                    .any(|d| recreate.contains(&key(&d.schema, &d.name)) || gone.contains(&key(&d.schema, &d.name)));
                if reads_dropped && to.contains_key(&k) {
                    recreate.insert(k);
                }
            }
            if recreate.len() == before {
                break;
            }
        }
        recreate
    }

    pub(super) fn drop_views(&mut self, recreate: &BTreeSet<Key>) {
        let to: BTreeSet<Key> = self.to.views.iter().map(|v| key(&v.schema, &v.name)).collect();
        let order = views_in_order(&self.from.views);
        let mut drops = Vec::new();
        for v in order.into_iter().rev() {
            let k = key(&v.schema, &v.name);
            if recreate.contains(&k) || !to.contains(&k) {
                let kind = if v.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
                drops.push((
                    format!("{} {}.{}", kind.to_lowercase(), v.schema, v.name),
                    format!("DROP {kind} {};", qualified(&v.schema, &v.name)),
                ));
            }
        }
        for (object, sql) in drops {
            self.push_replaced(object, sql);
        }
    }

    pub(super) fn create_views(&mut self, recreate: &BTreeSet<Key>) {
        let from: BTreeSet<Key> = self.from.views.iter().map(|v| key(&v.schema, &v.name)).collect();
        let mut creates = Vec::new();
        for v in views_in_order(&self.to.views) {
            let k = key(&v.schema, &v.name);
            if recreate.contains(&k) || !from.contains(&k) {
                let kind = if v.materialized { "materialized view" } else { "view" };
                // Filled with data here (the dump leaves it empty for loading).
                let sql = create_view_filled(v);
                creates.push((format!("{kind} {}.{}", v.schema, v.name), sql));
            }
        }
        for (object, sql) in creates {
            self.push(object, sql, false, None);
        }
    }
}
