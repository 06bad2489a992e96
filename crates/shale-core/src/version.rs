//! Migration versions, compared numerically whatever their length or zero padding.

use std::cmp::Ordering;
use std::fmt;

/// A migration version: one or more numeric parts (`0007` is `[7]`, Flyway's `1.2.10` is `[1, 2, 10]`,
/// diesel's `2017-09-23-182408` is the single number `20170923182408`).
///
/// Parts are kept as digit strings without leading zeros so that any length compares correctly
/// (timestamps and long sequences overflow no integer type).
///
/// Equality follows the order: `1` and `1.0` are the same version (as Flyway has it), and so are
/// diesel suffixes of the same value.
#[derive(Debug, Clone)]
pub struct Version {
    /// The parts without leading zeros, joined by `.`: one allocation per version, which are
    /// parsed by the thousand at every start (each file's and each history row's).
    digits: Box<str>,
    /// diesel 2.3's hexadecimal subversion (`2024-01-01-000000-00a1` has `00a1`), lower-case as
    /// written. diesel orders folder names as text, so a timestamp alone comes before the same
    /// timestamp with a suffix, and suffixes in order.
    diesel_suffix: Option<Box<str>>,
    /// The digits as one number, where they are one that fits (nearly every version): versions
    /// are compared by the ten thousand at every start (sorting, duplicates, twins), and two
    /// numbers compare without looking at the text.
    number: Option<u64>,
}

impl Version {
    fn new(digits: Box<str>, diesel_suffix: Option<Box<str>>) -> Version {
        let number = digits.parse::<u64>().ok();
        Version { digits, diesel_suffix, number }
    }

    /// Parse the digits of a version written as digits separated by `.` or `_` (Flyway),
    /// or by `-` (diesel timestamps, whose dashes are dropped). Returns None if anything else appears.
    pub fn parse(text: &str) -> Option<Version> {
        if text.is_empty() {
            return None;
        }
        if text.contains('-') {
            return Version::parse_dashed(text);
        }
        let mut digits = String::with_capacity(text.len());
        for piece in text.split(['.', '_']) {
            if piece.is_empty() || !piece.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            if !digits.is_empty() {
                digits.push('.');
            }
            digits.push_str(strip_zeros(piece));
        }
        Some(Version::new(digits.into(), None))
    }

    /// diesel: `YYYY-MM-DD-HHMMSS` is one timestamp (its digits); diesel 2.3 adds a hexadecimal
    /// `-NNNN`. The canonical form of such a version, `TIMESTAMP-NNNN`, is read back too.
    fn parse_dashed(text: &str) -> Option<Version> {
        let pieces: Vec<&str> = text.split('-').collect();
        let digits = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        let hex = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_hexdigit());
        let (timestamp, suffix): (String, Option<&str>) = match pieces.as_slice() {
            [ts, suffix] if ts.len() == 14 && digits(ts) && hex(suffix) => (ts.to_string(), Some(suffix)),
            [stamp @ .., suffix] if stamp.len() == 4 && stamp.iter().all(digits) && hex(suffix) => {
                (stamp.concat(), Some(suffix))
            }
            // A date alone, or numbered within the day (`2023-01-20.0`), as sql-migrate projects
            // name files: the date at midnight, as a timestamp, so that it sorts among timestamps
            // and diesel's dashed ones by the calendar; its number after it, as a version's part.
            [year, month, day] if year.len() == 4 && month.len() == 2 && digits(year) && digits(month) => {
                let (date, number) = day.split_once('.').unwrap_or((day, ""));
                if date.len() != 2 || !digits(&date) {
                    return None;
                }
                let numbered = match number {
                    "" => String::new(),
                    n => format!(".{}", Version::parse(n)?.digits),
                };
                (format!("{year}{month}{date}000000{numbered}"), None)
            }
            all if all.iter().all(digits) => (all.concat(), None),
            _ => return None,
        };
        Some(Version::new(strip_zeros(&timestamp).into(), suffix.map(|s| s.to_ascii_lowercase().into())))
    }

    /// The canonical text stored in the history table: parts without padding, joined by `.`;
    /// diesel's suffix after a `-`.
    pub fn canonical(&self) -> String {
        match &self.diesel_suffix {
            Some(suffix) => format!("{}-{suffix}", self.digits),
            None => self.digits.to_string(),
        }
    }

    fn parts(&self) -> impl Iterator<Item = &str> {
        self.digits.split('.')
    }
}

