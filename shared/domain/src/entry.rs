//! Entry records from the quarantine system (one per arrival at a port of entry).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::keyed_hash::KeyedHash;
use crate::pii::{PassportNumber, PersonName};
use crate::report::Sex;


/// Result of the test taken at the border.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryTestResult {
    Negative,
    Positive,
    NotTested,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    /// The quarantine system's own id; not personal data.
    pub entry_id: String,
    pub passport_number: PassportNumber,
    pub passport_hash: KeyedHash,
    pub nationality: String,
    pub family_name: PersonName,
    pub given_names: Option<PersonName>,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    pub entry_date: NaiveDate,
    /// IATA airport or seaport code, e.g. NRT.
    pub port_of_entry: String,
    pub entry_test_result: EntryTestResult,
    pub test_date: Option<NaiveDate>,
}
