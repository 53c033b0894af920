//! Builds the wiring for a local command: embedded by default, AWS adapters with `--aws` or `AWS_ENDPOINT_URL`.

use std::path::Path;

use anyhow::Context;
use aws_adapters::TableNames;
use domain::app::Wiring;
use platform::{AwsResources, Config};

use crate::Backend;

/// Default resource names for `--aws` when the environment names none.
const LOCAL_TABLE_PREFIX: &str = "HersysLocal";
const LOCAL_BUCKET: &str = "hersys-local-export";
const LOCAL_STATE_BUCKET: &str = "hersys-local-export-state";

pub fn wants_aws(backend: &Backend) -> bool {
    backend.aws || std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty())
}

/// The HMAC secret: `HMAC_SECRET` if set, else a key made on first run and kept in the data dir, so that hashes
/// stay comparable across restarts.
fn local_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(s) = std::env::var("HMAC_SECRET")
        && !s.is_empty()
    {
        return Ok(s.into_bytes());
    }
    read_or_create_key(&data_dir.join("hmac.key"))
}

/// A random 32-byte key, hex, kept in `path` (mode 0600). Processes racing to create it (`hersys serve` and a
/// `hersys token` or `invoke` started beside it) all end up with the one that was published first: each writes its
/// own temporary file and publishes it with a hard link, which fails if the key already exists.
pub fn read_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        return Ok(existing.trim().as_bytes().to_vec());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let text = hex::encode(rand::random::<[u8; 32]>());
    let tmp =
        dir.join(format!(".{}.{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("key"), std::process::id()));
    std::fs::write(&tmp, &text).with_context(|| format!("writing {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    let published = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match published {
        Ok(()) => Ok(text.into_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))?
            .trim()
            .as_bytes()
            .to_vec()),
        Err(e) => Err(e).with_context(|| format!("writing {}", path.display())),
    }
}

pub enum Built {
    /// The wiring, and its stores for what only the embedded store offers (bulk loads).
    Embedded(Wiring, embedded::SqliteStores),
    Aws(Wiring),
}

impl Built {
    /// The wiring each command builds the services it runs from.
    pub fn wiring(&self) -> &Wiring {
        match self {
            Built::Embedded(wiring, _) | Built::Aws(wiring) => wiring,
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Built::Embedded(..) => "embedded (SQLite + local outbox)",
            Built::Aws(..) => "AWS adapters (DynamoDB, SES v2, SNS, S3)",
        }
    }
}

pub async fn build(backend: &Backend) -> anyhow::Result<Built> {
    let config = Config::from_env_with_secret(local_secret(&backend.data_dir)?)?;
    if !wants_aws(backend) {
        let (wiring, stores) = embedded::embedded_wiring(&backend.data_dir, platform::settings(&config)?)?;
        return Ok(Built::Embedded(wiring, stores));
    }
    let sdk = platform::sdk_config().await;
    let resources = match AwsResources::from_env() {
        Ok(r) => r,
        Err(_) => AwsResources {
            tables: TableNames::with_prefix(LOCAL_TABLE_PREFIX),
            export_bucket: Some(std::env::var("EXPORT_BUCKET").unwrap_or_else(|_| LOCAL_BUCKET.to_owned())),
            export_state_bucket: Some(
                std::env::var("EXPORT_STATE_BUCKET").unwrap_or_else(|_| LOCAL_STATE_BUCKET.to_owned()),
            ),
            // `hersys export --aws` counts everything itself when it finds no usable state.
            full_export_state_machine: None,
        },
    };
    // Against emulators, create what SAM would have created in AWS.
    if std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty()) {
        platform::create_emulated_resources(&sdk, &config, &resources).await?;
    }
    let mut wiring = platform::aws_wiring_with(&config, &sdk, resources)?;
    // EMF metrics are for CloudWatch; here stdout belongs to the command (and its first line to `serve`'s address).
    wiring.ports.metrics = std::sync::Arc::new(domain::ports::NoMetrics);
    Ok(Built::Aws(wiring))
}
