//! Enums: labels added in place (committed first), a type whose labels are removed or reordered
//! created again under its name, removed ones dropped after the tables.

use std::collections::{BTreeMap, BTreeSet};

use super::{key, Differ, Key};
use crate::dump::{ident, literal, qualified};
use crate::model::Enum;

impl<'a> Differ<'a> {
    pub(super) fn create_or_alter_enums(&mut self) {
        let from: BTreeMap<Key, &Enum> = self.from.enums.iter().map(|e| (key(&e.schema, &e.name), e)).collect();
        for e in &self.to.enums {
            let k = key(&e.schema, &e.name);
            let name = qualified(&e.schema, &e.name);
            let object = format!("type {}.{}", e.schema, e.name);
            match from.get(&k) {
                None => self.push(object, create_enum(e), false, None),
                Some(old) if self.recreated_types.contains_key(&k) => {
                    let removed: Vec<&String> = old.values.iter().filter(|v| !e.values.contains(v)).collect();
                    let sql = format!(
                        "ALTER TYPE {name} RENAME TO {};\n{}",
                        ident(&format!("{}__shale_old", e.name)),
                        create_enum(e)
                    );
                    let note = if removed.is_empty() {
                        "labels reordered: the type is created again and its columns converted".to_string()
                    } else {
                        let labels: Vec<String> = removed.iter().map(|v| literal(v)).collect();
                        format!("labels removed ({}): converting fails on rows that still use them", labels.join(", "))
                    };
                    self.replaced.insert(object.clone());
                    self.push(object, sql, !removed.is_empty(), Some(note));
                }
                Some(old) if old.values != e.values => {
                    let mut statements = Vec::new();
                    for (i, v) in e.values.iter().enumerate() {
                        if old.values.contains(v) {
                            continue;
                        }
                        let position = if i > 0 {
                            format!(" AFTER {}", literal(&e.values[i - 1]))
                        } else {
                            e.values
                                .iter()
                                .find(|x| old.values.contains(x))
                                .map(|x| format!(" BEFORE {}", literal(x)))
                                .unwrap_or_default()
                        };
                        statements.push(format!("ALTER TYPE {name} ADD VALUE {}{position};", literal(v)));
                    }
                    self.push(object, statements.join("\n"), false, None);
                    if let Some(added) = self.out.last_mut() {
                        added.commit_first = true;
                    }
                }
                Some(_) => {}
            }
        }
    }

    pub(super) fn drop_removed_enums(&mut self) {
        let to: BTreeSet<Key> = self.to.enums.iter().map(|e| key(&e.schema, &e.name)).collect();
        let removed: Vec<(String, bool)> = self
            .from
            .enums
            .iter()
            .filter(|e| !to.contains(&key(&e.schema, &e.name)))
            .map(|e| (qualified(&e.schema, &e.name), self.goes_with_dropped_columns(&e.schema, &e.name)))
            .collect();
        for (name, with_dropped_data) in removed {
            self.push(format!("type {name}"), format!("DROP TYPE {name};"), with_dropped_data, None);
        }
    }

    /// Whether a column the diff drops (its own, or its table's) is of the type `schema.name`
    /// (or an array of it): the type's drop then goes with that drop, left out where drops that
    /// lose data are (MikroORM trial: the table's drop a comment, the type's not, and the SQL
    /// failed on the column still of it; review: a dropped column's, a domain's, a composite's).
    pub(super) fn goes_with_dropped_columns(&self, schema: &str, name: &str) -> bool {
        let qualified_name = qualified(schema, name);
        let of_it = |t: &str| {
            let t = t.trim_end_matches("[]");
            t == qualified_name || (t == name && schema == "public")
        };
        self.from.tables.iter().any(|t| {
            let kept = self.to.tables.iter().find(|o| o.schema == t.schema && o.name == t.name);
            t.columns
                .iter()
                .any(|c| of_it(&c.data_type) && kept.is_none_or(|k| !k.columns.iter().any(|o| o.name == c.name)))
        })
    }
}

fn create_enum(e: &Enum) -> String {
    let values: Vec<String> = e.values.iter().map(|v| literal(v)).collect();
    format!("CREATE TYPE {} AS ENUM ({});", qualified(&e.schema, &e.name), values.join(", "))
}

/// Labels can only be added: the old ones must keep their relative order.
pub(super) fn keeps_order(old: &[String], new: &[String]) -> bool {
    let kept: Vec<&String> = new.iter().filter(|v| old.contains(v)).collect();
    kept.len() == old.len() && kept.iter().zip(old).all(|(a, b)| *a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_labels_may_only_be_added() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(keeps_order(&v(&["a", "b"]), &v(&["x", "a", "y", "b", "z"])));
        assert!(!keeps_order(&v(&["a", "b"]), &v(&["b", "a"])));
        assert!(!keeps_order(&v(&["a", "b"]), &v(&["a"])));
    }
}
