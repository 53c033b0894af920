//! `hersys`: the product on one machine, for operators. `serve` runs every API route and the schedules of
//! `template.yaml` on the embedded default (or on AWS/emulators with `--aws`); `invoke` runs one function handler on
//! an event file; `outbox` lists the messages the local outbox holds instead of sending; `audit` lists the audit of
//! views of personal data. Generators and benchmarks are not here: they are `hersys-bench` (infra/hersys-bench).

mod audit;
mod auth;
mod dashboard;
mod demo;
mod graph_export;
mod import;
mod invoke;
mod link_files;
mod link_files_summary;
mod list_links;
mod outbox;
mod patience;
mod plural;
mod relink;
mod schedules;
mod serve;
mod setup;

use std::path::PathBuf;

use api::Role;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "hersys", version, about = "HER-SYS extension: local server and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The data dir when none is given, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = ".hersys";

#[derive(clap::Args, Clone)]
pub struct Backend {
    /// Where the embedded store, outbox, keys and exports live. `serve` and `import` start a store there if it holds
    /// none; the other commands refuse such a directory.
    #[arg(long, default_value = DEFAULT_DATA_DIR, global = true)]
    data_dir: PathBuf,
    /// Use the DynamoDB/SES/SNS/S3 adapters (emulators when AWS_ENDPOINT_URL is set, else real AWS).
    #[arg(long, global = true)]
    aws: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API on 127.0.0.1 and fire the scheduled functions as timers.
    Serve {
        /// The port on 127.0.0.1 (0: a free one, named on the first line printed).
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Do not fire the schedules (for tests that drive scheduled functions with `invoke`).
        #[arg(long)]
        no_schedules: bool,
        /// Demo data in DATA_DIR/demo: Oita's real line list, generated reports of four pilot prefectures and
        /// generated entrants linked by the linkage, exported, so the dashboard at / has real shape. No schedules
        /// (the export stays as of 2021-10-01).
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        backend: Backend,
    },
    /// Run one function handler once on an event JSON file and print its response.
    Invoke {
        /// http-api, reissue, linkage or export.
        function: invoke::Function,
        /// The event JSON file, as AWS delivers it to the function (samples in infra/events/).
        #[arg(long)]
        event: PathBuf,
        #[command(flatten)]
        backend: Backend,
    },
    /// Mint a development token for `serve` (signed with the key in its data dir).
    Token {
        /// The caller's role, which decides the routes the token opens.
        #[arg(long, value_parser = auth::role_parser())]
        role: Role,
        /// The health centre's code, 4 to 6 digits: required for --role health_center, refused for other roles.
        #[arg(long, value_name = "CODE")]
        health_center: Option<String>,
        /// Who the caller is (the token's `sub`), as the audit of views records it.
        #[arg(long, default_value = "dev-user")]
        subject: String,
        /// Validity in hours.
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(i64).range(1..))]
        hours: i64,
        /// The data dir of the `hersys serve` that checks the token: `serve` keeps its signing key there (with
        /// --aws too). A directory that holds neither that key nor a store is refused.
        #[arg(long, default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Import records from a CSV export (see `hersys import entries --help`).
    Import {
        #[command(subcommand)]
        what: import::What,
    },
    /// Run the graph-data export once (CSV, JSON, manifest into DATA_DIR/export/ or the bucket with --aws).
    Export {
        /// The export's "now" (RFC 3339); default: the clock.
        #[arg(long)]
        now: Option<String>,
        /// Count every report again instead of those written since the last export.
        #[arg(long)]
        full: bool,
        /// With --full: split the count into N partitions run at once and combined, through the export function's
        /// full-export steps, as the state machine of template.yaml runs them in AWS.
        #[arg(long)]
        partitions: Option<u32>,
        #[command(flatten)]
        backend: Backend,
    },
    /// The per-prefecture switch of the graphs from line lists to HER-SYS reports.
    GraphSource {
        #[command(subcommand)]
        what: graph_export::GraphSource,
    },
    /// Link outbreak reports with entry records offline, on files: LINKS.csv and LINKS.review.csv.
    Link(link_files::Args),
    /// Re-link every report with the current model in partitions run at once (the full re-link's state machine).
    Relink(relink::Args),
    /// Write the stored linkage decisions (links and pending reviews) as CSV, ids and scores only.
    Links(list_links::Args),
    /// List the messages in the local outbox: time, channel, recipient, text.
    Outbox {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// The data dir of the server whose outbox to list (refused if it holds no store).
        #[arg(long, default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// List the audit of views of personal data: time, health centre, caller, role, route, report, records shown.
    Audit {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// The data dir of the server whose audit to list (refused if it holds no store).
        #[arg(long, default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { port, no_schedules, demo, mut backend } => {
            platform::logging::init_with_writer(std::io::stderr);
            if demo {
                backend.data_dir = backend.data_dir.join("demo");
            }
            serve::run(&backend, port, !no_schedules && !demo, demo).await
        }
        Command::Invoke { function, event, backend } => {
            platform::logging::init_with_writer(std::io::stderr);
            invoke::run(&backend, function, &event).await
        }
        Command::Token { role, health_center, subject, hours, data_dir } => {
            auth::mint(&data_dir, role, health_center.as_deref(), &subject, hours).map(|t| println!("{t}"))
        }
        Command::Import { what } => {
            platform::logging::init_human();
            import::run(what).await
        }
        Command::Export { now, full, partitions, backend } => {
            platform::logging::init_with_writer(std::io::stderr);
            graph_export::run_export(now, full, partitions, &backend).await
        }
        Command::GraphSource { what } => {
            platform::logging::init_human();
            graph_export::run_graph_source(what).await
        }
        Command::Link(args) => link_files::run(args),
        Command::Relink(args) => {
            platform::logging::init_with_writer(std::io::stderr);
            relink::run(args).await
        }
        Command::Links(args) => {
            platform::logging::init_human();
            list_links::run(args).await
        }
        Command::Outbox { json, data_dir } => {
            platform::logging::init_human();
            outbox::run(&data_dir, json)
        }
        Command::Audit { json, data_dir } => {
            platform::logging::init_human();
            audit::run(&data_dir, json)
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// The operators' commands, and only those: generators and benchmarks are `hersys-bench`'s.
    #[test]
    fn hersys_has_the_operators_commands_only() {
        let cli = Cli::command();
        cli.clone().debug_assert();
        let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
        assert_eq!(
            names,
            [
                "serve",
                "invoke",
                "token",
                "import",
                "export",
                "graph-source",
                "link",
                "relink",
                "links",
                "outbox",
                "audit"
            ]
        );
        assert!(!cli.get_subcommands().any(|c| c.is_hide_set()));
        let link = cli.find_subcommand("link").map(|l| l.get_arguments().any(|a| a.get_id() == "truth"));
        assert_eq!(link, Some(false), "the evaluation against a truth file is `hersys-bench evaluate`");
    }

    /// Every argument of every command, hidden ones included, says in `--help` what it is for: a flag without a
    /// line there is one a new user has to guess at.
    #[test]
    fn every_argument_has_help_text() {
        fn undocumented(command: &clap::Command, path: &str, found: &mut Vec<String>) {
            let path = format!("{path} {}", command.get_name()).trim().to_owned();
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                let help = arg.get_help().or(arg.get_long_help()).map(ToString::to_string).unwrap_or_default();
                if id != "help" && id != "version" && help.trim().is_empty() {
                    found.push(format!("{path}: {id}"));
                }
            }
            for sub in command.get_subcommands() {
                undocumented(sub, &path, found);
            }
        }
        let mut cli = Cli::command();
        // Built as when it parses: global flags reach every subcommand, and clap's own arguments are added.
        cli.build();
        let mut found = Vec::new();
        undocumented(&cli, "", &mut found);
        assert_eq!(found, Vec::<String>::new(), "arguments without help text");
        let serve = cli.find_subcommand("serve").map(|s| s.get_arguments().count());
        assert!(serve.is_some_and(|n| n > 4), "the walk sees the subcommands' arguments");
    }
}
