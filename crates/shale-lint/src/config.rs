//! Rule configuration: rules disabled and severities changed (`[lint]` of shale.toml), checked
//! against the rules that exist, then applied by [`crate::lint_with`] through
//! [`crate::LintOptions::rules`].

use std::collections::{BTreeMap, BTreeSet};

use crate::rules::{Rule, ALL};
use crate::Severity;

/// Locking a table of 10,000 rows for a rewrite, a scan or an index build takes tens of
/// milliseconds; a hundred times that stalls the application. Statements on smaller tables are
/// let through.
pub const DEFAULT_LARGE_TABLE_ROWS: i64 = 10_000;

/// The linter's configuration as written (`[lint]` in shale.toml): rule ids as strings, not
/// checked yet; [`LintConfig::rules`] checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintConfig {
    /// Rule ids that never fire, e.g. `["prefer-text"]`. A rule's former id names it too.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Rule id to "error", "warning" or "info".
    #[serde(default)]
    pub severity: BTreeMap<String, String>,
    /// A table with more rows than this (the planner's estimate) is large: statements that lock,
    /// scan or rewrite it are errors. Default [`DEFAULT_LARGE_TABLE_ROWS`].
    pub large_table_rows: Option<i64>,
}

/// What is wrong in a [`LintConfig`], naming the rule as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// No rule has this id, now or formerly.
    UnknownRule { rule: String },
    /// The severity given a rule is not `error`, `warning` or `info`.
    BadSeverity { rule: String, severity: String },
}

/// `no rule is called `x`; the rules are ...` / `severity of `x`: `fatal` is not error, warning or info`
impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::UnknownRule { rule } => {
                let ids: Vec<&str> = ALL.iter().map(|r| r.id).collect();
                write!(f, "no rule is called `{rule}`; the rules are {}", ids.join(", "))
            }
            ConfigError::BadSeverity { rule, severity } => {
                write!(f, "severity of `{rule}`: `{severity}` is not error, warning or info")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl std::str::FromStr for Severity {
    type Err = ();

    /// `error`, `warning` or `info`.
    fn from_str(s: &str) -> Result<Severity, ()> {
        [Severity::Error, Severity::Warning, Severity::Info].into_iter().find(|l| l.as_str() == s).ok_or(())
    }
}

impl LintConfig {
    /// The rules configured, once every id names a rule and every severity is one.
    pub fn rules(&self) -> Result<RuleConfig, ConfigError> {
        let known = |id: &str| ALL.iter().any(|r| r.answers_to(id));
        for id in self.disable.iter().chain(self.severity.keys()) {
            if !known(id) {
                return Err(ConfigError::UnknownRule { rule: id.clone() });
            }
        }
        let mut severity = BTreeMap::new();
        for (id, level) in &self.severity {
            let level =
                level.parse().map_err(|()| ConfigError::BadSeverity { rule: id.clone(), severity: level.clone() })?;
            severity.insert(id.clone(), level);
        }
        let mut config = RuleConfig::default();
        for rule in ALL {
            if self.disable.iter().any(|d| rule.answers_to(d)) {
                config.disabled.insert(rule.id);
            }
            // The rule's own id wins over a former one naming it too.
            let level =
                severity.get(rule.id).or_else(|| severity.iter().find(|(id, _)| rule.answers_to(id)).map(|(_, l)| l));
            if let Some(level) = level {
                config.severity.insert(rule.id, *level);
            }
        }
        Ok(config)
    }

    /// The row count above which a table is large.
    pub fn large_table_rows(&self) -> i64 {
        self.large_table_rows.unwrap_or(DEFAULT_LARGE_TABLE_ROWS)
    }
}

/// Rules disabled and severities changed, by rule id: a checked [`LintConfig`]. The default
/// leaves every rule on, at its own severity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleConfig {
    disabled: BTreeSet<&'static str>,
    severity: BTreeMap<&'static str, Severity>,
}

impl RuleConfig {
    /// Whether the rule fires at all.
    pub fn enabled(&self, rule: &Rule) -> bool {
        !self.disabled.contains(rule.id)
    }

