//! Sqitch projects: `sqitch.plan` orders the changes, and each change's scripts are
//! `deploy/NAME.sql` (its up) and `revert/NAME.sql` (its down). A change is the migration
//! numbered by its place in the plan, named as the plan names it. `verify/NAME.sql` is Sqitch's
//! own check, left alone with a note.
//!
//! A change reworked later in the plan keeps its earlier scripts as `deploy/NAME@TAG.sql`, TAG one
//! of the tags between it and its rework (the newest whose script exists, as Sqitch looks).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::{Classified, LoadError, NameMarks, Role, SourceFile};
use crate::layout::Layout;

/// The file Sqitch orders its changes in, at the top of the project.
pub const PLAN_FILE: &str = "sqitch.plan";

/// Why a verify script is left alone: Sqitch's own, kept for as long as the project is.
pub(crate) const VERIFY_SCRIPT: &str = "a Sqitch verify script, which shale does not run (`sqitch verify` does)";

/// Why a script of no change in the plan is left alone: Sqitch passes it over too, for good.
pub(crate) const NO_CHANGE_SCRIPT: &str = "a Sqitch script of no change in sqitch.plan: Sqitch would not run it either";

/// The scripts a plan gives a place: each file's migration number, change name and role.
#[derive(Debug, Default)]
pub(super) struct Plan {
    scripts: HashMap<PathBuf, (usize, String, Role)>,
    /// The project the plan names (`%project=`).
    pub project: Option<String>,
    /// What its changes require of other projects (`[other:change]`).
    pub requires_elsewhere: Vec<RequiredElsewhere>,
}

/// A change of another Sqitch project that a change of this one requires (`[oss_chef:roles]` in
/// its plan line): Sqitch refuses to deploy it until that one is deployed (breadth trial:
/// chef-server's `enterprise_chef` on a new database stopped at its 6th change, 5 committed, where
/// `sqitch deploy` refused before running any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredElsewhere {
    /// The number shale gives the requiring change (its place in the plan).
    pub number: usize,
    /// The requiring change's name.
    pub change: String,
    pub project: String,
    /// The change required, without a tag (`roles` of `oss_chef:roles@v1`).
    pub required: String,
}

/// One change line of the plan.
#[derive(Debug, PartialEq, Eq)]
struct Change {
    name: String,
    line: usize,
    /// What it requires (`[a b !c other:d]`: `a`, `b`, `other:d`; `!c` is a conflict).
    requires: Vec<String>,
    /// The tags that follow it, up to the next change of the same name (its rework).
    rework_tags: Vec<String>,
    reworked: bool,
}

impl Plan {
    /// The plan of the project in `dir`, with the scripts `files` has. A change whose deploy
    /// script is missing is an error naming the plan's line: Sqitch refuses such a plan too.
    pub(super) fn read(dir: &Path, text: &str, files: &[SourceFile]) -> Result<Plan, Vec<LoadError>> {
        let path = dir.join(PLAN_FILE);
        let changes = parse(text).map_err(|(line, message)| vec![LoadError::at(&path, text, line, message, None)])?;
        // Looked up twice per change: a set, not a walk over every file each time.
        let read: HashSet<&Path> = files.iter().map(|f| f.relative.as_path()).collect();
        let present = |relative: &Path| read.contains(relative);
        let mut scripts = HashMap::new();
        let mut errors = Vec::new();
        for (index, change) in changes.iter().enumerate() {
            let number = index + 1;
            let script = |folder: &str| script_path(folder, change, &present);
            let deploy = script("deploy");
            if !present(&deploy) {
                errors.push(LoadError::at(
                    &path,
                    text,
                    change.line,
                    format!("change `{}` has no deploy script: {} is missing", change.name, deploy.display()),
                    Some("add the script, or take the change out of the plan".into()),
                ));
                continue;
            }
            scripts.insert(deploy, (number, change.name.clone(), Role::Up));
            scripts.insert(script("revert"), (number, change.name.clone(), Role::Down));
        }
        let project = text.lines().find_map(|line| line.trim().strip_prefix("%project=")).map(|p| p.trim().to_string());
        let requires_elsewhere = changes
            .iter()
            .enumerate()
            .flat_map(|(index, change)| {
                change.requires.iter().filter_map(move |r| {
                    let (other, required) = r.split_once(':')?;
                    let required = required.split('@').next().unwrap_or(required);
                    // A tag of the other project (`oss_chef:@v1`) is not looked for: its registry's
                    // tags are Sqitch's (review: it was never found, and `up` always refused).
                    if required.is_empty() {
                        return None;
                    }
                    Some(RequiredElsewhere {
                        number: index + 1,
                        change: change.name.clone(),
                        project: other.to_string(),
                        required: required.to_string(),
                    })
                })
            })
            .filter(|r| Some(&r.project) != project.as_ref())
            .collect();
        match errors.is_empty() {
            true => Ok(Plan { scripts, project, requires_elsewhere }),
            false => Err(errors),
        }
    }

