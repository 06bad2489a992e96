//! goose's `-- +goose ENVSUB ON`: from that annotation to `-- +goose ENVSUB OFF`, each line of SQL
//! has environment variables put into it before it runs, as goose does it (its interpolation
//! grammar, a small subset of the shell's): `$VAR` and `${VAR}` (unset: empty), `${VAR:-default}`
//! (unset or empty: the default), `${VAR-default}` (unset: the default), `${VAR?message}` (unset:
//! an error), `${VAR:offset[:length]}`; `$$` and `\$` are a `$`, `\\` stays, `$(` is left as it is.
//! A `$` followed by anything else (`$1`) is an error, as goose's.
//!
//! As with placeholders, the checksum stays that of the file as written: a value that differs from
//! one database to the next does not make the migration changed.

/// Why a line could not be expanded, at `offset` (bytes into the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvsubError {
    pub offset: usize,
    pub message: String,
}

/// The variables a line is expanded with.
pub trait Environment {
    fn get(&self, name: &str) -> Option<String>;
}

impl Environment for std::collections::BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        std::collections::BTreeMap::get(self, name).cloned()
    }
}

/// Whether `line` is goose's ENVSUB annotation: Some(true) for ON, Some(false) for OFF.
pub fn annotation(line: &str) -> Option<bool> {
    let rest = line.trim().strip_prefix("--")?.trim_start().strip_prefix("+goose")?;
    match rest.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase().as_str() {
        "envsub on" => Some(true),
        "envsub off" => Some(false),
        _ => None,
    }
}

/// `text` with the lines goose expands (from an `ENVSUB ON` line to an `ENVSUB OFF` one) expanded;
/// None where it has no such line. As goose reads the file, comment and empty lines between
/// statements are passed over (not expanded), and those inside a statement are part of it
/// (expanded). An error names its offset in `text`.
pub fn expand_file(text: &str, env: &dyn Environment) -> Result<Option<String>, EnvsubError> {
    if !text.lines().any(|l| annotation(l) == Some(true)) {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len());
    let (mut on, mut in_statement, mut in_block) = (false, false, false);
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let trimmed = body.trim();
        if let Some(state) = annotation(body) {
            on = state;
            out.push_str(line);
        } else if let Some(marker) = goose_marker(trimmed) {
            // StatementBegin opens a block that only StatementEnd ends; Up and Down start afresh.
            in_block = marker == "statementbegin";
            in_statement = false;
            out.push_str(line);
        } else if !in_statement && (trimmed.starts_with("--") || body.is_empty()) {
            out.push_str(line);
        } else {
            let expanded = match on {
                true => expand(body, env).map_err(|e| EnvsubError { offset: offset + e.offset, ..e })?,
                false => body.to_string(),
            };
            in_statement = in_block || !ends_statement(&expanded);
            out.push_str(&expanded);
            out.push_str(end);
        }
        offset += line.len();
    }
    Ok(Some(out))
}

/// goose's other annotations (`Up`, `Down`, `StatementBegin`, `StatementEnd`), lowercased.
fn goose_marker(trimmed: &str) -> Option<String> {
    let rest = trimmed.strip_prefix("--")?.trim_start().strip_prefix("+goose")?;
    let marker = rest.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
    ["up", "down", "statementbegin", "statementend"].contains(&marker.as_str()).then_some(marker)
}

/// Whether goose ends a statement after this line: its last word before a `--` comment ends with
/// `;` (goose reads it word by word, quotes or not).
fn ends_statement(line: &str) -> bool {
    line.split_whitespace().take_while(|w| !w.starts_with("--")).last().is_some_and(|w| w.ends_with(';'))
}

