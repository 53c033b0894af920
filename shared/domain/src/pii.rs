//! Types for personal data. Their `Debug` and `Display` never show the value, so a `{:?}` in a log line or an
//! error message cannot leak it. The raw value is reachable only through `expose()`, which is easy to grep for.
//!
//! Each type is built only through its parser, so holding one means the value is already normalised.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

use crate::error::{FieldError, Problem};

macro_rules! redacted {
    ($name:ident, $label:literal) => {
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!($label, "(<redacted>)"))
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("<redacted>")
            }
        }
        impl $name {
            /// The raw value, for storage and for the one outgoing message that must carry it.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }
        // Storage documents carry the value (encrypted at rest); the wire format is the normalised string.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

/// NFKC folds full-width letters and digits (ＡＢ１２) to ASCII, the usual way such input arrives from Japanese IMEs.
fn nfkc(raw: &str) -> String {
    raw.nfkc().collect()
}

/// A passport (ICAO 9303 document) number: A-Z and 0-9, 5 to 9 characters after normalisation.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PassportNumber(String);
redacted!(PassportNumber, "PassportNumber");

impl PassportNumber {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let folded: String =
            nfkc(raw).chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).collect();
        if folded.is_empty() {
            return Err(FieldError::new(field, Problem::Missing));
        }
        if !(5..=9).contains(&folded.chars().count()) {
            return Err(FieldError::new(field, Problem::Invalid("must be 5 to 9 letters or digits")));
        }
        if !folded.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
            return Err(FieldError::new(field, Problem::Invalid("only letters A-Z and digits 0-9 are allowed")));
        }
        Ok(Self(folded))
    }
}

/// A phone number in E.164 (`+819012345678`). Accepts Japanese domestic forms (`090-1234-5678`, `0312345678`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);
redacted!(PhoneNumber, "PhoneNumber");

impl PhoneNumber {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let folded = nfkc(raw);
        let trimmed = folded.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(field, Problem::Missing));
        }
        let international = trimmed.starts_with('+');
        let digits: String = trimmed.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '+')).collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                Problem::Invalid("only digits, spaces, hyphens and a leading + are allowed"),
            ));
        }
        let e164 = if international {
            digits
        } else if let Some(national) = digits.strip_prefix('0') {
            // Japanese domestic numbers are 10 digits (landline) or 11 (mobile, 050 IP), with the leading 0.
            if !(9..=10).contains(&national.len()) || national.starts_with('0') {
                return Err(FieldError::new(field, Problem::Invalid("not a Japanese phone number")));
            }
            format!("81{national}")
        } else {
            return Err(FieldError::new(
                field,
                Problem::Invalid("use a domestic number starting with 0 or E.164 starting with +"),
            ));
        };
        // E.164: country code first digit 1-9, at most 15 digits.
        if !(8..=15).contains(&e164.len()) || e164.starts_with('0') {
            return Err(FieldError::new(field, Problem::Invalid("not an E.164 number")));
        }
        Ok(Self(format!("+{e164}")))
    }
}

/// An e-mail address, trimmed, with the domain in lower case. Deliberately a light check (one `@`, a dotted domain,
/// no spaces): the real proof is delivery.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);
redacted!(Email, "Email");

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let folded = nfkc(raw);
        let trimmed = folded.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(field, Problem::Missing));
        }
        let Some((local, domain)) = trimmed.rsplit_once('@') else {
            return Err(FieldError::new(field, Problem::Invalid("not an e-mail address")));
        };
        let ok = !local.is_empty()
            && local.len() <= 64
            && trimmed.len() <= 254
            && !local.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(FieldError::new(field, Problem::Invalid("not an e-mail address")));
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }
}

/// A person's name as written on the form (kanji, katakana or Latin). Normalised with NFKC and single spaces.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);
redacted!(PersonName, "PersonName");

impl PersonName {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let folded = nfkc(raw);
        let joined = folded.split_whitespace().collect::<Vec<_>>().join(" ");
        if joined.is_empty() {
            return Err(FieldError::new(field, Problem::Missing));
        }
        if joined.chars().count() > 200 {
            return Err(FieldError::new(field, Problem::Invalid("longer than 200 characters")));
        }
        if joined.chars().any(char::is_control) {
            return Err(FieldError::new(field, Problem::Invalid("contains control characters")));
        }
        Ok(Self(joined))
    }
}

/// The 8-digit processing number (処理番号) for the contact app. Exists in plaintext only on its way into a message.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ProcessingNumber(String);
redacted!(ProcessingNumber, "ProcessingNumber");