    /// What the file at `relative` is in this project.
    pub(super) fn classify(&self, relative: &Path) -> Classified {
        if let Some((number, name, role)) = self.scripts.get(relative) {
            return Classified::Part {
                key: format!("v:{number}"),
                version_text: number.to_string(),
                name: name.clone(),
                role: *role,
                layout: Layout::Sqitch,
                marks: NameMarks::default(),
            };
        }
        // Beside the plan, a SQL file is none of its changes either, and is said to be.
        if relative.components().count() == 1 {
            return Classified::Skipped(
                "beside sqitch.plan, not a change of it: Sqitch runs the scripts in deploy/ and revert/ of the changes \
                 the plan names"
                    .into(),
            );
        }
        match relative.iter().next().and_then(|f| f.to_str()).unwrap_or_default() {
            "verify" => Classified::Skipped(VERIFY_SCRIPT.into()),
            _ => Classified::Skipped(NO_CHANGE_SCRIPT.into()),
        }
    }
}

/// The change a plan line names, if it is a change line.
pub fn change_name(line: &str) -> Option<&str> {
    match entries(line).next()? {
        (_, Entry::Change(name)) => Some(name),
        _ => None,
    }
}

/// The plan line adding change `name` with `note`, planned at `timestamp` (`2026-12-05T10:00:00Z`)
/// by `planner` (`Name <email>`), else by the planner of the plan's last change, as `sqitch add`
/// writes it (by `shale`, in a plan without changes).
pub fn plan_line(plan: &str, name: &str, note: &str, timestamp: &str, planner: Option<&str>) -> String {
    if let Some(planner) = planner {
        return format!("{name} {timestamp} {planner} # {note}");
    }
    let planner = plan
        .lines()
        .rev()
        .filter(|line| change_name(line).is_some())
        .find_map(|line| {
            // NAME [deps] TIMESTAMP PLANNER <EMAIL> # note: the planner runs from after the
            // timestamp to the end of the email.
            let before_note = line.trim().split(" # ").next().unwrap_or(line);
            let email_end = before_note.rfind('>')? + 1;
            let mut rest = before_note[..email_end].trim_start_matches(|c: char| !c.is_whitespace() && c != '[');
            if let Some(deps) = rest.trim_start().strip_prefix('[') {
                rest = &deps[deps.find(']')? + 1..];
            }
            let (_timestamp, planner) = rest.trim_start().split_once(char::is_whitespace)?;
            Some(planner.trim().to_string())
        })
        .unwrap_or_else(|| "shale <shale@localhost>".into());
    format!("{name} {timestamp} {planner} # {note}")
}

/// `folder/NAME.sql`, or for a change reworked later, `folder/NAME@TAG.sql`.
fn script_path(folder: &str, change: &Change, present: &dyn Fn(&Path) -> bool) -> PathBuf {
    let base = Path::new(folder);
    if !change.reworked {
        return base.join(format!("{}.sql", change.name));
    }
    let tagged = |tag: &String| base.join(format!("{}{tag}.sql", change.name));
    let deploy = |tag: &String| Path::new("deploy").join(format!("{}{tag}.sql", change.name));
    // Sqitch looks among them newest first, and names a missing one by the newest.
    match change.rework_tags.iter().rev().find(|tag| present(&deploy(tag))).or(change.rework_tags.last()) {
        Some(tag) => tagged(tag),
        None => base.join(format!("{}.sql", change.name)),
    }
}

