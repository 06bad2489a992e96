//! One of N slices of a fleet, so that one fleet runs on many machines (a CI matrix, a Kubernetes
//! indexed Job): machine K of N takes the targets of slice K.
//!
//! A target's slice depends only on its own name (a SHA-256 of it, modulo N), not on its place in
//! the list: when a tenant is added or removed between the moment one machine reads the targets and
//! the moment another does, every target still lands in exactly one slice, and no other target
//! moves. The price is that slices are even only on average (a few targets can leave a slice
//! empty). Overlapping runs stay safe whatever happens: each database has its own migration lock.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use super::Target;

/// The K-th (1-based) of N slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Slice `index` (1..=count) of `count`; None when out of range.
    pub fn new(index: u32, count: u32) -> Option<Shard> {
        (count >= 1 && (1..=count).contains(&index)).then_some(Shard { index, count })
    }

    pub fn index(self) -> u32 {
        self.index
    }

    pub fn count(self) -> u32 {
        self.count
    }

    /// The slice (1..=count) a target named `name` belongs to.
    pub fn slice_of(name: &str, count: u32) -> u32 {
        let digest = Sha256::digest(name.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32 + 1
    }

    pub fn holds(self, target: &Target) -> bool {
        Shard::slice_of(&target.name, self.count) == self.index
    }

    /// The targets of this slice, in their original order.
    pub fn select(self, targets: Vec<Target>) -> Vec<Target> {
        targets.into_iter().filter(|t| self.holds(t)).collect()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a `K/N` text is not a shard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected K/N with 1 <= K <= N (such as 2/4), got `{0}`")]
pub struct ShardParseError(pub String);

impl FromStr for Shard {
    type Err = ShardParseError;

    fn from_str(text: &str) -> Result<Shard, ShardParseError> {
        let invalid = || ShardParseError(text.to_string());
        let (index, count) = text.trim().split_once('/').ok_or_else(invalid)?;
        let index: u32 = index.trim().parse().map_err(|_| invalid())?;
        let count: u32 = count.trim().parse().map_err(|_| invalid())?;
        Shard::new(index, count).ok_or_else(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::Target;
    use shale_pg::ConnectionSettings;

    fn target(name: &str) -> Target {
        Target { name: name.to_string(), connection: ConnectionSettings::default(), schema: None }
    }

    #[test]
    fn parses_k_of_n_and_refuses_the_rest() {
        assert_eq!("2/4".parse::<Shard>().unwrap(), Shard::new(2, 4).unwrap());
        assert_eq!(" 1 / 1 ".parse::<Shard>().unwrap().to_string(), "1/1");
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", "/", "-1/4", "1/4/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad} was accepted");
        }
        assert_eq!(
            "5/4".parse::<Shard>().unwrap_err().to_string(),
            "expected K/N with 1 <= K <= N (such as 2/4), got `5/4`"
        );
    }

    #[test]
    fn n_shards_cover_every_target_exactly_once() {
        let names: Vec<String> = (0..2000).map(|i| format!("tenant_{i}")).collect();
        for count in [1u32, 2, 3, 7, 16] {
            let mut seen = vec![0u32; names.len()];
            let mut sizes = Vec::new();
            for index in 1..=count {
                let shard = Shard::new(index, count).unwrap();
                let slice = shard.select(names.iter().map(|n| target(n)).collect());
                sizes.push(slice.len());
                for t in slice {
                    let i: usize = t.name["tenant_".len()..].parse().unwrap();
                    seen[i] += 1;
                }
            }
            assert!(seen.iter().all(|&s| s == 1), "{count} shards: a target was taken {:?} times", seen.iter().max());
            // Even on average: no slice more than 30% off the mean with 2,000 targets.
            let mean = names.len() as f64 / count as f64;
            assert!(sizes.iter().all(|&s| (s as f64 - mean).abs() < 0.3 * mean), "{count} shards: sizes {sizes:?}");
        }
    }

    #[test]
    fn a_target_keeps_its_slice_when_others_come_and_go() {
        let before: Vec<u32> = (0..100).map(|i| Shard::slice_of(&format!("db{i}"), 4)).collect();
        // The slice is a function of the name alone: the same on any machine and in any list.
        let again: Vec<u32> = (0..100).rev().map(|i| Shard::slice_of(&format!("db{i}"), 4)).rev().collect();
        assert_eq!(before, again);
        assert!(before.iter().all(|s| (1..=4).contains(s)));
    }
}
