//! Columns a source did not send: PostgreSQL's TOAST placeholder, and
//! YugabyteDB's column wrappers.
//!
//! - Debezium's PostgreSQL connector (and Oracle's, for LOBs) replaces a
//!   column an update left unchanged and the database did not log with
//!   `unavailable.value.placeholder`, by default `__debezium_unavailable_value`.
//!   In a binary column it is those bytes: base64 in Kafka Connect's JSON
//!   (`binary.handling.mode` `bytes` or `base64`), hex with `hex`.
//! - YugabyteDB's gRPC connector wraps every column as `{"value": v}`, its
//!   logical-replication connector as `{"value": v, "set": true|false}`;
//!   `set: false` is a column the change did not set. With a schema block
//!   the column's schema is a struct of `value` (and `set`).
//!
//! The decoder marks such columns unchanged in the image
//! ([`crate::change::Image::mark_unchanged`]) instead of writing them.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::change::ColumnType;

use super::raw::Token;

/// Debezium's default `unavailable.value.placeholder`.
pub(crate) const PLACEHOLDER: &str = "__debezium_unavailable_value";

/// [`PLACEHOLDER`]'s bytes in base64, as Kafka Connect's JSON converter
/// writes a binary column (`binary.handling.mode` `bytes`, `base64` and
/// `base64-url-safe` all read so).
pub(crate) const PLACEHOLDER_BASE64: &str = "X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==";

/// [`PLACEHOLDER`]'s bytes in hex (`binary.handling.mode = hex`; compared
/// without regard to case).
pub(crate) const PLACEHOLDER_HEX: &str = "5f5f646562657a69756d5f756e617661696c61626c655f76616c7565";

/// Whether `token`, a value of a column of type `ty` (`None`: not known),
/// is Debezium's placeholder for a value the database did not send. The
/// text form counts in any column; the base64 and hex forms in binary and
/// string columns (a binary column in `base64` or `hex` mode is a string
/// column to Kafka Connect) and in columns of unknown type.
#[inline]
pub(crate) fn is_placeholder(token: &Token, ty: Option<ColumnType>) -> bool {
    let Token::String(text) = token else {
        return false;
    };
    match text.len() {
        28 => text == PLACEHOLDER,
        // Padded, or not (`base64-url-safe` may leave the padding off).
        38 | 40 => binary_like(ty) && PLACEHOLDER_BASE64.starts_with(&**text),
        56 => binary_like(ty) && text.eq_ignore_ascii_case(PLACEHOLDER_HEX),
        _ => false,
    }
}

fn binary_like(ty: Option<ColumnType>) -> bool {
    matches!(ty, None | Some(ColumnType::Binary | ColumnType::String))
}

/// A YugabyteDB column wrapper: `{"value": v}` or `{"value": v, "set": b}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wrapper<'a> {
    #[serde(borrow)]
    value: &'a RawValue,
    #[serde(default)]
    set: Option<bool>,
}

/// The value inside a YugabyteDB wrapper, and whether the change set the
/// column (`false`: unchanged); `None` when `raw` is not a wrapper.
#[inline]
pub(crate) fn unwrap(raw: &RawValue) -> Option<(&RawValue, bool)> {
    if !raw.get().starts_with('{') {
        return None;
    }
    let wrapper: Wrapper = serde_json::from_str(raw.get()).ok()?;
    Some((wrapper.value, wrapper.set.unwrap_or(true)))
}

/// Whether a struct schema's field names are a YugabyteDB wrapper's:
/// `value`, and optionally `set`.
pub(crate) fn is_wrapper_schema<'n>(names: impl IntoIterator<Item = Option<&'n str>>) -> bool {
    let mut value = false;
    for name in names {
        match name {
            Some("value") if !value => value = true,
            Some("set") => {}
            _ => return false,
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn text(s: &str) -> Token<'_> {
        Token::String(Cow::Borrowed(s))
    }

    #[test]
    fn the_placeholder_in_each_form() {
        assert!(is_placeholder(&text(PLACEHOLDER), Some(ColumnType::Long)));
        assert!(is_placeholder(&text(PLACEHOLDER), None));
        for ty in [None, Some(ColumnType::Binary), Some(ColumnType::String)] {
            assert!(is_placeholder(&text(PLACEHOLDER_BASE64), ty));
            assert!(is_placeholder(
                &text(PLACEHOLDER_BASE64.trim_end_matches('=')),
                ty
            ));
            assert!(is_placeholder(&text(PLACEHOLDER_HEX), ty));
            assert!(is_placeholder(&text(&PLACEHOLDER_HEX.to_uppercase()), ty));
        }
        // The encoded forms are not placeholders in a column that cannot hold them.
        assert!(!is_placeholder(
            &text(PLACEHOLDER_BASE64),
            Some(ColumnType::Date)
        ));
        assert!(!is_placeholder(
            &text("__debezium_unavailable_valuex"),
            None
        ));
        assert!(!is_placeholder(
            &text("X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=A"),
            None
        ));
        assert!(!is_placeholder(&Token::Null, None));
        // The hex form really is the placeholder's bytes, and so is the base64.
        let hex: String = PLACEHOLDER.bytes().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, PLACEHOLDER_HEX);
        use base64::Engine;
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode(PLACEHOLDER),
            PLACEHOLDER_BASE64
        );
    }

    #[test]
    fn wrappers_unwrap() {
        let raw = |s: &str| RawValue::from_string(s.to_string()).unwrap();
        let wrapped = raw(r#"{"value": 5}"#);
        let (value, set) = unwrap(&wrapped).unwrap();
        assert_eq!((value.get(), set), ("5", true));
        let unset = raw(r#"{"value":null,"set":false}"#);
        let (value, set) = unwrap(&unset).unwrap();
        assert_eq!((value.get(), set), ("null", false));
        assert!(unwrap(&raw(r#"{"value": 1, "other": 2}"#)).is_none());
        assert!(unwrap(&raw(r#"{"set": true}"#)).is_none());
        assert!(unwrap(&raw("5")).is_none());
        assert!(is_wrapper_schema([Some("value"), Some("set")]));
        assert!(is_wrapper_schema([Some("value")]));
        assert!(!is_wrapper_schema([Some("value"), Some("x")]));
        assert!(!is_wrapper_schema([Some("set")]));
    }
}
