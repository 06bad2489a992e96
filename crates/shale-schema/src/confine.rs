//! One schema of a model, seen as another: what the migrations built in a scratch schema (when the
//! `--dev-url` user may not create databases), seen as if built in `public`.

use serde_json::Value;

use crate::model::{CommentKind, PrivilegeKind, Schema};

/// The objects of `model` in schema `scratch`, renamed to schema `as_name` everywhere: their own
/// schema fields and every reference in their definitions (`scratch.t` becomes `as_name.t`).
/// Objects in other schemas (the rest of the database the scratch schema lives in) are left out,
/// but for extensions in pg_catalog (plpgsql), which every database has.
/// The scratch name must be unique enough not to appear by chance (shale's carry a process id).
pub fn confine(model: &Schema, scratch: &str, as_name: &str) -> Schema {
    let mut json = keep(model, |kind, schema| schema == scratch || (kind == "extensions" && schema == "pg_catalog"));
    rename(&mut json, scratch, as_name);
    let mut out: Schema = serde_json::from_value(json).expect("the same shape deserializes");
    out.normalize();
    out
}

/// The objects of `model` outside the scratch schemas (those whose name starts with
/// `scratch_prefix`): the rest of the database.
pub fn outside(model: &Schema, scratch_prefix: &str) -> Schema {
    let json = keep(model, |_, schema| !schema.starts_with(scratch_prefix));
    serde_json::from_value(json).expect("the same shape deserializes")
}

/// `expected` and `actual` compared with their column defaults passed over: an ORM whose defaults
/// live in its code (Tortoise's `auto_now`, Django's `default=`) declares none, where the database
/// has them (aerich trial: `drift --against exec:` could never pass). A column both have takes
/// `expected`'s default on both sides; one only a side has keeps its own, which a fix writing it
/// needs (review: `ADD COLUMN flag boolean NOT NULL` without its `DEFAULT false` fails on a table
/// with rows, and a new table lost its `DEFAULT now()`).
pub fn ignoring_column_defaults(expected: &Schema, actual: &Schema) -> (Schema, Schema) {
    let mut actual = actual.clone();
    for table in &mut actual.tables {
        let Some(declared) = expected.tables.iter().find(|t| t.schema == table.schema && t.name == table.name) else {
            continue;
        };
        for column in &mut table.columns {
            if let Some(theirs) = declared.columns.iter().find(|c| c.name == column.name) {
                column.default = theirs.default.clone();
            }
        }
    }
    (expected.clone(), actual)
}

/// `expected` and `actual` compared with their comments passed over, on any kind of object, as
/// [`ignoring_column_defaults`] passes defaults over: a table, column or view both have takes
/// `expected`'s comment on both sides; one a side alone has keeps its own. Of the other objects'
/// comments, those both sides have are `expected`'s, and the rest are left out of both.
pub fn ignoring_comments(expected: &Schema, actual: &Schema) -> (Schema, Schema) {
    let (mut expected, mut actual) = (expected.clone(), actual.clone());
    for table in &mut actual.tables {
        let Some(declared) = expected.tables.iter().find(|t| t.schema == table.schema && t.name == table.name) else {
            continue;
        };
        table.comment = declared.comment.clone();
        for column in &mut table.columns {
            if let Some(theirs) = declared.columns.iter().find(|c| c.name == column.name) {
                column.comment = theirs.comment.clone();
            }
        }
    }
    for view in &mut actual.views {
        if let Some(declared) = expected.views.iter().find(|v| v.schema == view.schema && v.name == view.name) {
            view.comment = declared.comment.clone();
        }
    }
    let same_object = |a: &crate::model::Comment, b: &crate::model::Comment| {
        a.kind == b.kind
            && a.schema == b.schema
            && a.name == b.name
            && a.parent == b.parent
            && a.arguments == b.arguments
    };
    let shared: Vec<crate::model::Comment> =
        expected.comments.iter().filter(|c| actual.comments.iter().any(|a| same_object(a, c))).cloned().collect();
    (expected.comments, actual.comments) = (shared.clone(), shared);
    (expected, actual)
}

