//! The targets of a fleet: a targets file (with `${VAR}` expansion), a query on a control
//! database, or the schemas matching a pattern in one database.

use std::collections::BTreeMap;
use std::path::Path;

use shale_pg::sql::quote_literal;
use shale_pg::tokio_postgres::SimpleQueryMessage;
use shale_pg::{connect, ConnectionSettings, PgError, SessionSettings};

use crate::{Error, MigratorConfig};

/// One database, or one schema in a database, to migrate.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub connection: ConnectionSettings,
    /// Schema per tenant: the history table lives in this schema and migrations run with
    /// `search_path` set to it.
    pub schema: Option<String>,
}

impl Target {
    /// Where the target is, safe to show (the password redacted).
    pub fn location(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{} schema {schema}", self.connection.redacted()),
            None => self.connection.redacted(),
        }
    }

    /// The migrator settings for this target, starting from `template`.
    pub fn config(&self, template: &MigratorConfig) -> MigratorConfig {
        let mut config = template.clone();
        config.connection = self.connection.clone();
        // A fleet's targets keep a history each, a database's beside its tenant schemas' (one
        // targets query may list both): another schema's is another target's.
        config.history_per_schema = true;
        if let Some(schema) = &self.schema {
            config.history.schema = schema.clone();
            config.session.search_path = Some(schema.clone());
        }
        config
    }

    /// Targets on the same server share its connection limit.
    pub(crate) fn server_key(&self) -> (Vec<String>, Vec<u16>) {
        // No port means 5432, so that `host` and `host:5432` count as the same server.
        let ports = if self.connection.ports.is_empty() { vec![5432] } else { self.connection.ports.clone() };
        (self.connection.effective_hosts(), ports)
    }
}

/// Lookup of environment variables (the CLI passes the environment with .env as a fallback).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Read a targets file. See [`parse_targets_file`].
pub fn read_targets_file(path: &Path, env: Env<'_>) -> Result<Vec<Target>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Invalid(format!("cannot read the targets file {}: {e}", path.display())))?;
    parse_targets_file(path, &text, env)
}

/// A targets file, in name order:
///
/// ```toml
/// [targets]
/// eu1 = "postgres://app:${EU1_PASSWORD}@db-eu1/app"
/// acme = { url = "postgres://app@db-us1/app", schema = "tenant_acme" }
/// us2 = { url = "postgres://app@db-us2/app", password_env = "US2_PASSWORD" }
/// ```
///
/// `${NAME}` in a URL is replaced by that environment variable; PG* variables and the password
/// file fill in what a URL leaves out, as for a single database. Problems name file:line:col.
pub fn parse_targets_file(path: &Path, text: &str, env: Env<'_>) -> Result<Vec<Target>, Error> {
    let at = |span: Option<std::ops::Range<usize>>| {
        let (line, col) =
            span.map(|s| shale_core::LineIndex::new(text).line_col(text, s.start.min(text.len()))).unwrap_or((1, 1));
        format!("{}:{line}:{col}", path.display())
    };
    let table: BTreeMap<String, toml::Spanned<toml::Value>> =
        toml::from_str(text).map_err(|e| Error::Invalid(format!("{}: {}", at(e.span()), e.message().trim())))?;
    let usage = "write `[targets]` with one `NAME = \"postgres://...\"` or `NAME = { url = \"...\", schema = \"...\" }` per target";
    if let Some((key, value)) = table.iter().find(|(k, _)| k.as_str() != "targets") {
        return Err(Error::Invalid(format!("{}: unknown key `{key}`; {usage}", at(Some(value.span())))));
    }
    let Some(targets) = table.get("targets") else {
        return Err(Error::Invalid(format!("{}: no `[targets]` table; {usage}", path.display())));
    };
    let Some(entries) = targets.get_ref().as_table() else {
        return Err(Error::Invalid(format!("{}: `targets` must be a table; {usage}", at(Some(targets.span())))));
    };
    // Spans of the entries: toml::Value keeps none, so read them once more as spanned values.
    #[derive(serde::Deserialize)]
    struct Spans {
        targets: BTreeMap<String, toml::Spanned<toml::Value>>,
    }
    let spans: Spans =
        toml::from_str(text).map_err(|e| Error::Invalid(format!("{}: {}", at(e.span()), e.message())))?;
    let mut out = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        let where_ = at(spans.targets.get(name).map(|s| s.span()));
        let bad = |what: String| Error::Invalid(format!("{where_}: target `{name}`: {what}"));
        let (url, schema, password_env) = match value {
            toml::Value::String(url) => (url.clone(), None, None),
            toml::Value::Table(t) => {
                if let Some(key) = t.keys().find(|k| !["url", "schema", "password_env"].contains(&k.as_str())) {
                    return Err(bad(format!("unknown key `{key}` (known: url, schema, password_env)")));
                }
                let text = |key: &str| -> Result<Option<String>, Error> {
                    match t.get(key) {
                        None => Ok(None),
                        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                        Some(_) => Err(bad(format!("`{key}` must be a string"))),
                    }
                };
                let Some(url) = text("url")? else {
                    return Err(bad("needs `url = \"postgres://...\"`".into()));
                };
                (url, text("schema")?, text("password_env")?)
            }
            _ => return Err(bad(format!("expected a URL string or a table; {usage}"))),
        };
        let url = expand_env(&url, env).map_err(bad)?;
        let mut connection = ConnectionSettings::parse(&url).map_err(|e| bad(e.to_string()))?;
        if let Some(var) = password_env {
            let password = env(&var)
                .ok_or_else(|| bad(format!("password_env names {var}, which is not set in the environment")))?;
            connection.password = Some(password);
        }
        connection.fill_from_env(env).map_err(|e| bad(e.to_string()))?;
        if schema.as_deref() == Some("") {
            return Err(bad("`schema` is empty".into()));
        }
        out.push(Target { name: name.clone(), connection, schema });
    }
    if out.is_empty() {
        return Err(Error::Invalid(format!("{}: `[targets]` is empty; {usage}", path.display())));
    }
    Ok(out)
}