/// The changes of a plan in order, or the line (a byte offset of its start) and what is wrong.
/// Lines: `%pragma=value`, blank or `#` comments, `@tag ...`, and changes,
/// `NAME [dependencies] TIMESTAMP PLANNER <EMAIL> # note`.
fn parse(text: &str) -> Result<Vec<Change>, (usize, String)> {
    let mut changes: Vec<Change> = Vec::new();
    for (at, entry) in entries(text) {
        let name = match entry {
            Entry::Change(name) => name,
            Entry::Reverting(name) => {
                return Err((
                    at,
                    format!("`-{name}`: a change the plan reverts, which shale does not read; deploy and revert with Sqitch, or take the line out"),
                ))
            }
            Entry::Tag(_) => continue,
        };
        if name.is_empty() {
            return Err((at, "expected a change name at the start of the line".into()));
        }
        // An earlier instance is reworked by this one: its scripts carry a tag.
        if let Some(earlier) = changes.iter_mut().rev().find(|c| c.name == name && !c.reworked) {
            earlier.reworked = true;
        }
        let requires = requirements(&text[at..]);
        changes.push(Change { name: name.to_string(), line: at, requires, rework_tags: Vec::new(), reworked: false });
    }
    for change in changes.iter_mut().filter(|c| c.reworked) {
        // The tags between it and its rework.
        for (_, entry) in entries(&text[change.line..]).skip(1) {
            match entry {
                Entry::Tag(tag) => change.rework_tags.push(format!("@{tag}")),
                Entry::Change(name) if name == change.name => break,
                Entry::Change(_) | Entry::Reverting(_) => {}
            }
        }
        if change.rework_tags.is_empty() {
            return Err((
                change.line,
                format!(
                    "change `{}` comes again later with no tag between: Sqitch refuses such a plan (a change is \
                     reworked after a tag, with `sqitch rework`)",
                    change.name
                ),
            ));
        }
    }
    Ok(changes)
}

/// The place in `plan` (1 for its first change: the version shale gives it) of `target`: a tag
/// (`@v1.0`), the change before it; a change's name, its newest instance (`name@tag`, the instance
/// the tag follows); none where the plan has no such tag or change.
pub fn sqitch_place(plan: &str, target: &str) -> Option<usize> {
    let (name, tag) = match target.split_once('@') {
        Some((name, tag)) => (name, Some(tag)),
        None => (target, None),
    };
    let mut changes = 0;
    let mut found = None;
    let mut named = None;
    for (_, entry) in entries(plan) {
        match entry {
            Entry::Change(change) => {
                changes += 1;
                if change == name {
                    named = Some(changes);
                }
            }
            Entry::Tag(t) if Some(t) == tag => {
                // `@tag` alone: the change before it; `name@tag`: that change's instance before it.
                found = if name.is_empty() { Some(changes).filter(|n| *n > 0) } else { named };
                break;
            }
            Entry::Tag(_) | Entry::Reverting(_) => {}
        }
    }
    match tag {
        Some(_) => found,
        None => named,
    }
}

/// What the change line at the start of `line` requires: the names in its brackets, after its
/// name, but the conflicts (`!name`).
fn requirements(line: &str) -> Vec<String> {
    let line = line.lines().next().unwrap_or_default().trim().trim_start_matches('+').trim_start();
    let after_name = &line[line.find(|c: char| c.is_whitespace() || c == '[').unwrap_or(line.len())..];
    let Some(inside) = after_name.trim_start().strip_prefix('[').and_then(|rest| rest.split(']').next()) else {
        return Vec::new();
    };
    inside.split_whitespace().filter(|d| !d.starts_with('!')).map(str::to_string).collect()
}

