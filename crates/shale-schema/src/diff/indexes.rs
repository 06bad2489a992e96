//! Indexes, on tables and on materialized views: dropped and created again when their definition
//! changes or a column they use is rebuilt.

use std::collections::{BTreeMap, BTreeSet};

use super::{key, Differ, Key};
use crate::dump::{ident, qualified};
use crate::model::{CommentKind, ConstraintKind, Index, Schema, View};

/// Indexes to drop, to create, to swap for a new definition (the old one, the new one), and to
/// rename (the old one, the new one: the same definition under another name).
pub(super) type IndexPlan<'a> =
    (Vec<&'a Index>, Vec<&'a Index>, Vec<(&'a Index, &'a Index)>, Vec<(&'a Index, &'a Index)>);

impl<'a> Differ<'a> {
    pub(super) fn index_plan(&self, recreated_views: &BTreeSet<Key>) -> IndexPlan<'a> {
        let from: BTreeMap<Key, &'a Index> = self.from.indexes.iter().map(|i| (key(&i.schema, &i.name), i)).collect();
        let to: BTreeMap<Key, &'a Index> = self.to.indexes.iter().map(|i| (key(&i.schema, &i.name), i)).collect();
        let to_views: BTreeMap<Key, &View> = self.to.views.iter().map(|v| (key(&v.schema, &v.name), v)).collect();
        let (mut drop, mut add, mut swap) = (Vec::new(), Vec::new(), Vec::new());
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
                // (One calling a function dropped around a change goes with it and comes back.)
                Some(n)
                    if (n.definition != i.definition
                        || (n.valid && !i.valid)
                        || self.rebuilt(&i.schema, &i.table, &i.uses, &i.definition)
                        || self.calls_a_gone_function(&i.calls))
                        && !on_recreated_view =>
                {
                    if self.swappable(i, n) {
                        swap.push((*i, *n));
                    } else {
                        drop.push(*i);
                        add.push(*n);
                    }
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
        // An index gone under one name and come under another with the same definition is renamed,
        // not dropped and built again under a lock that blocks writes (the package trial: models
        // naming `ix_` what the migrations named `idx_`).
        let mut renames = Vec::new();
        drop.retain(|old| {
            let renamed = (!to.contains_key(&key(&old.schema, &old.name)) && self.renamable(old))
                .then(|| {
                    add.iter().position(|new| {
                        new.schema == old.schema
                            && new.table == old.table
                            && !from.contains_key(&key(&new.schema, &new.name))
                            && self.renamable(new)
                            && unnamed(new) == unnamed(old)
                    })
                })
                .flatten();
            match renamed {
                Some(at) => {
                    renames.push((*old, add.remove(at)));
                    false
                }
                None => true,
            }
        });
        (drop, add, swap, renames)
    }

    /// Whether an index may be renamed in place: valid, on a table that stays as it is and is no
    /// partitioned table or partition (each partition's copy keeps its own name).
    fn renamable(&self, i: &Index) -> bool {
        let table = key(&i.schema, &i.table);
        let partitioned = [self.from, self.to].iter().any(|s| {
            s.tables
                .iter()
                .any(|t| key(&t.schema, &t.name) == table && (t.partition_key.is_some() || t.partition_of.is_some()))
        });
        i.valid
            && !i.on_materialized_view
            && !partitioned
            && !self.created_tables.contains(&table)
            && !self.table_is_gone(&i.schema, &i.table)
            && !self.rebuilt(&i.schema, &i.table, &i.uses, &i.definition)
    }

    /// Each index of `renames` renamed to its new name.
    pub(super) fn rename_indexes(&mut self, renames: &[(&Index, &Index)]) {
        let commented = |schema: &Schema, i: &Index| {
            schema.comments.iter().any(|c| c.kind == CommentKind::Index && c.schema == i.schema && c.name == i.name)
        };
        for (old, new) in renames {
            let mut sql = format!("ALTER INDEX {} RENAME TO {};", qualified(&old.schema, &old.name), ident(&new.name));
            // Its comment goes with it: gone where the new one has none (review: the diff never
            // converged). A comment it has is set where comments are.
            if commented(self.from, old) && !commented(self.to, new) {
                sql.push_str(&format!("\nCOMMENT ON INDEX {} IS NULL;", qualified(&new.schema, &new.name)));
            }
            self.push(format!("index {}.{}", new.schema, new.name), sql, false, None);
        }
    }

    /// Whether the index `old` becomes `new` by building `new` beside it under another name and
    /// swapping the two ([`Differ::swap_indexes`]), rather than by dropping it first: a definition
    /// changed on a table that stays, whose columns are not rebuilt. Dropped first, the table was
    /// without it until the new one was built (in the migration that builds it CONCURRENTLY, after
    /// the one that dropped it): queries ran without the index, and a unique one's uniqueness was
    /// not enforced in between. A partitioned table's index cannot be built CONCURRENTLY.
    fn swappable(&self, old: &Index, new: &Index) -> bool {
        old.valid
            && !self.index_needed_by_a_new_key(new)
            && old.definition != new.definition
            && !new.on_materialized_view
            && self.swap_allowed(
                &old.schema,
                &old.table,
                &old.uses,
                &old.definition,
                new.definition.starts_with("CREATE UNIQUE"),
            )
            && swap_name(new, self.from, self.to).is_some()
    }

