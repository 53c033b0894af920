//! The public suppression rule of the linkage statistics: counts of 1 to 4 persons, and shares built on them, are
//! not published.

use super::*;

/// Whether a count is published: `None` (hidden) for 1 to 4 persons, the graph files' rule.
pub fn published(n: u64) -> Option<u64> {
    (!is_small_count(n)).then_some(n)
}

/// Whether a share (or an interval bound) is published: `None` when its count or its base is hidden.
pub fn published_share(share: f64, count: u64, base: u64) -> Option<f64> {
    (published(count).is_some() && published(base).is_some()).then_some(share)
}
