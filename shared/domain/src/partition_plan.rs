//! How many partitions a full run takes: as few as keep each partition's work within [`BUDGET_SECONDS`] on a Lambda
//! of the configured memory, from the counts the start step sees. Pure arithmetic: the rates below are measured or
//! derived where each one says (docs/operations.md, "Partitions sized by work", gives the national figures).
//!
//! A partition's time is its CPU time, spread over the share of a vCPU its memory buys (Lambda gives one vCPU at
//! 1,769 MB), plus the time it waits for DynamoDB, which memory does not change.

/// A partition's work stays within this: well inside Lambda's 900 s, so that a slow day, a retry's pause or a
/// DynamoDB hiccup never meets the timeout.
pub const BUDGET_SECONDS: f64 = 300.0;

/// Lambda's memory per full vCPU (AWS Lambda documentation: "at 1,769 MB, a function has the equivalent of one vCPU").
pub const MB_PER_VCPU: f64 = 1769.0;

/// Seconds per unit of work on one full core (measured on this project's 2-core machine) and waiting on DynamoDB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub cpu: f64,
    pub wait: f64,
}

/// A record read by a partition's parallel Scan (a report, an entry record, a follow-up): CPU 27 µs (a full export's
/// partition counted 37,000 reports a second on the embedded store, docs/benchmarks-graphs.md), and 15 µs of waiting
/// (a Scan page of 1 MB, about 2,000 records, in about 30 ms).
pub const SCANNED_RECORD: Rate = Rate { cpu: 27e-6, wait: 15e-6 };

/// A candidate report decided again through the stored index: CPU 0.95 ms (1,050 a CPU-second,
/// docs/benchmarks-linkage.md) and 14.2 DynamoDB requests (measured on DynamoDB Local) at about 1.5 ms each.
pub const DECIDED_REPORT: Rate = Rate { cpu: 0.95e-3, wait: 14.2 * 1.5e-3 };

/// A report's counted fact, read back (BatchGetItem of 100) and written when it changed. Bound by the table, not the
/// partition: 40 partitions at once share the table's 40,000 writes a second (pre-warmed: docs/operations.md,
/// "Capacity"), 1,000 each, so 1 ms a fact. Counted as written, the upper bound: a first full export writes every
/// one.
pub const COUNTED_FACT: Rate = Rate { cpu: 0.0, wait: 1e-3 };

/// An index row written by the first run's filing (one per blocking key of a record): bound by the table as a
/// counted fact is, 40 partitions at once sharing the LinkIndex table's 40,000 writes a second (pre-warmed), so 1 ms.
pub const INDEX_ROW: Rate = Rate { cpu: 0.0, wait: 1e-3 };

/// Blocking keys filed per entry record and per candidate report (the engine's keys, measured on generated data:
/// about 17 and 12).
pub const KEYS_PER_ENTRY: u64 = 17;
pub const KEYS_PER_REPORT: u64 = 12;

/// What a full run will read and decide, from the stores' approximate counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Workload {
    /// Every report (each partition scans its segment).
    pub reports: u64,
    /// Reports decided again by the re-link (a passport number, or a nationality other than Japan's).
    pub candidates: u64,
    pub entries: u64,
    pub follow_ups: u64,
}

/// The work of a plan, for the start step's log and the docs' table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub partitions: u32,
    /// The whole run's work in Lambda seconds at the memory given, and one partition's share of it.
    pub total_seconds: f64,
    pub partition_seconds: f64,
}

fn seconds(rate: Rate, count: u64, memory_mb: u32) -> f64 {
    let share = (f64::from(memory_mb) / MB_PER_VCPU).min(1.0);
    count as f64 * (rate.cpu / share + rate.wait)
}

fn plan(total_seconds: f64, max_partitions: u32) -> Plan {
    let wanted = (total_seconds / BUDGET_SECONDS).ceil().max(1.0);
    let partitions = if wanted >= f64::from(max_partitions) { max_partitions } else { wanted as u32 };
    Plan { partitions, total_seconds, partition_seconds: total_seconds / f64::from(partitions) }
}

