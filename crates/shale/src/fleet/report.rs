//! What a fleet run reports: each target's outcome and standing, the whole fleet's, and a status
//! grouped so that alike targets make one line.

use std::collections::BTreeMap;
use std::sync::Arc;

use shale_core::plan::State;
use shale_core::{MigrationSet, Version};

use super::ServerLimit;
use crate::{Error, ErrorKind, StatusReport};

/// How a target's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// A migration failed, the plan was refused, or validate found problems.
    Failed,
    /// Could not connect, or could not get the migration lock.
    Unavailable,
    /// Not started: --fail-fast stopped the fleet first.
    Skipped,
}

/// Where a target stands against the migration files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    UpToDate,
    /// Migrations are pending.
    Behind,
    /// Modified, missing or out-of-order migrations: the files and the history disagree.
    Diverged,
    /// Its newest applied version is newer than every file (a newer release migrated it).
    Ahead,
    /// The last attempt of a migration failed.
    Failed,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::UpToDate => "up to date",
            Standing::Behind => "behind",
            Standing::Diverged => "diverged",
            Standing::Ahead => "ahead",
            Standing::Failed => "failed",
        }
    }
}

/// A target's history summed up, without its rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatusSummary {
    pub standing: Standing,
    pub applied: usize,
    pub pending: usize,
    pub failed: usize,
    pub modified: usize,
    pub missing: usize,
    pub out_of_order: usize,
    /// "3 pending", "0004 failed", ...: the same text for targets that stand alike.
    pub summary: String,
}

impl StatusSummary {
    pub fn of(set: &MigrationSet, report: &StatusReport) -> StatusSummary {
        let count = |states: &[State]| report.migrations.iter().filter(|r| states.contains(&r.state)).count();
        let applied = count(&[State::Applied, State::Baseline]);
        let pending = count(&[State::Pending]);
        let failed = count(&[State::Failed]);
        let modified = count(&[State::Modified]);
        let missing = count(&[State::Missing]);
        let out_of_order = count(&[State::OutOfOrder]);
        let newest_file = set.migrations.iter().filter_map(|m| m.version.as_ref()).max();
        let current = report.current_version.as_deref().and_then(Version::parse);
        let ahead = match (&current, newest_file) {
            (Some(c), Some(f)) => c > f,
            (Some(_), None) => true,
            _ => false,
        };
        let standing = if failed > 0 {
            Standing::Failed
        } else if ahead {
            Standing::Ahead
        } else if modified + missing + out_of_order > 0 {
            Standing::Diverged
        } else if pending > 0 {
            Standing::Behind
        } else {
            Standing::UpToDate
        };
        let mut parts = Vec::new();
        for row in report.migrations.iter().filter(|r| r.state == State::Failed) {
            parts.push(format!("{} failed", row.version.as_deref().unwrap_or(&row.name)));
        }
        for (n, what) in
            [(pending, "pending"), (modified, "modified"), (missing, "missing"), (out_of_order, "out of order")]
        {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        if ahead {
            parts.push("newer than the files".into());
        }
        if !report.history_exists {
            parts.push("no history table yet".into());
        }
        let summary = if parts.is_empty() { "up to date".to_string() } else { parts.join(", ") };
        StatusSummary { standing, applied, pending, failed, modified, missing, out_of_order, summary }
    }

    /// Problems `validate` reports.
    pub fn problems(&self) -> usize {
        self.failed + self.modified + self.missing + self.out_of_order
    }
}

/// One target's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TargetReport {
    pub name: String,
    /// The URL (password redacted) and schema.
    pub location: String,
    pub schema: Option<String>,
    pub outcome: Outcome,
    /// The version before the run, and after it (for status and validate, both where it stands).
    pub from_version: Option<String>,
    pub to_version: Option<String>,
    /// Migrations applied or reverted.
    pub steps: usize,
    pub duration_ms: u64,
    pub error: Option<String>,
    /// The error that stopped it, for its [`Error::kind`] and [`Error::hint`] (`error` is its text).
    #[serde(skip)]
    pub failure: Option<Arc<Error>>,
    /// Where it stands (status and validate; up and down when it could be read).
    pub status: Option<StatusSummary>,
    /// drift: how the live schema differs from what the migrations build (empty: no drift).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<Vec<shale_schema::compare::Difference>>,
    /// What the server warned of while its migrations ran (`RAISE WARNING`), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ServerWarning>,
}

/// A server's WARNING and the migration (or batch) it was said in.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServerWarning {
    pub migration: String,
    pub message: String,
}

/// The whole fleet's result, in target order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FleetReport {
    pub operation: &'static str,
    pub concurrency: usize,
    pub duration_ms: u64,
    /// Each server's free connections, read before the first target started.
    pub servers: Vec<ServerLimit>,
    pub targets: Vec<TargetReport>,
}

