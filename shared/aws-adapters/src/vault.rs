//! The AWS [`NumberVault`]: envelope encryption with KMS. One data key per process (`GenerateDataKey` on the first
//! seal, AES-256), used for every number the process seals; its KMS-encrypted form is stored beside each ciphertext.
//! Opening asks KMS to decrypt that data key once per process and data key, then AES-256-GCM does the rest. The
//! number never reaches KMS, and only the encrypted data key reaches storage.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use domain::cycle::SealedNumber;
use domain::error::VaultError;
use domain::keyed_hash::KeyedHash;
use domain::pii::ProcessingNumber;
use domain::ports::NumberVault;
use domain::sealing::{self, DataKey};
use tokio::sync::OnceCell;

use crate::sdk_error::describe;

pub struct KmsVault {
    client: aws_sdk_kms::Client,
    /// The KMS key (id, ARN or alias) that wraps the data keys.
    key_id: String,
    /// This process's data key and its encrypted form (hex).
    current: OnceCell<(DataKey, String)>,
    /// Data keys already decrypted, by their encrypted form: one `Decrypt` per data key per process.
    opened: Mutex<HashMap<String, DataKey>>,
}

impl KmsVault {
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        Self { client, key_id: key_id.into(), current: OnceCell::new(), opened: Mutex::new(HashMap::new()) }
    }

    async fn current(&self) -> Result<&(DataKey, String), VaultError> {
        self.current
            .get_or_try_init(|| async {
                let out = self
                    .client
                    .generate_data_key()
                    .key_id(&self.key_id)
                    .key_spec(DataKeySpec::Aes256)
                    .send()
                    .await
                    .map_err(|e| VaultError(describe("GenerateDataKey", &e).text))?;
                let plain = out.plaintext.ok_or(VaultError("GenerateDataKey: no plaintext key".into()))?;
                let wrapped = out.ciphertext_blob.ok_or(VaultError("GenerateDataKey: no encrypted key".into()))?;
                Ok((DataKey::from_slice(plain.as_ref())?, hex::encode(wrapped.as_ref())))
            })
            .await
    }

    async fn opened(&self, wrapped: &str) -> Result<DataKey, VaultError> {
        let cached =
            self.opened.lock().map_err(|_| VaultError("the key cache is poisoned".into()))?.get(wrapped).cloned();
        if let Some(key) = cached {
            return Ok(key);
        }
        let blob = hex::decode(wrapped).map_err(|_| VaultError("the encrypted data key is malformed".into()))?;
        let out = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(blob))
            .send()
            .await
            .map_err(|e| VaultError(describe("Decrypt", &e).text))?;
        let key = DataKey::from_slice(out.plaintext.ok_or(VaultError("Decrypt: no plaintext key".into()))?.as_ref())?;
        self.opened
            .lock()
            .map_err(|_| VaultError("the key cache is poisoned".into()))?
            .insert(wrapped.to_owned(), key.clone());
        Ok(key)
    }
}

#[async_trait]
impl NumberVault for KmsVault {
    async fn seal(&self, number: &ProcessingNumber, hash: &KeyedHash) -> Result<SealedNumber, VaultError> {
        let (key, wrapped) = self.current().await?;
        sealing::seal(key, wrapped, number, hash)
    }

    async fn open(&self, sealed: &SealedNumber, hash: &KeyedHash) -> Result<ProcessingNumber, VaultError> {
        let key = match self.current.get() {
            Some((key, wrapped)) if *wrapped == sealed.key => key.clone(),
            _ => self.opened(&sealed.key).await?,
        };
        sealing::open(&key, sealed, hash)
    }
}

/// Against emulators, the key SAM creates in AWS: `alias` made on a new symmetric key if it names none yet.
pub async fn create_number_key(client: &aws_sdk_kms::Client, alias: &str) -> Result<(), String> {
    if client.describe_key().key_id(alias).send().await.is_ok() {
        return Ok(());
    }
    let key = client.create_key().description("processing numbers (emulator)").send().await;
    let key_id = key
        .map_err(|e| describe("CreateKey", &e).text)?
        .key_metadata
        .map(|m| m.key_id)
        .ok_or("CreateKey: no key id")?;
    match client.create_alias().alias_name(alias).target_key_id(key_id).send().await {
        Ok(_) => Ok(()),
        // Another caller created it in between.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => Ok(()),
        Err(e) => Err(describe("CreateAlias", &e).text),
    }
}
