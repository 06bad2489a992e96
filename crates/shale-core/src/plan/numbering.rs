//! Liquibase knows a changeset by its author, id and file, not by its place: a changeset added to
//! an earlier file or folder (a new table in `tables/`, before `data/`; one more at the end of
//! `users.sql`, before `orders.sql`) is run by its next update, and those after it stay applied.
//! shale numbers changesets by their place, so that a new database runs them in Liquibase's order;
//! against a history, [`numbered_as_recorded`] gives each changeset the history recorded the
//! number it was recorded with, and the others numbers after the newest recorded, in their order:
//! they run next, as Liquibase runs them, and each row of the history keeps meaning one changeset.
//!
//! But for one with a context or labels: not run among applied ones, it was likelier left out by
//! the selection the database was migrated with than added since, and keeps its place, where
//! running it is out of order (refused, with the selection named, unless allowed): a run that
//! forgot `--contexts` must not seed a production database with test data.

use rustc_hash::FxHashMap as HashMap;

use super::{AppliedRecord, History};
use crate::layout::{same_file, Layout, Migration, MigrationSet};
use crate::version::Version;

/// `set` numbered as `history` recorded its Liquibase changesets (see the module's comment), or
/// nothing where that is how it is numbered already (no changeset recorded at another number, none
/// new at a recorded one's number) or it holds no Liquibase changeset the history recorded.
pub fn numbered_as_recorded(set: &MigrationSet, history: &History) -> Option<MigrationSet> {
    if history.records.is_empty() || !set.migrations.iter().any(|m| m.layout == Layout::Liquibase) {
        return None;
    }
    // The newest row of each changeset, by its name (`author:id`); its file tells apart two of
    // one name.
    let mut by_name: HashMap<&str, Vec<(Version, &AppliedRecord)>> = HashMap::default();
    let mut newest_number: u64 = 0;
    let mut recorded_numbers = rustc_hash::FxHashSet::default();
    for (version, record) in history.versioned() {
        newest_number = newest_number.max(whole_part(&version));
        recorded_numbers.insert(version.clone());
        by_name.entry(record.name.as_str()).or_default().push((version, record));
    }
    if let Some(baseline) = history.baseline() {
        newest_number = newest_number.max(whole_part(&baseline));
    }
    let recorded = |m: &Migration| -> Option<Version> {
        let rows = by_name.get(m.name.as_str())?;
        rows.iter()
            .filter(|(_, r)| r.path.as_deref().is_none_or(|p| same_file(p, &m.file)))
            .max_by_key(|(_, r)| r.id)
            .map(|(version, _)| version.clone())
    };
    // The changesets the selection leaves out keep their numbers alike: rows of theirs are
    // passed over, not missing.
    let mut renumbered: Vec<(bool, Migration)> = set
        .migrations
        .iter()
        .map(|m| (true, m.clone()))
        .chain(set.left_out_changesets.iter().map(|m| (false, m.clone())))
        .collect();
    // In place order, whichever list they are in, for the numbers given anew.
    renumbered.sort_by(|(_, a), (_, b)| a.version.cmp(&b.version));
    let keeps_its_place = |place: &Version| {
        whole_part(place) < newest_number && !recorded_numbers.contains(place) && set.liquibase_selected.contains(place)
    };
    let mut next = newest_number;
    let mut changed: Vec<(Version, Version)> = Vec::new();
    let mut matched_any = false;
    for (_, m) in renumbered.iter_mut().filter(|(_, m)| m.layout == Layout::Liquibase && m.version.is_some()) {
        let number = match recorded(m) {
            Some(version) => {
                matched_any = true;
                version
            }
            None if m.version.as_ref().is_some_and(keeps_its_place) => {
                m.version.clone().expect("filtered on a version")
            }
            None => {
                next += 1;
                Version::parse(&next.to_string()).expect("a whole number is a version")
            }
        };
        let old = m.version.replace(number.clone()).expect("filtered on a version");
        if old != number {
            m.version_text = number.canonical();
            changed.push((old, number));
        }
    }
    // Another project's history (no changeset of it recorded) is not this one's to number by:
    // planning says so as it is.
    if !matched_any || changed.is_empty() {
        return None;
    }
    let mut numbered = set.clone();
    let (kept, left_out): (Vec<_>, Vec<_>) = renumbered.into_iter().partition(|(kept, _)| *kept);
    numbered.migrations = kept.into_iter().map(|(_, m)| m).collect();
    // Versioned by version, then repeatables by name, as the set keeps them.
    numbered.migrations.sort_by(|a, b| (a.version.is_none(), &a.version).cmp(&(b.version.is_none(), &b.version)));
    numbered.left_out_changesets = left_out.into_iter().map(|(_, m)| m).collect();
    let new_number: HashMap<&Version, &Version> = changed.iter().map(|(old, new)| (old, new)).collect();
    for version in numbered.left_out.iter_mut().chain(&mut numbered.liquibase_selected) {
        if let Some(new) = new_number.get(version) {
            *version = (*new).clone();
        }
    }
    Some(numbered)
}