impl FleetReport {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.targets.iter().filter(|t| t.outcome == outcome).count()
    }

    /// The worst of the targets' failures, `None` when every target is fine (or skipped):
    /// [`ErrorKind::Unavailable`] when any could not be reached or locked, else
    /// [`ErrorKind::Failed`] when any failed.
    pub fn kind(&self) -> Option<ErrorKind> {
        if self.count(Outcome::Unavailable) > 0 {
            Some(ErrorKind::Unavailable)
        } else if self.count(Outcome::Failed) > 0 {
            Some(ErrorKind::Failed)
        } else {
            None
        }
    }
}

/// Targets that stand alike, for a fleet status that stays short: 2,000 identical tenants are one
/// group. Groups come worst first (unavailable, failed, ahead, diverged, behind, up to date), then
/// by version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusGroup {
    /// `unavailable`, `error`, or the standing (`up to date`, `behind`, ...).
    pub state: String,
    pub version: Option<String>,
    pub summary: String,
    pub count: usize,
    /// The first few target names.
    pub examples: Vec<String>,
}

/// How many names a group shows.
pub const GROUP_EXAMPLES: usize = 3;

/// Worst first (a rank), then version, state and summary.
type GroupKey = (u8, Option<Version>, String, String);

pub fn group_status(reports: &[TargetReport]) -> Vec<StatusGroup> {
    let mut groups: BTreeMap<GroupKey, StatusGroup> = BTreeMap::new();
    for r in reports {
        let (rank, state, summary) = match (&r.status, r.outcome) {
            (_, Outcome::Unavailable) => (0, "unavailable".to_string(), "could not connect or lock".to_string()),
            (_, Outcome::Skipped) => (7, "skipped".to_string(), "not started".to_string()),
            (_, outcome) if r.drift.is_some() => match (r.drift.as_ref().map_or(0, Vec::len), outcome) {
                (0, _) => (6, "no drift".to_string(), "matches the migrations".to_string()),
                (n, _) => (2, "drifted".to_string(), format!("{n} difference(s)")),
            },
            (Some(s), _) => {
                let rank = match s.standing {
                    Standing::Failed => 2,
                    Standing::Ahead => 3,
                    Standing::Diverged => 4,
                    Standing::Behind => 5,
                    Standing::UpToDate => 6,
                };
                (rank, s.standing.as_str().to_string(), s.summary.clone())
            }
            (None, _) => (1, "error".to_string(), r.error.clone().unwrap_or_default()),
        };
        let version = r.to_version.as_deref().and_then(Version::parse);
        let group = groups.entry((rank, version, state.clone(), summary.clone())).or_insert_with(|| StatusGroup {
            state,
            version: r.to_version.clone(),
            summary,
            count: 0,
            examples: Vec::new(),
        });
        group.count += 1;
        if group.examples.len() < GROUP_EXAMPLES {
            group.examples.push(r.name.clone());
        }
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(name: &str, outcome: Outcome, version: Option<&str>, standing: Standing, summary: &str) -> TargetReport {
        TargetReport {
            name: name.into(),
            location: String::new(),
            schema: None,
            outcome,
            from_version: version.map(str::to_string),
            to_version: version.map(str::to_string),
            steps: 0,
            duration_ms: 0,
            error: None,
            failure: None,
            status: (outcome != Outcome::Unavailable).then(|| StatusSummary {
                standing,
                applied: 0,
                pending: 0,
                failed: 0,
                modified: 0,
                missing: 0,
                out_of_order: 0,
                summary: summary.into(),
            }),
            drift: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn alike_targets_make_one_group_worst_first() {
        let mut reports: Vec<TargetReport> = (1..=2000)
            .map(|i| report(&format!("t{i}"), Outcome::Ok, Some("10"), Standing::UpToDate, "up to date"))
            .collect();
        reports.push(report("late1", Outcome::Ok, Some("9"), Standing::Behind, "1 pending"));
        reports.push(report("late2", Outcome::Ok, Some("9"), Standing::Behind, "1 pending"));
        reports.push(report("later", Outcome::Ok, Some("2"), Standing::Behind, "8 pending"));
        reports.push(report("broken", Outcome::Ok, Some("4"), Standing::Failed, "0005 failed"));
        reports.push(report("gone", Outcome::Unavailable, None, Standing::UpToDate, ""));
        let groups = group_status(&reports);
        let lines: Vec<(&str, Option<&str>, usize)> =
            groups.iter().map(|g| (g.state.as_str(), g.version.as_deref(), g.count)).collect();
        assert_eq!(
            lines,
            [
                ("unavailable", None, 1),
                ("failed", Some("4"), 1),
                ("behind", Some("2"), 1),
                ("behind", Some("9"), 2),
                ("up to date", Some("10"), 2000)
            ]
        );
        assert_eq!(groups[4].examples, ["t1", "t2", "t3"]);
    }
}