/// `model` without table `schema.table` and what belongs to it (its constraints, indexes,
/// triggers, policies, comments, privileges and owned sequences): shale's own history and lease
/// tables, when they could not be left out while reading the model.
pub fn without_table(model: &Schema, schema: &str, table: &str) -> Schema {
    let mut json = serde_json::to_value(model).expect("a model serializes");
    if let Value::Object(kinds) = &mut json {
        for list in kinds.values_mut() {
            let Value::Array(items) = list else { continue };
            items.retain(|item| {
                let Value::Object(fields) = item else { return true };
                let is = |key: &str| fields.get(key).and_then(Value::as_str) == Some(table);
                let owner = fields.get("owned_by").and_then(|o| o.get("table")).and_then(Value::as_str);
                let in_schema = fields.get("schema").and_then(Value::as_str) == Some(schema);
                !(in_schema && (is("table") || is("name") || is("parent") || owner == Some(table)))
            });
        }
    }
    serde_json::from_value(json).expect("the same shape deserializes")
}

/// `model` without schema `schema` when nothing is left in it: the schema another tool made for
/// its history table alone (drizzle's `drizzle`), once that table is left out.
pub fn without_empty_schema(model: &Schema, schema: &str) -> Schema {
    if !model.schemas.iter().any(|s| s == schema) {
        return model.clone();
    }
    let json = serde_json::to_value(model).expect("a model serializes");
    let holds_something = json.as_object().is_some_and(|kinds| {
        kinds.values().filter_map(Value::as_array).flatten().any(|item| {
            item.as_object().and_then(|fields| fields.get("schema")).and_then(Value::as_str) == Some(schema)
        })
    });
    let mut out = model.clone();
    if !holds_something {
        out.schemas.retain(|s| s != schema);
    }
    out
}

/// `model` without the objects `other` holds exactly as `model` does: what a setup made before the
/// migrations ran (`replay_setup`) and they left as it was, which is the environment's, not what
/// they build.
pub fn without_same_objects(model: &Schema, other: &Schema) -> Schema {
    objects_held(model, other, false)
}

/// The objects of `model` that `other` holds exactly as `model` does.
pub fn same_objects(model: &Schema, other: &Schema) -> Schema {
    objects_held(model, other, true)
}

/// `model` with only the objects that `other` holds exactly as `model` does (`held`), or only
/// the others.
fn objects_held(model: &Schema, other: &Schema, held: bool) -> Schema {
    let mut json = serde_json::to_value(model).expect("a model serializes");
    let theirs = serde_json::to_value(other).expect("a model serializes");
    if let Value::Object(kinds) = &mut json {
        for (kind, list) in kinds.iter_mut() {
            if let Value::Array(items) = list {
                let same = theirs.get(kind).and_then(Value::as_array);
                items.retain(|item| same.is_some_and(|same| same.contains(item)) == held);
            }
        }
    }
    serde_json::from_value(json).expect("the same shape deserializes")
}

/// `model` without schemas `schemas` and everything in them.
pub fn without_schemas(model: &Schema, schemas: &[&str]) -> Schema {
    let json = keep(model, |_, schema| !schemas.contains(&schema));
    serde_json::from_value(json).expect("the same shape deserializes")
}

/// The model as JSON with only the objects whose schema passes `wanted(kind, schema)`.
fn keep(model: &Schema, wanted: impl Fn(&str, &str) -> bool) -> Value {
    let mut json = serde_json::to_value(model).expect("a model serializes");
    if let Value::Object(kinds) = &mut json {
        for (kind, list) in kinds.iter_mut() {
            let Value::Array(items) = list else { continue };
            items.retain(|item| match item {
                // `schemas` lists names.
                Value::String(name) => wanted(kind, name),
                Value::Object(fields) => match fields.get("schema") {
                    Some(Value::String(schema)) => wanted(kind, schema),
                    _ => true,
                },
                _ => true,
            });
        }
    }
    json
}

/// Rename the schema: in `schema` fields and the `schemas` list when equal to it, and in any text
/// where it qualifies a name (`scratch.x` or `"Scratch Name".x`), at an identifier boundary.
fn rename(value: &mut Value, scratch: &str, as_name: &str) {
    let prefixes = [
        (format!("{scratch}."), format!("{as_name}.")),
        (format!("{}.", crate::dump::ident(scratch)), format!("{}.", crate::dump::ident(as_name))),
    ];
    rename_in(value, scratch, as_name, &prefixes, false);
}