/// The whole number a version starts with (`12` of `12.1`): numbers given anew go past it.
fn whole_part(version: &Version) -> u64 {
    let canonical = version.canonical();
    canonical.split(['.', '_']).next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::layout::SourceFile;
    use crate::plan::RecordStatus;

    const USERS: &str = "--liquibase formatted sql\n--changeset ann:users\nCREATE TABLE users (id int);\n";
    const ORDERS: &str = "--liquibase formatted sql\n--changeset ann:orders\nCREATE TABLE orders (id int);\n";

    fn set(files: &[(&str, &str)]) -> MigrationSet {
        let files = files
            .iter()
            .map(|(p, t)| SourceFile { relative: PathBuf::from(p), bytes: t.as_bytes().to_vec() })
            .collect();
        MigrationSet::load(Path::new("m"), files).unwrap()
    }

    /// The history of `set` applied as it is numbered.
    fn applied(set: &MigrationSet) -> History {
        let records = set
            .versioned()
            .enumerate()
            .map(|(i, m)| AppliedRecord { id: i as i64 + 1, ..crate::plan::tests::applied(set, &m.version_text) })
            .collect();
        History { records }
    }

    fn numbers(set: &MigrationSet) -> Vec<String> {
        set.migrations.iter().map(|m| format!("{} {}", m.version_text, m.name)).collect()
    }

    #[test]
    fn a_changeset_added_to_an_earlier_file_runs_next_and_the_applied_keep_their_numbers() {
        let before = set(&[("1_users.sql", USERS), ("2_orders.sql", ORDERS)]);
        let history = applied(&before);
        let grown = USERS.to_string() + "--changeset ann:users_email\nALTER TABLE users ADD email text;\n";
        let after = set(&[("1_users.sql", &grown), ("2_orders.sql", ORDERS)]);
        assert_eq!(numbers(&after), ["1 ann:users", "2 ann:users_email", "3 ann:orders"], "by place");
        let numbered = numbered_as_recorded(&after, &history).expect("renumbered");
        assert_eq!(numbers(&numbered), ["1 ann:users", "2 ann:orders", "3 ann:users_email"]);
        // A new database numbers them by place; one numbered as recorded already is left as it is.
        assert!(numbered_as_recorded(&after, &History::default()).is_none());
        assert!(numbered_as_recorded(&before, &history).is_none());
        let added_last = set(&[("1_users.sql", USERS), ("2_orders.sql", ORDERS), ("3_more.sql", &grown)]);
        assert!(numbered_as_recorded(&added_last, &history).is_none(), "appended: numbered as ever");
    }

    #[test]
    fn the_number_given_anew_goes_past_every_recorded_one() {
        let grown = USERS.to_string() + "--changeset ann:users_email\nALTER TABLE users ADD email text;\n";
        let first = set(&[("1_users.sql", &grown), ("2_orders.sql", ORDERS)]);
        let mut history = applied(&first);
        // users_email (recorded at 2) was rolled back and orders applied at 3: a second one
        // added before orders goes past 3, and users_email keeps its 2.
        history.records[1].status = RecordStatus::RolledBack;
        let grown_again = grown + "--changeset ann:users_name\nALTER TABLE users ADD name text;\n";
        let after = set(&[("1_users.sql", &grown_again), ("2_orders.sql", ORDERS)]);
        let numbered = numbered_as_recorded(&after, &history).expect("renumbered");
        assert_eq!(numbers(&numbered), ["1 ann:users", "2 ann:users_email", "3 ann:orders", "4 ann:users_name"]);
    }

    #[test]
    fn one_name_in_two_files_is_two_changesets() {
        let twin = "--liquibase formatted sql\n--changeset ann:users\nCREATE TABLE users2 (id int);\n";
        let before = set(&[("1_users.sql", USERS), ("3_twin.sql", twin)]);
        let history = applied(&before);
        let after = set(&[("1_users.sql", USERS), ("2_orders.sql", ORDERS), ("3_twin.sql", twin)]);
        let numbered = numbered_as_recorded(&after, &history).expect("renumbered");
        assert_eq!(numbers(&numbered), ["1 ann:users", "2 ann:users", "3 ann:orders"]);
        assert_eq!(numbered.migrations[1].file, "3_twin.sql");
    }

    #[test]
    fn one_with_a_context_not_run_among_applied_ones_keeps_its_place() {
        let seed = "--changeset ann:seed context:test\nINSERT INTO users VALUES (1);\n";
        let before = set(&[("1_users.sql", &format!("{USERS}{seed}")), ("2_orders.sql", ORDERS)]);
        // Migrated with other contexts: the seed was left out.
        let mut history = applied(&before);
        history.records.retain(|r| r.name != "ann:seed");
        let grown = format!("{USERS}{seed}--changeset ann:users_email\nALTER TABLE users ADD email text;\n");
        let after = set(&[("1_users.sql", &grown), ("2_orders.sql", ORDERS)]);
        let numbered = numbered_as_recorded(&after, &history).expect("renumbered");
        assert_eq!(numbers(&numbered), ["1 ann:users", "2 ann:seed", "3 ann:orders", "4 ann:users_email"]);
        assert_eq!(numbered.liquibase_selected, [Version::parse("2").unwrap()]);
        assert!(numbered_as_recorded(&numbered, &history).is_none(), "numbered once for all");
    }

    #[test]
    fn another_projects_history_is_left_to_planning() {
        let ours = set(&[("1_users.sql", USERS), ("2_orders.sql", ORDERS)]);
        let theirs = set(&[(
            "1_other.sql",
            "--liquibase formatted sql\n--changeset bob:a\nSELECT 1;\n--changeset bob:b\nSELECT 2;\n",
        )]);
        assert!(numbered_as_recorded(&ours, &applied(&theirs)).is_none());
    }
}
