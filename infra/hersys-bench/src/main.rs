//! `hersys-bench`: generators of synthetic data and the benchmarks, apart from the operators' `hersys`. Each
//! benchmark names the document its figures go in; the documents give the command lines.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use hersys_bench::{
    bench, bench_graphs, bench_linkage_runs, bench_sweep, evaluate, gen_entries, gen_linkage, gen_reports,
};

#[derive(Parser)]
#[command(
    name = "hersys-bench",
    version,
    about = "HER-SYS extension: synthetic data and benchmarks (not part of the product; every value made up)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate synthetic data: entry records, linkage files with truth, stored reports, a day of changes.
    Gen {
        #[command(subcommand)]
        what: Gen,
    },
    /// Measure the graph export's computation and rendering on generated reports, streamed, no store
    /// (docs/benchmarks-graphs.md).
    Graphs {
        #[arg(long, default_value_t = 1_000_000)]
        reports: u64,
        #[arg(long, default_value_t = 1000)]
        days: u64,
        /// Also write the files here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The graph export on the AWS adapters against the emulators, in fresh tables: a full, then an incremental
    /// run (docs/benchmarks-graphs.md).
    ExportEmulators {
        #[arg(long, default_value_t = 20_000)]
        stored: u64,
        #[arg(long, default_value_t = 1_000)]
        changes: u64,
        #[arg(long, default_value_t = 1000)]
        days: u64,
        /// Also time a full export in this many partitions run at once (0: not).
        #[arg(long, default_value_t = 0)]
        partitions: u32,
    },
    /// The product's scheduled linkage hour by hour on `gen linkage` files: load, first run, a run with nothing new,
    /// new records, a run, a full re-link (docs/benchmarks-linkage.md).
    LinkageRuns {
        /// The directory `gen linkage` wrote.
        #[arg(long)]
        dir: PathBuf,
        /// The last N entry records of ENTRIES.csv arrive after the first runs.
        #[arg(long, default_value_t = 10_000)]
        new_entries: usize,
        /// The last N reports of REPORTS.csv arrive after the first runs.
        #[arg(long, default_value_t = 1_000)]
        new_reports: usize,
        /// The embedded store's data dir (with HMAC_SECRET set as for `hersys`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Run on the AWS adapters against the emulators, in fresh tables.
        #[arg(long)]
        aws: bool,
        #[arg(long, value_enum, default_value = "all")]
        step: bench_linkage_runs::Step,
    },
    /// Measure the ingestion handler's cost per report on the embedded store (docs/benchmarks.md).
    Reports {
        #[arg(long, default_value_t = 20_000)]
        count: usize,
        /// A fresh directory for the benchmark's store.
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Measure one re-issue sweep over DUE due cycles among STORED cycles (docs/processing-numbers.md).
    Sweep {
        #[arg(long, default_value_t = 1_000_000)]
        stored: usize,
        #[arg(long, default_value_t = 10_000)]
        due: usize,
        /// A fresh directory for the benchmark's embedded store.
        #[arg(long, required_unless_present = "aws", conflicts_with = "aws")]
        data_dir: Option<PathBuf>,
        /// Run on the AWS adapters against the emulators (`source <(infra/emulators env)`), in fresh tables.
        #[arg(long)]
        aws: bool,
    },
    /// Measure where an entry import's CPU time goes before SQLite (docs/benchmarks-entries.md).
    Entries {
        /// A CSV file as `hersys-bench gen entries` writes it.
        file: PathBuf,
    },
    /// Precision, recall and F1 of the links `hersys link` wrote, against the TRUTH.csv of `gen linkage`
    /// (docs/benchmarks-linkage.md).
    Evaluate {
        /// LINKS.csv of `hersys link` (its review band is read from beside it, LINKS.review.csv), or the product's
        /// decisions from `hersys links --out` (both bands in one file, reports named by case_number).
        #[arg(long)]
        links: PathBuf,
        #[arg(long)]
        truth: PathBuf,
    },
}

#[derive(Subcommand)]
enum Gen {
    /// Write N synthetic entry records as CSV, in the quarantine system's layout (header row first).
    Entries {
        /// How many rows.
        count: u64,
        #[arg(long)]
        out: PathBuf,
        /// Make every K-th row invalid (one spoilt field each, in turn: passport, sex, future entry date, missing
        /// family name). 0: none.
        #[arg(long, default_value_t = 0)]
        invalid_every: u64,
        /// Varies the values; the entry ids stay E000000001...
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Entry records, reports and the truth for the linkage benchmark (docs/benchmarks-linkage.md).
    Linkage(gen_linkage::Args),
    /// Store N generated reports in an embedded store, every prefecture on HER-SYS, ready for `hersys export`
    /// (docs/benchmarks-graphs.md).
    Reports {
        count: u64,
        #[arg(long, default_value_t = 1000)]
        days: u64,
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Write N reports now (half new, half changed stored ones), before a daily-export benchmark run
    /// (docs/benchmarks-graphs.md).
    Changes {
        count: u64,
        #[arg(long, default_value_t = 1000)]
        days: u64,
        /// Varies which stored reports change and the new ones' draws.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        data_dir: PathBuf,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Command::Gen { what } => match what {
            Gen::Entries { count, out, invalid_every, seed } => gen_entries::run(count, &out, invalid_every, seed),
            Gen::Linkage(args) => gen_linkage::run(args),
            Gen::Reports { count, days, data_dir } => gen_reports::store(count, days, &data_dir).await,
            Gen::Changes { count, days, seed, data_dir } => gen_reports::changes(count, days, seed, &data_dir).await,
        },
        Command::Graphs { reports, days, out } => bench_graphs::pipeline(reports, days, out),
        Command::ExportEmulators { stored, changes, days, partitions } => {
            bench_graphs::export_on_emulators(stored, changes, days, partitions).await
        }
        Command::Reports { count, data_dir } => bench::reports(&data_dir, count).await,
        Command::LinkageRuns { dir, new_entries, new_reports, data_dir, aws, step } => {
            let args = bench_linkage_runs::Args { dir, new_entries, new_reports, data_dir, aws, step };
            bench_linkage_runs::run(args).await
        }
        Command::Sweep { stored, due, data_dir, aws } => {
            let backend = match data_dir {
                Some(dir) if !aws => bench_sweep::Backend::Embedded(dir),
                _ => bench_sweep::Backend::Emulators,
            };
            bench_sweep::sweep(&backend, stored, due).await
        }
        Command::Entries { file } => bench::entries(&file),
        Command::Evaluate { links, truth } => evaluate::run(&links, &truth),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hersys-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn help_lists_every_command_and_hides_none() {
        let cli = Cli::command();
        cli.clone().debug_assert();
        let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
        assert_eq!(
            names,
            ["gen", "graphs", "export-emulators", "linkage-runs", "reports", "sweep", "entries", "evaluate"]
        );
        let generators = cli.find_subcommand("gen").map(|g| g.get_subcommands().map(|c| c.get_name()).collect());
        assert_eq!(generators, Some(vec!["entries", "linkage", "reports", "changes"]));
        let hidden = |c: &clap::Command| c.is_hide_set();
        assert!(!cli.get_subcommands().any(|c| hidden(c) || c.get_subcommands().any(hidden)));
    }
}
