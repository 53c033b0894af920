//! The runs over everything that run in partitions and take a lease: one of each at a time, and none beside a
//! scheduled run of its kind ([`crate::ports::FullRunLeases`]).

/// The two runs that take a lease: one of each at a time, and none beside a scheduled run of its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullRun {
    Export,
    Linkage,
}

impl FullRun {
    /// The run's name in messages and errors (`full_export`, `full_linkage`).
    pub fn name(self) -> &'static str {
        match self {
            FullRun::Export => "full_export",
            FullRun::Linkage => "full_linkage",
        }
    }
}

impl std::fmt::Display for FullRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FullRun::Export => "a full export",
            FullRun::Linkage => "a full re-link",
        })
    }
}
