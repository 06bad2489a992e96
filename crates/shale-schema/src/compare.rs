//! Schema drift: what differs between the schema the migrations produce and a live one, object by
//! object (seed 002's "current state vs desired state"). Pure: two models in, differences out.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::dump::render::{
    comment_targets, create_collation, create_range_type, default_privilege_target, default_privileges, policy,
    privilege_target, privileges,
};
use crate::model::{Schema, SequenceOptions};

/// One object whose definition differs; `None` on a side where the object does not exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub object: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

impl Difference {
    /// What each side holds, `(absent)` where it has no such object.
    pub fn sides(&self) -> (&str, &str) {
        (self.expected.as_deref().unwrap_or("(absent)"), self.actual.as_deref().unwrap_or("(absent)"))
    }

    /// [`Difference::sides`] as a person reads them: where both are long (a function's body, a
    /// view's query), the words that differ with a few words around them, `…` where cut, so that
    /// one changed word is not lost in two 2 KB lines.
    pub fn shown_sides(&self) -> (String, String) {
        const LONG: usize = 160;
        const AROUND: usize = 6;
        let (expected, actual) = self.sides();
        if expected.len() <= LONG && actual.len() <= LONG || self.expected.is_none() || self.actual.is_none() {
            return (expected.to_string(), actual.to_string());
        }
        let (a, b): (Vec<&str>, Vec<&str>) = (expected.split(' ').collect(), actual.split(' ').collect());
        let same_start = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        let most_end = a.len().min(b.len()) - same_start;
        let same_end = a.iter().rev().zip(b.iter().rev()).take(most_end).take_while(|(x, y)| x == y).count();
        let excerpt = |words: &[&str]| {
            let from = same_start.saturating_sub(AROUND);
            let to = (words.len() - same_end + AROUND).min(words.len());
            let (before, after) = (if from > 0 { "… " } else { "" }, if to < words.len() { " …" } else { "" });
            format!("{before}{}{after}", words[from..to].join(" "))
        };
        (excerpt(&a), excerpt(&b))
    }
}

