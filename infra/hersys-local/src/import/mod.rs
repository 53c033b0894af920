//! `hersys import`: the files of the systems around HER-SYS into the stores, each through the same validation and
//! idempotent writes as its API route: the quarantine system's entry records ([`entries`]), the follow-up system's
//! records ([`follow_ups`]) and the municipalities' published line lists ([`line_list`]). [`rows`] is what the
//! importers share: the header's layout, row notes that name lines and fields (never values), the progress bar.
//! While the store is unavailable, a chunk is sent again for up to `--retry-for` seconds ([`crate::patience`]).

use std::path::PathBuf;

use anyhow::Context;

use crate::Backend;
use crate::patience::Patience;

pub mod entries;
pub mod follow_ups;
pub mod line_list;
pub mod rows;

use entries::{DEFAULT_CHUNK, IndexMode};

#[derive(clap::Subcommand)]
pub enum What {
    /// Import a municipality-published line list (陽性患者属性 CSV) for the graph export.
    ///
    /// Tolerant of the real variants: column names with or without the 患者_ prefix, any column order, extra
    /// columns, dates yyyy/m/d or yyyy-mm-dd, age labels such as 10歳未満, 80歳以上, 非公表. A case is stored by
    /// (prefecture, No): importing the same or a later list again replaces, never duplicates. Rows the parser
    /// refuses are counted and named by line and column (never by value).
    Linelist {
        #[command(flatten)]
        import: Import,
    },
    /// Import the entrants' follow-up system's records from a CSV export.
    ///
    /// The header row names the columns follow_up_id, passport_number, nationality, family_name, given_names,
    /// date_of_birth, sex, entry_date, follow_up_from, follow_up_until, stay_prefecture_code, sponsor_code,
    /// last_check_in_date, symptoms_reported_on and status (given_names, stay_prefecture_code, sponsor_code and the
    /// two last dates may be left out; other columns are ignored). Each row is validated like a record of
    /// `POST /v1/follow-ups`. A row for a follow-up already stored replaces it when newer (a later last check-in),
    /// and is counted stale and left out when older: importing an older export after a newer one changes nothing.
    #[command(name = "follow-ups")]
    FollowUps {
        #[command(flatten)]
        import: Import,
    },
    /// Import the quarantine system's entry records from a CSV export.
    ///
    /// The file has a header row naming the columns entry_id, passport_number, nationality, family_name,
    /// given_names, date_of_birth, sex, entry_date, port_of_entry, entry_test_result and test_date (given_names and
    /// test_date may be left out; other columns are ignored). Each row is validated like a record of
    /// `POST /v1/entries`; valid rows are stored even when others are refused, and importing the same file again
    /// changes nothing (its rows count as unchanged).
    ///
    /// Prints a summary: rows read, created, unchanged, conflicts (another record is stored under the entry id) and
    /// rejected, with the line numbers and field names of the first refused rows (never their values).
    #[command(after_help = "Exit status: 0 when the whole file was read and its valid rows stored, even if rows were \
rejected or conflicted; non-zero only when the file cannot be read (or its header lacks a required column) or the \
store fails. After a failure, running the same import again is safe: rows already stored count as unchanged.")]
    Entries {
        #[command(flatten)]
        import: Import,
        /// Rows per write (at most 1000).
        #[arg(long, default_value_t = DEFAULT_CHUNK, hide = true)]
        chunk_size: usize,
        /// Chunks being validated and written at once (default: 2 on the embedded store, 4 on DynamoDB).
        #[arg(long, hide = true)]
        in_flight: Option<usize>,
        /// Embedded store: whether to drop the passport index during the import and build it again at the end
        /// (auto: when the file is large against the table).
        #[arg(long, value_enum, default_value_t = IndexMode::Auto, hide = true)]
        passport_index: IndexMode,
    },
}

/// What every import takes: the file, the summary's form, how long to wait out an unavailable store, the store.
#[derive(clap::Args)]
pub struct Import {
    /// The CSV file (UTF-8, comma-separated, with a header row).
    file: PathBuf,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    patience: Patience,
    #[command(flatten)]
    backend: Backend,
}

pub async fn run(what: What) -> anyhow::Result<()> {
    // A file that cannot be opened fails the import before a store is created for it.
    let (What::Linelist { import } | What::FollowUps { import } | What::Entries { import, .. }) = &what;
    std::fs::File::open(&import.file).with_context(|| format!("opening {}", import.file.display()))?;
    match what {
        What::Linelist { import: Import { file, json, patience, backend } } => {
            line_list::run(&file, json, patience, &backend).await
        }
        What::FollowUps { import: Import { file, json, patience, backend } } => {
            let built = crate::setup::build_creating_store(&backend).await?;
            follow_ups::run(&built.wiring().linkage(), &file, json, patience).await
        }
        What::Entries { import: Import { file, json, patience, backend }, chunk_size, in_flight, passport_index } => {
            entries::run(&file, json, chunk_size, patience, in_flight, passport_index, &backend).await
        }
    }
}
