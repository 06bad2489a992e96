//! Comments on tables, columns and views (those on other objects: see `access`).

use std::collections::{BTreeMap, BTreeSet};

use super::{key, Differ, Key};
use crate::dump::{ident, literal, qualified};
use crate::model::View;

impl<'a> Differ<'a> {
    pub(super) fn table_and_view_comments(&mut self, recreated_views: &BTreeSet<Key>) {
        let mut changes = Vec::new();
        for t in &self.to.tables {
            let k = key(&t.schema, &t.name);
            let created = self.created_tables.contains(&k);
            let old = self.from_tables.get(&k).filter(|_| !created);
            if old.is_some_and(|o| *o == t) {
                continue;
            }
            let name = qualified(&t.schema, &t.name);
            if old.map(|o| &o.comment) != Some(&t.comment) && (old.is_some() || t.comment.is_some()) {
                changes.push((
                    format!("table {}.{}", t.schema, t.name),
                    format!("COMMENT ON TABLE {name} IS {};", comment(&t.comment)),
                ));
            }
            for c in &t.columns {
                let before = old.and_then(|o| o.columns.iter().find(|x| x.name == c.name)).map(|x| &x.comment);
                let recomputed = old
                    .and_then(|o| o.columns.iter().find(|x| x.name == c.name))
                    .is_some_and(|x| x.generated != c.generated && x.generated.is_some() && c.generated.is_some());
                let differs = before != Some(&c.comment) || recomputed;
                if differs && (before.is_some_and(|b| b.is_some()) || c.comment.is_some()) {
                    changes.push((
                        format!("column {}.{}.{}", t.schema, t.name, c.name),
                        format!("COMMENT ON COLUMN {name}.{} IS {};", ident(&c.name), comment(&c.comment)),
                    ));
                }
            }
        }
        let from: BTreeMap<Key, &View> = self.from.views.iter().map(|v| (key(&v.schema, &v.name), v)).collect();
        for v in &self.to.views {
            let k = key(&v.schema, &v.name);
            let old = from.get(&k).filter(|_| !recreated_views.contains(&k)).map(|o| &o.comment);
            if old != Some(&v.comment) && (old.is_some() || v.comment.is_some()) {
                let kind = if v.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
                changes.push((
                    format!("{} {}.{}", kind.to_lowercase(), v.schema, v.name),
                    format!("COMMENT ON {kind} {} IS {};", qualified(&v.schema, &v.name), comment(&v.comment)),
                ));
            }
        }
        for (object, sql) in changes {
            self.push(object, sql, false, None);
        }
    }
}

fn comment(text: &Option<String>) -> String {
    text.as_deref().map(literal).unwrap_or_else(|| "NULL".into())
}
