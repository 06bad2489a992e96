//! Flyway's placeholders: `${name}` in a Flyway migration (`V`, `U`, `R` files) is replaced by the
//! value configured for `name` before the file is split and run, as Flyway replaces the values of
//! `flyway.placeholders.name`. As Flyway's, a versioned migration's checksum stays that of the file
//! as written (a value that differs between databases does not make it changed), and a repeatable's
//! is of the text that runs (a changed value runs it again).

use std::collections::BTreeMap;

/// The values of the placeholders, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placeholders {
    values: BTreeMap<String, String>,
    /// The variables goose's `ENVSUB ON` puts into the SQL (see [`crate::envsub`]): the
    /// process's environment, as goose reads it, where the caller gives it.
    environment: std::sync::Arc<BTreeMap<String, String>>,
}

/// Flyway's placeholder for the name of the file it fills.
const FILENAME: &str = "flyway:filename";

/// What Flyway fills one of its own placeholders with, for a message asking for its value.
pub fn flyway_fills(name: &str) -> Option<&'static str> {
    Some(match name.strip_prefix("flyway:")? {
        "user" => "the user it connects as",
        "database" => "the database's name",
        "defaultSchema" => "the first of flyway.schemas, else the connection's schema",
        "timestamp" => "the time of the run",
        "table" => "its history table's name",
        "workingDirectory" => "its working directory",
        "filename" => "the file's name",
        _ => "a value of its own",
    })
}

/// A `${name}` that has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// Where `${` starts, in bytes.
    pub offset: usize,
    pub name: String,
}

impl Placeholders {
    pub fn new(values: impl IntoIterator<Item = (String, String)>) -> Placeholders {
        Placeholders { values: values.into_iter().collect(), environment: Default::default() }
    }

    /// These values, with `environment` the variables goose's `-- +goose ENVSUB ON` reads.
    pub fn with_environment(self, environment: impl IntoIterator<Item = (String, String)>) -> Placeholders {
        Placeholders { environment: std::sync::Arc::new(environment.into_iter().collect()), ..self }
    }

    /// The variables goose's `-- +goose ENVSUB ON` reads.
    pub fn environment(&self) -> &BTreeMap<String, String> {
        &self.environment
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// These values, and `defaults` for the names they give none (Liquibase: the values given
    /// from outside win over the properties its changelogs define).
    pub fn with_defaults(&self, defaults: impl IntoIterator<Item = (String, String)>) -> Placeholders {
        let mut values = self.values.clone();
        for (name, value) in defaults {
            values.entry(name).or_insert(value);
        }
        Placeholders { values, environment: self.environment.clone() }
    }

    /// These values, with `${flyway:filename}` the name of the file being filled (Flyway fills it
    /// in itself), unless it was given one.
    pub fn for_file(&self, file_name: &str) -> std::borrow::Cow<'_, Placeholders> {
        if self.values.contains_key(FILENAME) {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut values = self.values.clone();
        values.insert(FILENAME.to_string(), file_name.to_string());
        std::borrow::Cow::Owned(Placeholders { values, environment: self.environment.clone() })
    }

    /// The value of `name`: given under that name, else under the same name in other case (Flyway's
    /// `FLYWAY_PLACEHOLDERS_IGNOREIFPROD` and Spring's `SPRING_FLYWAY_PLACEHOLDERS_IGNOREIFPROD`
    /// give `ignoreifprod`, for `${ignoreIfProd}`).
    /// The value of placeholder `name` (its case as Liquibase and Flyway match it: any).
    pub fn value(&self, name: &str) -> Option<&String> {
        self.values.get(name).or_else(|| self.values.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
    }

    /// `text` with every placeholder replaced by its value, or `None` when it has none. Any without
    /// a value is an error, each such name where it first stands: Flyway's own too
    /// (`${flyway:user}`, `${flyway:defaultSchema}`, ...), which Flyway fills from its connection
    /// and shale cannot know (left in, they would run as text).
    pub fn replace(&self, text: &str) -> Result<Option<String>, Vec<Unknown>> {
        self.replace_keeping(text, |_| false)
    }

    /// [`Placeholders::replace`], leaving as it stands (no error) a placeholder without a value
    /// where `kept` says so of its offset (in a comment of a Liquibase changeset, which Liquibase
    /// leaves as it is).
    pub fn replace_keeping(&self, text: &str, kept: impl Fn(usize) -> bool) -> Result<Option<String>, Vec<Unknown>> {
        if !text.contains("${") {
            return Ok(None);
        }
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        let mut changed = false;
        let mut from = 0;
        let mut unknown: Vec<Unknown> = Vec::new();
        while let Some(found) = text[from..].find("${") {
            let start = from + found;
            let Some(name) = placeholder_at(&text[start..]) else {
                from = start + 2;
                continue;
            };
            let end = start + name.len() + 3;
            match self.value(name) {
                Some(value) => {
                    out.push_str(&text[done..start]);
                    out.push_str(value);
                    done = end;
                    changed = true;
                }
                None if kept(start) || unknown.iter().any(|u| u.name == name) => {}
                None => unknown.push(Unknown { offset: start, name: name.to_string() }),
            }
            from = end;
        }
        if !unknown.is_empty() {
            return Err(unknown);
        }
        if !changed {
            return Ok(None);
        }
        out.push_str(&text[done..]);
        Ok(Some(out))
    }

    /// The placeholders in `text` that have a value here (those [`Placeholders::replace`]
    /// replaces), each name once, in the order they first stand.
    pub fn names_in<'t>(&self, text: &'t str) -> Vec<&'t str> {
        let mut names: Vec<&str> = Vec::new();
        let mut from = 0;
        while let Some(found) = text[from..].find("${") {
            let start = from + found;
            match placeholder_at(&text[start..]) {
                Some(name) => {
                    if self.value(name).is_some() && !names.contains(&name) {
                        names.push(name);
                    }
                    from = start + name.len() + 3;
                }
                None => from = start + 2,
            }
        }
        names
    }
}