/// A plan line: a change to deploy, one to revert (`-name`), or a tag (its name without `@`).
enum Entry<'t> {
    Change(&'t str),
    Reverting(&'t str),
    Tag(&'t str),
}

/// The changes and tags of `text`, each with the byte offset of its line.
fn entries(text: &str) -> impl Iterator<Item = (usize, Entry<'_>)> {
    let mut offset = 0;
    text.split_inclusive('\n').filter_map(move |line| {
        let at = offset;
        offset += line.len();
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('%') {
            return None;
        }
        if let Some(tag) = trimmed.strip_prefix('@') {
            let end = tag.find(char::is_whitespace).unwrap_or(tag.len());
            return Some((at, Entry::Tag(&tag[..end])));
        }
        // A change to deploy may be written `+name` or `+ name`; one to revert, `-name`.
        let (reverting, rest) = match trimmed.as_bytes()[0] {
            b'-' => (true, trimmed[1..].trim_start()),
            b'+' => (false, trimmed[1..].trim_start()),
            _ => (false, trimmed),
        };
        let end = rest.find(|c: char| c.is_whitespace() || c == '[').unwrap_or(rest.len());
        let name = &rest[..end];
        Some((at, if reverting { Entry::Reverting(name) } else { Entry::Change(name) }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "%syntax-version=1.0.0\n%project=flipr\n\n\
        appschema 2013-12-30T23:49:00Z Marge <marge@example.com> # Adds the schema.\n\
        users [appschema] 2013-12-31T00:26:00Z Marge <marge@example.com> # Users.\n\
        @v1.0.0-dev1 2014-01-01T00:00:00Z Marge <marge@example.com> # Tag.\n\
        flips [users] 2014-01-02T00:00:00Z Marge <marge@example.com>\n\
        @v1.0.0-dev2 2014-01-03T00:00:00Z Marge <marge@example.com>\n\
        users [users@v1.0.0-dev2] 2014-01-04T00:00:00Z Marge <marge@example.com> # Reworked.\n";

    fn names(changes: &[Change]) -> Vec<(&str, bool, Vec<&str>)> {
        changes
            .iter()
            .map(|c| (c.name.as_str(), c.reworked, c.rework_tags.iter().map(String::as_str).collect()))
            .collect()
    }

    /// Sqitch's targets: a tag is the change before it, a name its newest instance, `name@tag` the
    /// instance before the tag.
    #[test]
    fn tags_and_names_are_places_in_the_plan() {
        assert_eq!(sqitch_place(PLAN, "@v1.0.0-dev1"), Some(2));
        assert_eq!(sqitch_place(PLAN, "@v1.0.0-dev2"), Some(3));
        assert_eq!(sqitch_place(PLAN, "users"), Some(4));
        assert_eq!(sqitch_place(PLAN, "users@v1.0.0-dev2"), Some(2));
        assert_eq!(sqitch_place(PLAN, "flips"), Some(3));
        assert_eq!(sqitch_place(PLAN, "@nope"), None);
        assert_eq!(sqitch_place(PLAN, "nope"), None);
    }

    #[test]
    fn changes_in_plan_order_with_the_tags_of_a_reworked_one() {
        let changes = parse(PLAN).unwrap();
        assert_eq!(
            names(&changes),
            [
                ("appschema", false, vec![]),
                ("users", true, vec!["@v1.0.0-dev1", "@v1.0.0-dev2"]),
                ("flips", false, vec![]),
                ("users", false, vec![]),
            ]
        );
        assert_eq!(&PLAN[changes[0].line..changes[0].line + 9], "appschema");
    }

    #[test]
    fn requirements_of_other_projects_are_read_from_the_brackets() {
        let plan = "%project=enterprise\n\
            widen [enterprise:base oss_chef:roles oss_chef:clients@v2 !gone local oss_chef:@v1] 2014-01-01T00:00:00Z M <m@x> # W.\n\
            + plain 2014-01-02T00:00:00Z M <m@x>\n\
            base [oss_chef:users] 2014-01-03T00:00:00Z M <m@x>\n";
        let changes = parse(plan).unwrap();
        assert_eq!(
            changes[0].requires,
            ["enterprise:base", "oss_chef:roles", "oss_chef:clients@v2", "local", "oss_chef:@v1"]
        );
        assert!(changes[1].requires.is_empty());
        let files: Vec<SourceFile> = Vec::new();
        // (Every deploy script missing: the requirements are read all the same, for the errors.)
        assert!(Plan::read(Path::new("p"), plan, &files).is_err());
        let read = |name: &str| SourceFile { relative: format!("deploy/{name}.sql").into(), bytes: Vec::new() };
        let files: Vec<SourceFile> = ["widen", "plain", "base"].iter().map(|n| read(n)).collect();
        let plan = Plan::read(Path::new("p"), plan, &files).unwrap();
        let of = |r: &RequiredElsewhere| (r.number, r.change.clone(), r.project.clone(), r.required.clone());
        let found: Vec<(usize, String, String, String)> = plan.requires_elsewhere.iter().map(of).collect();
        let found: Vec<(usize, &str, &str, &str)> =
            found.iter().map(|(n, c, p, r)| (*n, c.as_str(), p.as_str(), r.as_str())).collect();
        assert_eq!(
            found,
            [(1, "widen", "oss_chef", "roles"), (1, "widen", "oss_chef", "clients"), (3, "base", "oss_chef", "users")]
        );
    }

    #[test]
    fn scripts_of_a_reworked_change_carry_the_first_tag_found() {
        let changes = parse(PLAN).unwrap();
        let with = |files: &'static [&'static str]| move |p: &Path| files.iter().any(|f| Path::new(f) == p);
        let second = with(&["deploy/users@v1.0.0-dev2.sql"]);
        assert_eq!(script_path("deploy", &changes[1], &second), Path::new("deploy/users@v1.0.0-dev2.sql"));
        assert_eq!(script_path("revert", &changes[1], &second), Path::new("revert/users@v1.0.0-dev2.sql"));
        let none = with(&[]);
        assert_eq!(script_path("deploy", &changes[1], &none), Path::new("deploy/users@v1.0.0-dev2.sql"));
        assert_eq!(script_path("deploy", &changes[3], &none), Path::new("deploy/users.sql"));
    }

    #[test]
    fn a_change_added_takes_the_planner_of_the_last_one() {
        assert_eq!(
            plan_line(PLAN, "tags", "Adds tags", "2026-12-05T10:00:00Z", None),
            "tags 2026-12-05T10:00:00Z Marge <marge@example.com> # Adds tags"
        );
        assert_eq!(
            plan_line("%project=x\n", "first", "First", "2026-12-05T10:00:00Z", None),
            "first 2026-12-05T10:00:00Z shale <shale@localhost> # First"
        );
        // The planner Sqitch's own variables name, where given.
        assert_eq!(
            plan_line(PLAN, "table/tags", "Adds tags", "2026-12-05T10:00:00Z", Some("Ops <ops@example.com>")),
            "table/tags 2026-12-05T10:00:00Z Ops <ops@example.com> # Adds tags"
        );
        assert_eq!(change_name("users [appschema] 2013-12-31T00:26:00Z M <m@x>"), Some("users"));
        assert_eq!(change_name("@v1 2013-12-31T00:26:00Z M <m@x>"), None);
        assert_eq!(change_name("%project=x"), None);
    }

    #[test]
    fn a_reverting_line_is_refused_at_its_line() {
        let (at, message) = parse("a 2014-01-01T00:00:00Z M <m@x>\n-a 2014-01-02T00:00:00Z M <m@x>\n").unwrap_err();
        assert_eq!(at, 31);
        assert!(message.contains("`-a`"), "{message}");
        let (at, message) = parse("a 2014-01-01T00:00:00Z M <m@x>\n+ a 2014-01-02T00:00:00Z M <m@x>\n").unwrap_err();
        assert_eq!(at, 0);
        assert!(message.contains("no tag between"), "{message}");
        assert_eq!(names(&parse("+ a 2014-01-01T00:00:00Z M <m@x>\n").unwrap()), [("a", false, vec![])]);
    }
}
