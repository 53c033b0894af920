//! Configuration, read once per cold start. Every missing or malformed variable is named in the error.

use domain::cycle::{AppLink, AppLinkError, Policy, QuietHours};

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
    /// The processing-number rules: reminder delay (`REMINDER_AFTER_MINUTES`) and quiet hours (`QUIET_HOURS`,
    /// Japan time, e.g. `21:00-08:00`) come from the environment, the rest are fixed rules.
    pub policy: Policy,
    /// `APP_LINK_BASE`: the prefix of the link in every number message and reminder that opens COCOA with the number
    /// filled in (the 8 digits are appended). Default [`domain::cycle::DEFAULT_APP_LINK_BASE`].
    pub app_link: AppLink,
    /// `NUMBER_KEY_ID`: the KMS key (id, ARN or alias) that wraps the data keys sealing live numbers in AWS. Default
    /// [`DEFAULT_NUMBER_KEY_ID`], the alias `create_emulated_resources` makes on emulators.
    pub number_key_id: String,
    /// `LINKAGE_WINDOW_DAYS`: an entry may be linked to a report diagnosed at most this many days after it (1 to
    /// 3650). Default [`linkage_engine::DEFAULT_WINDOW_DAYS`].
    pub linkage_window_days: i32,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (Lambda sets it): the memory, hence the CPU share, a full run's partitions
    /// are sized for. Default: one full vCPU's worth ([`domain::partition_plan::MB_PER_VCPU`]), as a local process.
    pub memory_mb: u32,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("hmac_secret", &"<secret>")
            .field("ses_from_address", &self.ses_from_address)
            .field("policy", &self.policy)
            .field("app_link", &self.app_link)
            .field("number_key_id", &self.number_key_id)
            .field("linkage_window_days", &self.linkage_window_days)
            .field("memory_mb", &self.memory_mb)
            .finish()
    }
}

pub const DEFAULT_FROM_ADDRESS: &str = "no-reply@hersys.example.jp";
pub const DEFAULT_NUMBER_KEY_ID: &str = "alias/hersys-processing-numbers";

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Reads `SES_FROM_ADDRESS`, `REMINDER_AFTER_MINUTES` (default 30), `QUIET_HOURS` (default `21:00-08:00`),
    /// `APP_LINK_BASE`, `NUMBER_KEY_ID` and `LINKAGE_WINDOW_DAYS`;
    /// the HMAC secret is supplied by the caller (Secrets Manager in Lambda, see `aws_wiring`; the local binary keeps
    /// one in its data dir).
    pub fn from_env_with_secret(hmac_secret: Vec<u8>) -> Result<Self, ConfigError> {
        if hmac_secret.len() < 32 {
            return Err(ConfigError::Invalid { name: "HMAC_SECRET", why: "must be at least 32 bytes" });
        }
        let reminder_minutes = match var("REMINDER_AFTER_MINUTES") {
            None => 30,
            Some(v) => v.trim().parse::<u64>().ok().filter(|m| (1..60).contains(m)).ok_or(ConfigError::Invalid {
                name: "REMINDER_AFTER_MINUTES",
                why: "must be a whole number of minutes from 1 to 59",
            })?,
        };
        let quiet = match var("QUIET_HOURS") {
            None => QuietHours::default(),
            Some(v) => QuietHours::parse("QUIET_HOURS", &v)
                .map_err(|_| ConfigError::Invalid { name: "QUIET_HOURS", why: "must be HH:MM-HH:MM (Japan time)" })?,
        };
        let app_link = match var("APP_LINK_BASE") {
            None => AppLink::default(),
            Some(v) => AppLink::parse(v.trim()).map_err(|e| ConfigError::Invalid {
                name: "APP_LINK_BASE",
                why: match e {
                    AppLinkError::NotHttps => "must start with https://",
                    AppLinkError::TooLong => "must be at most 64 characters",
                    AppLinkError::NotPlainAscii => "must be printable ASCII without spaces",
                },
            })?,
        };
        let linkage_window_days = match var("LINKAGE_WINDOW_DAYS") {
            None => linkage_engine::DEFAULT_WINDOW_DAYS,
            Some(v) => v.trim().parse::<i32>().ok().filter(|d| (1..=3650).contains(d)).ok_or(ConfigError::Invalid {
                name: "LINKAGE_WINDOW_DAYS",
                why: "must be a whole number of days from 1 to 3650",
            })?,
        };
        let minutes = i64::try_from(reminder_minutes).unwrap_or(30);
        Ok(Self {
            hmac_secret,
            ses_from_address: var("SES_FROM_ADDRESS").unwrap_or_else(|| DEFAULT_FROM_ADDRESS.to_owned()),
            policy: Policy { reminder_after: chrono::Duration::minutes(minutes), quiet, ..Policy::default() },
            app_link,
            number_key_id: var("NUMBER_KEY_ID").unwrap_or_else(|| DEFAULT_NUMBER_KEY_ID.to_owned()),
            linkage_window_days,
            // Set by Lambda itself; a value that does not parse is not ours to refuse.
            memory_mb: var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
                .and_then(|v| v.trim().parse::<u32>().ok())
                .filter(|mb| *mb >= 128)
                .unwrap_or(domain::partition_plan::MB_PER_VCPU as u32),
        })
    }
}
