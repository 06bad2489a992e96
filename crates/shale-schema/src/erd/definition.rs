//! The columns in the definitions the server deparses (`pg_get_constraintdef`, `pg_get_indexdef`):
//! what a key or a foreign key is made of, for the ERD. The model keeps those definitions as the
//! server writes them; their shape is fixed by PostgreSQL's deparser, and every identifier in them
//! is quoted by its `quote_identifier` (bare, or in double quotes with `""` for a quote).

use crate::model::QualifiedName;

/// What a foreign key's `ON DELETE` or `ON UPDATE` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Action {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl Action {
    /// As SQL writes it: `CASCADE`, `SET NULL`, ...
    pub fn sql(self) -> &'static str {
        match self {
            Action::NoAction => "NO ACTION",
            Action::Restrict => "RESTRICT",
            Action::Cascade => "CASCADE",
            Action::SetNull => "SET NULL",
            Action::SetDefault => "SET DEFAULT",
        }
    }

    fn after(definition: &str, clause: &str) -> Action {
        let Some(at) = definition.find(clause) else { return Action::NoAction };
        let rest = &definition[at + clause.len()..];
        [Action::Restrict, Action::Cascade, Action::SetNull, Action::SetDefault, Action::NoAction]
            .into_iter()
            .find(|a| rest.starts_with(a.sql()))
            .unwrap_or_default()
    }
}

/// A foreign key as `pg_get_constraintdef` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub target: QualifiedName,
    pub target_columns: Vec<String>,
    pub on_delete: Action,
    pub on_update: Action,
}

/// `FOREIGN KEY (a, b) REFERENCES s.t(x, y) [MATCH FULL] [ON UPDATE ...] [ON DELETE ...] ...`.
pub fn foreign_key(definition: &str) -> Option<ForeignKey> {
    let rest = definition.strip_prefix("FOREIGN KEY ")?;
    let (columns, rest) = column_list(rest)?;
    let rest = rest.trim_start().strip_prefix("REFERENCES ")?;
    let (names, rest) = identifiers(rest, '.')?;
    let [schema, name]: [String; 2] = names.try_into().ok()?;
    let (target_columns, tail) = column_list(rest)?;
    Some(ForeignKey {
        columns,
        target: QualifiedName { schema, name },
        target_columns,
        // After the column lists, so that a column named like a clause is not taken for one.
        on_delete: Action::after(tail, " ON DELETE "),
        on_update: Action::after(tail, " ON UPDATE "),
    })
}

/// The columns of `PRIMARY KEY (...)` or `UNIQUE [NULLS NOT DISTINCT] (...)`; None for other kinds.
pub fn key_columns(definition: &str) -> Option<Vec<String>> {
    let rest = definition
        .strip_prefix("PRIMARY KEY ")
        .or_else(|| definition.strip_prefix("UNIQUE NULLS NOT DISTINCT "))
        .or_else(|| definition.strip_prefix("UNIQUE "))?;
    Some(column_list(rest)?.0)
}

/// The plain columns of a unique index that is not partial, as `pg_get_indexdef` writes it
/// (`CREATE UNIQUE INDEX name ON s.t USING btree (a, b)`); None for other indexes, and for one on
/// an expression.
pub fn unique_index_columns(definition: &str) -> Option<Vec<String>> {
    if !definition.starts_with("CREATE UNIQUE INDEX ") || definition.contains(" WHERE ") {
        return None;
    }
    let at = definition.find(" USING ")?;
    let rest = &definition[at + " USING ".len()..];
    let rest = &rest[rest.find(' ')? + 1..];
    let (columns, _) = column_list(rest)?;
    Some(columns)
}

/// `(a, "B c", d)` at the start of `text` (a column may be followed by words such as `DESC`,
/// `WITHOUT OVERLAPS` or an operator class, which are skipped; one that is preceded by `PERIOD`
/// keeps its name): the names and what follows the closing parenthesis. None when a member is an
/// expression.
fn column_list(text: &str) -> Option<(Vec<String>, &str)> {
    let mut rest = text.trim_start().strip_prefix('(')?;
    let mut columns = Vec::new();
    loop {
        rest = rest.trim_start();
        rest = rest.strip_prefix("PERIOD ").unwrap_or(rest);
        let (name, after) = identifier(rest)?;
        columns.push(name);
        // Skip the words after the name, up to the next member or the end of the list.
        let mut after = after;
        loop {
            after = after.trim_start();
            if let Some(r) = after.strip_prefix(',') {
                rest = r;
                break;
            }
            if let Some(r) = after.strip_prefix(')') {
                return Some((columns, r));
            }
            if after.starts_with('(') || after.is_empty() {
                return None;
            }
            let (_, r) = identifier(after)?;
            after = r;
        }
    }
}

