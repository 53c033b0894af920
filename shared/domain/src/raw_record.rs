//! Raw input records: what a report, an entry record or a follow-up record looks like as received, before
//! validation. Each is declared once with [`raw_record!`]; its field list drives everything that must agree with it.

/// What every raw record offers a reader that fills it by name (a JSON object's keys, a CSV header), whatever the
/// record.
pub trait RawRecord: Default {
    /// The field names, in declaration order.
    const FIELDS: &'static [&'static str];
    /// The field of this name; `None` for a name that is not one of [`Self::FIELDS`].
    fn field_mut(&mut self, name: &str) -> Option<&mut Option<String>>;
}

/// Declares a raw input record from its list of field names. Generates:
///
/// - the struct, one `Option<String>` per field: plain strings so that validation can check every field and report
///   every problem at once; `None` (or blank) is an absent field;
/// - `FIELDS`, the field names in order (the JSON keys, and the CSV columns where a CSV exists);
/// - `field_mut(name)`, the field of a name, for readers that map columns, JSON keys or corrections by name;
/// - [`RawRecord`], the two above as a trait, for readers generic over the record;
/// - a `Debug` that names only the fields present: the values are personal data not yet in the redacting types of
///   [`crate::pii`];
/// - serde's `Deserialize` refusing unknown keys (a JSON body's keys are exactly the field names).
macro_rules! raw_record {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_meta:meta])* $field:ident),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        $vis struct $name {
            $($(#[$field_meta])* pub $field: Option<String>,)+
        }

        impl $name {
            /// The field names, in declaration order.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];

            /// The field of this name; `None` for a name that is not one of [`Self::FIELDS`].
            pub fn field_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
                match name {
                    $(stringify!($field) => Some(&mut self.$field),)+
                    _ => None,
                }
            }

            /// The names of the fields that hold a value.
            pub fn present(&self) -> Vec<&'static str> {
                [$((stringify!($field), self.$field.is_some())),+]
                    .into_iter()
                    .filter_map(|(name, set)| set.then_some(name))
                    .collect()
            }
        }

        impl $crate::raw_record::RawRecord for $name {
            const FIELDS: &'static [&'static str] = $name::FIELDS;
            fn field_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
                $name::field_mut(self, name)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{} {{ present: {:?}, values: <redacted> }}", stringify!($name), self.present())
            }
        }
    };
}

pub(crate) use raw_record;

#[cfg(test)]
mod tests {
    raw_record!(
        /// A record to test the macro by itself.
        struct Sample {
            /// A documented field.
            first,
            second,
        }
    );

    #[test]
    fn the_field_list_drives_names_lookup_debug_and_json() {
        assert_eq!(Sample::FIELDS, ["first", "second"]);
        let mut s = Sample::default();
        *s.field_mut("second").unwrap() = Some("TZ9081726".into());
        assert!(s.field_mut("third").is_none());
        assert_eq!(s.present(), ["second"]);
        assert_eq!(format!("{s:?}"), r#"Sample { present: ["second"], values: <redacted> }"#);
    }
}