/// One line, expanded.
pub fn expand(line: &str, env: &dyn Environment) -> Result<String, EnvsubError> {
    let mut reader = Reader { text: line, at: 0 };
    reader.expression(None, env)
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn error(&self, message: String) -> EnvsubError {
        EnvsubError { offset: self.at, message }
    }

    /// Text and expansions up to `stop` (left unread) or the end.
    fn expression(&mut self, stop: Option<char>, env: &dyn Environment) -> Result<String, EnvsubError> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                break;
            }
            let rest = self.rest();
            if rest.starts_with("\\\\") || rest.starts_with("$(") {
                out.push_str(&rest[..2]);
                self.at += 2;
            } else if rest.starts_with("\\$") || rest.starts_with("$$") {
                out.push('$');
                self.at += 2;
            } else if c == '$' && rest.len() > 1 {
                out.push_str(&self.expansion(env)?);
            } else {
                out.push(c);
                self.at += c.len_utf8();
            }
        }
        Ok(out)
    }

    /// `$NAME` or `${NAME...}`, the reader at its `$`; an error is said at the `$`.
    fn expansion(&mut self, env: &dyn Environment) -> Result<String, EnvsubError> {
        let start = self.at;
        self.expansion_after_dollar(env).map_err(|e| EnvsubError { offset: start, ..e })
    }

    fn expansion_after_dollar(&mut self, env: &dyn Environment) -> Result<String, EnvsubError> {
        self.at += 1;
        if self.peek() != Some('{') {
            let name = self.identifier()?;
            return Ok(env.get(&name).unwrap_or_default());
        }
        self.at += 1;
        let name = self.identifier()?;
        let value = env.get(&name);
        let result = match self.peek() {
            Some('}') => value.unwrap_or_default(),
            Some(':') if self.rest().starts_with(":-") => {
                self.at += 2;
                let default = self.expression(Some('}'), env)?;
                value.filter(|v| !v.is_empty()).unwrap_or(default)
            }
            Some('-') => {
                self.at += 1;
                let default = self.expression(Some('}'), env)?;
                value.unwrap_or(default)
            }
            Some('?') => {
                self.at += 1;
                let message = self.expression(Some('}'), env)?;
                match value {
                    Some(v) => v,
                    None if message.is_empty() => return Err(self.error(format!("{name} is not set"))),
                    None => return Err(self.error(format!("{name} is not set: {message}"))),
                }
            }
            Some(':') => {
                self.at += 1;
                self.substring(&value.unwrap_or_default())?
            }
            Some(other) => return Err(self.error(format!("expected an operator after `{name}`, found `{other}`"))),
            None => return Err(self.error(format!("`${{{name}` is not closed with `}}`"))),
        };
        if self.peek() != Some('}') {
            return Err(self.error(format!("`${{{name}...` is not closed with `}}`")));
        }
        self.at += 1;
        Ok(result)
    }

    /// `offset[:length]}` of `${NAME:offset:length}`, in characters (a negative offset counts
    /// from the end), the reader after the first `:`.
    fn substring(&mut self, value: &str) -> Result<String, EnvsubError> {
        let number = |reader: &mut Self, ends: &[char]| -> Result<i64, EnvsubError> {
            let end = reader.rest().find(|c| ends.contains(&c)).unwrap_or(reader.rest().len());
            let text = reader.rest()[..end].trim().to_string();
            let parsed = text.parse::<i64>().map_err(|_| reader.error(format!("`{text}` is not a number")))?;
            reader.at += end;
            Ok(parsed)
        };
        let offset = number(self, &[':', '}'])?;
        let length = match self.peek() {
            Some(':') => {
                self.at += 1;
                Some(number(self, &['}'])?)
            }
            _ => None,
        };
        let chars: Vec<char> = value.chars().collect();
        let len = chars.len() as i64;
        let start = if offset < 0 { (len + offset).max(0) } else { offset.min(len) };
        let end = match length {
            Some(n) if n < 0 => (len + n).max(start),
            Some(n) => (start + n).min(len),
            None => len,
        };
        Ok(chars[start as usize..end as usize].iter().collect())
    }

    fn identifier(&mut self) -> Result<String, EnvsubError> {
        match self.peek() {
            Some(c) if c.is_alphabetic() => {}
            Some(c) => return Err(self.error(format!("expected a variable's name after `$`, found `{c}`"))),
            None => return Err(self.error("expected a variable's name after `$`".into())),
        }
        let end = self.rest().find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(self.rest().len());
        let name = self.rest()[..end].to_string();
        self.at += end;
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env() -> BTreeMap<String, String> {
        [("REGION", "eu-west-1"), ("EMPTY", ""), ("ROLE", "app_reader")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn variables_defaults_and_escapes() {
        let e = env();
        assert_eq!(expand("GRANT SELECT ON t TO ${ROLE};", &e).unwrap(), "GRANT SELECT ON t TO app_reader;");
        assert_eq!(expand("SELECT '$REGION'", &e).unwrap(), "SELECT 'eu-west-1'");
        assert_eq!(expand("SELECT '${UNSET}'", &e).unwrap(), "SELECT ''");
        assert_eq!(expand("'${EMPTY:-x}' '${EMPTY-x}' '${UNSET-x}'", &e).unwrap(), "'x' '' 'x'");
        assert_eq!(expand("'${UNSET:-${REGION:-none}}'", &e).unwrap(), "'eu-west-1'");
        assert_eq!(expand("'${REGION:0:2}' '${REGION:-1}' '${REGION:3}'", &e).unwrap(), "'eu' 'eu-west-1' 'west-1'");
        assert_eq!(expand(r"price $$5 and \$6, \\ and $(date)", &e).unwrap(), r"price $5 and $6, \\ and $(date)");
        assert_eq!(expand("ends with $", &e).unwrap(), "ends with $");
    }

    #[test]
    fn what_goose_refuses() {
        let e = env();
        let err = expand("SELECT $1", &e).unwrap_err();
        assert_eq!(err.offset, 7);
        assert!(err.message.contains("found `1`"), "{}", err.message);
        let err = expand("x ${UNSET?set it in the deploy}", &e).unwrap_err();
        assert_eq!(err.offset, 2);
        assert_eq!(err.message, "UNSET is not set: set it in the deploy");
        assert_eq!(expand("'${EMPTY?set it}'", &e).unwrap(), "''", "set, if empty");
        // goose reads `:?` as a substring whose offset is not a number.
        assert!(expand("${REGION:?x}", &e).is_err());
        assert!(expand("${REGION", &e).is_err());
        assert!(expand("${REGION!}", &e).is_err());
    }

    #[test]
    fn only_between_on_and_off_and_not_in_comments() {
        let text = "-- +goose Up\nSELECT '${REGION}';\n-- +goose ENVSUB ON\n-- costs $1\nSELECT '${REGION}';\n-- +goose envsub off\nSELECT '${REGION}';\n";
        let expanded = expand_file(text, &env()).unwrap().unwrap();
        assert_eq!(
            expanded,
            "-- +goose Up\nSELECT '${REGION}';\n-- +goose ENVSUB ON\n-- costs $1\nSELECT 'eu-west-1';\n-- +goose envsub off\nSELECT '${REGION}';\n"
        );
        // Inside a statement, a comment line is part of it, as goose reads it (the re-check: a
        // string spanning lines kept `${REGION}`); a block runs to its StatementEnd.
        let inside = "-- +goose Up\n-- +goose ENVSUB ON\nINSERT INTO t VALUES ('a\n-- region ${REGION}\n');\n-- +goose StatementBegin\nSELECT 1;\n-- at ${ROLE}\nSELECT 2;\n-- +goose StatementEnd\n-- after ${ROLE}\n";
        assert_eq!(
            expand_file(inside, &env()).unwrap().unwrap(),
            "-- +goose Up\n-- +goose ENVSUB ON\nINSERT INTO t VALUES ('a\n-- region eu-west-1\n');\n-- +goose StatementBegin\nSELECT 1;\n-- at app_reader\nSELECT 2;\n-- +goose StatementEnd\n-- after ${ROLE}\n"
        );
        assert_eq!(expand_file("SELECT '${REGION}';\n", &env()).unwrap(), None);
        let err = expand_file("-- +goose ENVSUB ON\nSELECT $1;\n", &env()).unwrap_err();
        assert_eq!(err.offset, 27);
    }
}
