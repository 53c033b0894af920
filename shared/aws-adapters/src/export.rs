//! Exported graph data on S3. Encryption is the bucket's default (SSE-KMS), so objects need no per-request setting.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::primitives::ByteStream;
use domain::StoreError;
use domain::error::ExportError;
use domain::ports::{ExportSink, ExportStateStore};

use crate::sdk_error::describe;

/// An S3 client from the shared SDK config. Path-style addressing (`host/bucket/key`) is needed by emulators such
/// as moto, which do not serve `bucket.host` names.
pub fn s3_client(sdk_config: &SdkConfig, force_path_style: bool) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk_config).force_path_style(force_path_style).build();
    aws_sdk_s3::Client::from_conf(config)
}

#[derive(Debug, Clone)]
pub struct S3ExportSink {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    /// Key prefix without a trailing slash, e.g. `open-data`; empty for the bucket's root.
    pub prefix: String,
}

impl S3ExportSink {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into(), prefix: prefix.into() }
    }

    /// The object key of a relative export path; refuses paths that could escape the prefix.
    fn key(&self, path: &str) -> Result<String, ExportError> {
        if path.is_empty() || path.starts_with('/') || path.split('/').any(|part| part.is_empty() || part == "..") {
            return Err(ExportError(format!("not a relative export path: {path}")));
        }
        let prefix = self.prefix.trim_end_matches('/');
        Ok(if prefix.is_empty() { path.to_owned() } else { format!("{prefix}/{path}") })
    }
}

#[async_trait]
impl ExportSink for S3ExportSink {
    async fn put_object(&self, path: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), ExportError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(path)?)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| ExportError(describe("PutObject", &e).text))?;
        Ok(())
    }
}

/// The graph export's state between runs: one object in a private bucket of its own (never the published one: the
/// tallies hold unsuppressed small counts). The bucket keeps old versions for a while, so a bad run can be undone.
#[derive(Debug, Clone)]
pub struct S3ExportState {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    pub key: String,
}

impl S3ExportState {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into(), key: "graph-export/state.bin".to_owned() }
    }

    /// Where a partition of a full run (graph export or re-link) keeps its partial count: under the run's id (an id
    /// of our making, `[0-9a-f-]`, so the key cannot leave the prefix, and unique across both kinds of run).
    fn partial_key(&self, run: &str, index: u32) -> String {
        format!("full-runs/{run}/{index}.bin")
    }
}

#[async_trait]
impl ExportStateStore for S3ExportState {
    async fn load_export_state(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let out = match self.client.get_object().bucket(&self.bucket).key(&self.key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(StoreError::Unavailable(describe("GetObject", &e).text)),
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|_| StoreError::Unavailable("GetObject: the body could not be read".to_owned()))?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    async fn save_export_state(&self, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/octet-stream")
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(describe("PutObject", &e).text))?;
        Ok(())
    }

    async fn save_partition_result(&self, run: &str, index: u32, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.partial_key(run, index))
            .content_type("application/octet-stream")
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(describe("PutObject", &e).text))?;
        Ok(())
    }

    async fn load_partition_result(&self, run: &str, index: u32) -> Result<Option<Vec<u8>>, StoreError> {
        let key = self.partial_key(run, index);
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(StoreError::Unavailable(describe("GetObject", &e).text)),
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|_| StoreError::Unavailable("GetObject: the body could not be read".to_owned()))?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    async fn delete_partition_results(&self, run: &str, of: u32) -> Result<(), StoreError> {
        for index in 0..of {
            // Deleting an absent key succeeds in S3.
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(self.partial_key(run, index))
                .send()
                .await
                .map_err(|e| StoreError::Unavailable(describe("DeleteObject", &e).text))?;
        }
        Ok(())
    }
}

/// Creates the export bucket where SAM would have (emulators, local runs). An existing bucket of ours is fine.
pub async fn create_bucket(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    region: &str,
) -> Result<(), domain::error::ExportError> {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let mut request = client.create_bucket().bucket(bucket);
    // us-east-1 is the one region that refuses an explicit location constraint.
    if region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_bucket_already_owned_by_you()) => Ok(()),
        Err(e) => {
            Err(domain::error::ExportError(format!("CreateBucket: {}", aws_sdk_s3::error::DisplayErrorContext(&e))))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn sink(prefix: &str) -> S3ExportSink {
        let config = aws_sdk_s3::Config::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        S3ExportSink::new(aws_sdk_s3::Client::from_conf(config), "bucket", prefix)
    }

    #[test]
    fn keys_sit_under_the_prefix_and_cannot_escape_it() {
        assert_eq!(sink("open-data/").key("csv/a.csv").unwrap(), "open-data/csv/a.csv");
        assert_eq!(sink("").key("csv/a.csv").unwrap(), "csv/a.csv");
        for bad in ["", "/a.csv", "../a.csv", "csv/../../a.csv", "csv//a.csv", "csv/"] {
            assert!(sink("p").key(bad).is_err(), "{bad}");
        }
    }
}