impl ProcessingNumber {
    pub const DIGITS: usize = 8;

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let folded = nfkc(raw);
        let trimmed = folded.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(field, Problem::Missing));
        }
        if trimmed.len() != Self::DIGITS || !trimmed.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(field, Problem::Invalid("must be 8 digits")));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// Draws a number from the operating system's CSPRNG, by rejection sampling so that every number is equally likely.
    pub fn random() -> Result<Self, RandomnessUnavailable> {
        use rand::TryRngCore;
        const LIMIT: u32 = 4_200_000_000; // the largest multiple of 10^8 below u32::MAX
        loop {
            let x = rand::rngs::OsRng.try_next_u32().map_err(|_| RandomnessUnavailable)?;
            if x < LIMIT {
                return Ok(Self(format!("{:08}", x % 100_000_000)));
            }
        }
    }
}

/// The operating system refused us random bytes; nothing sensible can be issued then.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator is unavailable")]
pub struct RandomnessUnavailable;

// Deserialising from storage re-runs the parser, so a stored document can never smuggle in an unnormalised value.
macro_rules! deserialize_via_parse {
    ($name:ident) => {
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(stringify!($name), &raw).map_err(|e| serde::de::Error::custom(e.problem))
            }
        }
    };
}
deserialize_via_parse!(PassportNumber);
deserialize_via_parse!(PhoneNumber);
deserialize_via_parse!(Email);
deserialize_via_parse!(PersonName);
deserialize_via_parse!(ProcessingNumber);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passport_numbers_are_normalised() {
        let p = PassportNumber::parse("passport_number", " ｔｚ１２３-４５６ ").unwrap();
        assert_eq!(p.expose(), "TZ123456");
    }

    #[test]
    fn passport_numbers_outside_icao_shape_are_refused_naming_the_field() {
        for bad in ["AB12", "ABCDEFGHIJ", "AB12#45", "", "ÄB12345"] {
            let e = PassportNumber::parse("passport_number", bad).unwrap_err();
            assert_eq!(e.field, "passport_number", "{bad}");
        }
    }

    #[test]
    fn phone_numbers_become_e164() {
        for (raw, want) in [
            ("090-1234-5678", "+819012345678"),
            ("0312345678", "+81312345678"),
            ("０９０１２３４５６７８", "+819012345678"),
            ("+81 90 1234 5678", "+819012345678"),
            ("+14155550123", "+14155550123"),
        ] {
            assert_eq!(PhoneNumber::parse("phone", raw).unwrap().expose(), want, "{raw}");
        }
        for bad in ["12345", "090-1234-567a", "0012345678", "+0123"] {
            assert!(PhoneNumber::parse("phone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_keep_local_part_and_lower_the_domain() {
        assert_eq!(Email::parse("email", " Taro.Y@Example.JP ").unwrap().expose(), "Taro.Y@example.jp");
        for bad in ["taro", "taro@", "@example.jp", "ta ro@example.jp", "taro@example"] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let values: Vec<(String, String)> = vec![
            {
                let p = PassportNumber::parse("p", "TZ1234567").unwrap();
                (format!("{p:?} {p}"), p.expose().to_owned())
            },
            {
                let p = PhoneNumber::parse("p", "09012345678").unwrap();
                (format!("{p:?} {p}"), p.expose().to_owned())
            },
            {
                let p = Email::parse("p", "a@b.jp").unwrap();
                (format!("{p:?} {p}"), p.expose().to_owned())
            },
            {
                let p = PersonName::parse("p", "YAMADA TARO").unwrap();
                (format!("{p:?} {p}"), p.expose().to_owned())
            },
            {
                let p = ProcessingNumber::random().unwrap();
                (format!("{p:?} {p}"), p.expose().to_owned())
            },
        ];
        for (shown, raw) in values {
            assert!(!shown.contains(&raw), "{shown}");
            assert!(shown.contains("<redacted>"));
        }
    }

    #[test]
    fn random_processing_numbers_have_eight_digits() {
        for _ in 0..100 {
            let n = ProcessingNumber::random().unwrap();
            assert_eq!(n.expose().len(), 8);
            assert!(ProcessingNumber::parse("n", n.expose()).is_ok());
        }
    }

    proptest::proptest! {
        #[test]
        fn passport_normalisation_is_idempotent(raw in "[a-zA-Z0-9 ー-]{0,14}") {
            if let Ok(p) = PassportNumber::parse("p", &raw) {
                let again = PassportNumber::parse("p", p.expose()).unwrap();
                proptest::prop_assert_eq!(again, p);
            }
        }

        #[test]
        fn phone_parse_is_idempotent(raw in "(\\+81|0)[1-9][0-9]{8,9}") {
            if let Ok(p) = PhoneNumber::parse("p", &raw) {
                let again = PhoneNumber::parse("p", p.expose()).unwrap();
                proptest::prop_assert_eq!(again, p);
            }
        }
    }
}