impl Version {
    fn diesel_suffix_value(&self) -> Option<u64> {
        self.diesel_suffix.as_deref().map(|s| u64::from_str_radix(s, 16).unwrap_or(0))
    }
}

/// The digits without leading zeros ("0" for zero).
fn strip_zeros(digits: &str) -> &str {
    match digits.trim_start_matches('0') {
        "" => "0",
        trimmed => trimmed,
    }
}

fn compare_digits(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        if let (Some(mine), Some(theirs)) = (self.number, other.number) {
            return mine.cmp(&theirs).then_with(|| self.diesel_suffix_value().cmp(&other.diesel_suffix_value()));
        }
        // Nearly every version is one number: compared as such, without taking parts apart.
        let dotted = |v: &Version| v.digits.as_bytes().contains(&b'.');
        if !dotted(self) && !dotted(other) {
            return compare_digits(&self.digits, &other.digits)
                .then_with(|| self.diesel_suffix_value().cmp(&other.diesel_suffix_value()));
        }
        let (mut mine, mut theirs) = (self.parts(), other.parts());
        // `1` == `1.0`: trailing zero parts do not make a version newer.
        let by_parts = loop {
            match (mine.next(), theirs.next()) {
                (Some(a), Some(b)) => match compare_digits(a, b) {
                    Ordering::Equal => continue,
                    unequal => return unequal,
                },
                (Some(a), None) if a != "0" || mine.any(|p| p != "0") => break Ordering::Greater,
                (None, Some(b)) if b != "0" || theirs.any(|p| p != "0") => break Ordering::Less,
                _ => break Ordering::Equal,
            }
        };
        // As diesel orders names: no suffix first, then suffixes by their value.
        by_parts.then_with(|| self.diesel_suffix_value().cmp(&other.diesel_suffix_value()))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl std::hash::Hash for Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // What the order compares: the parts up to the last one that is not zero (a zero part is
        // exactly "0"), the suffix's value.
        let mut significant: &str = &self.digits;
        while let Some(shorter) = significant.strip_suffix(".0") {
            significant = shorter;
        }
        significant.hash(state);
        self.diesel_suffix_value().hash(state);
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl std::str::FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
            .ok_or_else(|| format!("`{s}` is not a version: expected digits such as 3, 0003, 20261123093000 or 1.2"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn numeric_order_whatever_the_length() {
        assert!(v("9") < v("10"));
        assert!(v("0009") < v("10"));
        assert!(v("99999999999999999999") < v("100000000000000000000"));
        assert!(v("20261123093000") > v("0005"));
        assert_eq!(v("0001"), v("1"));
        assert_eq!(v("0001").cmp(&v("1")), Ordering::Equal);
    }

    /// sql-migrate projects' `2023-01-20.0`: the date at midnight as a timestamp, then its number
    /// within the day; a date alone sorts among timestamps by the calendar.
    #[test]
    fn dates_numbered_within_the_day() {
        assert_eq!(v("2023-01-20.0").canonical(), "20230120000000.0");
        assert!(v("2023-01-20.0") < v("2023-01-20.1"));
        assert!(v("2023-01-20.9") < v("2023-01-20.10"));
        assert!(v("2023-01-20.3") < v("2023-01-23.0"));
        // Read back from the history as it was written, padding and all.
        assert_eq!(v("2023-01-20.01"), v(&v("2023-01-20.01").canonical()));
        assert_eq!(v("2023-01-20.01").canonical(), "20230120000000.1");
        assert!(v("2023-03-01") > v("2023-02-02-101500"), "March after February, whatever the form");
        assert!(v("2023-03-01.0") > v("20230202101500"));
        assert!(v("2023-03-01") < v("2023-03-01-000001"));
        assert_eq!(v("2023-03-01").canonical(), "20230301000000");
    }

    #[test]
    fn diesel_timestamps_compare_by_digits() {
        assert_eq!(v("2017-09-23-182408").canonical(), "20170923182408");
        assert!(v("2017-09-23-182408") < v("2017-09-24-000000"));
        assert_eq!(v("00000000000000").canonical(), "0");
        // diesel 2.3's suffix: ordered after the timestamp, as diesel orders the names.
        assert!(v("2020-01-01-000000-0000") < v("2023-12-31-235959"));
        assert!(v("2024-01-01-000000-0000") > v("2023-12-31-235959"));
        assert!(v("2024-01-01-000000") < v("2024-01-01-000000-0000"), "the bare timestamp first, as diesel");
        assert!(v("2024-01-01-000000-0000") < v("2024-01-01-000000-0001"));
        assert!(v("2024-01-01-000000-0009") < v("2024-01-01-000000-000a"), "hexadecimal");
        assert_eq!(v("2024-01-01-000000-00A1").canonical(), "20240101000000-00a1");
        // The canonical form reads back as the same version.
        assert_eq!(v("20240101000000-00a1"), v("2024-01-01-000000-00a1"));
        assert_ne!(v("2024-01-01-000000"), v("2024-01-01-000000-0000"));
    }

    #[test]
    fn flyway_dotted_versions() {
        assert!(v("1.2") < v("1.10"));
        assert!(v("1_2") < v("1.10"));
        assert!(v("2") > v("1.99"));
        assert_eq!(v("1.0").cmp(&v("1")), Ordering::Equal);
        assert_eq!(v("1.2").canonical(), "1.2");
    }

    #[test]
    fn rejects_non_versions() {
        for bad in ["", "a1", "1a", "1..2", "-1", "1-", "1 2"] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn padded(n: u128, zeros: usize) -> String {
        format!("{}{n}", "0".repeat(zeros))
    }

    proptest! {
        /// Numbers of any size and padding order as numbers (u128: longer than any integer the
        /// tools use, so the digit-string comparison is checked past u64).
        #[test]
        fn versions_order_as_their_numbers(a: u128, b: u128, za in 0usize..4, zb in 0usize..4) {
            let (va, vb) = (Version::parse(&padded(a, za)).unwrap(), Version::parse(&padded(b, zb)).unwrap());
            prop_assert_eq!(va.cmp(&vb), a.cmp(&b));
            prop_assert_eq!(va == vb, a == b);
        }

        /// Flyway's dotted versions order part by part, trailing zero parts counting for nothing;
        /// the canonical text reads back as the same version.
        #[test]
        fn dotted_versions_order_part_by_part(
            a in prop::collection::vec(0u64..1000, 1..5),
            b in prop::collection::vec(0u64..1000, 1..5),
        ) {
            let text = |p: &[u64]| p.iter().map(u64::to_string).collect::<Vec<_>>().join(".");
            let (va, vb) = (Version::parse(&text(&a)).unwrap(), Version::parse(&text(&b)).unwrap());
            let trimmed = |p: &[u64]| {
                let mut p = p.to_vec();
                while p.len() > 1 && p.last() == Some(&0) {
                    p.pop();
                }
                p
            };
            prop_assert_eq!(va.cmp(&vb), trimmed(&a).cmp(&trimmed(&b)));
            prop_assert_eq!(Version::parse(&va.canonical()).unwrap(), va.clone());
        }

        /// Equality, order and hashing agree: what a map keyed by version finds is what sorting
        /// calls the same.
        #[test]
        fn equal_versions_hash_alike(
            a in "[0-9]{1,3}(\\.[0-9]{1,2}){0,2}",
            b in "[0-9]{1,3}(\\.[0-9]{1,2}){0,2}",
        ) {
            use std::hash::{BuildHasher, RandomState};
            let (va, vb) = (Version::parse(&a).unwrap(), Version::parse(&b).unwrap());
            prop_assert_eq!(va == vb, va.cmp(&vb) == std::cmp::Ordering::Equal);
            if va == vb {
                let state = RandomState::new();
                prop_assert_eq!(state.hash_one(&va), state.hash_one(&vb));
            }
        }
    }
}
