//! Collations: created before the types and tables that use them, dropped after. A collation
//! cannot be altered: one whose definition changes is created again under its name, the old one
//! renamed away until the columns, domains and indexes using it have moved to the new one.

use std::collections::BTreeMap;

use super::{key, Differ, Key};
use crate::dump::render::create_collation;
use crate::dump::{ident, qualified};
use crate::model::Collation;

impl<'a> Differ<'a> {
    /// Collations whose definition changes, as columns name them (`public.ci`).
    pub(super) fn classify_collations(&mut self) {
        let to: BTreeMap<Key, &Collation> = self.to.collations.iter().map(|c| (key(&c.schema, &c.name), c)).collect();
        for c in &self.from.collations {
            if to.get(&key(&c.schema, &c.name)).is_some_and(|n| *n != c) {
                self.recreated_collations.insert(qualified(&c.schema, &c.name));
            }
        }
    }

    /// Whether a column's (or domain's, attribute's, range's) collation is created again.
    pub(super) fn collation_recreated(&self, collation: &Option<String>) -> bool {
        collation.as_ref().is_some_and(|c| self.recreated_collations.contains(c))
    }

    /// Whether a definition (an index's, a view's, ...) names a collation that is created again.
    pub(super) fn names_recreated_collation(&self, definition: &str) -> bool {
        self.recreated_collations.iter().any(|c| super::mentions(definition, c))
    }

    /// Phase 2, before the types: new collations, and changed ones created again.
    pub(super) fn create_collations(&mut self) {
        let from: BTreeMap<Key, &Collation> =
            self.from.collations.iter().map(|c| (key(&c.schema, &c.name), c)).collect();
        let mut changes = Vec::new();
        for c in &self.to.collations {
            let object = format!("collation {}.{}", c.schema, c.name);
            match from.get(&key(&c.schema, &c.name)) {
                None => changes.push((object, create_collation(c), None)),
                Some(old) if *old != c => {
                    let sql = format!(
                        "ALTER COLLATION {} RENAME TO {};\n{}",
                        qualified(&c.schema, &c.name),
                        ident(&format!("{}__shale_old", c.name)),
                        create_collation(c)
                    );
                    let note = "a collation cannot be altered: created again, and the columns using it converted (their indexes are rebuilt)";
                    changes.push((object, sql, Some(note.to_string())));
                }
                Some(_) => {}
            }
        }
        for (object, sql, note) in changes {
            if note.is_some() {
                self.replaced.insert(object.clone());
            }
            self.push(object, sql, false, note);
        }
    }

    /// Phase 4, once no column, domain or index uses them: removed collations, and the old copies
    /// of those created again.
    pub(super) fn drop_collations(&mut self) {
        let to: BTreeMap<Key, &Collation> = self.to.collations.iter().map(|c| (key(&c.schema, &c.name), c)).collect();
        let mut drops = Vec::new();
        for c in &self.from.collations {
            let object = format!("collation {}.{}", c.schema, c.name);
            if !to.contains_key(&key(&c.schema, &c.name)) {
                drops.push((object, format!("DROP COLLATION {};", qualified(&c.schema, &c.name))));
            } else if self.recreated_collations.contains(&qualified(&c.schema, &c.name)) {
                let old = qualified(&c.schema, &format!("{}__shale_old", c.name));
                drops.push((object, format!("DROP COLLATION {old};")));
            }
        }
        for (object, sql) in drops {
            self.push(object, sql, false, None);
        }
    }
}
