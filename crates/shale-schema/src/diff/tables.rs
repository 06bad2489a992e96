//! Which tables go, which are created (again) and which of their columns change, classified first
//! (what uses those columns is rebuilt around the change); then phase 3: the tables. Partitions
//! that leave their parent are detached and parents removed (`NO INHERIT`) first, then removed
//! tables dropped, then the columns of the tables that stay changed, parents before their children,
//! then new tables created, then partitions attached (or given their new bound), new parents
//! inherited and tables made typed.
//!
//! Column changes on a table reach the tables inheriting from it (PostgreSQL recurses `ADD`,
//! `DROP`, `TYPE`, `SET/DROP DEFAULT` and `NOT NULL` to them), and what a child declares itself
//! (`attislocal`) or only inherits (`attinhcount`) decides what survives. So the diff follows the
//! tree as PostgreSQL will see it statement after statement ([`Tree`]): what reaches a child by
//! recursion is not written again for it, a column a child keeps while its parent drops it is
//! dropped from the parent `ONLY`, defaults and NOT NULL are set `ONLY` on a table that has
//! children (each child gets its own), and a column a child declares that its parent gains is
//! added to the child first (so that the two merge). A partition that stays attached is never
//! altered: it follows its parent.

use std::collections::BTreeMap;

use super::columns::{add_column_note, conversion, conversion_through_text, type_change_rewrites};
use super::{key, Differ, Key};
use crate::dump::order::tables_in_order;
use crate::dump::render::{column, create_table, inherited_column_overrides, sequence_options};
use crate::dump::{ident, qualified};
use crate::model::{Column, Constraint, ConstraintKind, Identity, PartitionCopy, QualifiedName, Schema, Table};

/// A column as PostgreSQL holds it at some point of the diff.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TreeColumn {
    /// Declared by the table itself (`attislocal`).
    local: bool,
    /// The number of parents it comes from (`attinhcount`).
    inherited_from: usize,
    data_type: String,
    collation: Option<String>,
    default: Option<String>,
    not_null: bool,
    generated: Option<String>,
    /// Its type was changed by the diff already (a column of a recreated collation moves once).
    retyped: bool,
}

impl TreeColumn {
    fn new(c: &Column, local: bool, inherited_from: usize) -> TreeColumn {
        TreeColumn {
            local,
            inherited_from,
            data_type: c.data_type.clone(),
            collation: c.collation.clone(),
            default: c.default.clone(),
            not_null: c.not_null,
            generated: c.generated.clone(),
            retyped: false,
        }
    }
}

/// The tables that stay (but partitions that stay attached), their columns and their
/// inheritance children, as the statements emitted so far leave them.
#[derive(Debug, Default)]
pub(super) struct Tree {
    columns: BTreeMap<Key, Vec<(String, TreeColumn)>>,
    /// Traditional inheritance (partitions follow their parent and are not in the tree).
    children: BTreeMap<Key, Vec<Key>>,
}

