//! The embedded [`NumberVault`]: AES-256-GCM under one key kept in a file of the data dir, created on first use,
//! readable by its owner only (0600). The database holds only ciphertext; the key never enters it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use domain::cycle::SealedNumber;
use domain::error::VaultError;
use domain::keyed_hash::KeyedHash;
use domain::pii::ProcessingNumber;
use domain::ports::NumberVault;
use domain::sealing::{self, DataKey};

/// The key's reference stored beside each ciphertext: there is one key file per data dir.
const KEY_REF: &str = "keyfile";

pub struct KeyFileVault {
    path: PathBuf,
    key: Mutex<Option<DataKey>>,
}

impl KeyFileVault {
    /// The vault whose key is (or will be, on the first seal) the file `path`.
    pub fn new(path: &Path) -> Self {
        Self { path: path.to_owned(), key: Mutex::new(None) }
    }

    /// The key: cached, else read from the file, else (when sealing) created.
    fn key(&self, create: bool) -> Result<DataKey, VaultError> {
        let mut cached = self.key.lock().map_err(|_| VaultError("the key cache is poisoned".into()))?;
        if let Some(key) = cached.as_ref() {
            return Ok(key.clone());
        }
        let key = match read_key(&self.path)? {
            Some(key) => key,
            None if create => create_key(&self.path)?,
            None => return Err(VaultError("no number key file in the data dir".into())),
        };
        *cached = Some(key.clone());
        Ok(key)
    }
}

fn read_key(path: &Path) -> Result<Option<DataKey>, VaultError> {
    let mut bytes = Vec::new();
    match std::fs::File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes).map_err(|e| VaultError(format!("reading the key file: {}", e.kind())))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(VaultError(format!("opening the key file: {}", e.kind()))),
    };
    DataKey::from_slice(&bytes).map(Some)
}

/// Creates the key file only if absent (another process may have won: then its key is read).
fn create_key(path: &Path) -> Result<DataKey, VaultError> {
    let key = DataKey::random()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut f) => {
            f.write_all(key.bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| VaultError(format!("writing the key file: {}", e.kind())))?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_key(path)?.ok_or(VaultError("the key file vanished".into()))
        }
        Err(e) => Err(VaultError(format!("creating the key file: {}", e.kind()))),
    }
}

#[async_trait]
impl NumberVault for KeyFileVault {
    async fn seal(&self, number: &ProcessingNumber, hash: &KeyedHash) -> Result<SealedNumber, VaultError> {
        sealing::seal(&self.key(true)?, KEY_REF, number, hash)
    }

    async fn open(&self, sealed: &SealedNumber, hash: &KeyedHash) -> Result<ProcessingNumber, VaultError> {
        if sealed.key != KEY_REF {
            return Err(VaultError("sealed with another kind of key".into()));
        }
        sealing::open(&self.key(false)?, sealed, hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_key_file_is_made_on_first_use_owner_only_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("number-vault.key");
        let vault = KeyFileVault::new(&path);
        assert!(!path.exists());
        let number = ProcessingNumber::parse("n", "76543210").unwrap();
        let hash = KeyedHash::from_stored("h".into());
        let sealed = vault.seal(&number, &hash).await.unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // A second process (a new vault on the same file) opens what the first sealed.
        let again = KeyFileVault::new(&path);
        assert_eq!(again.open(&sealed, &hash).await.unwrap().expose(), "76543210");
    }
}
