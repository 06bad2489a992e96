//! Functions and procedures: those a change of result type, kind or parameters (or of a table they
//! are bound to) drops and creates again, created before the tables when they read none, after
//! them otherwise, and removed ones dropped around the types their signatures use.

use std::collections::{BTreeMap, BTreeSet};

use super::{Differ, TableKey};
use crate::dump::functions_in_order;
use crate::dump::qualified;
use crate::dump::render::function;
use crate::model::{Function, FunctionKind};

impl<'a> Differ<'a> {
    pub(super) fn classify_functions(&mut self) {
        let to: BTreeMap<TableKey, &Function> = self.to.functions.iter().map(|f| (fn_key(f), f)).collect();
        for f in &self.from.functions {
            match to.get(&fn_key(f)) {
                None => {
                    self.gone_functions.insert(fn_key(f));
                }
                Some(n) if n.definition != f.definition && !replaceable(f, n) => {
                    self.gone_functions.insert(fn_key(f));
                }
                // A function bound to a table's row type or columns (a SQL-standard body) blocks
                // changing them: dropped before and created again after. Its body's use of the
                // row type blocks retyping any column of the table (PostgreSQL 15.20 refuses it:
                // "function a_of(t) uses its row type").
                Some(_)
                    if f.needs_tables
                        && (self.affected(&f.uses, &f.definition) || self.uses_a_retyped_row(&f.uses)) =>
                {
                    self.gone_functions.insert(fn_key(f));
                }
                Some(_) => {}
            }
        }
        // A function whose body calls one dropped goes with it, and comes back after it (re-check:
        // `a_plus` calling `a_of`, dropped around a retype).
        loop {
            let gone: BTreeSet<crate::model::QualifiedName> = self
                .from
                .functions
                .iter()
                .filter(|f| self.gone_functions.contains(&fn_key(f)))
                .map(Function::ordering_key)
                .collect();
            let callers: Vec<TableKey> = self
                .from
                .functions
                .iter()
                .filter(|f| !self.gone_functions.contains(&fn_key(f)) && f.calls.iter().any(|c| gone.contains(c)))
                .map(fn_key)
                .collect();
            if callers.is_empty() {
                break;
            }
            self.gone_functions.extend(callers);
        }
    }

    /// Whether `calls` names a function dropped (and created again, or not): what calls it goes
    /// before it.
    pub(super) fn calls_a_gone_function(&self, calls: &[crate::model::QualifiedName]) -> bool {
        !calls.is_empty()
            && self
                .from
                .functions
                .iter()
                .filter(|f| self.gone_functions.contains(&fn_key(f)))
                .any(|f| calls.contains(&f.ordering_key()))
    }

    /// Whether `uses` holds the row type of a table that has a column retyped.
    fn uses_a_retyped_row(&self, uses: &[crate::model::TableUse]) -> bool {
        uses.iter().any(|u| u.row_type && self.retyped_tables.contains(&super::key(&u.schema, &u.table)))
    }

    fn name_lives_on(&self, f: &Function) -> bool {
        self.to.functions.iter().any(|n| n.schema == f.schema && n.name == f.name)
    }

    pub(super) fn drop_changed_functions(&mut self) {
        let to: BTreeSet<TableKey> = self.to.functions.iter().map(fn_key).collect();
        let changed: Vec<&Function> = self
            .from
            .functions
            .iter()
            // Removed functions bound to tables go now, before their tables, and so do those whose
            // name lives on (a parameter renamed: the new one has the same argument types); the
            // others after the tables.
            .filter(|f| {
                self.gone_functions.contains(&fn_key(f))
                    && (to.contains(&fn_key(f)) || f.needs_tables || self.name_lives_on(f))
            })
            .collect();
        // A caller before the function it calls.
        for f in functions_in_order(changed).into_iter().rev() {
            let (object, sql) = drop_function(f);
            let note = to.contains(&fn_key(f)).then(|| {
                "dropped and created again (its result type changes, or it is bound to a changing table)".into()
            });
            self.replaced.insert(object.clone());
            self.push(object, sql, false, note);
        }
    }

    /// The new and changed functions that `which` picks (those reading no table go before the
    /// tables, the others after them).
    pub(super) fn create_functions(&mut self, which: impl Fn(&Function) -> bool) {
        let from: BTreeMap<TableKey, &Function> = self.from.functions.iter().map(|f| (fn_key(f), f)).collect();
        for f in functions_in_order(self.to.functions.iter().filter(|f| which(f)).collect()) {
            let k = fn_key(f);
            let needed = match from.get(&k) {
                None => true,
                Some(old) => old.definition != f.definition || self.gone_functions.contains(&k),
            };
            if needed {
                let kind = if f.kind == FunctionKind::Procedure { "procedure" } else { "function" };
                self.push(format!("{kind} {}.{}({})", f.schema, f.name, f.arguments), function(f), false, None);
            }
        }
    }

    /// The removed functions that `which` picks (those reading tables went in phase 1).
    pub(super) fn drop_removed_functions(&mut self, which: impl Fn(&Function) -> bool) {
        let to: BTreeSet<TableKey> = self.to.functions.iter().map(fn_key).collect();
        let removed: Vec<&Function> = self
            .from
            .functions
            .iter()
            .filter(|f| !to.contains(&fn_key(f)) && !f.needs_tables && !self.name_lives_on(f) && which(f))
            .collect();
        for f in functions_in_order(removed).into_iter().rev() {
            let (object, sql) = drop_function(f);
            self.push(object, sql, false, None);
        }
    }
}

fn fn_key(f: &Function) -> TableKey {
    (f.schema.clone(), f.name.clone(), f.arguments.clone())
}

fn drop_function(f: &Function) -> (String, String) {
    let kind = if f.kind == FunctionKind::Procedure { "PROCEDURE" } else { "FUNCTION" };
    (
        format!("{} {}.{}({})", kind.to_lowercase(), f.schema, f.name, f.arguments),
        format!("DROP {kind} {}({});", qualified(&f.schema, &f.name), f.arguments),
    )
}

/// `CREATE OR REPLACE` can change a function's body but not its result type, its kind, or its
/// parameters' names, defaults and modes (all on the definition's first line).
fn replaceable(old: &Function, new: &Function) -> bool {
    let returns = |f: &Function| {
        f.definition.lines().find(|l| l.trim_start().starts_with("RETURNS ")).map(str::trim).map(str::to_string)
    };
    let signature = |f: &Function| f.definition.lines().next().map(str::trim).map(str::to_string);
    old.kind == new.kind && returns(old) == returns(new) && signature(old) == signature(new)
}
