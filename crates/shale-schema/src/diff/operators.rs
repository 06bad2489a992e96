//! Operators and casts: created after the functions they call and before the tables whose
//! defaults, checks and indexes may use them; dropped after what uses them and before the
//! functions they call (neither can be altered beyond its estimators: a changed one is made again).

use super::Differ;
use crate::dump::render::{create_cast, create_operator, drop_operator};

impl<'a> Differ<'a> {
    /// The changed ones (`changed`: in phase 1, once what used them is dropped, before the
    /// functions they call change), or the removed ones (in phase 4, once the tables that used
    /// them are gone, before the functions they call are).
    pub(super) fn drop_operators_and_casts(&mut self, changed: bool) {
        let mut drops = Vec::new();
        for o in self.from.operators.iter().filter(|o| !self.to.operators.contains(o)) {
            let kept = self.to.operators.iter().any(|n| operator_object(n) == operator_object(o));
            if kept == changed {
                drops.push((operator_object(o), drop_operator(o)));
            }
        }
        for c in self.from.casts.iter().filter(|c| !self.to.casts.contains(c)) {
            let kept = self.to.casts.iter().any(|n| cast_object(n) == cast_object(c));
            if kept == changed {
                drops.push((cast_object(c), format!("DROP CAST ({} AS {});", c.source, c.target)));
            }
        }
        for (object, sql) in drops {
            self.push_replaced(object, sql);
        }
    }

    /// Phase 2, after the functions: new operators and casts, and changed ones made again.
    pub(super) fn create_operators_and_casts(&mut self) {
        let mut creates = Vec::new();
        for o in &self.to.operators {
            if !self.from.operators.contains(o) {
                creates.push((operator_object(o), create_operator(o)));
            }
        }
        for c in &self.to.casts {
            if !self.from.casts.contains(c) {
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
