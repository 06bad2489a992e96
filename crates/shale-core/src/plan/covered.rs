//! What a baseline covers: the migration files at or below its version when it was recorded.
//!
//! A baseline says "the migrations up to here are in this database". That holds for the files
//! there were when it was recorded, not for one added under it later (a branch's `shale new`
//! from before the switch, merged after it): that one never ran here, and without this record it
//! would count as applied, on this database only. The baseline writes an audit row listing the
//! versions it covers; a file under the baseline and not in the list is out of order.

use rustc_hash::FxHashSet as HashSet;

use crate::version::Version;

/// The name of the audit row ([`super::RecordKind::Audit`], no version) a baseline writes.
pub const COVERED_ROW_NAME: &str = "covered by the baseline";

const PREFIX: &str = "the migration files at or below the baseline ";
const SEPARATOR: &str = " when it was recorded: ";

/// The reason of that row: the baseline's version and the versions of the files it covers.
pub fn covered_reason<'v>(baseline: &Version, covered: impl IntoIterator<Item = &'v Version>) -> String {
    let versions: Vec<String> = covered.into_iter().map(Version::canonical).collect();
    format!("{PREFIX}{}{SEPARATOR}{}", baseline.canonical(), versions.join(" "))
}

/// The baseline's version and the versions [`covered_reason`] listed.
pub fn covered_by(reason: &str) -> Option<(Version, HashSet<Version>)> {
    let (baseline, versions) = reason.strip_prefix(PREFIX)?.split_once(SEPARATOR)?;
    let versions = versions.split_whitespace().map(Version::parse).collect::<Option<HashSet<_>>>()?;
    Some((Version::parse(baseline)?, versions))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn the_reason_reads_back() {
        let covered = [v("001"), v("1.2.10"), v("2017-09-23-182408")];
        let reason = covered_reason(&v("20261206120000"), &covered);
        let (baseline, versions) = covered_by(&reason).unwrap();
        assert_eq!(baseline, v("20261206120000"));
        assert_eq!(versions, covered.into_iter().collect());
        // None covered (a baseline of a version with no file) reads back as none.
        let (_, none) = covered_by(&covered_reason(&v("5"), [])).unwrap();
        assert!(none.is_empty());
        assert!(covered_by("django's history (public.django_migrations) left as it was at the baseline: x").is_none());
    }
}