impl Tree {
    fn get(&self, table: &Key, name: &str) -> Option<&TreeColumn> {
        self.columns.get(table)?.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    fn get_mut(&mut self, table: &Key, name: &str) -> Option<&mut TreeColumn> {
        self.columns.get_mut(table)?.iter_mut().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    fn children(&self, table: &Key) -> &[Key] {
        self.children.get(table).map_or(&[], Vec::as_slice)
    }

    /// The table and every table below it that has the column.
    fn subtree(&self, table: &Key, name: &str) -> Vec<Key> {
        let mut out = vec![table.clone()];
        let mut at = 0;
        while at < out.len() {
            let below: Vec<Key> =
                self.children(&out[at]).iter().filter(|c| self.get(c, name).is_some()).cloned().collect();
            for c in below {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
            at += 1;
        }
        out
    }

    /// `ALTER TABLE table ADD COLUMN`: declared here, inherited below (merged where a child has it).
    fn add(&mut self, table: &Key, name: &str, column: TreeColumn) {
        let below = TreeColumn { local: false, inherited_from: 1, ..column.clone() };
        self.columns.entry(table.clone()).or_default().push((name.to_string(), column));
        self.reach_children(table, name, &below);
    }

    /// A column added to `table` reaches its children: merged into theirs (which stops there), or
    /// added as inherited (and on to their children).
    fn reach_children(&mut self, table: &Key, name: &str, below: &TreeColumn) {
        for child in self.children(table).to_vec() {
            match self.get_mut(&child, name) {
                Some(c) => c.inherited_from += 1,
                None => {
                    self.columns.entry(child.clone()).or_default().push((name.to_string(), below.clone()));
                    self.reach_children(&child, name, below);
                }
            }
        }
    }

    /// `ALTER TABLE [ONLY] table DROP COLUMN`: a child's copy goes with it when it only had it from
    /// here; with `only`, children keep theirs as their own.
    fn drop(&mut self, table: &Key, name: &str, only: bool) {
        if let Some(columns) = self.columns.get_mut(table) {
            columns.retain(|(n, _)| n != name);
        }
        for child in self.children(table).to_vec() {
            let Some(c) = self.get_mut(&child, name) else { continue };
            if only {
                c.inherited_from -= 1;
                c.local = true;
            } else if c.inherited_from == 1 && !c.local {
                self.drop(&child, name, false);
            } else {
                c.inherited_from -= 1;
            }
        }
    }

    /// A change that recurses (or, `only`, stays on the table).
    fn set(&mut self, table: &Key, name: &str, only: bool, change: impl Fn(&mut TreeColumn)) {
        let tables = if only { vec![table.clone()] } else { self.subtree(table, name) };
        for t in tables {
            if let Some(c) = self.get_mut(&t, name) {
                change(c);
            }
        }
    }

    /// `ALTER TABLE child NO INHERIT parent` (whose columns are `names`): what came only from it
    /// becomes the child's own.
    fn no_inherit(&mut self, child: &Key, parent: &Key, names: &[&str]) {
        for n in names {
            if let Some(c) = self.get_mut(child, n) {
                c.inherited_from = c.inherited_from.saturating_sub(1);
                if c.inherited_from == 0 {
                    c.local = true;
                }
            }
        }
        if let Some(children) = self.children.get_mut(parent) {
            children.retain(|c| c != child);
        }
    }
}

impl<'a> Differ<'a> {
    /// Tables in both schemas (and not created again).
    fn kept_tables(&self) -> Vec<(&'a Table, &'a Table)> {
        self.from_tables
            .iter()
            .filter(|(k, _)| !self.gone_tables.contains(*k))
            .filter_map(|(k, old)| self.to_tables.get(k).map(|new| (*old, *new)))
            .collect()
    }

    /// A partition that leaves its parent (for another or none): detached first, before the
    /// parent's columns change (attached to its new parent at the end).
    fn moves_partition(old: &Table, new: &Table) -> bool {
        old.partition_of.is_some() && old.partition_of != new.partition_of
    }

    /// Partitions detached for the diff, and which of their copies of the parent's indexes and
    /// constraints stay as they are: those the table has, the same, as a table of its own, or
    /// as a partition again (PostgreSQL adopts them when attaching).
    pub(super) fn classify_partition_copies(&mut self) {
        for (old, new) in self.kept_tables() {
            for p in old.inherits.iter().filter(|p| !new.inherits.contains(p)) {
                for (check, kept) in self.released_checks(old, new, p) {
                    if kept {
                        self.kept_copies.insert((new.schema.clone(), new.name.clone(), check.name.clone()));
                    }
                }
            }
            if !Self::moves_partition(old, new) {
                continue;
            }
            self.detached.insert(key(&old.schema, &old.name));
            for copy in &old.partition_copies {
                // A partition again: the copies the same there are adopted when attaching.
                let kept = if new.partition_of.is_some() {
                    new.partition_copies.contains(copy)
                } else if copy.constraint {
                    self.to.constraints.iter().any(|c| {
                        (&c.schema, &c.table, &c.name, &c.definition)
                            == (&new.schema, &new.name, &copy.name, &copy.definition)
                    })
                } else {
                    self.to.indexes.iter().any(|i| {
                        (&i.schema, &i.table, &i.name, &i.definition)
                            == (&new.schema, &new.name, &copy.name, &copy.definition)
                    })
                };
                if kept {
                    self.kept_copies.insert((new.schema.clone(), new.name.clone(), copy.name.clone()));
                }
            }
        }
    }

    /// The checks a table had only from parent `p`, which become its own when it stops
    /// inheriting from `p`, and whether it keeps them (the same in `to`; else they are dropped).
    fn released_checks(&self, old: &Table, new: &Table, p: &QualifiedName) -> Vec<(&'a Constraint, bool)> {
        let checks_of = |t: &QualifiedName| inherited_checks(self.from, t).collect::<Vec<_>>();
        let own = |name: &str| {
            self.from.constraints.iter().any(|c| c.schema == old.schema && c.table == old.name && c.name == name)
        };
        let from_other_parent = |name: &str| {
            new.inherits
                .iter()
                .filter(|q| old.inherits.contains(q))
                .any(|q| checks_of(q).iter().any(|c| c.name == name))
        };
        checks_of(p)
            .into_iter()
            .filter(|c| !own(&c.name) && !from_other_parent(&c.name))
            .map(|c| {
                let kept = self.to.constraints.iter().any(|n| {
                    (&n.schema, &n.table, &n.name, &n.definition) == (&new.schema, &new.name, &c.name, &c.definition)
                });
                (c, kept)
            })
            .collect()
    }

    /// Whether a check of `from` that `to` does not list on its table is the same as one of the
    /// table's parents in `to`: it is merged into that one, or will be (when the table is
    /// attached or inherits), and is not dropped.
    pub(super) fn parent_has_check(&self, c: &Constraint) -> bool {
        let Some(t) = self.to_tables.get(&key(&c.schema, &c.table)) else { return false };
        c.kind == ConstraintKind::Check
            && t.partition_of.iter().chain(&t.inherits).any(|p| {
                self.to.constraints.iter().any(|x| {
                    (&x.schema, &x.table, &x.name, &x.definition) == (&p.schema, &p.name, &c.name, &c.definition)
                })
            })
    }

    /// Before anything is dropped: partitions leave their parent (one that goes would take them
    /// along), dropping the copies of the parent's indexes and constraints they do not keep, and
    /// tables their removed parents (a parent cannot be dropped while inherited). Builds the
    /// [`Tree`] the column changes follow.
    pub(super) fn detach_and_disinherit(&mut self) {
        let kept = self.kept_tables();
        let mut tree = Tree::default();
        for (old, new) in &kept {
            let k = key(&old.schema, &old.name);
            if old.partition_of.is_some() && !Self::moves_partition(old, new) {
                continue;
            }
            let parents: Vec<&Table> =
                old.inherits.iter().filter_map(|p| self.from_tables.get(&key(&p.schema, &p.name)).copied()).collect();
            let columns = old
                .columns
                .iter()
                .map(|c| {
                    let column = if old.partition_of.is_some() {
                        // Detached: every column is its own.
                        TreeColumn::new(c, true, 0)
                    } else {
                        let from = parents.iter().filter(|p| p.columns.iter().any(|x| x.name == c.name)).count();
                        TreeColumn::new(c, !c.inherited, from)
                    };
                    (c.name.clone(), column)
                })
                .collect();
            tree.columns.insert(k.clone(), columns);
            for p in &old.inherits {
                tree.children.entry(key(&p.schema, &p.name)).or_default().push(k.clone());
            }
        }
        let mut changes = Vec::new();
        for (old, new) in &kept {
            let name = qualified(&new.schema, &new.name);
            let object = format!("table {}.{}", new.schema, new.name);
            if let (true, Some(p)) = (Self::moves_partition(old, new), &old.partition_of) {
                changes.push((
                    object.clone(),
                    format!("ALTER TABLE {} DETACH PARTITION {name};", qualified(&p.schema, &p.name)),
                ));
                // Foreign keys first: a key may be one of them.
                // (Those whose original the diff dropped went with it.)
                let original_dropped = |c: &PartitionCopy| {
                    let object = if c.constraint {
                        format!("constraint {}.{}.{}", p.schema, p.name, c.of)
                    } else {
                        format!("index {}.{}", p.schema, c.of)
                    };
                    self.replaced.contains(&object)
                };
                let mut copies: Vec<&PartitionCopy> = old
                    .partition_copies
                    .iter()
                    .filter(|c| !self.kept_copies.contains(&(new.schema.clone(), new.name.clone(), c.name.clone())))
                    .filter(|c| !original_dropped(c))
                    .collect();
                copies.sort_by_key(|c| (!c.definition.starts_with("FOREIGN KEY"), !c.constraint));
                for c in copies {
                    let sql = if c.constraint {
                        format!("ALTER TABLE {name} DROP CONSTRAINT {};", ident(&c.name))
                    } else {
                        format!("DROP INDEX {};", qualified(&new.schema, &c.name))
                    };
                    changes.push((object.clone(), sql));
                }
            }
            for p in old.inherits.iter().filter(|p| !new.inherits.contains(p)) {
                changes.push((
                    object.clone(),
                    format!("ALTER TABLE {name} NO INHERIT {};", qualified(&p.schema, &p.name)),
                ));
                // (The parent's columns as they were: it may be dropped next.)
                let parent = self.from_tables.get(&key(&p.schema, &p.name));
                let names: Vec<&str> =
                    parent.map(|t| t.columns.iter().map(|c| c.name.as_str()).collect()).unwrap_or_default();
                tree.no_inherit(&key(&new.schema, &new.name), &key(&p.schema, &p.name), &names);
                // The parent's checks it had become its own copies: dropped unless it has them in
                // `to` (or the diff dropped them from the parent already, which took them along).
                for (check, kept) in self.released_checks(old, new, p) {
                    let on_parent = format!("constraint {}.{}.{}", p.schema, p.name, check.name);
                    if !kept && !self.replaced.contains(&on_parent) {
                        changes.push((
                            object.clone(),
                            format!("ALTER TABLE {name} DROP CONSTRAINT {};", ident(&check.name)),
                        ));
                    }
                }
            }
        }
        self.tree = tree;
        for (object, sql) in changes {
            self.push(object, sql, false, None);
        }
    }

    pub(super) fn drop_tables(&mut self) {
        let order = tables_in_order(&self.from.tables);
        let mut drops = Vec::new();
        for t in order.into_iter().rev() {
            if !self.table_is_gone(&t.schema, &t.name) {
                continue;
            }
            // A partition goes with its parent.
            if let Some(p) = &t.partition_of {
                if self.table_is_gone(&p.schema, &p.name) {
                    continue;
                }
            }
            let recreated = self.to_tables.contains_key(&key(&t.schema, &t.name));
            let note = recreated.then(|| "its partitioning changes: the table is created again, empty".to_string());
            drops.push((
                format!("table {}.{}", t.schema, t.name),
                format!("DROP TABLE {};", qualified(&t.schema, &t.name)),
                note,
            ));
        }
        for (object, sql, note) in drops {
            self.replaced.insert(object.clone());
            self.push(object, sql, true, note);
        }
    }

    pub(super) fn create_tables(&mut self) {
        let order = tables_in_order(&self.to.tables);
        let mut creates = Vec::new();
        for t in order {
            if self.created_tables.contains(&key(&t.schema, &t.name)) {
                let mut sql = create_table(t);
                for o in inherited_column_overrides(t, &self.to.tables) {
                    sql.push_str(&o);
                    sql.push('\n');
                }
                creates.push((format!("table {}.{}", t.schema, t.name), sql));
            }
        }
        for (object, sql) in creates {
            self.push(object, sql, false, None);
        }
    }

    /// The tables that stay, parents before children: persistence and columns. Columns a child
    /// declares that a parent gains are added to the child first, deepest first.
    pub(super) fn alter_tables(&mut self) {
        let order: Vec<&'a Table> = tables_in_order(&self.to.tables)
            .into_iter()
            .filter(|t| {
                let k = key(&t.schema, &t.name);
                self.from_tables.contains_key(&k) && !self.gone_tables.contains(&k)
            })
            .collect();
        for new in order.iter().rev() {
            if self.tree.columns.contains_key(&key(&new.schema, &new.name)) {
                self.add_merged_columns_first(new);
            }
        }
        for new in order {
            let k = key(&new.schema, &new.name);
            let old = self.from_tables[&k];
            let name = qualified(&new.schema, &new.name);
            let object = format!("table {}.{}", new.schema, new.name);
            if old.unlogged != new.unlogged {
                let to = if new.unlogged { "UNLOGGED" } else { "LOGGED" };
                self.push(
                    object.clone(),
                    format!("ALTER TABLE {name} SET {to};"),
                    false,
                    Some("rewrites the table".into()),
                );
            }
            if old.storage != new.storage {
                self.alter_storage(&name, &object, &old.storage, &new.storage);
            }
            // A partition that stays attached follows its parent (it is not in the tree).
            if !self.tree.columns.contains_key(&k) {
                continue;
            }
            let unchanged = old == new
                && self.matches_tree(new)
                && !new.columns.iter().any(|c| self.collation_recreated(&c.collation));
            if !unchanged {
                self.alter_columns(old, new);
            }
        }
    }

    /// `ALTER TABLE ... SET (...)` for the storage parameters `new` sets or changes, and `RESET`
    /// for those it no longer has.
    fn alter_storage(&mut self, name: &str, object: &str, old: &[String], new: &[String]) {
        let param = |o: &String| o.split_once('=').map_or(o.clone(), |(n, _)| n.to_string());
        let set: Vec<String> = new.iter().filter(|o| !old.contains(o)).cloned().collect();
        let reset: Vec<String> = old.iter().map(param).filter(|n| !new.iter().any(|o| param(o) == *n)).collect();
        if !set.is_empty() {
            let sql = format!("ALTER TABLE {name} SET ({});", crate::dump::render::storage_parameters(&set));
            self.push(object.to_string(), sql, false, None);
        }
        if !reset.is_empty() {
            self.push(object.to_string(), format!("ALTER TABLE {name} RESET ({});", reset.join(", ")), false, None);
        }
    }

    /// Whether the tree holds the table's columns as `new` declares them.
    fn matches_tree(&self, new: &Table) -> bool {
        let k = key(&new.schema, &new.name);
        let columns = &self.tree.columns[&k];
        columns.len() == new.columns.len()
            && new.columns.iter().all(|c| {
                self.tree.get(&k, &c.name).is_some_and(|t| {
                    (&t.data_type, &t.collation, &t.default, t.not_null, &t.generated)
                        == (&c.data_type, &c.collation, &c.default, c.not_null, &c.generated)
                })
            })
    }

    /// The parents `new` inherits from before and after the diff.
    fn kept_parents(&self, new: &Table) -> Vec<Key> {
        let k = key(&new.schema, &new.name);
        let old = self.from_tables[&k];
        new.inherits
            .iter()
            .filter(|p| old.inherits.contains(p))
            .map(|p| key(&p.schema, &p.name))
            .filter(|p| self.tree.columns.contains_key(p))
            .collect()
    }

    /// Columns `new` declares itself that a parent of its gains: added to (or retyped on) `new`
    /// before the parent's ADD COLUMN, which then merges with them, so that `new` still declares
    /// them.
    fn add_merged_columns_first(&mut self, new: &'a Table) {
        let k = key(&new.schema, &new.name);
        let parents = self.kept_parents(new);
        for c in new.columns.iter().filter(|c| !c.inherited) {
            let gained = parents.iter().any(|p| {
                self.tree.get(p, &c.name).is_none()
                    && self.to_tables.get(p).is_some_and(|t| t.columns.iter().any(|x| x.name == c.name))
            });
            if !gained {
                continue;
            }
            match self.tree.get(&k, &c.name).cloned() {
                None => {
                    let table = qualified(&new.schema, &new.name);
                    let note = add_column_note(c);
                    self.push(
                        format!("column {}.{}.{}", new.schema, new.name, c.name),
                        format!("ALTER TABLE {table} ADD COLUMN {};", column(c)),
                        false,
                        note,
                    );
                    self.tree.add(&k, &c.name, TreeColumn::new(c, true, 0));
                }
                Some(o) if o.inherited_from == 0 && (o.data_type != c.data_type || o.collation != c.collation) => {
                    let sql = self.retype(&k, &o, c);
                    self.push(format!("column {}.{}.{}", new.schema, new.name, c.name), sql.0.join("\n"), false, sql.1);
                }
                Some(_) => {}
            }
        }
    }

    /// `data_type`, or, where it is a domain of `schema` (or an array of one), its base type: what
    /// decides whether a value fits.
    fn base_of(schema: &Schema, data_type: &str) -> String {
        let (name, array) = match data_type.strip_suffix("[]") {
            Some(name) => (name, "[]"),
            None => (data_type, ""),
        };
        match schema.domains.iter().find(|d| qualified(&d.schema, &d.name) == name) {
            Some(d) => format!("{}{array}", d.data_type),
            None => data_type.to_string(),
        }
    }

    /// The USING of a change of `col` from `old` to `new`, their domains' base types looked at: to
    /// a string of limited length none, or through text where the new type is a domain, so that
    /// a value too long fails the assignment rather than an explicit cast cutting it short
    /// (FastAPI round 3: a domain over varchar(20) cut 30 characters to 20).
    fn using(&self, col: &str, old: &str, new: &str) -> Option<String> {
        let (old_base, new_base) = (Self::base_of(self.from, old), Self::base_of(self.to, new));
        if super::columns::shortens_in_silence(&old_base, &new_base) {
            let array = if new.ends_with("[]") { "[]" } else { "" };
            return (new_base != new).then(|| format!("{col}::text{array}"));
        }
        conversion(col, old, new)
    }

    /// What a change from `old` to `new` does to the values already there, for the note, and
    /// whether it loses some (rounds them): destructive.
    fn value_effects(&self, old: &str, new: &str) -> (Vec<&'static str>, bool) {
        let (old_base, new_base) = (Self::base_of(self.from, old), Self::base_of(self.to, new));
        let mut effects = Vec::new();
        if super::columns::shortens(&old_base, &new_base) {
            effects.push("fails on a longer value already there");
        }
        let rounds = super::columns::rounds(&old_base, &new_base);
        if rounds && new_base.trim_end_matches("[]").starts_with("bit(") {
            effects.push("cuts the bits already there to the new length");
        } else if rounds {
            effects.push("rounds the values already there to the new precision");
        }
        // Through text, a value that does not fit fails rather than loses a part (review: a
        // domain over numeric made an integer).
        let lost = super::columns::loses(&old_base, &new_base).filter(|_| !conversion_through_text(old, new));
        effects.extend(lost);
        (effects, rounds || lost.is_some())
    }

    /// The statements that change the type of a column the table declares (its children's change
    /// with it), the defaults below it dropped first (they may not convert; each table sets its
    /// own again after), the note for them, and whether the change loses values (rounds them).
    fn retype(&mut self, k: &Key, o: &TreeColumn, c: &Column) -> (Vec<String>, Option<String>, bool) {
        let table = qualified(&k.0, &k.1);
        let col = ident(&c.name);
        let mut sql = Vec::new();
        let mut effects: Vec<&str> = Vec::new();
        if self.tree.subtree(k, &c.name).iter().any(|t| self.tree.get(t, &c.name).is_some_and(|x| x.default.is_some()))
        {
            sql.push(format!("ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT;"));
            self.tree.set(k, &c.name, false, |x| x.default = None);
        }
        let collate = c.collation.as_ref().map(|x| format!(" COLLATE {x}")).unwrap_or_default();
        let using = self.using(&col, &o.data_type, &c.data_type).map(|u| format!(" USING {u}")).unwrap_or_default();
        sql.push(format!("ALTER TABLE {table} ALTER COLUMN {col} TYPE {}{collate}{using};", c.data_type));
        let (on_values, rounds) = self.value_effects(&o.data_type, &c.data_type);
        effects.extend(on_values);
        let (data_type, collation) = (c.data_type.clone(), c.collation.clone());
        self.tree.set(k, &c.name, false, |x| {
            x.data_type = data_type.clone();
            x.collation = collation.clone();
            x.retyped = true;
        });
        if conversion_through_text(&o.data_type, &c.data_type) {
            effects.push("converted through text, fails on values that do not convert");
        }
        if type_change_rewrites(&o.data_type, &c.data_type) || o.collation != c.collation || o.data_type == c.data_type
        {
            effects.push("rewrites the table and its indexes");
        }
        let note = (!effects.is_empty()).then(|| format!("{} -> {}: {}", o.data_type, c.data_type, effects.join("; ")));
        (sql, note, rounds)
    }

    /// Phase 1: tables that stop being of their type (`NOT OF`) become ordinary ones, whose
    /// columns can be changed (and whose type can be altered without them).
    pub(super) fn untype_tables(&mut self) {
        let untyped: Vec<&Table> = self
            .from_tables
            .iter()
            .filter(|(k, old)| {
                old.of_type.is_some() && self.to_tables.get(*k).is_some_and(|new| new.of_type != old.of_type)
            })
            .map(|(_, old)| *old)
            .collect();
        for t in untyped {
            self.push(
                format!("table {}.{}", t.schema, t.name),
                format!("ALTER TABLE {} NOT OF;", qualified(&t.schema, &t.name)),
                false,
                None,
            );
        }
    }

    /// A table still of the type it was of: its columns change with the type (`ALTER TYPE ...
    /// CASCADE`), not on their own.
    pub(super) fn stays_typed(&self, schema: &str, table: &str) -> bool {
        let k = key(schema, table);
        self.from_tables.get(&k).is_some_and(|old| {
            old.of_type.is_some() && self.to_tables.get(&k).is_none_or(|new| new.of_type == old.of_type)
        })
    }

    fn alter_columns(&mut self, old: &'a Table, new: &'a Table) {
        let k = key(&new.schema, &new.name);
        let typed = self.stays_typed(&new.schema, &new.name);
        let table = qualified(&new.schema, &new.name);
        let object = |c: &str| format!("column {}.{}.{c}", new.schema, new.name);
        // Defaults and NOT NULL of a table with children are its own: each child has its own.
        let only = if self.tree.children(&k).is_empty() { "" } else { "ONLY " };
        let after: BTreeMap<&str, &Column> = new.columns.iter().map(|c| (c.name.as_str(), c)).collect();
        // Columns that go. Those it inherits went with their parent's already; generated
        // columns first (they may read the others).
        let mut dropped: Vec<(String, bool)> = self.tree.columns[&k]
            .iter()
            .filter(|(n, c)| !after.contains_key(n.as_str()) && c.inherited_from == 0 && !typed)
            .map(|(n, c)| (n.clone(), c.generated.is_some()))
            .collect();
        dropped.sort_by_key(|(_, generated)| !generated);
        // One column goes and one of the same type comes: perhaps a rename, which a diff cannot
        // tell from a drop and an add (FastAPI trial: the new column came empty, and the advice
        // on screen, --allow-destructive, dropped the names).
        let old_type = |name: &str| old.columns.iter().find(|c| c.name == name).map(|c| c.data_type.as_str());
        let added: Vec<&Column> = new.columns.iter().filter(|c| self.tree.get(&k, &c.name).is_none()).collect();
        let renamed = match (dropped.as_slice(), added.as_slice()) {
            ([(gone, false)], [came]) if old_type(gone) == Some(came.data_type.as_str()) && !typed => {
                Some((gone.clone(), came.name.clone()))
            }
            _ => None,
        };
        for (name, _) in dropped {
            // A child that keeps the column while having it from here only keeps it as its own.
            let kept_below = self.tree.children(&k).iter().any(|child| {
                self.tree.get(child, &name).is_some_and(|c| !c.local && c.inherited_from == 1)
                    && self.to_tables.get(child).is_some_and(|t| t.columns.iter().any(|c| c.name == name))
            });
            let only_here = if kept_below { "ONLY " } else { "" };
            self.push(
                object(&name),
                format!("ALTER TABLE {only_here}{table} DROP COLUMN {};", ident(&name)),
                true,
                Some(format!("drops column {name} and its data")),
            );
            self.tree.drop(&k, &name, kept_below);
        }
        for c in &new.columns {
            let col = ident(&c.name);
            let o = match self.tree.get(&k, &c.name).cloned() {
                Some(o) => o,
                None if typed => {
                    // A column the type's ALTER ... CASCADE added: only its own default and NOT NULL.
                    let added = Column {
                        name: c.name.clone(),
                        data_type: c.data_type.clone(),
                        collation: c.collation.clone(),
                        ..Default::default()
                    };
                    let t = TreeColumn::new(&added, true, 0);
                    self.tree.columns.entry(k.clone()).or_default().push((c.name.clone(), t.clone()));
                    t
                }
                None => {
                    let mut note = add_column_note(c);
                    if let Some((gone, _)) = renamed.as_ref().filter(|(_, came)| *came == c.name) {
                        let rename = format!(
                            "if it is {gone} renamed, write `ALTER TABLE {table} RENAME COLUMN {} TO {};` in place of \
                             this and the drop, which lose {gone}'s data",
                            ident(gone),
                            ident(&c.name)
                        );
                        note = Some(note.map_or(rename.clone(), |n| format!("{n}; {rename}")));
                    }
                    self.push(object(&c.name), format!("ALTER TABLE {table} ADD COLUMN {};", column(c)), false, note);
                    self.tree.add(&k, &c.name, TreeColumn::new(c, true, 0));
                    continue;
                }
            };
            // An inherited column's expression changes with its parent's.
            if o.generated != c.generated && o.inherited_from == 0 {
                match (&o.generated, &c.generated) {
                    (Some(_), None) => {
                        // Recurses: an inheriting table's copy has no expression of its own.
                        self.push(
                            object(&c.name),
                            format!("ALTER TABLE {table} ALTER COLUMN {col} DROP EXPRESSION;"),
                            false,
                            None,
                        );
                        self.tree.set(&k, &c.name, false, |x| x.generated = None);
                    }
                    _ => {
                        // A stored expression cannot be changed in place before PostgreSQL 17:
                        // the column is computed again (a generated column holds no data of its own).
                        self.replaced.insert(object(&c.name));
                        self.push(
                            object(&c.name),
                            format!(
                                "ALTER TABLE {table} DROP COLUMN {col};\nALTER TABLE {table} ADD COLUMN {};",
                                column(c)
                            ),
                            o.generated.is_none(),
                            Some("rewrites the table".into()),
                        );
                        self.tree.drop(&k, &c.name, false);
                        self.tree.add(&k, &c.name, TreeColumn::new(c, true, 0));
                        continue;
                    }
                }
            }
            let type_recreated = self.retyped(&o.data_type).is_some();
            let recollated = self.collation_recreated(&c.collation) && !o.retyped;
            let retype = (o.data_type != c.data_type || o.collation != c.collation || recollated)
                && !type_recreated
                && !typed
                && o.inherited_from == 0;
            let mut sql = Vec::new();
            let mut notes = Vec::new();
            let mut lossy = false;
            if retype {
                let (statements, note, rounds) = self.retype(&k, &o, c);
                sql.extend(statements);
                notes.extend(note);
                lossy = rounds;
            }
            // Where the type change left it.
            let o = self.tree.get(&k, &c.name).cloned().unwrap_or(o);
            let identity = |t: &Table| t.columns.iter().find(|x| x.name == c.name).and_then(|x| x.identity.clone());
            let old_identity = identity(old);
            // An identity column is NOT NULL, and has no default: the identity goes before the
            // constraint can, and before a default is set (made a serial again: "is an identity
            // column").
            if old_identity.is_some() && c.identity.is_none() {
                sql.push(format!("ALTER TABLE {table} ALTER COLUMN {col} DROP IDENTITY;"));
            }
            // A recreated type's columns get their default back in retype_columns, on the new type.
            if !crate::canonical::same_default(o.default.as_deref(), c.default.as_deref())
                && c.generated.is_none()
                && !type_recreated
            {
                match &c.default {
                    Some(d) => sql.push(format!("ALTER TABLE {only}{table} ALTER COLUMN {col} SET DEFAULT {d};")),
                    None => sql.push(format!("ALTER TABLE {only}{table} ALTER COLUMN {col} DROP DEFAULT;")),
                }
                let default = c.default.clone();
                self.tree.set(&k, &c.name, true, |x| x.default = default.clone());
            }
            let mut checked_first = None;
            if o.not_null != c.not_null {
                if c.not_null {
                    // An identity added below needs the column NOT NULL already.
                    // (A column of the primary key is made NOT NULL by its ADD, review: the proof
                    // was run again after it, and its down's DROP NOT NULL always failed.)
                    checked_first = (only.is_empty() && c.identity.is_none() && !self.in_primary_key(new, &c.name))
                        .then(|| self.set_not_null_checked_first(new, &c.name))
                        .flatten();
                    if checked_first.is_none() {
                        sql.push(format!("ALTER TABLE {only}{table} ALTER COLUMN {col} SET NOT NULL;"));
                        notes.push(format!(
                            "SET NOT NULL on {}: scans the table under an ACCESS EXCLUSIVE lock and fails on NULLs",
                            c.name
                        ));
                    }
                } else {
                    sql.push(format!("ALTER TABLE {only}{table} ALTER COLUMN {col} DROP NOT NULL;"));
                }
                let not_null = c.not_null;
                self.tree.set(&k, &c.name, true, |x| x.not_null = not_null);
            }
            // A serial made an identity: its sequence, of the name the identity's is to have
            // (`t_id_seq`), is renamed aside, the identity made under that name from its position,
            // and then dropped (made beside it, the identity's was `t_id_seq1`, and drift found it
            // for good).
            let serial = c
                .identity
                .as_ref()
                .filter(|_| old_identity.is_none())
                .and_then(|i| self.serial_taken_over(new, &c.name, i));
            if let Some((old, aside)) = &serial {
                sql.push(format!("ALTER SEQUENCE {old} RENAME TO {};", ident(aside)));
            }
            let aside = serial.as_ref().map(|(_, aside)| qualified(&new.schema, aside));
            sql.extend(identity_changes(&table, &c.name, old_identity.as_ref(), c.identity.as_ref(), aside.as_deref()));
            if !sql.is_empty() {
                let note = (!notes.is_empty()).then(|| notes.join("; "));
                // Rounded values are lost: left out unless allowed, as a drop is.
                self.push(object(&c.name), sql.join("\n"), lossy, note);
            }
            if let Some(statements) = checked_first {
                let note = format!(
                    "SET NOT NULL on {}: a NOT VALID check validated while writes go on proves it first (PostgreSQL 12+ \
                     then skips the scan under ACCESS EXCLUSIVE); the VALIDATE fails on NULLs",
                    c.name
                );
                self.push_apart(object(&c.name), statements, Some(note));
            }
        }
    }

    /// Whether `column` of `t` is in its primary key, as the target has it.
    fn in_primary_key(&self, t: &Table, column: &str) -> bool {
        self.to.constraints.iter().any(|k| {
            k.kind == ConstraintKind::PrimaryKey
                && k.schema == t.schema
                && k.table == t.name
                && match k.uses.iter().find(|u| u.schema == t.schema && u.table == t.name) {
                    Some(own) => own.columns.iter().any(|x| x == column),
                    // (The key's own list, not a substring: `id` is not in `(user_id)`.)
                    None => k
                        .definition
                        .strip_prefix("PRIMARY KEY ")
                        .map(super::constraints::column_set)
                        .is_some_and(|columns| columns.contains(ident(column).as_str())),
                }
        })
    }

    /// The serial sequence of column `column` of `t` that its identity `i` takes the name of: the
    /// sequence as SQL, and the name it is renamed to until it is dropped. None where there is
    /// none, or the sequence stays (in `to`), or no name is free.
    fn serial_taken_over(&mut self, t: &Table, column: &str, i: &Identity) -> Option<(String, String)> {
        let seq = i.sequence.as_ref()?;
        let owned = self.from.sequences.iter().find(|s| {
            s.schema == seq.schema
                && s.name == seq.name
                && s.owned_by.as_ref().is_some_and(|o| o.schema == t.schema && o.table == t.name && o.column == column)
        })?;
        if self.to.sequences.iter().any(|s| s.schema == owned.schema && s.name == owned.name) {
            return None;
        }
        let aside = super::indexes::free_name(&owned.schema, &owned.name, "serial", self.from, self.to)?;
        self.serials_made_identities.insert(key(&owned.schema, &owned.name));
        Some((qualified(&owned.schema, &owned.name), aside))
    }

    /// `SET NOT NULL` on a table that has rows, as a migration of its own outside a transaction
    /// (built apart): a `CHECK (col IS NOT NULL)` added NOT VALID, validated under a lock that lets
    /// writes go on, then the SET NOT NULL, which PostgreSQL 12+ proves from the check instead of
    /// scanning the table under ACCESS EXCLUSIVE (production trial: 472 ms of blocked traffic on
    /// 1.5M rows), then the check dropped. None where the check's name is taken on the table.
    fn set_not_null_checked_first(&self, t: &Table, column: &str) -> Option<String> {
        // Not `table_column_not_null`: PostgreSQL 18 gives that name to the NOT NULL itself.
        let name = shale_core::ident::constraint_name(&t.name, Some(column), "not_null_check");
        let taken =
            |s: &Schema| s.constraints.iter().any(|k| k.schema == t.schema && k.table == t.name && k.name == name);
        if taken(self.from) || taken(self.to) {
            return None;
        }
        let (table, col, name) = (qualified(&t.schema, &t.name), ident(column), ident(&name));
        Some(format!(
            "ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({col} IS NOT NULL) NOT VALID;\n\
             ALTER TABLE {table} VALIDATE CONSTRAINT {name};\n\
             ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL;\n\
             ALTER TABLE {table} DROP CONSTRAINT {name};"
        ))
    }

    /// Columns of recreated types take the new type (through text), then the old type goes.
    /// A column a table inherits changes with its parent's; the defaults below it are set again.
    pub(super) fn retype_columns(&mut self) {
        if self.recreated_types.is_empty() {
            return;
        }
        let mut changes = Vec::new();
        for t in &self.to.tables {
            let k = key(&t.schema, &t.name);
            if !self.tree.columns.contains_key(&k) {
                // Created with the new type, or a partition that follows its parent.
                continue;
            }
            let table = qualified(&t.schema, &t.name);
            for c in &t.columns {
                let inherited = self.tree.get(&k, &c.name).is_some_and(|x| x.inherited_from > 0);
                if self.retyped(&c.data_type).is_none() || inherited {
                    continue;
                }
                let col = ident(&c.name);
                if c.generated.is_some() {
                    // A stored expression takes no USING and has no default to drop: the column is
                    // computed again with the new type (it holds no data of its own), and what is
                    // on it (indexes, constraints, comment, privileges) is created again.
                    let object = format!("column {}.{}.{}", t.schema, t.name, c.name);
                    self.replaced.insert(object.clone());
                    let sql = format!(
                        "ALTER TABLE {table} DROP COLUMN {col};\nALTER TABLE {table} ADD COLUMN {};",
                        column(c)
                    );
                    self.tree.drop(&k, &c.name, false);
                    self.tree.add(&k, &c.name, TreeColumn::new(c, true, 0));
                    changes.push((object, sql, false));
                    continue;
                }
                let array = if c.data_type.ends_with("[]") { "[]" } else { "" };
                // Recurses to the tables inheriting it, which set their own default again below.
                let mut sql = vec![format!("ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT;")];
                sql.push(format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} TYPE {} USING {};",
                    c.data_type,
                    self.recreated_conversion(&col, &c.data_type).unwrap_or_else(|| {
                        // A domain of a string of limited length is assigned from text, which fails
                        // on a longer value, where the explicit cast cut it short.
                        let text = format!("text{array}");
                        match super::columns::shortens_in_silence(&text, &Self::base_of(self.to, &c.data_type)) {
                            true => format!("{col}::text{array}"),
                            false => format!("{col}::text{array}::{}", c.data_type),
                        }
                    })
                ));
                for below in self.tree.subtree(&k, &c.name) {
                    let default = self.to_tables.get(&below).and_then(|b| b.columns.iter().find(|x| x.name == c.name));
                    if let Some(d) = default.and_then(|x| x.default.as_ref()) {
                        sql.push(format!(
                            "ALTER TABLE ONLY {} ALTER COLUMN {col} SET DEFAULT {d};",
                            qualified(&below.0, &below.1)
                        ));
                    }
                }
                let lossy = self.retyped(&c.data_type).is_some_and(|k| self.lossy_rebuild(k));
                changes.push((format!("column {}.{}.{}", t.schema, t.name, c.name), sql.join("\n"), lossy));
            }
        }
        // A rebuild that loses values is destructive as a whole: left out, none of it runs.
        for (object, sql, lossy) in changes {
            self.push(object, sql, lossy, Some("rewrites the table".into()));
        }
        let old: Vec<(Key, &str)> = self.recreated_types.iter().map(|(k, kind)| (k.clone(), *kind)).collect();
        for ((s, n), kind) in old {
            let lossy = self.lossy_rebuild(&key(&s, &n));
            self.push(
                format!("{} {s}.{n}", kind.to_lowercase()),
                format!("DROP {kind} {};", qualified(&s, &format!("{n}__shale_old"))),
                lossy,
                None,
            );
        }
    }

    /// A rebuilt enum losing labels, or composite type losing attributes.
    fn lossy_rebuild(&self, k: &Key) -> bool {
        let (s, n) = (k.0.as_str(), k.1.as_str());
        let find = |schema: &'a crate::model::Schema| schema.enums.iter().find(|e| e.schema == s && e.name == n);
        if let (Some(old), Some(new)) = (find(self.from), find(self.to)) {
            return old.values.iter().any(|v| !new.values.contains(v));
        }
        let find =
            |schema: &'a crate::model::Schema| schema.composite_types.iter().find(|c| c.schema == s && c.name == n);
        if let (Some(old), Some(new)) = (find(self.from), find(self.to)) {
            return old.attributes.iter().any(|a| !new.attributes.iter().any(|x| x.name == a.name));
        }
        false
    }

    /// Last: partitions attached (their columns match their parent's by now), new parents
    /// inherited, tables made typed (their columns match the type). A table joining a parent
    /// must have the parent's checks: those it lacks are added first (they merge).
    pub(super) fn attach_and_inherit(&mut self) {
        let mut changes = Vec::new();
        for (old, new) in self.kept_tables() {
            let name = qualified(&new.schema, &new.name);
            let object = format!("table {}.{}", new.schema, new.name);
            let attach = new.partition_of.is_some() && old.partition_of != new.partition_of;
            // A new bound on the same parent: detached and attached again, last (it followed
            // the parent's column changes until then; its copies are adopted again).
            if let (true, Some(p)) =
                (old.partition_of == new.partition_of && old.partition_bound != new.partition_bound, &new.partition_of)
            {
                let bound = new.partition_bound.as_deref().unwrap_or("DEFAULT");
                let parent = qualified(&p.schema, &p.name);
                changes.push((
                    object.clone(),
                    format!("ALTER TABLE {parent} DETACH PARTITION {name};\nALTER TABLE {parent} ATTACH PARTITION {name} {bound};"),
                    Some("attaching scans the partition to check its bound".to_string()),
                ));
            }
            let joined = new
                .partition_of
                .iter()
                .filter(|_| attach)
                .chain(new.inherits.iter().filter(|p| !old.inherits.contains(p)));
            for p in joined {
                for check in self.checks_to_bring(old, new, p) {
                    changes.push((
                        format!("constraint {}.{}.{}", new.schema, new.name, check.name),
                        format!("ALTER TABLE {name} ADD CONSTRAINT {} {};", ident(&check.name), check.definition),
                        None,
                    ));
                }
            }
            if let (true, Some(p)) = (attach, &new.partition_of) {
                let bound = new.partition_bound.as_deref().unwrap_or("DEFAULT");
                changes.push((
                    object.clone(),
                    format!("ALTER TABLE {} ATTACH PARTITION {name} {bound};", qualified(&p.schema, &p.name)),
                    Some("attaching scans the partition to check its bound".to_string()),
                ));
            }
            for p in new.inherits.iter().filter(|p| !old.inherits.contains(p)) {
                changes.push((
                    object.clone(),
                    format!("ALTER TABLE {name} INHERIT {};", qualified(&p.schema, &p.name)),
                    None,
                ));
            }
            if let (true, Some(ty)) = (old.of_type != new.of_type, &new.of_type) {
                changes.push((
                    object.clone(),
                    format!("ALTER TABLE {name} OF {};", qualified(&ty.schema, &ty.name)),
                    None,
                ));
            }
        }
        for (object, sql, note) in changes {
            self.push(object, sql, false, note);
        }
    }
}

impl<'a> Differ<'a> {
    /// The checks a table needs before it joins parent `p` (one that exists before the diff and
    /// keeps them): those it has neither itself nor as a kept copy.
    fn checks_to_bring(&self, old: &Table, new: &Table, p: &QualifiedName) -> Vec<&'a Constraint> {
        let before: Vec<&Constraint> = inherited_checks(self.from, p).collect();
        let has = |name: &str, definition: &str| {
            let own = self.from.constraints.iter().any(|c| {
                (&c.schema, &c.table, c.name.as_str(), c.definition.as_str())
                    == (&old.schema, &old.name, name, definition)
            });
            own || self.kept_copies.contains(&(new.schema.clone(), new.name.clone(), name.to_string()))
        };
        inherited_checks(self.to, p)
            .filter(|c| before.iter().any(|b| b.name == c.name && b.definition == c.definition))
            .filter(|c| !has(&c.name, &c.definition))
            .collect()
    }
}