/// Every object as `kind name` -> a one-line description, so two schemas compare key by key.
fn objects(schema: &Schema) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for s in &schema.schemas {
        out.insert(format!("schema {s}"), "exists".into());
    }
    for e in &schema.extensions {
        out.insert(format!("extension {}", e.name), format!("in schema {}", e.schema));
    }
    for c in &schema.collations {
        let sql = create_collation(c);
        let options = sql.split_once(" (").map_or(sql.as_str(), |(_, o)| o).trim_end_matches(");");
        out.insert(format!("collation {}.{}", c.schema, c.name), options.to_string());
    }
    for e in &schema.enums {
        out.insert(format!("type {}.{}", e.schema, e.name), format!("enum ({})", e.values.join(", ")));
    }
    for s in &schema.sequences {
        let o = &s.options;
        let mut what = format!("{} {}", o.data_type, sequence_numbers(o));
        if let Some(owner) = &s.owned_by {
            what.push_str(&format!(" owned by {}.{}.{}", owner.schema, owner.table, owner.column));
        }
        out.insert(format!("sequence {}.{}", s.schema, s.name), what);
    }
    for t in &schema.tables {
        let table = format!("{}.{}", t.schema, t.name);
        let mut what = if t.unlogged { "unlogged table".to_string() } else { "table".to_string() };
        if let Some(key) = &t.partition_key {
            what.push_str(&format!(" partitioned by {key}"));
        }
        if let (Some(parent), Some(bound)) = (&t.partition_of, &t.partition_bound) {
            what.push_str(&format!(" partition of {}.{} {bound}", parent.schema, parent.name));
        }
        if !t.inherits.is_empty() {
            let parents: Vec<String> = t.inherits.iter().map(|p| format!("{}.{}", p.schema, p.name)).collect();
            what.push_str(&format!(" inherits ({})", parents.join(", ")));
        }
        if let Some(ty) = &t.of_type {
            what.push_str(&format!(" of {}.{}", ty.schema, ty.name));
        }
        if !t.storage.is_empty() {
            what.push_str(&format!(" with ({})", t.storage.join(", ")));
        }
        out.insert(format!("table {table}"), what);
        if t.row_security || t.force_row_security {
            let state = match (t.row_security, t.force_row_security) {
                (true, true) => "enabled, forced",
                (true, false) => "enabled",
                _ => "forced (not enabled)",
            };
            out.insert(format!("row level security {table}"), state.into());
        }
        for c in &t.columns {
            let mut d = c.data_type.clone();
            if let Some(coll) = &c.collation {
                d.push_str(&format!(" collate {coll}"));
            }
            d.push_str(if c.not_null { " not null" } else { " null" });
            if let Some(default) = &c.default {
                d.push_str(&format!(" default {}", crate::canonical::comparable_default(default)));
            }
            if let Some(identity) = &c.identity {
                d.push_str(if identity.always { " identity always" } else { " identity by default" });
                if let Some(seq) = &identity.sequence {
                    d.push_str(&format!(" (sequence {} {})", seq.name, sequence_numbers(&seq.options)));
                }
            }
            if let Some(generated) = &c.generated {
                d.push_str(&format!(" generated ({generated})"));
            }
            out.insert(format!("column {table}.{}", c.name), d);
        }
    }
    for c in &schema.constraints {
        // The definition says NOT VALID where the constraint is not validated (pg_get_constraintdef).
        out.insert(format!("constraint {}.{}.{}", c.schema, c.table, c.name), c.definition.clone());
    }
    for i in &schema.indexes {
        let valid = if i.valid { "" } else { " (INVALID: left unfinished by a failed CREATE INDEX CONCURRENTLY)" };
        out.insert(format!("index {}.{}", i.schema, i.name), format!("{}{valid}", i.definition));
    }
    for v in &schema.views {
        let kind = if v.materialized { "materialized view" } else { "view" };
        out.insert(
            format!("{kind} {}.{}", v.schema, v.name),
            v.definition.split_whitespace().collect::<Vec<_>>().join(" "),
        );
    }
    for o in &schema.operators {
        let sql = crate::dump::render::create_operator(o);
        let options = sql.split_once(" (").map_or(sql.as_str(), |(_, o)| o).trim_end_matches(");");
        out.insert(crate::diff::operator_object(o), options.to_string());
    }
    for c in &schema.casts {
        let sql = crate::dump::render::create_cast(c);
        let how = sql.split_once(") ").map_or(sql.as_str(), |(_, h)| h).trim_end_matches(';');
        out.insert(crate::diff::cast_object(c), how.to_string());
    }
    for f in &schema.functions {
        out.insert(
            format!("function {}.{}({})", f.schema, f.name, f.arguments),
            f.definition.split_whitespace().collect::<Vec<_>>().join(" "),
        );
    }
    for t in &schema.triggers {
        let state = match t.enabled.as_str() {
            "D" => " (disabled)",
            "R" => " (enabled on replicas only)",
            "A" => " (enabled always)",
            _ => "",
        };
        out.insert(format!("trigger {}.{}.{}", t.schema, t.table, t.name), format!("{}{state}", t.definition));
    }
    for d in &schema.domains {
        let mut what = format!("domain over {}", d.data_type);
        if let Some(coll) = &d.collation {
            what.push_str(&format!(" collate {coll}"));
        }
        if let Some(default) = &d.default {
            what.push_str(&format!(" default {default}"));
        }
        if d.not_null {
            what.push_str(" not null");
        }
        out.insert(format!("type {}.{}", d.schema, d.name), what);
        for c in &d.checks {
            out.insert(format!("domain constraint {}.{}.{}", d.schema, d.name, c.name), c.definition.clone());
        }
    }
    for c in &schema.composite_types {
        let attributes: Vec<String> = c
            .attributes
            .iter()
            .map(|a| match &a.collation {
                Some(coll) => format!("{} {} collate {coll}", a.name, a.data_type),
                None => format!("{} {}", a.name, a.data_type),
            })
            .collect();
        out.insert(format!("type {}.{}", c.schema, c.name), format!("composite ({})", attributes.join(", ")));
    }
    for r in &schema.range_types {
        let sql = create_range_type(r);
        let options = sql.split_once(" AS ").map_or(sql.as_str(), |(_, o)| o).trim_end_matches(';');
        out.insert(format!("type {}.{}", r.schema, r.name), options.to_string());
    }
    for a in &schema.aggregates {
        out.insert(format!("aggregate {}.{}({})", a.schema, a.name, a.arguments), a.definition.clone());
    }
    for p in &schema.policies {
        out.insert(format!("policy {}.{}.{}", p.schema, p.table, p.name), policy(p));
    }
    for (target, comment) in comment_targets(schema) {
        out.insert(format!("comment on {target}"), comment.clone());
    }
    for p in &schema.privileges {
        let column = p.column.as_ref().map(|c| format!(" column {c}")).unwrap_or_default();
        out.insert(format!("privileges on {}{column}", privilege_target(p)), privileges(p).join(" "));
    }
    for p in &schema.default_privileges {
        out.insert(default_privileges_object(p), default_privileges(p).join(" "));
    }
    out
}