impl Placeholders {
    /// graphile-migrate's placeholders in one of its committed files: `:NAME` (capitals, digits
    /// and `_`) replaced by the value of `NAME` (or `:NAME`) wherever it stands, as graphile-migrate
    /// replaces the keys of its `.gmrc` `placeholders`. One with no value, outside strings and
    /// comments and not a `::` cast, is an error at its place (named `:NAME`): graphile-migrate
    /// would have filled it from its settings, and left in it is a syntax error.
    pub fn replace_graphile(&self, text: &str) -> Result<Option<String>, Vec<Unknown>> {
        if !text.contains(':') {
            return Ok(None);
        }
        let value_of = |name: &str| self.values.get(name).or_else(|| self.values.get(&format!(":{name}")));
        let mut unknown: Vec<Unknown> = Vec::new();
        let toks = crate::tokens::tokens(text);
        for (i, (token, range)) in toks.iter().enumerate() {
            let crate::tokens::Token::Punct(':') = token else { continue };
            let Some((crate::tokens::Token::Word(_), word)) = toks.get(i + 1) else { continue };
            let cast = i > 0 && toks[i - 1].0 == crate::tokens::Token::Punct(':') && toks[i - 1].1.end == range.start;
            let name = &text[word.clone()];
            if word.start != range.end || cast || !graphile_name(name) || value_of(name).is_some() {
                continue;
            }
            if !unknown.iter().any(|u| u.name[1..] == *name) {
                unknown.push(Unknown { offset: range.start, name: format!(":{name}") });
            }
        }
        if !unknown.is_empty() {
            return Err(unknown);
        }
        // Replaced as graphile-migrate replaces them: everywhere, a name ending at a word boundary.
        let mut out = String::with_capacity(text.len());
        let (mut done, mut from, mut changed) = (0, 0, false);
        while let Some(found) = text[from..].find(':') {
            let start = from + found;
            let end = start
                + 1
                + text[start + 1..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(text.len() - start - 1);
            let name = &text[start + 1..end];
            // The name runs to the first character that cannot be in one: a word's end.
            if let Some(value) = value_of(name).filter(|_| graphile_name(name)) {
                out.push_str(&text[done..start]);
                out.push_str(value);
                done = end;
                changed = true;
            }
            from = end.max(start + 1);
        }
        if !changed {
            return Ok(None);
        }
        out.push_str(&text[done..]);
        Ok(Some(out))
    }
}

/// A graphile-migrate placeholder's name after its `:`: a capital, then capitals, digits and `_`.
fn graphile_name(name: &str) -> bool {
    name.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The name of the placeholder `text` starts with (`${name}`): letters, digits and `_ . : -`.
fn placeholder_at(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("${")?;
    let end = rest.find('}')?;
    let name = &rest[..end];
    let fits =
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'));
    fits.then_some(name)
}

#[cfg(test)]
mod tests {
    /// graphile-migrate's `:NAME`: replaced by `NAME`'s (or `:NAME`'s) value wherever it stands,
    /// one without a value an error where it first stands outside strings, casts left alone.
    #[test]
    fn graphile_placeholders() {
        let values = Placeholders::new([
            ("DATABASE_VISITOR".to_string(), "app_visitor".to_string()),
            (":DATABASE_OWNER".to_string(), "app_owner".to_string()),
        ]);
        let text = "grant usage on schema app to :DATABASE_VISITOR, :DATABASE_OWNER;\nselect '12:00'::TIME, to_char(now(), 'HH24:MI:SS'), 1::INT;\ncomment on schema app is 'for :DATABASE_VISITOR';\n";
        let replaced = values.replace_graphile(text).unwrap().unwrap();
        assert!(replaced.starts_with("grant usage on schema app to app_visitor, app_owner;"), "{replaced}");
        assert!(replaced.contains("'12:00'::TIME, to_char(now(), 'HH24:MI:SS'), 1::INT"), "{replaced}");
        assert!(replaced.contains("'for app_visitor'"), "as graphile-migrate, in strings too: {replaced}");
        assert_eq!(values.replace_graphile("select 1::INT, 'A:B';").unwrap(), None);
        let unknown = Placeholders::default()
            .replace_graphile("grant x to :DATABASE_VISITOR;\n-- :NOT_THIS\nselect :DATABASE_VISITOR;")
            .unwrap_err();
        assert_eq!(unknown.len(), 1);
        assert_eq!((unknown[0].offset, unknown[0].name.as_str()), (11, ":DATABASE_VISITOR"));
    }

    use super::*;

    fn values() -> Placeholders {
        Placeholders::new([("schema".to_string(), "app".to_string()), ("role".to_string(), "reader".to_string())])
    }

    #[test]
    fn each_placeholder_is_replaced_by_its_value() {
        let text = "CREATE TABLE ${schema}.a (id int);\nGRANT SELECT ON ${schema}.a TO ${role};\n";
        assert_eq!(
            values().replace(text).unwrap().as_deref(),
            Some("CREATE TABLE app.a (id int);\nGRANT SELECT ON app.a TO reader;\n")
        );
        assert_eq!(values().replace("select 1;").unwrap(), None);
    }

    #[test]
    fn flyway_s_own_need_a_value_and_other_text_is_not_a_placeholder() {
        assert_eq!(Placeholders::default().replace("SELECT '${ not one }', '${}', '$${x', 'a${'").unwrap(), None);
        let text = "SET search_path = ${flyway:defaultSchema};";
        let unknown = Placeholders::default().replace(text).unwrap_err();
        assert_eq!((unknown[0].name.as_str(), unknown[0].offset), ("flyway:defaultSchema", 18));
        // The file's name Flyway fills in, shale does too.
        let named = Placeholders::default();
        let named = named.for_file("V3__audit.sql");
        assert_eq!(named.replace("-- ${flyway:filename}").unwrap().as_deref(), Some("-- V3__audit.sql"));
        let given = Placeholders::new([("flyway:defaultSchema".to_string(), "app".to_string())]);
        assert_eq!(
            given.replace("SET search_path = ${flyway:defaultSchema};").unwrap().as_deref(),
            Some("SET search_path = app;")
        );
    }

    #[test]
    fn the_names_with_a_value_are_listed_once() {
        let text = "GRANT SELECT ON ${schema}.a TO ${role}; -- ${schema} ${other} ${flyway:user}";
        assert_eq!(values().names_in(text), ["schema", "role"]);
        assert!(Placeholders::default().names_in(text).is_empty());
    }

    #[test]
    fn one_without_a_value_is_named_with_its_place() {
        let unknown = values()
            .replace("CREATE TABLE ${schema}.a ();\nGRANT ALL ON a TO ${writer};\n-- ${writer} ${x}")
            .unwrap_err();
        assert_eq!(
            unknown,
            [Unknown { offset: 47, name: "writer".into() }, Unknown { offset: 71, name: "x".into() }],
            "each name once, where it first stands"
        );
    }
}