    /// Whether what stands for a key or an index of `schema.table` (`uses`, `definition`: the old
    /// one's; `unique`: the new one's) can be swapped for a new definition built beside it: the
    /// table stays, is not partitioned, and neither a column it uses changes nor a foreign key rests
    /// on a unique one.
    pub(super) fn swap_allowed(
        &self,
        schema: &str,
        table_name: &str,
        uses: &[crate::model::TableUse],
        definition: &str,
        unique: bool,
    ) -> bool {
        let table = key(schema, table_name);
        // A column it uses dropped or retyped first (review: the swap's DROP found the index gone
        // with its column, and its down built the old one before the column was back).
        let column_changes = self.changed_columns.get(&table).is_some_and(|changed| {
            uses.is_empty()
                || uses.iter().any(|u| {
                    u.schema == schema && u.table == table_name && u.columns.iter().any(|c| changed.contains(c))
                })
        });
        // A unique index a foreign key may rest on cannot be dropped while it does (review: the
        // first migration added the key again, on the old index, before the swap).
        // (A key's `uses` holds its own table too: only one that points at this table counts,
        // from another table or from this one to itself; the re-check found every unique index of
        // a table with keys of its own dropped first.)
        // A key rests on a unique index whose columns are the ones it points at (the live re-check:
        // a key pointing at the table's primary key stopped the swap of another unique, whose
        // fallback let duplicates in); one from the table to itself, whose `uses` mixes its own
        // columns with those it points at, is taken to rest on any.
        let here = |u: &&crate::model::TableUse| u.schema == schema && u.table == table_name;
        fn columns(u: &crate::model::TableUse) -> BTreeSet<&str> {
            u.columns.iter().map(String::as_str).collect()
        }
        let indexed = uses.iter().find(here).map(columns);
        let rests_here = |k: &crate::model::Constraint| {
            let own = k.schema == schema && k.table == table_name;
            match k.uses.iter().find(here) {
                None => false,
                Some(_) if own => references_itself(&k.definition, schema, table_name),
                Some(pointed) => indexed.as_ref().is_none_or(|cols| *cols == columns(pointed)),
            }
        };
        let referenced = [self.from, self.to]
            .iter()
            .any(|s| s.constraints.iter().any(|k| k.kind == ConstraintKind::ForeignKey && rests_here(k)));
        if column_changes || (referenced && unique) {
            return false;
        }
        // A partitioned table's index cannot be built CONCURRENTLY, nor a partition's dropped.
        let partitioned = self
            .to
            .tables
            .iter()
            .any(|t| key(&t.schema, &t.name) == table && (t.partition_key.is_some() || t.partition_of.is_some()));
        !self.created_tables.contains(&table) && !self.rebuilt(schema, table_name, uses, definition) && !partitioned
    }

    /// Each index of `swaps` built again under a name of its own, the old one dropped and the new
    /// one renamed to the old name: the table has one or the other at every moment. In the
    /// migration `diff --write` builds apart, each statement runs CONCURRENTLY; in one transaction
    /// (printed, or a generated down) the swap is atomic.
    pub(super) fn swap_indexes(&mut self, swaps: &[(&Index, &Index)]) {
        for (old, new) in swaps {
            let Some((temporary, definition)) = swap_name(new, self.from, self.to) else { continue };
            let mut sql = format!(
                "{definition};\nDROP INDEX {};\nALTER INDEX {} RENAME TO {};",
                qualified(&old.schema, &old.name),
                qualified(&new.schema, &temporary),
                ident(&new.name)
            );
            // Its comment, which went with the old one.
            if let Some(comment) = self.comment_again(CommentKind::Index, &new.schema, None, &new.name) {
                sql.push_str(&format!("\n{comment}"));
            }
            let note = "built beside the old one, then swapped for it, so that the table has one at every moment; blocks writes to the table while it builds (CONCURRENTLY needs its own migration without a transaction)";
            self.push_apart(format!("index {}.{}", new.schema, new.name), sql, Some(note.to_string()));
        }
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

    /// Whether a foreign key the diff adds points at exactly the columns of the unique index `i`,
    /// which must then be there first, in the migration that adds the key (review).
    fn index_needed_by_a_new_key(&self, i: &Index) -> bool {
        let own = i.uses.iter().find(|u| u.schema == i.schema && u.table == i.table);
        i.definition.starts_with("CREATE UNIQUE INDEX")
            && own.is_some_and(|u| {
                let columns: BTreeSet<&str> = u.columns.iter().map(String::as_str).collect();
                self.new_key_points_at(&i.schema, &i.table, &columns)
            })
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
            let needed = self.index_needed_by_a_new_key(i);
            changes.push((object, format!("{};", i.definition), note, key(&i.schema, &i.table), needed));
        }
        // A partitioned table's own index cannot be built CONCURRENTLY (its partitions' can).
        let partitioned: BTreeSet<Key> =
            self.to.tables.iter().filter(|t| t.partition_key.is_some()).map(|t| key(&t.schema, &t.name)).collect();
        for (object, sql, note, table, needed) in changes {
            let apart = note.is_some() && !partitioned.contains(&table) && !needed;
            self.push(object, sql, false, note);
            if let Some(change) = self.out.last_mut() {
                change.build_apart = apart;
            }
        }
    }
}

