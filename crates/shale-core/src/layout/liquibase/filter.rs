//! Liquibase's contexts and labels: which changesets a run selects.
//!
//! A changeset's `context` is an expression over the contexts the run is given (`--contexts`);
//! a run's label filter is an expression over a changeset's `labels`. Both read alike: names,
//! `!` or `not`, `and`, `or` (a comma is `or`), parentheses, all in any case (Liquibase reads the
//! expressions in lower case). Without
//! contexts every changeset runs, and without a label filter too, as Liquibase runs them; an
//! `include` adds its own `context` and `labels` to every changeset it brings in, which must all
//! match.

/// The contexts and the label filter a run is given: which Liquibase changesets it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiquibaseSelection {
    /// The run's contexts, lower-case; none selects every changeset.
    contexts: Vec<String>,
    /// The run's label filter; none selects every changeset.
    label_filter: Option<String>,
}

/// A context or label expression that does not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadExpression {
    pub expression: String,
    pub why: &'static str,
}

impl std::fmt::Display for BadExpression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` is not a Liquibase expression: {}", self.expression, self.why)
    }
}

impl LiquibaseSelection {
    /// `contexts` as Liquibase's `--contexts` takes them (`prod, eu`), and a label filter as its
    /// `--label-filter` does (`!slow and (v2 or v3)`).
    pub fn new(contexts: Option<&str>, label_filter: Option<&str>) -> Result<LiquibaseSelection, BadExpression> {
        let contexts: Vec<String> = contexts
            .unwrap_or_default()
            .split(',')
            .map(|c| c.trim().trim_start_matches('@').to_lowercase())
            .filter(|c| !c.is_empty())
            .collect();
        let label_filter = label_filter.map(str::trim).filter(|f| !f.is_empty()).map(str::to_string);
        if let Some(filter) = &label_filter {
            evaluate(filter, &[])?;
        }
        Ok(LiquibaseSelection { contexts, label_filter })
    }

    pub fn is_empty(&self) -> bool {
        self.contexts.is_empty() && self.label_filter.is_none()
    }

    /// The contexts given, lower-case.
    pub fn contexts(&self) -> &[String] {
        &self.contexts
    }

    /// Why a changeset of these `contexts` expressions and `labels` lists (its own, and its
    /// includes') is not run, if it is not.
    pub(in crate::layout) fn leaves_out(
        &self,
        contexts: &[String],
        labels: &[String],
    ) -> Result<Option<String>, BadExpression> {
        if !self.contexts.is_empty() {
            for expression in contexts {
                if !evaluate(expression, &self.contexts)? {
                    let given = self.contexts.join(", ");
                    return Ok(Some(format!(
                        "is for context `{expression}`, which the contexts given ({given}) leave out"
                    )));
                }
            }
        }
        if let Some(filter) = &self.label_filter {
            for list in labels {
                let items: Vec<String> =
                    list.split(',').map(|l| l.trim().to_lowercase()).filter(|l| !l.is_empty()).collect();
                if !items.is_empty() && !evaluate(filter, &items)? {
                    return Ok(Some(format!("has labels `{list}`, which the label filter `{filter}` leaves out")));
                }
            }
        }
        Ok(None)
    }
}

/// The names an expression uses, lower-case.
pub(in crate::layout) fn names(expression: &str) -> impl Iterator<Item = String> {
    tokens(expression).into_iter().filter_map(|t| match t {
        Token::Name(name) => Some(name),
        _ => None,
    })
}

/// Whether `expression` holds for `items` (lower-case).
pub(in crate::layout) fn evaluate(expression: &str, items: &[String]) -> Result<bool, BadExpression> {
    let bad = |why| BadExpression { expression: expression.to_string(), why };
    let tokens = tokens(expression);
    if tokens.is_empty() {
        return Ok(true);
    }
    let mut reader = Reader { tokens: &tokens, at: 0, items };
    let value = reader.any().map_err(bad)?;
    match tokens.get(reader.at) {
        None => Ok(value),
        Some(Token::Close) => Err(bad("a `)` closes nothing")),
        Some(_) => Err(bad("two names stand with no `and`, `or` or comma between them")),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Or,
    And,
    Not,
    Name(String),
}

fn tokens(expression: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut word = String::new();
    let end_word = |word: &mut String, out: &mut Vec<Token>| {
        if word.is_empty() {
            return;
        }
        out.push(match word.to_lowercase().as_str() {
            "and" => Token::And,
            "or" => Token::Or,
            "not" => Token::Not,
            // `@name`: Liquibase's mark that the name must be given; it matches as the name.
            name => Token::Name(name.trim_start_matches('@').to_lowercase()),
        });
        word.clear();
    };
    for c in expression.chars() {
        let single = match c {
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            ',' => Some(Token::Or),
            '!' if word.is_empty() => Some(Token::Not),
            c if c.is_whitespace() => None,
            c => {
                word.push(c);
                continue;
            }
        };
        end_word(&mut word, &mut out);
        out.extend(single);
    }
    end_word(&mut word, &mut out);
    out
}

/// `or` binds loosest, then `and`, then `not`, as Liquibase reads them.
struct Reader<'a> {
    tokens: &'a [Token],
    at: usize,
    items: &'a [String],
}

impl Reader<'_> {
    fn any(&mut self) -> Result<bool, &'static str> {
        let mut value = self.all()?;
        while self.tokens.get(self.at) == Some(&Token::Or) {
            self.at += 1;
            value |= self.all()?;
        }
        Ok(value)
    }

    fn all(&mut self) -> Result<bool, &'static str> {
        let mut value = self.one()?;
        while self.tokens.get(self.at) == Some(&Token::And) {
            self.at += 1;
            value &= self.one()?;
        }
        Ok(value)
    }

    fn one(&mut self) -> Result<bool, &'static str> {
        let token = self.tokens.get(self.at).ok_or("it ends where a name is expected")?;
        self.at += 1;
        match token {
            Token::Not => Ok(!self.one()?),
            Token::Open => {
                let value = self.any()?;
                match self.tokens.get(self.at) {
                    Some(Token::Close) => {
                        self.at += 1;
                        Ok(value)
                    }
                    _ => Err("a `(` is not closed"),
                }
            }
            Token::Name(name) => Ok(self.items.iter().any(|i| i == name)),
            _ => Err("`and`, `or` or `)` stands where a name is expected"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(expression: &str, items: &[&str]) -> bool {
        let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        evaluate(expression, &items).unwrap()
    }

    #[test]
    fn expressions_read_as_liquibase_reads_them() {
        assert!(holds("x", &["x"]));
        assert!(holds("Y", &["x", "y"]));
        assert!(!holds("!y", &["x", "y"]));
        assert!(!holds("not y", &["x", "y"]));
        assert!(holds("!a", &["x"]));
        assert!(holds("a or x", &["x"]));
        assert!(holds("a, x", &["x"]));
        assert!(!holds("a and x", &["x"]));
        assert!(holds("a and x or x", &["x"]));
        assert!(!holds("a and (x or x)", &["x"]));
        assert!(holds("!(a and x)", &["x"]));
        assert!(holds("(a or b) and !c", &["b"]));
        assert!(holds("@x", &["x"]));
        assert!(holds("!without-test-data", &["prod"]));
        assert!(!holds("!without-test-data", &["without-test-data"]));
        for bad in ["(a", "a)", "a and", "or a", "!", "a b"] {
            assert!(evaluate(bad, &[]).is_err(), "{bad}");
        }
        // Liquibase reads an expression in lower case: `AND` is `and`.
        assert!(holds("X AND Y", &["x", "y"]));
        assert!(holds("NOT a OR x", &["x"]));
        let adjacent = evaluate("a b", &[]).unwrap_err();
        assert!(adjacent.why.contains("two names"), "{adjacent}");
    }

    #[test]
    fn without_contexts_or_a_label_filter_everything_runs() {
        let none = LiquibaseSelection::new(None, Some("  ")).unwrap();
        assert!(none.is_empty());
        assert_eq!(none.leaves_out(&["test".into()], &["slow".into()]), Ok(None));

        let prod = LiquibaseSelection::new(Some("Prod, eu"), None).unwrap();
        assert_eq!(prod.leaves_out(&[], &[]), Ok(None), "a changeset of no context runs");
        assert_eq!(prod.leaves_out(&["prod".into()], &[]), Ok(None));
        assert_eq!(prod.leaves_out(&["!test".into(), "eu".into()], &[]), Ok(None));
        let out = prod.leaves_out(&["!test".into(), "us".into()], &[]).unwrap().unwrap();
        assert_eq!(out, "is for context `us`, which the contexts given (prod, eu) leave out");

        let labels = LiquibaseSelection::new(None, Some("!slow")).unwrap();
        assert_eq!(labels.leaves_out(&[], &[]), Ok(None), "a changeset of no label runs");
        assert_eq!(labels.leaves_out(&[], &["fast, v2".into()]), Ok(None));
        assert!(labels.leaves_out(&[], &["v2,slow".into()]).unwrap().is_some());
        assert!(LiquibaseSelection::new(None, Some("a and")).is_err());
    }
}
