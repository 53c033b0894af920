//! What the two full runs in partitions share (the graph export's, [`super::full_export`], and the re-link's,
//! [`super::full_linkage`]): the bound on partitions, the plan's log line, and the partitions' partial results,
//! saved privately by one step and read back whole by the combining step.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{AppError, FullRun};
use crate::partition_plan::Plan;
use crate::ports::ExportStateStore;

/// The most partitions a run may have: Step Functions' Distributed Map runs up to thousands of children; the
/// store's parallel Scan takes up to a million segments. A thousand is far more than a national run needs.
pub const MAX_PARTITIONS: u32 = 1_000;

/// Refuses a number of partitions outside `1..=MAX_PARTITIONS`, naming the field.
pub(super) fn check_partitions(partitions: u32) -> Result<(), AppError> {
    if (1..=MAX_PARTITIONS).contains(&partitions) {
        return Ok(());
    }
    Err(AppError::Invalid(crate::ValidationError(vec![crate::FieldError::new(
        "partitions",
        crate::Problem::Invalid("must be 1 to 1000"),
    )])))
}

/// Logs a full run's plan and gives it back.
pub(super) fn log_plan(run: FullRun, plan: Plan, memory_mb: u32) -> Plan {
    tracing::info!(
        run = run.name(),
        partitions = plan.partitions,
        seconds = plan.total_seconds.round(),
        memory_mb,
        "partitions planned"
    );
    plan
}

/// The partitions' partial results of full runs, in the export state store (never published).
#[derive(Clone)]
pub(super) struct Partials {
    store: Arc<dyn ExportStateStore>,
}

impl Partials {
    pub(super) fn new(store: Arc<dyn ExportStateStore>) -> Partials {
        Partials { store }
    }

    /// Saves a partition's partial result of a full run (graph export or re-link) privately in the export state
    /// store: `format`, a tag naming the layout, then the value in postcard.
    pub(super) async fn save<T: Serialize>(
        &self,
        run: &str,
        index: u32,
        format: &[u8],
        value: &T,
    ) -> Result<(), AppError> {
        let mut bytes = format.to_vec();
        bytes.extend(postcard::to_stdvec(value).map_err(|e| AppError::Internal(e.to_string()))?);
        Ok(self.store.save_partition_result(run, index, bytes).await?)
    }

    /// The partial results of partitions 0 to `of` of a full run, in order; fails naming the first partition that
    /// saved none or whose result is of another layout.
    pub(super) async fn load<T: DeserializeOwned>(
        &self,
        run: &str,
        of: u32,
        format: &[u8],
        what: &str,
    ) -> Result<Vec<T>, AppError> {
        let mut partials = Vec::with_capacity(of as usize);
        for index in 0..of {
            let bytes = self.store.load_partition_result(run, index).await?.ok_or_else(|| {
                AppError::Internal(format!("partition {index} of the {what} has saved no partial result"))
            })?;
            let partial =
                bytes.strip_prefix(format).and_then(|body| postcard::from_bytes(body).ok()).ok_or_else(|| {
                    AppError::Internal(format!("partition {index}'s result of the {what} does not decode"))
                })?;
            partials.push(partial);
        }
        Ok(partials)
    }

    /// Removes a run's partial results (combined, or the run abandoned).
    pub(super) async fn delete(&self, run: &str, of: u32) -> Result<(), AppError> {
        Ok(self.store.delete_partition_results(run, of).await?)
    }
}
