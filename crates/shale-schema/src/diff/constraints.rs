//! Constraints: which ones are dropped and added again around the table changes, foreign keys first
//! on the way down and last on the way up; checks and foreign keys on existing tables added NOT VALID
//! and validated after.

use std::collections::{BTreeMap, BTreeSet};

use super::{key, Differ, TableKey};
use crate::dump::{ident, qualified};
use crate::model::{CommentKind, Constraint, ConstraintKind, TableUse};

/// Constraints to drop, to add, to validate, and foreign keys whose deferrability changes in place.
#[derive(Default)]
pub(super) struct ConstraintPlan<'a> {
    pub(super) drop: Vec<&'a Constraint>,
    pub(super) add: Vec<&'a Constraint>,
    pub(super) validate: Vec<&'a Constraint>,
    pub(super) deferrability: Vec<&'a Constraint>,
    /// Plain UNIQUE constraints whose columns change, swapped for the new one built beside them
    /// (the old one, the new one): see [`Differ::swap_constraints`].
    pub(super) swap: Vec<(&'a Constraint, &'a Constraint)>,
}

impl<'a> Differ<'a> {
    /// Constraints to (re)create: new, changed, on a created table, those a column change drops
    /// (on a rebuilt column) and foreign keys whose columns change type (both sides must change
    /// together) or whose key is rebuilt. Nothing else is touched: a foreign key stays, unscanned,
    /// when only other columns of its tables change.
    pub(super) fn constraint_plan(&self) -> ConstraintPlan<'a> {
        let ckey = |c: &Constraint| (c.schema.clone(), c.table.clone(), c.name.clone());
        let from: BTreeMap<TableKey, &'a Constraint> = self.from.constraints.iter().map(|c| (ckey(c), c)).collect();
        let to: BTreeMap<TableKey, &'a Constraint> = self.to.constraints.iter().map(|c| (ckey(c), c)).collect();
        let (mut drop, mut add, mut validate, mut deferrability) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut swap = Vec::new();
        let (mut fks, mut gone_fks) = (Vec::new(), Vec::new());
        for (k, c) in &from {
            if self.table_is_gone(&c.schema, &c.table) {
                // Its table goes with it (foreign keys are looked at below).
                if c.kind == ConstraintKind::ForeignKey {
                    gone_fks.push(*c);
                }
                continue;
            }
            if c.kind == ConstraintKind::ForeignKey {
                fks.push((k, *c));
                continue;
            }
            match to.get(k) {
                // The same check as a parent's: it merges with it (or did).
                None if self.parent_has_check(c) => {}
                None => drop.push(*c),
                Some(n)
                    if n.definition == c.definition && self.rebuilt(&c.schema, &c.table, &c.uses, &c.definition) =>
                {
                    drop.push(*c);
                    add.push(*n);
                }
                Some(n) if n.definition == c.definition => {}
                Some(n) if !c.validated && n.validated && n.definition == without_not_valid(&c.definition) => {
                    validate.push(*n);
                }
                Some(n) if self.constraint_swappable(c, n) => swap.push((*c, *n)),
                Some(n) => {
                    drop.push(*c);
                    add.push(*n);
                }
            }
        }
        // The keys foreign keys may rest on that are dropped: primary key and unique constraints,
        // unique indexes (table, and the columns when known).
        let mut rekeyed: Vec<(String, Option<BTreeSet<&str>>)> = Vec::new();
        let own_columns = |schema: &str, table: &str, uses: &'a [TableUse]| {
            let own = uses.iter().find(|u| u.schema == schema && u.table == table);
            own.map(|u| u.columns.iter().map(String::as_str).collect::<BTreeSet<&str>>())
        };
        for c in drop.iter().filter(|c| matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)) {
            rekeyed.push((qualified(&c.schema, &c.table), own_columns(&c.schema, &c.table, &c.uses)));
        }
        // Looked up, not searched: a model has thousands of indexes.
        let to_indexes: BTreeSet<(&str, &str, &str)> =
            self.to.indexes.iter().map(|n| (n.schema.as_str(), n.name.as_str(), n.definition.as_str())).collect();
        for i in self.from.indexes.iter().filter(|i| i.definition.starts_with("CREATE UNIQUE INDEX")) {
            let kept = to_indexes.contains(&(i.schema.as_str(), i.name.as_str(), i.definition.as_str()));
            if !self.table_is_gone(&i.schema, &i.table)
                && (!kept || self.rebuilt(&i.schema, &i.table, &i.uses, &i.definition))
            {
                rekeyed.push((qualified(&i.schema, &i.table), own_columns(&i.schema, &i.table, &i.uses)));
            }
        }
        let on_dropped_key = |c: &Constraint| {
            let Some(target) = referenced_table(&c.definition) else { return false };
            // The columns it points at (with its own, for a foreign key to its own table).
            let pointed = c.uses.iter().find(|u| qualified(&u.schema, &u.table) == target);
            rekeyed.iter().any(|(table, key)| {
                table == target
                    && match (key, pointed) {
                        (Some(key), Some(p)) => key.iter().all(|k| p.columns.iter().any(|c| c == k)),
                        _ => true,
                    }
            })
        };
        let fk_rebuilt = |c: &Constraint| {
            if c.uses.is_empty() {
                // Without dependency information: any change to either table.
                let changed =
                    |t: &str| self.changed_columns.keys().chain(&self.gone_tables).any(|(s, n)| qualified(s, n) == t);
                return self.changed_columns.contains_key(&key(&c.schema, &c.table))
                    || referenced_table(&c.definition)
                        .is_some_and(|t| changed(t) || rekeyed.iter().any(|(r, _)| r == t));
            }
            self.affected(&c.uses, &c.definition) || on_dropped_key(c)
        };
        // A foreign key whose table goes goes with it, but not before the table it points at
        // (which may itself point back), a key of it that is dropped, or a column of it that
        // changes type: then it is dropped first.
        for c in gone_fks {
            let Some(target) = referenced_table(&c.definition) else { continue };
            if target == qualified(&c.schema, &c.table) {
                continue;
            }
            let Some(t) = self.from_tables.keys().find(|(s, n)| qualified(s, n) == target) else { continue };
            let pointed = c.uses.iter().find(|u| u.schema == t.0 && u.table == t.1);
            let columns_change = self
                .changed_columns
                .get(t)
                .is_some_and(|cs| pointed.is_none_or(|p| p.columns.iter().any(|x| cs.contains(x))));
            if self.gone_tables.contains(t) || columns_change || on_dropped_key(c) {
                drop.push(c);
            }
        }
        for (k, c) in fks {
            match to.get(k) {
                None => drop.push(c),
                Some(n) if n.definition == c.definition && fk_rebuilt(c) => {
                    drop.push(c);
                    add.push(*n);
                }
                Some(n) if n.definition == c.definition => {}
                // Only DEFERRABLE / INITIALLY changes: altered in place, not scanned again.
                Some(n) if without_deferrability(&n.definition) == without_deferrability(&c.definition) => {
                    if (n.deferrable, n.deferred) != (c.deferrable, c.deferred) {
                        deferrability.push(*n);
                    }
                    if !c.validated && n.validated {
                        validate.push(*n);
                    }
                }
                Some(n) => {
                    drop.push(c);
                    add.push(*n);
                }
            }
        }
        for (k, n) in &to {
            if (!from.contains_key(k) && !self.kept_copies.contains(k))
                || self.created_tables.contains(&key(&n.schema, &n.table))
            {
                add.push(*n);
            }
        }
        ConstraintPlan { drop, add, validate, deferrability, swap }
    }

    /// Whether the plain UNIQUE `old` becomes `new` (other columns) by building `new`'s index
    /// beside it and swapping the constraints in one statement, as an index is swapped
    /// ([`Differ::swap_allowed`]). Dropped in one migration and made again from an index built
    /// CONCURRENTLY in the next, the table had no uniqueness in between (production trial, for an
    /// index; the same held for a constraint).
    fn constraint_swappable(&self, old: &Constraint, new: &Constraint) -> bool {
        old.kind == ConstraintKind::Unique
            && new.kind == ConstraintKind::Unique
            && plain_unique_columns(&old.definition).is_some()
            && plain_unique_columns(&new.definition).is_some()
            && !self.needed_by_a_new_key(new)
            && self.swap_allowed(&old.schema, &old.table, &old.uses, &old.definition, true)
            && super::indexes::swap_temporary(&new.schema, &new.name, self.from, self.to).is_some()
    }

    /// Whether a foreign key the diff adds points at exactly the columns of the UNIQUE `c`: the key
    /// needs it there first, in the migration that adds the key, not built apart after it
    /// (review: `--verify` passed, and `up` failed with "there is no unique constraint matching
    /// given keys").
    fn needed_by_a_new_key(&self, c: &Constraint) -> bool {
        let Some(columns) = plain_unique_columns(&c.definition).map(column_set) else { return false };
        self.new_key_points_at(&c.schema, &c.table, &columns)
    }

    /// Whether a foreign key the diff adds points at exactly `columns` of `schema.table`.
    pub(super) fn new_key_points_at(&self, schema: &str, table: &str, columns: &BTreeSet<&str>) -> bool {
        let target = qualified(schema, table);
        self.to.constraints.iter().any(|k| {
            k.kind == ConstraintKind::ForeignKey
                && !self.from.constraints.contains(k)
                && referenced_table(&k.definition) == Some(target.as_str())
                && referenced_columns(&k.definition).map(column_set).as_ref() == Some(columns)
        })
    }

    /// Each UNIQUE of `swaps`: its new index built under a name of its own (CONCURRENTLY in the
    /// migration `diff --write` builds apart), then, in one statement, the old constraint dropped
    /// and the new one made of that index (`USING INDEX`, which gives the index the constraint's
    /// name): the table is unique on the old columns or on the new ones at every moment.
    pub(super) fn swap_constraints(&mut self, swaps: &[(&Constraint, &Constraint)]) {
        for (old, new) in swaps {
            let (Some(temporary), Some(columns)) = (
                super::indexes::swap_temporary(&new.schema, &new.name, self.from, self.to),
                plain_unique_columns(&new.definition),
            ) else {
                continue;
            };
            let table = qualified(&new.schema, &new.table);
            let (name, temporary) = (ident(&new.name), ident(&temporary));
            let mut sql = format!(
                "CREATE UNIQUE INDEX {temporary} ON {table} {columns};\n\
                 ALTER TABLE {table} DROP CONSTRAINT {}, ADD CONSTRAINT {name} UNIQUE USING INDEX {temporary}{};",
                ident(&old.name),
                deferrable_clause(new)
            );
            // Its comment, which went with the old one.
            let comment = self.comment_again(CommentKind::Constraint, &new.schema, Some(&new.table), &new.name);
            if let Some(comment) = comment {
                sql.push_str(&format!("\n{comment}"));
            }
            let note = "built beside the old one, then swapped for it in one statement, so that the table is unique at every moment";
            self.push_apart(format!("constraint {}.{}.{}", new.schema, new.table, new.name), sql, Some(note.into()));
        }
    }

    pub(super) fn drop_constraints(&mut self, drop: &[&Constraint]) {
        // Foreign keys first: they may point at a key dropped here.
        let (fks, others): (Vec<&Constraint>, Vec<&Constraint>) =
            drop.iter().partition(|c| c.kind == ConstraintKind::ForeignKey);
        for c in fks.into_iter().chain(others) {
            self.push_replaced(
                format!("constraint {}.{}.{}", c.schema, c.table, c.name),
                format!("ALTER TABLE {} DROP CONSTRAINT {};", qualified(&c.schema, &c.table), ident(&c.name)),
            );
        }
    }

    /// Constraints to add: foreign keys (`foreign` true) or the others. On a table that already
    /// exists, check and foreign keys are added NOT VALID and validated after, so that the scan
    /// does not hold a lock that blocks writes.
    pub(super) fn add_constraints(&mut self, plan: &ConstraintPlan<'a>, foreign: bool) {
        let ConstraintPlan { add, validate, deferrability, .. } = plan;
        let mut changes = Vec::new();
        for c in add.iter().filter(|c| (c.kind == ConstraintKind::ForeignKey) == foreign) {
            let table = qualified(&c.schema, &c.table);
            let existing = !self.created_tables.contains(&key(&c.schema, &c.table));
            // A partitioned table refuses a NOT VALID foreign key (before PostgreSQL 18) and USING
            // INDEX: both added plainly there, with a note (partitioned tables trial: the diff
            // wrote them, and PostgreSQL refused the migration).
            let partitioned = self.to_tables.get(&key(&c.schema, &c.table)).is_some_and(|t| t.partition_key.is_some());
            let deferred_validation = existing
                && c.validated
                && match c.kind {
                    ConstraintKind::Check => true,
                    ConstraintKind::ForeignKey => !partitioned,
                    _ => false,
                };
            let object = format!("constraint {}.{}.{}", c.schema, c.table, c.name);
            if deferred_validation {
                // Two changes: the VALIDATE must not run in the transaction that added the
                // constraint, whose lock (blocking writes) it would keep for the whole scan; a
                // migration written from the diff validates in one of its own (build apart).
                let name = ident(&c.name);
                let add = format!("ALTER TABLE {table} ADD CONSTRAINT {name} {} NOT VALID;", c.definition);
                changes.push((object.clone(), add, None, false));
                let validate = format!("ALTER TABLE {table} VALIDATE CONSTRAINT {name};");
                changes.push((object, validate, None, true));
                continue;
            }
            // A plain UNIQUE on a table that exists: its index built CONCURRENTLY, then the
            // constraint made of it (`USING INDEX`, a moment's lock), both apart, where ADD
            // CONSTRAINT would build the index while blocking the table's writes.
            let needed = self.needed_by_a_new_key(c);
            if let Some(columns) = plain_unique_columns(&c.definition).filter(|_| existing && !partitioned && !needed) {
                let name = ident(&c.name);
                let index = format!("CREATE UNIQUE INDEX {name} ON {table} {columns};");
                changes.push((format!("index {}.{}", c.schema, c.name), index, None, true));
                let attach = format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}{};",
                    deferrable_clause(c)
                );
                changes.push((object, attach, None, true));
                continue;
            }
            let sql = format!("ALTER TABLE {table} ADD CONSTRAINT {} {};", ident(&c.name), c.definition);
            let note = match c.kind {
                ConstraintKind::ForeignKey if existing && partitioned => Some(
                    "checks every row while blocking writes: a partitioned table refuses NOT VALID before PostgreSQL \
                     18 (add it to each partition NOT VALID and validate it there first, and this takes them over)"
                        .to_string(),
                ),
                ConstraintKind::PrimaryKey | ConstraintKind::Unique if existing && partitioned => Some(
                    "builds an index on every partition while blocking writes: a partitioned table refuses USING \
                     INDEX (add the constraint to each partition USING INDEX first, and this takes them over)"
                        .to_string(),
                ),
                ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion if existing => {
                    Some("builds an index while holding a lock that blocks writes".to_string())
                }
                _ => None,
            };
            changes.push((object, sql, note, false));
        }
        if foreign {
            for c in deferrability {
                let mode = match (c.deferrable, c.deferred) {
                    (false, _) => "NOT DEFERRABLE",
                    (true, false) => "DEFERRABLE INITIALLY IMMEDIATE",
                    (true, true) => "DEFERRABLE INITIALLY DEFERRED",
                };
                changes.push((
                    format!("constraint {}.{}.{}", c.schema, c.table, c.name),
                    format!(
                        "ALTER TABLE {} ALTER CONSTRAINT {} {mode};",
                        qualified(&c.schema, &c.table),
                        ident(&c.name)
                    ),
                    None,
                    false,
                ));
            }
        }
        if !foreign {
            for c in validate {
                changes.push((
                    format!("constraint {}.{}.{}", c.schema, c.table, c.name),
                    format!("ALTER TABLE {} VALIDATE CONSTRAINT {};", qualified(&c.schema, &c.table), ident(&c.name)),
                    None,
                    true,
                ));
            }
        }
        for (object, sql, note, apart) in changes {
            self.push(object, sql, false, note);
            if let Some(change) = self.out.last_mut() {
                change.build_apart = apart;
            }
        }
    }
}

