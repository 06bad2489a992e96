//! Operators and casts: created after the functions they call and before the tables whose
//! defaults, checks and indexes may use them; dropped after what uses them and before the
//! functions they call (neither can be altered beyond its estimators: a changed one is made again).

use super::Differ;
use crate::dump::render::{create_cast, create_operator, drop_operator};

impl<'a> Differ<'a> {
    /// Removed or changed ones. In phase 1 (`early`), once what used them is dropped and before the
    /// functions they call change: the changed ones, and those calling a function that takes a
    /// table's row type (dropped in phase 1 too). In phase 4, once the tables that used them are
    /// gone and before the functions they call are: the other removed ones.
    pub(super) fn drop_operators_and_casts(&mut self, early: bool) {
        let mut drops = Vec::new();
        for o in self.from.operators.iter().filter(|o| !self.to.operators.contains(o)) {
            let kept = self.to.operators.iter().any(|n| operator_object(n) == operator_object(o));
            if (kept || calls_late_function(self.from, Some(&o.function))) == early {
                drops.push((operator_object(o), drop_operator(o)));
            }
        }
        for c in self.from.casts.iter().filter(|c| !self.to.casts.contains(c)) {
            let kept = self.to.casts.iter().any(|n| cast_object(n) == cast_object(c));
            if (kept || calls_late_function(self.from, c.function.as_deref())) == early {
                drops.push((cast_object(c), format!("DROP CAST ({} AS {});", c.source, c.target)));
            }
        }
        for (object, sql) in drops {
            self.push_replaced(object, sql);
        }
    }

    /// New operators and casts, and changed ones made again: in phase 2 after the functions,
    /// those calling a function that takes a table's row type (`late`) in phase 5 after it.
    pub(super) fn create_operators_and_casts(&mut self, late: bool) {
        let mut creates = Vec::new();
        for o in &self.to.operators {
            if !self.from.operators.contains(o) && calls_late_function(self.to, Some(&o.function)) == late {
                creates.push((operator_object(o), create_operator(o)));
            }
        }
        for c in &self.to.casts {
            if !self.from.casts.contains(c) && calls_late_function(self.to, c.function.as_deref()) == late {
                creates.push((cast_object(c), create_cast(c)));
            }
        }
        for (object, sql) in creates {
            self.push(object, sql, false, None);
        }
    }
}

/// `operator public.===(text, integer)`, as drift names it.
pub(crate) fn operator_object(o: &crate::model::Operator) -> String {
    format!("operator {}.{}({}, {})", o.schema, o.name, o.left.as_deref().unwrap_or("NONE"), o.right)
}

/// `cast (public.mood AS text)`, as drift names it.
pub(crate) fn cast_object(c: &crate::model::Cast) -> String {
    format!("cast ({} AS {})", c.source, c.target)
}

/// Whether `function` (as an operator or a cast names it: `billing.f` or `billing.f(boolean)`) is
/// one of `schema`'s functions created after the tables (it takes a table's row type): what calls
/// it is created after it.
pub(crate) fn calls_late_function(schema: &crate::model::Schema, function: Option<&str>) -> bool {
    let Some(function) = function else { return false };
    let name = function.split('(').next().unwrap_or(function);
    schema.functions.iter().any(|f| f.needs_tables && crate::dump::qualified(&f.schema, &f.name) == name)
}