/// The checks of table `t` that its children inherit (all but `NO INHERIT` ones).
fn inherited_checks<'s>(schema: &'s Schema, t: &QualifiedName) -> impl Iterator<Item = &'s Constraint> + 's {
    let t = t.clone();
    schema.constraints.iter().filter(move |c| {
        c.schema == t.schema
            && c.table == t.name
            && c.kind == ConstraintKind::Check
            && !c.definition.contains("NO INHERIT")
    })
}

/// Identity changes on a column that stays: added with its options, `ALWAYS` / `BY DEFAULT`, and
/// the options of its sequence (whose type follows the column's).
/// `serial`: the sequence of the serial column it was (renamed aside), which the identity takes
/// over from: named as that was, it goes on after its position, and it is dropped.
fn identity_changes(
    table: &str,
    name: &str,
    old: Option<&Identity>,
    new: Option<&Identity>,
    serial: Option<&str>,
) -> Vec<String> {
    let col = &ident(name);
    let options = |i: &Identity| i.sequence.as_ref().map(|s| s.options.clone());
    let mut sql = Vec::new();
    match (old, new) {
        (None, Some(i)) => {
            let named = match (serial, &i.sequence) {
                (Some(_), Some(s)) => format!("SEQUENCE NAME {} ", qualified(&s.schema, &s.name)),
                _ => String::new(),
            };
            sql.push(format!(
                "ALTER TABLE {table} ALTER COLUMN {col} ADD GENERATED {} AS IDENTITY{};",
                if i.always { "ALWAYS" } else { "BY DEFAULT" },
                options(i).map(|o| format!(" ({named}{})", sequence_options(&o))).unwrap_or_default()
            ));
            // A column with values already (a serial made an identity): its new sequence goes on
            // after the highest, where it started at 1 and the next insert took a key already
            // taken (round 4: duplicate key on the next insert); with no rows, at its start.
            // (RESTART names the identity's own sequence: a serial's, still there until dropped,
            // is the one pg_get_serial_sequence would find.) A descending one is left as it is.
            let (start, increment) = options(i).map_or((1, 1), |o| (o.start, o.increment));
            // (After the serial's position too: a key it gave to a row deleted since is not given again.)
            let after_serial = serial
                .map(|s| format!(", (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {s})"))
                .unwrap_or_default();
            if increment > 0 {
                // The names as format()'s arguments, not in its pattern, and the block's quote a tag
                // they do not hold (review: a table `t$$x` ended the block, `pct%sx` took an argument).
                let body = format!(
                    " BEGIN EXECUTE format('ALTER TABLE %s ALTER COLUMN %s RESTART WITH %s', {}, {}, \
                     greatest((SELECT max({col}) + 1 FROM {table}), {start}{after_serial})); END ",
                    crate::dump::literal(table),
                    crate::dump::literal(col)
                );
                sql.push(format!("DO {};", crate::dump::dollar_quoted("", &body)));
            }
            if let Some(s) = serial {
                sql.push(format!("DROP SEQUENCE {s};"));
            }
        }
        (Some(a), Some(b)) => {
            if a.always != b.always {
                sql.push(format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} SET GENERATED {};",
                    if b.always { "ALWAYS" } else { "BY DEFAULT" }
                ));
            }
            if let (Some(x), Some(y)) = (options(a), options(b)) {
                let same = (x.start, x.increment, x.min, x.max, x.cache, x.cycle)
                    == (y.start, y.increment, y.min, y.max, y.cache, y.cycle);
                if !same {
                    sql.push(format!(
                        "ALTER TABLE {table} ALTER COLUMN {col} SET START WITH {} SET INCREMENT BY {} SET MINVALUE {} SET MAXVALUE {} SET CACHE {} SET {}CYCLE;",
                        y.start,
                        y.increment,
                        y.min,
                        y.max,
                        y.cache,
                        if y.cycle { "" } else { "NO " }
                    ));
                }
            }
            // The identity's own sequence renamed (it stays in the table's schema).
            if let (Some(x), Some(y)) = (&a.sequence, &b.sequence) {
                if x.name != y.name {
                    sql.push(format!("ALTER SEQUENCE {} RENAME TO {};", qualified(&x.schema, &x.name), ident(&y.name)));
                }
            }
        }
        _ => {}
    }
    sql
}

