//! The embedded default's wiring: every port on one SQLite file, the local outbox, a key file and an export
//! directory in the data dir. `hersys`, the benchmarks and the tests use it; the Lambdas never link it (their wiring
//! is `platform::aws_wiring`).

use std::path::Path;
use std::sync::Arc;

use domain::StoreError;
use domain::app::{Ports, Settings, Wiring};
use domain::ports::NoMetrics;
use domain::time::SystemClock;

use crate::{DirExportSink, KeyFileVault, SqliteStores};

/// The embedded vault's key file in the data dir (created on first use, 0600).
pub const NUMBER_KEY_FILE: &str = "number-vault.key";

/// The store's SQLite file in the data dir (the outbox shares it): a directory holding it is a data dir in use.
pub const STORE_FILE: &str = "hersys.sqlite3";

/// The embedded default: SQLite and the outbox in `DATA_DIR/hersys.sqlite3`, exports in `DATA_DIR/export/`, the key
/// sealing live processing numbers in `DATA_DIR/number-vault.key`.
/// Returns the stores too, for the local tools (outbox listing, opt-out list).
pub fn embedded_wiring(data_dir: &Path, settings: Settings) -> Result<(Wiring, SqliteStores), StoreError> {
    let stores = SqliteStores::open(&data_dir.join(STORE_FILE))?;
    let shared = Arc::new(stores.clone());
    let ports = Ports {
        reports: shared.clone(),
        entries: shared.clone(),
        follow_ups: shared.clone(),
        cycles: shared.clone(),
        counters: shared.clone(),
        idempotency: shared.clone(),
        graph_sources: shared.clone(),
        leases: shared.clone(),
        export_state: Some(shared.clone()),
        // Locally a scheduled export without a usable state counts everything itself.
        full_runs: None,
        audit: shared.clone(),
        link_index: shared.clone(),
        links: shared,
        notifier: Arc::new(stores.outbox()),
        vault: Arc::new(KeyFileVault::new(&data_dir.join(NUMBER_KEY_FILE))),
        export: Some(Arc::new(DirExportSink::new(data_dir.join("export")))),
        clock: Arc::new(SystemClock),
        // Locally the operator's numbers come from GET /v1/processing-numbers/stats; stdout belongs to the CLI.
        metrics: Arc::new(NoMetrics),
    };
    Ok((Wiring { ports, settings }, stores))
}
