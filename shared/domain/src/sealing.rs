//! AES-256-GCM over one processing number: the computation both vault adapters share (KMS data key in AWS, key
//! file locally). No I/O; the adapters own the keys. The number's keyed hash is the associated data, so a sealed
//! copy moved to another number's entry does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::TryRngCore;

use crate::cycle::SealedNumber;
use crate::error::VaultError;
use crate::keyed_hash::KeyedHash;
use crate::pii::ProcessingNumber;

/// A 256-bit data key; its `Debug` never prints it.
#[derive(Clone)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<secret>)")
    }
}

impl DataKey {
    pub fn from_slice(bytes: &[u8]) -> Result<Self, VaultError> {
        let key: [u8; 32] = bytes.try_into().map_err(|_| VaultError("the data key is not 256 bits".into()))?;
        Ok(Self(key))
    }

    /// A fresh key from the operating system's generator (the embedded vault's key file).
    pub fn random() -> Result<Self, VaultError> {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.try_fill_bytes(&mut key).map_err(|_| VaultError("no randomness".into()))?;
        Ok(Self(key))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Encrypts `number` under `key`; `key_ref` says which key (stored beside the ciphertext).
pub fn seal(
    key: &DataKey,
    key_ref: &str,
    number: &ProcessingNumber,
    hash: &KeyedHash,
) -> Result<SealedNumber, VaultError> {
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.try_fill_bytes(&mut nonce).map_err(|_| VaultError("no randomness".into()))?;
    let cipher = Aes256Gcm::new(key.0.as_slice().into());
    let payload = Payload { msg: number.expose().as_bytes(), aad: hash.as_str().as_bytes() };
    let ciphertext =
        cipher.encrypt(Nonce::from_slice(&nonce), payload).map_err(|_| VaultError("encryption failed".into()))?;
    Ok(SealedNumber { key: key_ref.to_owned(), nonce: hex::encode(nonce), ciphertext: hex::encode(ciphertext) })
}

/// Decrypts a sealed copy made by [`seal`] with the same key for the same hash.
pub fn open(key: &DataKey, sealed: &SealedNumber, hash: &KeyedHash) -> Result<ProcessingNumber, VaultError> {
    let malformed = |_| VaultError("the sealed number is malformed".into());
    let nonce: [u8; 12] = hex::decode(&sealed.nonce)
        .map_err(malformed)?
        .try_into()
        .map_err(|_| VaultError("the sealed number is malformed".into()))?;
    let ciphertext = hex::decode(&sealed.ciphertext).map_err(malformed)?;
    let cipher = Aes256Gcm::new(key.0.as_slice().into());
    let plain = cipher
        .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ciphertext, aad: hash.as_str().as_bytes() })
        .map_err(|_| VaultError("the sealed number does not open with this key and hash".into()))?;
    let text = String::from_utf8(plain).map_err(|_| VaultError("the sealed number is not text".into()))?;
    ProcessingNumber::parse("processing_number", &text).map_err(|_| VaultError("the sealed number is invalid".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_number_opens_only_with_its_key_and_hash() {
        let key = DataKey::random().unwrap();
        let number = ProcessingNumber::parse("n", "01234567").unwrap();
        let hash = KeyedHash::from_stored("h1".into());
        let sealed = seal(&key, "k", &number, &hash).unwrap();
        assert!(!sealed.ciphertext.contains(&hex::encode("01234567")));
        assert_eq!(open(&key, &sealed, &hash).unwrap().expose(), "01234567");
        assert!(open(&key, &sealed, &KeyedHash::from_stored("h2".into())).is_err());
        assert!(open(&DataKey::random().unwrap(), &sealed, &hash).is_err());
        // A fresh nonce each time: the same number never gives the same ciphertext.
        assert_ne!(seal(&key, "k", &number, &hash).unwrap().ciphertext, sealed.ciphertext);
    }
}