fn rename_in(value: &mut Value, scratch: &str, as_name: &str, prefixes: &[(String, String)], is_schema: bool) {
    match value {
        Value::String(s) if is_schema && s == scratch => *s = as_name.to_string(),
        Value::String(s) => {
            for (from, to) in prefixes {
                if s.contains(from.as_str()) {
                    *s = replace_qualifier(s, from, to);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_in(v, scratch, as_name, prefixes, is_schema)),
        Value::Object(fields) => {
            for (k, v) in fields.iter_mut() {
                let schema_field = k == "schema" || k == "schemas";
                rename_in(v, scratch, as_name, prefixes, schema_field);
            }
        }
        _ => {}
    }
}

/// `from` replaced by `to` where it starts a qualified name: not right after a letter, digit,
/// `_`, `$` or `"` (so schema `a` leaves `data.x` alone).
fn replace_qualifier(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in text.match_indices(from) {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '"') {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(to);
        last = at + from.len();
    }
    out.push_str(&text[last..]);
    out
}

/// `models` (an application's models, which describe tables, their columns, keys, indexes, enums
/// and sequences) with the object kinds they declare none of taken from `other` as `other` has
/// them: functions and procedures, triggers, views, aggregates, policies, with their comments and
/// privileges. Compared as they were, a diff to the models dropped every trigger, view and
/// function the migrations made with SQL (FastAPI trial). Returns the kinds taken, as a person
/// names them; none where the models declare one of a kind (a DDL listener's), which is then
/// compared as usual.
pub fn with_kinds_models_do_not_describe(models: &Schema, other: &Schema) -> (Schema, Vec<&'static str>) {
    let mut out = models.clone();
    let mut taken = Vec::new();
    // Only what stands on what the models keep: a view over a column the models drop, or a
    // trigger of a table they drop, goes with it (review: the view kept read a dropped column,
    // and the SQL could not run).
    let column_kept = |schema: &str, table: &str, column: &str| {
        models
            .tables
            .iter()
            .any(|t| t.schema == schema && t.name == table && t.columns.iter().any(|c| c.name == column))
    };
    let table_kept = |schema: &str, table: &str| models.tables.iter().any(|t| t.schema == schema && t.name == table);
    let stands = |uses: &[crate::model::TableUse]| {
        uses.iter().all(|u| {
            let is_table = other.tables.iter().any(|t| t.schema == u.schema && t.name == u.table);
            !is_table
                || (table_kept(&u.schema, &u.table) && u.columns.iter().all(|c| column_kept(&u.schema, &u.table, c)))
        })
    };
    if models.functions.is_empty() && !other.functions.is_empty() {
        out.functions = other.functions.clone();
        taken.push("functions");
    }
    if models.triggers.is_empty() && !other.triggers.is_empty() {
        out.triggers =
            other.triggers.iter().filter(|t| table_kept(&t.schema, &t.table) && stands(&t.uses)).cloned().collect();
        taken.push("triggers");
    }
    if models.views.is_empty() && !other.views.is_empty() {
        // (A view over a view that goes goes too: kept only where all it stands on is kept.)
        let mut views: Vec<crate::model::View> = other.views.iter().filter(|v| stands(&v.uses)).cloned().collect();
        loop {
            let before = views.len();
            let names: Vec<(String, String)> = views.iter().map(|v| (v.schema.clone(), v.name.clone())).collect();
            views.retain(|v| {
                v.depends_on.iter().all(|d| {
                    let is_view = other.views.iter().any(|o| o.schema == d.schema && o.name == d.name);
                    !is_view || names.iter().any(|(s, n)| *s == d.schema && *n == d.name)
                })
            });
            if views.len() == before {
                break;
            }
        }
        // With their indexes (MikroORM trial: the unique index `REFRESH ... CONCURRENTLY` needs
        // was dropped from a view kept).
        let indexes: Vec<crate::model::Index> = other
            .indexes
            .iter()
            .filter(|i| i.on_materialized_view && views.iter().any(|v| v.schema == i.schema && v.name == i.table))
            .filter(|i| !out.indexes.iter().any(|o| o.schema == i.schema && o.name == i.name))
            .cloned()
            .collect();
        out.indexes.extend(indexes);
        out.views = views;
        taken.push("views");
    }
    if models.aggregates.is_empty() && !other.aggregates.is_empty() {
        out.aggregates = other.aggregates.clone();
        taken.push("aggregates");
    }
    if models.policies.is_empty() && !other.policies.is_empty() {
        out.policies =
            other.policies.iter().filter(|p| table_kept(&p.schema, &p.table) && stands(&p.uses)).cloned().collect();
        // With their tables' row-level security, which the models do not declare either (the
        // re-check: turned off, every row visible, the policies kept).
        for t in out.tables.iter_mut() {
            if let Some(o) = other.tables.iter().find(|o| o.schema == t.schema && o.name == t.name) {
                t.row_security = o.row_security;
                t.force_row_security = o.force_row_security;
            }
        }
        taken.push("policies");
    }
    if taken.is_empty() {
        return (out, taken);
    }
    // Their comments and privileges come with them.
    let view_named = |schema: &str, name: &str| out.views.iter().any(|v| v.schema == schema && v.name == name);
    let comments: Vec<_> = other
        .comments
        .iter()
        .filter(|c| match c.kind {
            CommentKind::Function | CommentKind::Procedure => taken.contains(&"functions"),
            // Only those of what was kept (a trigger of a table the models drop goes, comment and all).
            CommentKind::Trigger => out
                .triggers
                .iter()
                .any(|t| t.schema == c.schema && t.name == c.name && c.parent.as_deref() == Some(t.table.as_str())),
            CommentKind::Aggregate => taken.contains(&"aggregates"),
            CommentKind::Policy => out
                .policies
                .iter()
                .any(|p| p.schema == c.schema && p.name == c.name && c.parent.as_deref() == Some(p.table.as_str())),
            CommentKind::Column => {
                taken.contains(&"views") && c.parent.as_deref().is_some_and(|p| view_named(&c.schema, p))
            }
            _ => false,
        })
        .filter(|c| !out.comments.contains(c))
        .cloned()
        .collect();
    out.comments.extend(comments);
    let privileges: Vec<_> = other
        .privileges
        .iter()
        .filter(|p| match p.kind {
            PrivilegeKind::Function | PrivilegeKind::Procedure => {
                taken.contains(&"functions") || taken.contains(&"aggregates")
            }
            PrivilegeKind::Table => taken.contains(&"views") && view_named(&p.schema, &p.name),
            _ => false,
        })
        .filter(|p| !out.privileges.contains(p))
        .cloned()
        .collect();
    out.privileges.extend(privileges);
    (out, taken)
}

/// `model` without the tables `excluded` matches, their partitions (at any depth), and what hangs
/// on them (indexes, constraints, triggers, policies: objects naming one as their `table`): a
/// table an application keeps out of its models (a partitioned log the migrations make), which a
/// drift against the models would list, column by column and partition by partition, for good
/// (the package trial: 33 differences for one such table, and a CI drift step that never passed).
pub fn without_tables(model: &Schema, excluded: &Selection) -> Schema {
    let mut gone: std::collections::BTreeSet<(String, String)> = model
        .tables
        .iter()
        .filter(|t| excluded.matches(&t.schema, &t.name))
        .map(|t| (t.schema.clone(), t.name.clone()))
        .collect();
    // Partitions of a table left out go with it, level by level.
    loop {
        let before = gone.len();
        for t in &model.tables {
            if t.partition_of.as_ref().is_some_and(|p| gone.contains(&(p.schema.clone(), p.name.clone()))) {
                gone.insert((t.schema.clone(), t.name.clone()));
            }
        }
        if gone.len() == before {
            break;
        }
    }
    // Each with what belongs to it as [`without_table`] has it: its sequences, grants and the
    // comments on its indexes too (review: a partitioned log's `id_seq` and grants stayed).
    gone.iter().fold(model.clone(), |model, (schema, table)| without_table(&model, schema, table))
}

/// Which tables (to show in a diagram, to leave out of a drift): `*` for any characters and `?` for
/// one; a pattern without a schema (no `.`) matches tables of every schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// (schema pattern, table pattern); none: every table.
    patterns: Vec<(Option<String>, String)>,
}

impl Selection {
    /// Every table.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// `PATTERN[,PATTERN...]`, each `table` or `schema.table`.
    pub fn parse(text: &str) -> Result<Selection, String> {
        let mut patterns = Vec::new();
        for pattern in text.split(',').map(str::trim) {
            if pattern.is_empty() {
                return Err(format!("`{text}` has an empty pattern: give table names or patterns separated by commas, e.g. `users,billing.*`"));
            }
            patterns.push(match pattern.split_once('.') {
                Some((schema, table)) if !schema.is_empty() && !table.is_empty() => {
                    (Some(schema.to_string()), table.to_string())
                }
                Some(_) => return Err(format!("`{pattern}` is not `table` or `schema.table`")),
                None => (None, pattern.to_string()),
            });
        }
        Ok(Selection { patterns })
    }

    pub fn matches(&self, schema: &str, table: &str) -> bool {
        self.patterns.is_empty()
            || self.patterns.iter().any(|(s, t)| s.as_deref().is_none_or(|s| glob(s, schema)) && glob(t, table))
    }
}

/// Whether `text` matches `pattern` (`*` any characters, `?` one).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // The classic two-pointer match, backtracking to the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_are_globs_optionally_qualified() {
        let s = Selection::parse("user?,app.*,*_log").unwrap();
        assert!(s.matches("public", "users"));
        assert!(s.matches("other", "users"));
        assert!(!s.matches("public", "user"));
        assert!(s.matches("app", "anything"));
        assert!(s.matches("public", "audit_log"));
        assert!(!s.matches("public", "audit_logs"));
        assert!(Selection::parse("a,,b").is_err());
        assert!(Selection::parse(".t").is_err());
        assert!(glob("a*b*c", "aXXbYYc") && glob("*", "") && !glob("a?", "a") && glob("**a", "ba"));
    }
    use crate::model::{Column, Index, Table};

    #[test]
    fn keeps_the_scratch_schema_only_and_renames_its_references() {
        let table = |schema: &str, name: &str| Table {
            schema: schema.into(),
            name: name.into(),
            columns: vec![Column {
                name: "id".into(),
                data_type: "bigint".into(),
                default: Some(format!("nextval('{schema}.{name}_id_seq'::regclass)")),
                ..Default::default()
            }],
            ..Default::default()
        };
        let model = Schema {
            schemas: vec!["public".into(), "shale_scratch_1_2".into()],
            tables: vec![table("public", "theirs"), table("shale_scratch_1_2", "users")],
            indexes: vec![Index {
                schema: "shale_scratch_1_2".into(),
                table: "users".into(),
                name: "users_id".into(),
                definition: "CREATE INDEX users_id ON shale_scratch_1_2.users USING btree (id)".into(),
                on_materialized_view: false,
                valid: true,
                uses: Vec::new(),
                calls: Vec::new(),
            }],
            ..Default::default()
        };
        let seen = confine(&model, "shale_scratch_1_2", "public");
        assert_eq!(seen.schemas, ["public"]);
        assert_eq!(seen.tables.len(), 1);
        assert_eq!(seen.tables[0].schema, "public");
        assert_eq!(seen.tables[0].name, "users");
        assert_eq!(seen.tables[0].columns[0].default.as_deref(), Some("nextval('public.users_id_seq'::regclass)"));
        assert_eq!(seen.indexes[0].definition, "CREATE INDEX users_id ON public.users USING btree (id)");
        // Only where the schema qualifies a name; a table named like the schema keeps its name.
        assert_eq!(replace_qualifier("data.x, a.y, (a.z)", "a.", "public."), "data.x, public.y, (public.z)");
        let mut quoted_ref = Value::String("CREATE INDEX i ON \"tenant_Big One\".items USING btree (name)".into());
        rename(&mut quoted_ref, "tenant_Big One", "public");
        assert_eq!(quoted_ref, Value::String("CREATE INDEX i ON public.items USING btree (name)".into()));
        let quoted = Schema {
            schemas: vec!["items".into(), "tenant_Big One".into()],
            tables: vec![table("items", "items"), table("tenant_Big One", "t")],
            ..Default::default()
        };
        let seen = confine(&quoted, "items", "public");
        assert_eq!((seen.tables[0].schema.as_str(), seen.tables[0].name.as_str()), ("public", "items"));
        let seen = confine(&quoted, "tenant_Big One", "public");
        assert_eq!(seen.tables[0].columns[0].default.as_deref(), Some("nextval('public.t_id_seq'::regclass)"));
        let rest = outside(&model, "shale_scratch_");
        assert_eq!(rest.schemas, ["public"]);
        assert_eq!(rest.tables.len(), 1);
        assert_eq!(rest.tables[0].name, "theirs");
        assert!(rest.indexes.is_empty());
        let without = without_table(&model, "shale_scratch_1_2", "users");
        assert_eq!(without.tables.len(), 1);
        assert_eq!(without.tables[0].name, "theirs");
        assert!(without.indexes.is_empty());
    }
}