/// A full re-link: every partition scans its segment of the reports, entry records and follow-ups (the statistics)
/// and decides its candidates again.
pub fn full_linkage(work: Workload, memory_mb: u32, max_partitions: u32) -> Plan {
    let scanned = work.reports + work.entries + work.follow_ups;
    let total = seconds(SCANNED_RECORD, scanned, memory_mb) + seconds(DECIDED_REPORT, work.candidates, memory_mb);
    plan(total, max_partitions)
}

/// The first run's filing: every filing partition scans its segment of the entry records and reports and writes their
/// index rows. At national scale this is bound by the table (≈500 million rows), and the plan may reach the maximum.
pub fn first_filing(work: Workload, memory_mb: u32, max_partitions: u32) -> Plan {
    let rows = work.entries * KEYS_PER_ENTRY + work.candidates * KEYS_PER_REPORT;
    let total = seconds(SCANNED_RECORD, work.entries + work.reports, memory_mb) + seconds(INDEX_ROW, rows, memory_mb);
    plan(total, max_partitions)
}

/// A full export: every partition scans its segment of the reports and records their counted facts.
pub fn full_export(work: Workload, memory_mb: u32, max_partitions: u32) -> Plan {
    let total = seconds(SCANNED_RECORD, work.reports, memory_mb) + seconds(COUNTED_FACT, work.reports, memory_mb);
    plan(total, max_partitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NATIONAL: Workload =
        Workload { reports: 33_000_000, candidates: 1_000_000, entries: 30_000_000, follow_ups: 30_000_000 };

    #[test]
    fn a_small_store_is_one_partition() {
        let work = Workload { reports: 1_000, candidates: 100, entries: 4_000, follow_ups: 0 };
        assert_eq!(full_linkage(work, 2048, 1000).partitions, 1);
        assert_eq!(full_export(work, 1024, 1000).partitions, 1);
        assert_eq!(full_export(Workload::default(), 1024, 1000).partitions, 1);
    }

    #[test]
    fn every_partition_stays_within_the_budget_at_national_scale() {
        for (plan, memory) in [(full_linkage(NATIONAL, 2048, 1000), 2048), (full_export(NATIONAL, 1024, 1000), 1024)] {
            assert!(plan.partition_seconds <= BUDGET_SECONDS, "{plan:?} at {memory} MB");
            // As few as that takes: one fewer would go over.
            assert!(plan.total_seconds / f64::from(plan.partitions - 1) > BUDGET_SECONDS, "{plan:?}");
        }
    }

    /// The national figures of docs/operations.md ("Partitions sized by work"), at the template's memory.
    #[test]
    fn the_national_plans_are_the_documented_ones() {
        let linkage = full_linkage(NATIONAL, 2048, 1000);
        assert_eq!((linkage.partitions, linkage.total_seconds.round()), (88, 26_156.0), "{linkage:?}");
        let export = full_export(NATIONAL, 1024, 1000);
        assert_eq!((export.partitions, export.total_seconds.round()), (117, 35_034.0), "{export:?}");
    }

    /// The first national run's filing is bound by the index table: it takes the maximum, each partition over the
    /// budget but inside Lambda's 900 s (docs/operations.md).
    #[test]
    fn the_first_national_filing_takes_the_maximum() {
        let filing = first_filing(NATIONAL, 2048, 1000);
        assert_eq!(filing.partitions, 1000, "{filing:?}");
        assert!(filing.partition_seconds > BUDGET_SECONDS && filing.partition_seconds < 900.0, "{filing:?}");
        assert_eq!(filing.total_seconds.round(), 524_646.0, "{filing:?}");
    }

    #[test]
    fn less_memory_means_less_cpu_and_more_partitions() {
        let small = full_linkage(NATIONAL, 512, 1000);
        let large = full_linkage(NATIONAL, 2048, 1000);
        assert!(small.partitions > large.partitions, "{small:?} {large:?}");
        // Past one vCPU the CPU part no longer shrinks.
        assert_eq!(full_linkage(NATIONAL, 4096, 1000), large);
    }

    #[test]
    fn the_plan_never_exceeds_the_maximum() {
        let huge = Workload { reports: u64::MAX / 4, ..NATIONAL };
        assert_eq!(full_export(huge, 1024, 1000).partitions, 1000);
    }
}
