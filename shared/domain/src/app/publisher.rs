//! Public files: what the export and linkage functions write beside each other (rendering them is the `publish`
//! crate's), and the count the freshness alarms watch.

use std::sync::Arc;

use super::{MissingPort, Ports};
use crate::error::ExportError;
use crate::ports::{ExportSink, Metrics};

/// Writes public files. Built only where the export sink is.
#[derive(Clone)]
pub struct Publisher {
    sink: Arc<dyn ExportSink>,
    metrics: Arc<dyn Metrics>,
}

impl Publisher {
    pub fn new(ports: &Ports) -> Result<Publisher, MissingPort> {
        Ok(Publisher { sink: ports.export_sink()?, metrics: ports.metrics.clone() })
    }

    /// Writes one public file (created or replaced).
    pub async fn put(&self, path: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), ExportError> {
        self.sink.put_object(path, content_type, bytes).await
    }

    /// Counts one publication of the `files` (the metric `published`, dimension `Files`): the freshness alarms
    /// (`template.yaml`) fire when none is counted for a day and more.
    pub fn count_published(&self, files: &str) {
        self.metrics.count("published", &[("Files", files.to_owned())], 1.0);
    }
}
