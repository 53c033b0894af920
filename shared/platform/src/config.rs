//! Configuration, read once per cold start. Every missing or malformed variable is named in the error.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {why}")]
    Invalid { name: &'static str, why: &'static str },
}

/// Settings shared by every function. Table names and the bucket live with their adapters.
#[derive(Clone)]
pub struct Config {
    /// Key of the HMAC that hashes passport and processing numbers. At least 32 bytes.
    pub hmac_secret: Vec<u8>,
    /// Sender of e-mails (an SES identity).
    pub ses_from_address: String,
    /// How long after the fourth re-issue the reminder goes out.
    pub reminder_after: Duration,
    /// Japan-time window without messages, e.g. `21:00-08:00`.
    pub quiet_hours: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("hmac_secret", &"<secret>")
            .field("ses_from_address", &self.ses_from_address)
            .field("reminder_after", &self.reminder_after)
            .field("quiet_hours", &self.quiet_hours)
            .finish()
    }
}

pub const DEFAULT_FROM_ADDRESS: &str = "no-reply@hersys.example.jp";

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Reads `HMAC_SECRET` (required), `SES_FROM_ADDRESS`, `REMINDER_AFTER_MINUTES` (default 30) and `QUIET_HOURS`
    /// (default `21:00-08:00`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let secret = var("HMAC_SECRET").ok_or(ConfigError::Missing("HMAC_SECRET"))?;
        Self::from_env_with_secret(secret.into_bytes())
    }

    /// As [`Config::from_env`], with the secret supplied by the caller (the local binary keeps one in its data dir).
    pub fn from_env_with_secret(hmac_secret: Vec<u8>) -> Result<Self, ConfigError> {
        if hmac_secret.len() < 32 {
            return Err(ConfigError::Invalid { name: "HMAC_SECRET", why: "must be at least 32 bytes" });
        }
        let reminder_minutes = match var("REMINDER_AFTER_MINUTES") {
            None => 30,
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|m| (1..60).contains(m))
                .ok_or(ConfigError::Invalid { name: "REMINDER_AFTER_MINUTES", why: "must be a whole number of minutes from 1 to 59" })?,
        };
        Ok(Self {
            hmac_secret,
            ses_from_address: var("SES_FROM_ADDRESS").unwrap_or_else(|| DEFAULT_FROM_ADDRESS.to_owned()),
            reminder_after: Duration::from_secs(reminder_minutes * 60),
            quiet_hours: var("QUIET_HOURS").unwrap_or_else(|| "21:00-08:00".to_owned()),
        })
    }
}