/// Whether a foreign key's definition (`pg_get_constraintdef`) names `schema.table`, or `table`
/// alone, after REFERENCES.
fn references_itself(definition: &str, schema: &str, table: &str) -> bool {
    let Some((_, after)) = definition.split_once(" REFERENCES ") else { return false };
    let target = after.split('(').next().unwrap_or("").trim();
    target == qualified(schema, table) || target == ident(table)
}

/// The name `new` is built under before the swap (its own name with `_swap`, shortened to fit
/// PostgreSQL's 63 bytes) and its definition under that name; None where the definition does not
/// start with its name as PostgreSQL writes it, or where the name is taken.
fn swap_name(new: &Index, from: &Schema, to: &Schema) -> Option<(String, String)> {
    let temporary = swap_temporary(&new.schema, &new.name, from, to)?;
    let (create, rest) = ["CREATE UNIQUE INDEX ", "CREATE INDEX "]
        .into_iter()
        .find_map(|p| new.definition.strip_prefix(p).map(|rest| (p, rest)))?;
    let rest = rest.strip_prefix(&ident(&new.name))?;
    rest.starts_with(" ON ").then(|| (temporary.clone(), format!("{create}{}{rest}", ident(&temporary))))
}

/// The name an index is built under beside `schema.name` before the swap: its name with `_swap`,
/// shortened to fit PostgreSQL's 63 bytes; None where a relation of `from` or `to` has it.
pub(super) fn swap_temporary(schema: &str, name: &str, from: &Schema, to: &Schema) -> Option<String> {
    free_name(schema, name, "swap", from, to)
}

/// `name` with `_label`, shortened to fit PostgreSQL's 63 bytes, for a relation of `schema`; None
/// where a relation of `from` or `to` has it.
pub(super) fn free_name(schema: &str, name: &str, label: &str, from: &Schema, to: &Schema) -> Option<String> {
    let temporary = shale_core::ident::constraint_name(name, None, label);
    // Indexes, tables, views and sequences share one namespace per schema.
    let taken = |s: &Schema| {
        let named = |in_schema: &str, n: &str| in_schema == schema && n == temporary;
        s.indexes.iter().any(|i| named(&i.schema, &i.name))
            || s.tables.iter().any(|t| named(&t.schema, &t.name))
            || s.views.iter().any(|v| named(&v.schema, &v.name))
            || s.sequences.iter().any(|q| named(&q.schema, &q.name))
    };
    (!taken(from) && !taken(to)).then_some(temporary)
}

/// An index's definition without its name, to compare two under different names.
fn unnamed(i: &Index) -> String {
    i.definition.replacen(&format!("INDEX {} ON ", ident(&i.name)), "INDEX ON ", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(name: &str, definition: &str) -> Index {
        Index {
            schema: "public".into(),
            table: "t".into(),
            name: name.into(),
            definition: definition.into(),
            on_materialized_view: false,
            valid: true,
            uses: Vec::new(),
            calls: Vec::new(),
        }
    }

    #[test]
    fn the_swap_name_fits_and_is_free() {
        let empty = Schema::default();
        let new = index("t_code", "CREATE UNIQUE INDEX t_code ON public.t USING btree (code, region)");
        let (name, definition) = swap_name(&new, &empty, &empty).unwrap();
        assert_eq!(name, "t_code_swap");
        assert_eq!(definition, "CREATE UNIQUE INDEX t_code_swap ON public.t USING btree (code, region)");
        // Quoted as PostgreSQL writes it; shortened to 63 bytes.
        let long = "Ä".repeat(31);
        let new = index(&long, &format!("CREATE INDEX \"{long}\" ON public.t USING btree (code)"));
        let (name, definition) = swap_name(&new, &empty, &empty).unwrap();
        assert!(name.len() <= 63 && name.ends_with("_swap"), "{name}");
        assert_eq!(definition, format!("CREATE INDEX \"{name}\" ON public.t USING btree (code)"));
        // Taken: dropped and created as before.
        let taken = Schema { indexes: vec![index("t_code_swap", "CREATE INDEX t_code_swap ON public.t (n)")], ..empty };
        let new = index("t_code", "CREATE INDEX t_code ON public.t USING btree (code)");
        assert!(swap_name(&new, &taken, &Schema::default()).is_none());
    }
}