impl<'a> Differ<'a> {
    pub(super) fn classify_tables(&mut self) {
        for (k, t) in &self.from_tables {
            match self.to_tables.get(k) {
                None => {
                    self.gone_tables.insert(k.clone());
                }
                Some(new) if t.partition_key != new.partition_key => {
                    self.gone_tables.insert(k.clone());
                    self.created_tables.insert(k.clone());
                }
                Some(_) => {}
            }
        }
        for k in self.to_tables.keys() {
            if !self.from_tables.contains_key(k) {
                self.created_tables.insert(k.clone());
            }
        }
        // Partitions go with their parent: a recreated parent recreates all its partitions.
        loop {
            let before = self.created_tables.len() + self.gone_tables.len();
            for (k, t) in &self.to_tables {
                if let Some(p) = &t.partition_of {
                    if self.gone_tables.contains(&key(&p.schema, &p.name)) && self.from_tables.contains_key(k) {
                        self.gone_tables.insert(k.clone());
                        self.created_tables.insert(k.clone());
                    }
                }
            }
            if before == self.created_tables.len() + self.gone_tables.len() {
                break;
            }
        }
        let (mut changed, mut rebuilt) = (Vec::new(), Vec::new());
        for (k, old) in &self.from_tables {
            let Some(new) = self.to_tables.get(k) else { continue };
            if self.gone_tables.contains(k) {
                continue;
            }
            let new_columns: BTreeMap<&str, &Column> = new.columns.iter().map(|c| (c.name.as_str(), c)).collect();
            for c in &old.columns {
                let Some(n) = new_columns.get(c.name.as_str()) else {
                    changed.push((k.clone(), c.name.clone()));
                    continue;
                };
                // A stored expression that changes (or a column that becomes generated) is computed
                // again: the column is dropped and added. DROP EXPRESSION keeps the column.
                let recomputed = n.generated.is_some() && n.generated != c.generated;
                let retyped =
                    n.data_type != c.data_type || n.collation != c.collation || self.collation_recreated(&n.collation);
                if recomputed || retyped {
                    changed.push((k.clone(), c.name.clone()));
                }
                if retyped {
                    self.retyped_tables.insert(k.clone());
                }
                if recomputed {
                    rebuilt.push((k.clone(), c.name.clone()));
                }
            }
        }
        for (k, c) in changed {
            self.changed_columns.entry(k).or_default().insert(c);
        }
        for (k, c) in rebuilt {
            self.rebuilt_columns.entry(k).or_default().insert(c);
        }
    }
}
