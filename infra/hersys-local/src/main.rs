//! `hersys`: the product on one machine. `serve` runs every API route and the schedules of `template.yaml` on the
//! embedded default (or on AWS/emulators with `--aws`); `invoke` runs one function handler on an event file;
//! `outbox` lists the messages the local outbox holds instead of sending.

mod auth;
mod bench;
mod r#gen;
mod gen_linkage;
mod import;
mod invoke;
mod link;
mod link_summary;
mod outbox;
mod schedules;
mod serve;
mod setup;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "hersys", version, about = "HER-SYS extension: local server and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
pub struct Backend {
    /// Where the embedded store, outbox, HMAC key and exports live.
    #[arg(long, default_value = ".hersys", global = true)]
    data_dir: PathBuf,
    /// Use the DynamoDB/SES/SNS/S3 adapters (emulators when AWS_ENDPOINT_URL is set, else real AWS).
    #[arg(long, global = true)]
    aws: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API on 127.0.0.1 and fire the scheduled functions as timers.
    Serve {
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Do not fire the schedules (for tests that drive scheduled functions with `invoke`).
        #[arg(long)]
        no_schedules: bool,
        #[command(flatten)]
        backend: Backend,
    },
    /// Run one function handler once on an event JSON file and print its response.
    Invoke {
        /// ingest, reissue, linkage or export.
        function: invoke::Function,
        #[arg(long)]
        event: PathBuf,
        #[command(flatten)]
        backend: Backend,
    },
    /// Mint a development token for `serve` (signed with the data dir's key).
    Token {
        /// health_center, quarantine, app_backend, analyst or operator.
        #[arg(long)]
        role: String,
        /// The health centre's code (required for the health_center role).
        #[arg(long)]
        health_center: Option<String>,
        #[arg(long, default_value = "dev-user")]
        subject: String,
        /// Validity in hours.
        #[arg(long, default_value_t = 12)]
        hours: i64,
        #[arg(long, default_value = ".hersys")]
        data_dir: PathBuf,
    },
    /// Import records from a CSV export (see `hersys import entries --help`).
    Import {
        #[command(subcommand)]
        what: import::What,
    },
    /// Generate synthetic data for benchmarks.
    #[command(hide = true)]
    Gen {
        #[command(subcommand)]
        what: r#gen::What,
    },
    /// Measure the ingestion handler's cost per report on the embedded store (docs/benchmarks.md).
    #[command(hide = true)]
    BenchReports {
        #[arg(long, default_value_t = 20_000)]
        count: usize,
        /// A fresh directory for the benchmark's store.
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Link outbreak reports with entry records offline (issue 5): LINKS.csv and LINKS.review.csv.
    Link(link::Args),
    /// List the messages in the local outbox: time, channel, recipient, text.
    Outbox {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        #[arg(long, default_value = ".hersys")]
        data_dir: PathBuf,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { port, no_schedules, backend } => {
            platform::logging::init_with_writer(std::io::stderr);
            serve::run(&backend, port, !no_schedules).await
        }
        Command::Invoke { function, event, backend } => {
            platform::logging::init_with_writer(std::io::stderr);
            invoke::run(&backend, function, &event).await
        }
        Command::Token { role, health_center, subject, hours, data_dir } => {
            auth::mint(&data_dir, &role, health_center.as_deref(), &subject, hours).map(|t| println!("{t}"))
        }
        Command::Import { what } => {
            platform::logging::init_human();
            import::run(what).await
        }
        Command::Gen { what } => r#gen::run(what),
        Command::Link(args) => link::run(args),
        Command::BenchReports { count, data_dir } => bench::reports(&data_dir, count).await,
        Command::Outbox { json, data_dir } => {
            platform::logging::init_human();
            outbox::run(&data_dir, json)
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hersys: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
