//! The local stand-in for the S3 export bucket: a directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use domain::error::ExportError;
use domain::ports::ExportSink;

/// Writes each object to `root/<path>`, replacing it atomically: a reader sees the old file or the new one, never
/// a half-written one.
#[derive(Debug, Clone)]
pub struct DirExportSink {
    pub root: PathBuf,
}

impl DirExportSink {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

/// Joins a relative `/`-separated object path under `root`, refusing anything that could leave it.
fn target(root: &Path, path: &str) -> Result<PathBuf, ExportError> {
    let refused =
        || ExportError(format!("refused object path {path:?}: it must be relative, without . or .. segments"));
    let mut out = root.to_path_buf();
    for segment in path.split('/') {
        // Backslashes and NULs are refused too: the former is a separator on Windows, the latter cut paths short.
        if segment.is_empty() || segment == "." || segment == ".." || segment.contains(['\\', '\0']) {
            return Err(refused());
        }
        out.push(segment);
    }
    Ok(out)
}

fn write_atomically(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // The temporary file sits in the target's directory so that the rename stays on one file system (atomic).
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

#[async_trait]
impl ExportSink for DirExportSink {
    /// `content_type` has no place in a plain file and is ignored.
    async fn put_object(&self, path: &str, _content_type: &str, bytes: Vec<u8>) -> Result<(), ExportError> {
        let target = target(&self.root, path)?;
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || write_atomically(&target, &bytes))
            .await
            .map_err(|_| ExportError("the export task failed".to_owned()))?
            .map_err(|e| ExportError(format!("cannot write {path:?}: {}", e.kind())))
    }
}