/// What a variable's value is percent-encoded with: everything but RFC 3986's unreserved
/// characters, so that a password holding `@`, `/`, `:` or `%` stays a password (and so stays
/// redacted) instead of spilling into the host or the database name.
const URL_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Replace `${NAME}` with the variable's value (percent-encoded inside the URL's user and
/// password); an unset variable is an error naming it (never the text around it, which may hold
/// a password).
pub fn expand_env(text: &str, env: Env<'_>) -> Result<String, String> {
    // The user-and-password part of the template: after `scheme://`, before its `@`.
    let userinfo = text.find("://").and_then(|at| {
        let from = at + 3;
        text[from..].find('@').map(|end| from..from + end)
    });
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let in_userinfo = userinfo.as_ref().is_some_and(|r| r.contains(&(text.len() - rest.len() + start)));
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("`${` without a closing `}` in the URL".into());
        };
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`${{{name}}}` is not a variable name (letters, digits and _)"));
        }
        let value = env(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
        if in_userinfo {
            out.extend(percent_encoding::utf8_percent_encode(&value, URL_VALUE));
        } else {
            out.push_str(&value);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The context of a [`PgError::Query`] from the targets query.
pub const TARGETS_QUERY: &str = "running the targets query";
/// The context of a [`PgError::Query`] from listing the schemas for [`schema_targets`].
pub const SCHEMAS_QUERY: &str = "listing the schemas";

/// Targets from a query on a control database: a `url` column, and optionally `name` and
/// `schema`. Without a name, a target is named by its location (password redacted).
pub async fn targets_from_query(
    control: &ConnectionSettings,
    session: &SessionSettings,
    sql: &str,
    env: Env<'_>,
) -> Result<Vec<Target>, Error> {
    let client = connect(control, session).await?;
    let messages = client.simple_query(sql).await.map_err(|e| PgError::query(TARGETS_QUERY, e))?;
    let mut out = Vec::new();
    let mut columns: Option<(usize, Option<usize>, Option<usize>)> = None;
    for message in &messages {
        let row = match message {
            SimpleQueryMessage::Row(row) => row,
            _ => continue,
        };
        let (url_at, name_at, schema_at) = match columns {
            Some(c) => c,
            None => {
                let names: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
                let find = |n: &str| names.iter().position(|c| *c == n);
                let Some(url_at) = find("url") else {
                    return Err(Error::Invalid(format!(
                        "the targets query must return a column named `url` (and optionally `name` and `schema`); it returned: {}",
                        names.join(", ")
                    )));
                };
                *columns.insert((url_at, find("name"), find("schema")))
            }
        };
        let number = out.len() + 1;
        let Some(url) = row.get(url_at) else {
            return Err(Error::Invalid(format!("the targets query's row {number} has a NULL url")));
        };
        let mut connection = ConnectionSettings::parse(url)
            .map_err(|e| Error::Invalid(format!("the targets query's row {number}: {e}")))?;
        connection.fill_from_env(env)?;
        let schema = schema_at.and_then(|i| row.get(i)).filter(|s| !s.is_empty()).map(str::to_string);
        let mut target = Target { name: String::new(), connection, schema };
        target.name = match name_at.and_then(|i| row.get(i)) {
            Some(name) => name.to_string(),
            None => target.location(),
        };
        out.push(target);
    }
    Ok(out)
}

/// The `LIKE` pattern for a schema glob: `*` (or `%`) is any run of characters, `?` one
/// character; everything else, `_` included, stands for itself.
pub fn schema_like_pattern(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len() + 4);
    for c in glob.chars() {
        match c {
            '*' | '%' => out.push('%'),
            '?' => out.push('_'),
            '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Every schema of one database matching `glob` (see [`schema_like_pattern`]), system schemas
/// left out, in name order. Each is a target named by its schema.
pub async fn schema_targets(
    connection: &ConnectionSettings,
    session: &SessionSettings,
    glob: &str,
) -> Result<Vec<Target>, Error> {
    let client = connect(connection, session).await?;
    let sql = format!(
        "SELECT nspname FROM pg_catalog.pg_namespace
         WHERE nspname LIKE {} ESCAPE {} AND nspname !~ '^pg_' AND nspname <> 'information_schema'
         ORDER BY nspname COLLATE \"C\"",
        quote_literal(&schema_like_pattern(glob)),
        quote_literal("\\")
    );
    let messages = client.simple_query(&sql).await.map_err(|e| PgError::query(SCHEMAS_QUERY, e))?;
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        })
        .map(|schema| Target { name: schema.clone(), connection: connection.clone(), schema: Some(schema) })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(key: &str) -> Option<String> {
        match key {
            "EU_PASSWORD" => Some("s3cret".into()),
            _ => None,
        }
    }

    #[test]
    fn a_server_is_the_same_with_or_without_its_default_port() {
        let target =
            |url: &str| Target { name: url.into(), connection: ConnectionSettings::parse(url).unwrap(), schema: None };
        assert_eq!(target("postgres://u@db1/a").server_key(), target("postgres://u@db1:5432/b").server_key());
        assert_ne!(target("postgres://u@db1/a").server_key(), target("postgres://u@db1:5433/a").server_key());
    }

    #[test]
    fn globs_become_like_patterns() {
        assert_eq!(schema_like_pattern("tenant_*"), "tenant\\_%");
        assert_eq!(schema_like_pattern("tenant_%"), "tenant\\_%");
        assert_eq!(schema_like_pattern("t?_a\\b"), "t_\\_a\\\\b");
    }

    #[test]
    fn env_expansion() {
        assert_eq!(expand_env("postgres://u:${EU_PASSWORD}@h/db", &env).unwrap(), "postgres://u:s3cret@h/db");
        assert_eq!(expand_env("no variables $HOME", &env).unwrap(), "no variables $HOME");
        // A password with URL syntax in it stays the password (and so stays redacted).
        let tricky = |name: &str| (name == "PW").then(|| "Xy@zz/SECRET%1".to_string());
        let url = expand_env("postgres://app:${PW}@127.0.0.1:5432/db", &tricky).unwrap();
        assert_eq!(url, "postgres://app:Xy%40zz%2FSECRET%251@127.0.0.1:5432/db");
        let settings = shale_pg::ConnectionSettings::parse(&url).unwrap();
        assert_eq!(settings.password.as_deref(), Some("Xy@zz/SECRET%1"));
        assert!(!settings.redacted().contains("SECRET"), "{}", settings.redacted());
        let unset = expand_env("postgres://u:${NOPE}@h/db", &env).unwrap_err();
        assert!(unset.contains("NOPE") && !unset.contains("postgres://"), "{unset}");
        assert!(expand_env("${EU_PASSWORD", &env).is_err());
        assert!(expand_env("${a b}", &env).is_err());
    }

    #[test]
    fn targets_file_forms_and_errors() {
        let text = "[targets]\n\
                    eu = \"postgres://app:${EU_PASSWORD}@eu.invalid:5433/app\"\n\
                    acme = { url = \"postgres://app@us.invalid/app\", schema = \"tenant_acme\" }\n\
                    us2 = { url = \"postgres://app@us2.invalid/app\", password_env = \"EU_PASSWORD\" }\n";
        let targets = parse_targets_file(Path::new("t.toml"), text, &env).unwrap();
        assert_eq!(targets.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["acme", "eu", "us2"]);
        assert_eq!(targets[2].connection.password.as_deref(), Some("s3cret"));
        assert_eq!(targets[0].schema.as_deref(), Some("tenant_acme"));
        assert_eq!(targets[1].connection.password.as_deref(), Some("s3cret"));
        assert_eq!(targets[1].connection.ports, [5433]);
        assert!(!targets[1].location().contains("s3cret"));

        let err = |text: &str| parse_targets_file(Path::new("t.toml"), text, &env).unwrap_err().to_string();
        let e = err("[targets]\nok = \"postgres://a@h/db\"\nbad = { url = \"postgres://a@h/db\", shema = \"x\" }\n");
        assert!(e.starts_with("t.toml:3:") && e.contains("shema"), "{e}");
        let e = err("[targets]\nx = \"postgres://a:${MISSING}@h/db\"\n");
        assert!(e.starts_with("t.toml:2:") && e.contains("MISSING"), "{e}");
        let e = err("[targets]\nx = { url = \"postgres://a@h/db\", password_env = \"NOPE\" }\n");
        assert!(e.starts_with("t.toml:2:") && e.contains("NOPE"), "{e}");
        let e = err("[targets\n");
        assert!(e.starts_with("t.toml:1:"), "{e}");
        assert!(err("[other]\n").contains("unknown key `other`"));
        assert!(err("[targets]\n").contains("empty"));
        assert!(err("[targets]\nx = 3\n").contains("t.toml:2:"));
    }
}
