//! Builds the wiring for a local command: embedded by default, AWS adapters with `--aws` or `AWS_ENDPOINT_URL`.

use std::path::{Path, PathBuf};

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

/// The store file of a data dir that holds one; otherwise an error naming `--data-dir` and the path. Every command
/// but `serve` and `import` works on a store one of those two started: without this check a mistyped `--data-dir`
/// would run on a new, empty store (or sign tokens with a key no server knows) and report success. It creates
/// nothing, so a refused directory is left as it was.
pub fn existing_store(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let store = data_dir.join(embedded::STORE_FILE);
    if store.is_file() {
        return Ok(store);
    }
    let default = if data_dir == Path::new(crate::DEFAULT_DATA_DIR) { " (the default)" } else { "" };
    anyhow::bail!(
        "--data-dir {}{default} holds no hersys store: give --data-dir the directory `hersys serve` or \
         `hersys import` uses, or start a new store there with `hersys serve{}`",
        data_dir.display(),
        data_dir_flag(data_dir)
    )
}

/// ` --data-dir DIR` for a command shown to the user, or nothing when DIR is the default: the flag that takes the
/// command to `data_dir`.
pub fn data_dir_flag(data_dir: &Path) -> String {
    if data_dir == Path::new(crate::DEFAULT_DATA_DIR) {
        return String::new();
    }
    // One shell word: as it is when it holds no character the shell would read, else single-quoted.
    let text = data_dir.display().to_string();
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./+,:=@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        format!(" --data-dir {text}")
    } else {
        format!(" --data-dir '{}'", text.replace('\'', r"'\''"))
    }
}

/// The wiring for a command that works on an existing store (every command but `serve` and `import`): on the
/// embedded store, a data dir without one is refused before anything is created in it.
pub async fn build(backend: &Backend) -> anyhow::Result<Built> {
    // With the AWS adapters the store is the tables: the data dir holds only keys, and is not checked.
    if !wants_aws(backend) {
        existing_store(&backend.data_dir)?;
    }
    wire(backend).await
}

/// The wiring for `serve` and `import`, the commands that may start a store: on the embedded store, a data dir
/// without one gets a new one, and stderr says so (a mistyped `--data-dir` then shows at once).
pub async fn build_creating_store(backend: &Backend) -> anyhow::Result<Built> {
    let creates = !wants_aws(backend) && existing_store(&backend.data_dir).is_err();
    let built = wire(backend).await?;
    if creates {
        eprintln!("hersys: created a new store in {}", backend.data_dir.display());
    }
    Ok(built)
}

async fn wire(backend: &Backend) -> anyhow::Result<Built> {
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
