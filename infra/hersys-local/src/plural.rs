//! Counts in the commands' human output, each with its noun in the number it takes: "1 review", "2 reviews".

use std::fmt::Display;

/// `n` and its noun: `one` for exactly one, `many` for any other number (zero included).
pub fn counted<N: Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    format!("{n} {}", noun(&n, one, many))
}

/// The noun alone, for a list whose count is not printed: `one` for exactly one, `many` otherwise.
pub fn noun<'a, N: PartialEq + From<u8>>(n: &N, one: &'a str, many: &'a str) -> &'a str {
    if *n == N::from(1) { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_takes_the_singular_and_every_other_count_the_plural() {
        assert_eq!(counted(0_usize, "review", "reviews"), "0 reviews");
        assert_eq!(counted(1_usize, "review", "reviews"), "1 review");
        assert_eq!(counted(2_u64, "entry", "entries"), "2 entries");
        assert_eq!(counted(serde_json::json!(1), "partition", "partitions"), "1 partition");
        assert_eq!(counted(serde_json::json!(3), "partition", "partitions"), "3 partitions");
        assert_eq!(noun(&1_usize, "column", "columns"), "column");
    }
}