/// `default privileges [for role r] [in schema s] on tables`.
pub(crate) fn default_privileges_object(p: &crate::model::DefaultPrivileges) -> String {
    let mut object = String::from("default privileges");
    if let Some(r) = &p.role {
        object.push_str(&format!(" for role {r}"));
    }
    if let Some(s) = &p.schema {
        object.push_str(&format!(" in schema {s}"));
    }
    object.push_str(&format!(" on {}", default_privilege_target(p.kind).to_lowercase()));
    object
}

/// A sequence's numbers as a difference shows them (a standalone sequence's and an identity's).
fn sequence_numbers(o: &SequenceOptions) -> String {
    let cycle = if o.cycle { " cycle" } else { "" };
    format!("start {} increment {} min {} max {} cache {}{cycle}", o.start, o.increment, o.min, o.max, o.cache)
}

/// The objects that differ between `expected` (what the migrations build) and `actual`.
pub fn differences(expected: &Schema, actual: &Schema) -> Vec<Difference> {
    let (want, have) = (objects(expected), objects(actual));
    let mut keys: Vec<&String> = want.keys().chain(have.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| want.get(*k) != have.get(*k))
        .map(|k| Difference { object: k.clone(), expected: want.get(k).cloned(), actual: have.get(k).cloned() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Difference;

    /// A function one word apart (Rails trial: md5 became hashtext in a 2 KB body): the word and a
    /// few around it, not the two bodies whole.
    #[test]
    fn long_sides_show_the_words_that_differ() {
        let body = |word: &str| {
            let (xs, ys) = (["x"; 60].join(" "), ["y"; 60].join(" "));
            format!("CREATE FUNCTION public.f() RETURNS trigger {xs} {word}(NEW.id::text) {ys}")
        };
        let d = Difference {
            object: "function public.f()".into(),
            expected: Some(body("md5")),
            actual: Some(body("hashtext")),
        };
        let (expected, actual) = d.shown_sides();
        assert_eq!(expected, "… x x x x x x md5(NEW.id::text) y y y y y y …");
        assert_eq!(actual, "… x x x x x x hashtext(NEW.id::text) y y y y y y …");
        // Short ones, and an object on one side only, are shown whole.
        let short = Difference { object: "t".into(), expected: Some("text".into()), actual: Some("bigint".into()) };
        assert_eq!(short.shown_sides(), ("text".to_string(), "bigint".to_string()));
        let gone = Difference { object: "f".into(), expected: Some(body("md5")), actual: None };
        assert_eq!(gone.shown_sides(), (body("md5"), "(absent)".to_string()));
    }
}
