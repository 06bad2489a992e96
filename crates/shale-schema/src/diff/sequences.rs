//! Sequences: created and altered before the tables, released from an owner that goes, dropped
//! after the tables, and owned by their column once the tables are there.

use std::collections::{BTreeMap, BTreeSet};

use super::{key, Differ, Key};
use crate::dump::render::sequence_options;
use crate::dump::{ident, qualified};
use crate::model::{Sequence, SequenceOptions};

impl<'a> Differ<'a> {
    pub(super) fn create_or_alter_sequences(&mut self) {
        let from: BTreeMap<Key, &Sequence> = self.from.sequences.iter().map(|s| (key(&s.schema, &s.name), s)).collect();
        for s in &self.to.sequences {
            let name = qualified(&s.schema, &s.name);
            let object = format!("sequence {}.{}", s.schema, s.name);
            match from.get(&key(&s.schema, &s.name)) {
                None => {
                    let create =
                        format!("CREATE SEQUENCE {name} AS {} {};", s.options.data_type, sequence_options(&s.options));
                    // The sequence of an identity made a serial again, under the name that one has:
                    // that one renamed aside (it goes with DROP IDENTITY), and this one going on
                    // from its position.
                    let sql = match self.identity_named(&s.schema, &s.name) {
                        Some(aside) => format!(
                            "ALTER SEQUENCE {name} RENAME TO {};\n{create}\nSELECT pg_catalog.setval({}, last_value, is_called) FROM {};",
                            ident(&aside),
                            crate::dump::literal(&name),
                            qualified(&s.schema, &aside)
                        ),
                        None => create,
                    };
                    self.push(object, sql, false, None)
                }
                Some(old) if old.options != s.options => {
                    let (sql, note) = alter_sequence(&name, &old.options, &s.options);
                    self.push(object, sql, false, note);
                }
                Some(_) => {}
            }
        }
    }

    /// Where a column of a table that stays has an identity whose sequence is `schema.name` and
    /// loses it (made a serial again), the name that sequence is renamed to meanwhile.
    fn identity_named(&self, schema: &str, name: &str) -> Option<String> {
        let losing = self.from.tables.iter().any(|t| {
            let after = self.to_tables.get(&key(&t.schema, &t.name));
            t.columns.iter().any(|c| {
                c.identity
                    .as_ref()
                    .and_then(|i| i.sequence.as_ref())
                    .is_some_and(|q| q.schema == schema && q.name == name)
                    && after.is_some_and(|a| a.columns.iter().any(|x| x.name == c.name && x.identity.is_none()))
            })
        });
        losing.then(|| super::indexes::free_name(schema, name, "identity", self.from, self.to)).flatten()
    }

    /// A sequence that stays while the table or column owning it goes (or is recreated) would go
    /// with it: it is released first (and owned again in phase 5 if it should be).
    pub(super) fn release_kept_sequences(&mut self) {
        let to: BTreeSet<Key> = self.to.sequences.iter().map(|s| key(&s.schema, &s.name)).collect();
        let mut released = Vec::new();
        for s in &self.from.sequences {
            let Some(o) = &s.owned_by else { continue };
            if !to.contains(&key(&s.schema, &s.name)) {
                continue;
            }
            let column_goes = self
                .to_tables
                .get(&key(&o.schema, &o.table))
                .is_none_or(|t| !t.columns.iter().any(|c| c.name == o.column));
            if self.table_is_gone(&o.schema, &o.table) || column_goes {
                released.push((
                    format!("sequence {}.{}", s.schema, s.name),
                    format!("ALTER SEQUENCE {} OWNED BY NONE;", qualified(&s.schema, &s.name)),
                ));
            }
        }
        for (object, sql) in released {
            self.push(object, sql, false, None);
        }
    }

    pub(super) fn drop_removed_sequences(&mut self) {
        let to: BTreeSet<Key> = self.to.sequences.iter().map(|s| key(&s.schema, &s.name)).collect();
        let mut drops = Vec::new();
        for s in &self.from.sequences {
            if to.contains(&key(&s.schema, &s.name)) || self.serials_made_identities.contains(&key(&s.schema, &s.name))
            {
                continue;
            }
            // A sequence owned by a dropped table or column went with it.
            if let Some(o) = &s.owned_by {
                let column_dropped = self
                    .to_tables
                    .get(&key(&o.schema, &o.table))
                    .is_none_or(|t| !t.columns.iter().any(|c| c.name == o.column));
                if self.table_is_gone(&o.schema, &o.table) || column_dropped {
                    continue;
                }
            }
            drops.push((
                format!("sequence {}.{}", s.schema, s.name),
                format!("DROP SEQUENCE {};", qualified(&s.schema, &s.name)),
            ));
        }
        for (object, sql) in drops {
            self.push(object, sql, true, Some("drops the sequence and its current value".into()));
        }
    }

    pub(super) fn sequence_ownership(&mut self) {
        let from: BTreeMap<Key, &Sequence> = self.from.sequences.iter().map(|s| (key(&s.schema, &s.name), s)).collect();
        let mut changes = Vec::new();
        for s in &self.to.sequences {
            let old = from.get(&key(&s.schema, &s.name)).and_then(|o| o.owned_by.as_ref());
            let owner_recreated =
                s.owned_by.as_ref().is_some_and(|o| self.created_tables.contains(&key(&o.schema, &o.table)));
            if old == s.owned_by.as_ref() && !owner_recreated {
                continue;
            }
            let owner = match &s.owned_by {
                Some(o) => format!("{}.{}", qualified(&o.schema, &o.table), ident(&o.column)),
                None => "NONE".into(),
            };
            changes.push((
                format!("sequence {}.{}", s.schema, s.name),
                format!("ALTER SEQUENCE {} OWNED BY {owner};", qualified(&s.schema, &s.name)),
            ));
        }
        for (object, sql) in changes {
            self.push(object, sql, false, None);
        }
    }
}

/// `ALTER SEQUENCE` with the options that change, and a note when the range narrows. A new type
/// (`AS`) comes with both bounds: PostgreSQL would otherwise move a bound that was the old type's
/// default to the new type's.
fn alter_sequence(name: &str, old: &SequenceOptions, new: &SequenceOptions) -> (String, Option<String>) {
    let mut clauses = Vec::new();
    let retyped = old.data_type != new.data_type;
    if retyped {
        clauses.push(format!("AS {}", new.data_type));
    }
    if old.start != new.start {
        clauses.push(format!("START WITH {}", new.start));
    }
    if old.increment != new.increment {
        clauses.push(format!("INCREMENT BY {}", new.increment));
    }
    if old.min != new.min || retyped {
        clauses.push(format!("MINVALUE {}", new.min));
    }
    if old.max != new.max || retyped {
        clauses.push(format!("MAXVALUE {}", new.max));
    }
    if old.cache != new.cache {
        clauses.push(format!("CACHE {}", new.cache));
    }
    if old.cycle != new.cycle {
        clauses.push(if new.cycle { "CYCLE".into() } else { "NO CYCLE".into() });
    }
    let narrower = new.min > old.min || new.max < old.max;
    let note = narrower.then(|| {
        format!("the range narrows to {}..{}: fails if the sequence's current value is outside it", new.min, new.max)
    });
    (format!("ALTER SEQUENCE {name} {};", clauses.join(" ")), note)
}