    /// The severity of the rule's findings: as configured, else the rule's own.
    pub fn severity(&self, rule: &Rule) -> Severity {
        self.severity.get(rule.id).copied().unwrap_or(rule.severity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule;

    fn config(toml_disable: &[&str], severity: &[(&str, &str)]) -> Result<RuleConfig, ConfigError> {
        LintConfig {
            disable: toml_disable.iter().map(|s| s.to_string()).collect(),
            severity: severity.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            large_table_rows: None,
        }
        .rules()
    }

    #[test]
    fn disables_and_changes_severities() {
        let c = config(&["create-index-non-concurrently"], &[("prefer-text", "error")]).unwrap();
        assert!(!c.enabled(rule("create-index-non-concurrently").unwrap()));
        assert!(c.enabled(rule("prefer-text").unwrap()));
        assert_eq!(c.severity(rule("prefer-text").unwrap()), Severity::Error);
        assert_eq!(c.severity(rule("destructive").unwrap()), Severity::Error, "its own");
        assert_eq!(c.severity(rule("prefer-timestamptz").unwrap()), rule("prefer-timestamptz").unwrap().severity);
    }

    #[test]
    fn a_former_id_names_every_rule_it_became_and_the_own_id_wins() {
        let c = config(&["prefer-bigint-identity"], &[("no-char", "info")]).unwrap();
        assert!(!c.enabled(rule("prefer-identity").unwrap()) && !c.enabled(rule("prefer-bigint-keys").unwrap()));
        assert_eq!(c.severity(rule("prefer-text").unwrap()), Severity::Info);
        let c = config(&[], &[("no-char", "info"), ("prefer-text", "error")]).unwrap();
        assert_eq!(c.severity(rule("prefer-text").unwrap()), Severity::Error);
    }

    #[test]
    fn unknown_rules_and_severities_are_errors_naming_the_rule() {
        let e = config(&["no-such-rule"], &[]).unwrap_err();
        assert_eq!(e, ConfigError::UnknownRule { rule: "no-such-rule".into() });
        assert!(e
            .to_string()
            .starts_with("no rule is called `no-such-rule`; the rules are create-index-non-concurrently, "));
        assert!(matches!(config(&[], &[("nope", "error")]), Err(ConfigError::UnknownRule { rule }) if rule == "nope"));
        let e = config(&[], &[("prefer-text", "fatal")]).unwrap_err();
        assert_eq!(e, ConfigError::BadSeverity { rule: "prefer-text".into(), severity: "fatal".into() });
        assert_eq!(e.to_string(), "severity of `prefer-text`: `fatal` is not error, warning or info");
    }

    #[test]
    fn applied_through_the_lint_options() {
        let s = crate::tests::script(
            "001.sql",
            "CREATE INDEX i ON users (a);\nALTER TABLE users ADD COLUMN c varchar(2);\n",
        );
        let run = |rules: RuleConfig| {
            let report = crate::lint_with([&s], crate::LintOptions { rules, ..Default::default() });
            let found: Vec<_> = report.findings.iter().map(|f| (f.rule, f.severity)).collect();
            (found, report.blocking().count())
        };
        let (found, blocking) = run(RuleConfig::default());
        assert_eq!(found, [("create-index-non-concurrently", Severity::Error), ("prefer-text", Severity::Warning)]);
        assert_eq!(blocking, 1);
        let (found, blocking) = run(config(&["create-index-non-concurrently"], &[("prefer-text", "error")]).unwrap());
        assert_eq!(found, [("prefer-text", Severity::Error)]);
        assert_eq!(blocking, 1);
    }

    #[test]
    fn deserialises_from_toml_and_refuses_unknown_keys() {
        let c: LintConfig = toml::from_str(
            "disable = [\"prefer-text\"]\nseverity = { \"set-not-null\" = \"error\" }\nlarge_table_rows = 5\n",
        )
        .unwrap();
        assert_eq!(c.disable, ["prefer-text"]);
        assert_eq!(c.large_table_rows(), 5);
        assert_eq!(LintConfig::default().large_table_rows(), DEFAULT_LARGE_TABLE_ROWS);
        assert!(toml::from_str::<LintConfig>("disabled = []").is_err());
    }
}