/// The table a foreign key definition points at, as written: `public.users` in
/// `FOREIGN KEY (user_id) REFERENCES public.users(id)`.
fn referenced_table(definition: &str) -> Option<&str> {
    let rest = &definition[definition.find("REFERENCES ")? + "REFERENCES ".len()..];
    Some(&rest[..rest.find('(')?])
}

/// The column list a foreign key definition points at, `(a, b)` of `... REFERENCES public.t(a, b)`.
fn referenced_columns(definition: &str) -> Option<&str> {
    let rest = &definition[definition.find("REFERENCES ")? + "REFERENCES ".len()..];
    let open = rest.find('(')?;
    let close = open + rest[open..].find(')')?;
    Some(&rest[open..=close])
}

/// The columns of a list `(a, b)`, in any order.
pub(super) fn column_set(list: &str) -> BTreeSet<&str> {
    list.trim_start_matches('(').trim_end_matches(')').split(", ").map(str::trim).collect()
}

fn without_not_valid(definition: &str) -> String {
    definition.replace(" NOT VALID", "")
}

/// A constraint's `DEFERRABLE [INITIALLY DEFERRED]`, as written after `USING INDEX`, or nothing.
fn deferrable_clause(c: &Constraint) -> &'static str {
    match (c.deferrable, c.deferred) {
        (false, _) => "",
        (true, false) => " DEFERRABLE",
        (true, true) => " DEFERRABLE INITIALLY DEFERRED",
    }
}

/// A foreign key's definition without its `DEFERRABLE [INITIALLY DEFERRED]` and `NOT VALID`.
fn without_deferrability(definition: &str) -> String {
    without_not_valid(definition).replace(" DEFERRABLE INITIALLY DEFERRED", "").replace(" DEFERRABLE", "")
}

/// The column list of a plain `UNIQUE (a, b)` definition, as `pg_get_constraintdef` writes it,
/// deferrable or not (`USING INDEX` takes [`deferrable_clause`]; the live re-check: a deferrable one
/// was added plainly, and `up` refused it): None for one with more (`NULLS NOT DISTINCT`,
/// `INCLUDE`), which an index of the same name cannot simply stand in for.
fn plain_unique_columns(definition: &str) -> Option<&str> {
    let columns = definition.strip_prefix("UNIQUE ")?;
    let columns = columns.strip_suffix(" DEFERRABLE INITIALLY DEFERRED").unwrap_or(columns);
    let columns = columns.strip_suffix(" DEFERRABLE").unwrap_or(columns);
    (columns.starts_with('(') && columns.ends_with(')') && columns.matches('(').count() == 1).then_some(columns)
}