/// Identifiers joined by `separator` (`schema.table`), and what follows them.
fn identifiers(text: &str, separator: char) -> Option<(Vec<String>, &str)> {
    let mut names = Vec::new();
    let mut rest = text;
    loop {
        let (name, after) = identifier(rest)?;
        names.push(name);
        match after.strip_prefix(separator) {
            Some(r) => rest = r,
            None => return Some((names, after)),
        }
    }
}

/// One identifier at the start of `text`, unquoted, and what follows it.
fn identifier(text: &str) -> Option<(String, &str)> {
    if let Some(quoted) = text.strip_prefix('"') {
        let mut name = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '"' {
                name.push(c);
            } else if quoted[i + 1..].starts_with('"') {
                name.push('"');
                chars.next();
            } else {
                return Some((name, &quoted[i + 1..]));
            }
        }
        return None;
    }
    let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).unwrap_or(text.len());
    (end > 0).then(|| (text[..end].to_string(), &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn foreign_keys_as_the_server_writes_them() {
        let fk = foreign_key("FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE").unwrap();
        assert_eq!(fk.columns, names(&["user_id"]));
        assert_eq!(fk.target, QualifiedName { schema: "public".into(), name: "users".into() });
        assert_eq!(fk.target_columns, names(&["id"]));
        assert_eq!((fk.on_delete, fk.on_update), (Action::Cascade, Action::NoAction));

        let fk = foreign_key(
            r#"FOREIGN KEY (tenant, "Owner ""Id""") REFERENCES "App"."my table"(tenant, id) MATCH FULL ON UPDATE RESTRICT ON DELETE SET NULL (tenant) DEFERRABLE INITIALLY DEFERRED NOT VALID"#,
        )
        .unwrap();
        assert_eq!(fk.columns, names(&["tenant", "Owner \"Id\""]));
        assert_eq!(fk.target, QualifiedName { schema: "App".into(), name: "my table".into() });
        assert_eq!(fk.target_columns, names(&["tenant", "id"]));
        assert_eq!((fk.on_delete, fk.on_update), (Action::SetNull, Action::Restrict));

        // A column whose name reads like a clause is a column, not the clause.
        let fk = foreign_key(r#"FOREIGN KEY (" ON DELETE CASCADE") REFERENCES public.t(id)"#).unwrap();
        assert_eq!(fk.on_delete, Action::NoAction);
        // Temporal foreign keys (PostgreSQL 18).
        let fk = foreign_key("FOREIGN KEY (id, PERIOD valid) REFERENCES public.t(id, PERIOD valid)").unwrap();
        assert_eq!(fk.columns, names(&["id", "valid"]));
        assert_eq!(foreign_key("CHECK ((a > 0))"), None);
    }

    #[test]
    fn keys_and_unique_indexes() {
        assert_eq!(key_columns("PRIMARY KEY (id, at)"), Some(names(&["id", "at"])));
        assert_eq!(key_columns("PRIMARY KEY (id) INCLUDE (b) DEFERRABLE"), Some(names(&["id"])));
        assert_eq!(key_columns("PRIMARY KEY (id, valid WITHOUT OVERLAPS)"), Some(names(&["id", "valid"])));
        assert_eq!(key_columns("UNIQUE (email)"), Some(names(&["email"])));
        assert_eq!(key_columns(r#"UNIQUE NULLS NOT DISTINCT ("E-mail")"#), Some(names(&["E-mail"])));
        assert_eq!(key_columns("CHECK ((a > 0))"), None);
        assert_eq!(key_columns("EXCLUDE USING gist (r WITH &&)"), None);

        assert_eq!(
            unique_index_columns("CREATE UNIQUE INDEX u ON public.users USING btree (lower_email, tenant DESC)"),
            Some(names(&["lower_email", "tenant"]))
        );
        assert_eq!(
            unique_index_columns("CREATE UNIQUE INDEX u ON public.users USING btree (email text_pattern_ops)"),
            Some(names(&["email"]))
        );
        assert_eq!(unique_index_columns("CREATE UNIQUE INDEX u ON public.users USING btree (lower(email))"), None);
        assert_eq!(unique_index_columns("CREATE UNIQUE INDEX u ON public.users USING btree (a) WHERE (b)"), None);
        assert_eq!(unique_index_columns("CREATE INDEX i ON public.users USING btree (a)"), None);
    }
}
