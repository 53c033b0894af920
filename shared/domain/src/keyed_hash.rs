//! Keyed hashes (HMAC-SHA-256) of personal identifiers. Indexes and lookups use these, never the raw value, so a
//! table's keys reveal nothing to someone without the secret, and a dictionary attack on 10^8 processing numbers
//! or on passport numbers is useless without it.

use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::pii::{PassportNumber, ProcessingNumber};

/// The hex HMAC of one identifier, with a domain-separating purpose prefix.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyedHash(String);

impl KeyedHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a hash read back from storage.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Debug for KeyedHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix is enough to correlate log lines; the whole hash is not needed there.
        write!(f, "KeyedHash({}…)", self.0.get(..12).unwrap_or(&self.0))
    }
}

/// Holds the secret. Built once per cold start from configuration.
#[derive(Clone)]
pub struct KeyedHasher {
    key: Vec<u8>,
}

impl fmt::Debug for KeyedHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyedHasher(<secret>)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the HMAC secret must be at least 32 bytes")]
pub struct WeakSecret;

impl KeyedHasher {
    pub fn new(secret: &[u8]) -> Result<Self, WeakSecret> {
        if secret.len() < 32 {
            return Err(WeakSecret);
        }
        Ok(Self { key: secret.to_vec() })
    }

    fn mac(&self) -> Hmac<Sha256> {
        // new_from_slice accepts any key length for HMAC, so this cannot fail.
        match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    fn hash(&self, purpose: &str, value: &str) -> KeyedHash {
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        KeyedHash(format!("{purpose}:{}", hex::encode(mac.finalize().into_bytes())))
    }

    pub fn passport(&self, p: &PassportNumber) -> KeyedHash {
        self.hash("pp", p.expose())
    }

    pub fn processing_number(&self, n: &ProcessingNumber) -> KeyedHash {
        self.hash("pn", n.expose())
    }

    /// A blocking key of the linkage as stored in its index: 64 bits of the HMAC of the engine's in-memory key
    /// (itself a hash of a name token, a date of birth or a passport variant), as 16 hex digits. Keyed, so that
    /// the index reveals neither passport numbers nor names to whoever reads the table; short, because the index
    /// holds some twenty per record.
    pub fn block_key(&self, key: u64) -> String {
        let mut mac = self.mac();
        mac.update(b"lk\0");
        mac.update(&key.to_le_bytes());
        hex::encode(&mac.finalize().into_bytes()[..8])
    }

    /// The key a name's frequency is kept under with the linkage model: 64 bits of the HMAC of the engine's hash of
    /// the nationality and the name ([`linkage_engine::frequency`]). Keyed, so that the stored model reveals no name
    /// and a dictionary of common names cannot be hashed to read it without the secret.
    pub fn name_frequency_key(&self, key: u64) -> u64 {
        let mut mac = self.mac();
        mac.update(b"nf\0");
        mac.update(&key.to_le_bytes());
        let bytes = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&bytes[..8]);
        u64::from_le_bytes(first)
    }

    /// For keys that must not reveal a value but need no lookup by value (idempotency keys, rate-limit callers).
    pub fn opaque(&self, purpose: &str, value: &str) -> KeyedHash {
        self.hash(purpose, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_hash_and_purposes_do_not_collide() {
        let h = KeyedHasher::new(&[7u8; 32]).unwrap();
        let p = PassportNumber::parse("p", "TZ1234567").unwrap();
        assert_eq!(h.passport(&p), h.passport(&PassportNumber::parse("p", "tz 123 4567").unwrap()));
        assert!(!h.passport(&p).as_str().contains("TZ1234567"));
        assert_ne!(h.opaque("pp", "X"), h.opaque("pn", "X"));
        let other = KeyedHasher::new(&[8u8; 32]).unwrap();
        assert_ne!(h.passport(&p), other.passport(&p));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(KeyedHasher::new(b"short").is_err());
    }
}
