//! MongoDB documents: the connector writes `before`, `after` and `patch` as
//! JSON strings holding MongoDB Extended JSON, and the Kafka key as
//! `{"id": "<Extended JSON of _id>"}`.
//!
//! Top-level fields become columns. Extended JSON wrappers map as follows
//! (a type the table declares for the column takes precedence where the
//! value converts):
//!
//! | Extended JSON | Column type (undeclared) |
//! |---|---|
//! | `{"$oid": "hex"}` | string (the 24 hex digits) |
//! | `{"$numberLong": "n"}`, `{"$numberInt": "n"}`, plain integers | long |
//! | `{"$numberDouble": "x"}` (incl. `Infinity`, `NaN`), other plain numbers | double |
//! | `{"$numberDecimal": "x"}` | string holding the exact decimal text; a decimal at the table's scale when the table declares `decimal(P,S)` |
//! | `{"$date": ms}`, `{"$date": {"$numberLong": "ms"}}`, `{"$date": "ISO"}` | timestamptz |
//! | `{"$binary": ...}` (canonical or legacy form) | binary (a uuid when the table declares uuid and it has 16 bytes) |
//! | `{"$uuid": "..."}` | uuid |
//! | `{"$timestamp": {"t": s, "i": n}}` | timestamptz of `t` seconds (the increment is dropped) |
//! | `{"$undefined": true}` | null |
//! | `{"$symbol": s}`, `{"$code": s}` | string |
//! | embedded documents, arrays, other `$` forms | string holding the JSON text as written (wrappers inside are kept) |

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::DateTime;
use serde_json::value::RawValue;

use crate::change::{ColumnType, Image, Value};
use crate::decode::DecodeError;

use super::logical;
use super::raw::{self, NameSet, Token};
use super::row::{Context, invalid_value, push_field};

/// The column the MongoDB key's `id` becomes.
pub(crate) const ID: &str = "_id";

/// The image of a document's Extended JSON text (the unescaped string of
/// a `before`, `after` or `patch` member, named by `image`).
pub(crate) fn text_image(
    image: &'static str,
    text: &str,
    ctx: &Context,
) -> Result<Image, DecodeError> {
    let entries = document_entries(image, text)?;
    image_of(image, &entries, ctx)
}

/// The unescaped Extended JSON text that a string member holds.
pub(crate) fn document_text<'a>(
    image: &'static str,
    raw: &'a RawValue,
) -> Result<Cow<'a, str>, DecodeError> {
    match Token::from_raw(raw) {
        Token::String(text) => Ok(text),
        _ => Err(DecodeError::InvalidEnvelope {
            field: image.to_owned(),
            message: "must be a JSON string holding a MongoDB document".to_owned(),
        }),
    }
}

/// The members of a document's Extended JSON text.
pub(crate) fn document_entries<'a>(
    image: &'static str,
    text: &'a str,
) -> Result<raw::Entries<'a>, DecodeError> {
    raw::entries(text).map_err(|e| DecodeError::InvalidEnvelope {
        field: image.to_owned(),
        message: match e {
            raw::EntriesError::NotAnObject(kind) => {
                format!("must hold a MongoDB document (a JSON object), not {kind}")
            }
            raw::EntriesError::Syntax(message) => {
                format!("holds invalid Extended JSON: {message}")
            }
        },
    })
}

/// Whether a document's members are update operators (`$set`, ...)
/// rather than fields: a partial update, not a full document.
pub(crate) fn is_operator_document(entries: &raw::Entries) -> bool {
    entries.iter().any(|(name, _)| name.starts_with('$'))
}

/// The image of a document's members.
pub(crate) fn image_of(
    image: &'static str,
    entries: &[(Cow<'_, str>, &RawValue)],
    ctx: &Context,
) -> Result<Image, DecodeError> {
    let mut fields = Vec::with_capacity(entries.len());
    let mut seen = NameSet::default();
    for (name, raw) in entries {
        if raw.get() == "null" && ctx.is_undeclared_null(name, &Token::Null) {
            continue;
        }
        let (ty, value) = field_value(image, name, raw, ctx)?;
        push_field(&mut fields, &mut seen, name.as_ref().into(), ty, value);
    }
    Ok(Image::from_distinct_fields(fields))
}

/// The `_id` column from the key's `id` member, whose string holds the
/// Extended JSON of the document id (a plain string is taken as is).
pub(crate) fn key_id(
    raw: &RawValue,
    ctx: &Context,
) -> Result<(ColumnType, Option<Value>), DecodeError> {
    match Token::from_raw(raw) {
        Token::String(text) => match serde_json::from_str::<&RawValue>(&text) {
            Ok(inner) => field_value("key", ID, inner, ctx),
            Err(_) => ctx.schemaless("key", ID, &Token::String(text.clone())),
        },
        token => ctx.schemaless("key", ID, &token),
    }
}

/// The type and value of one top-level document field.
fn field_value(
    image: &'static str,
    name: &str,
    raw: &RawValue,
    ctx: &Context,
) -> Result<(ColumnType, Option<Value>), DecodeError> {
    let text = raw.get();
    if text.starts_with('{')
        && let Ok(members) = raw::entries(text)
        && let Some((first, inner)) = members.first()
        && first.starts_with('$')
    {
        return extended(image, name, first, inner, text, ctx);
    }
    ctx.schemaless(image, name, &Token::from_raw(raw))
}

/// A value of `default` type (or the declared one) from `token`.
fn typed(
    image: &'static str,
    name: &str,
    default: ColumnType,
    token: &Token,
    ctx: &Context,
) -> Result<(ColumnType, Option<Value>), DecodeError> {
    let ty = ctx.types.get(name).copied().unwrap_or(default);
    if *token == Token::Null {
        return Ok((ty, None));
    }
    logical::to_type(ty, token, ctx.units(name))
        .map(|v| (ty, Some(v)))
        .map_err(|reason| invalid_value(image, name, token, ty, reason))
}

fn extended(
    image: &'static str,
    name: &str,
    wrapper: &str,
    inner: &RawValue,
    whole: &str,
    ctx: &Context,
) -> Result<(ColumnType, Option<Value>), DecodeError> {
    let inner_token = Token::from_raw(inner);
    let as_text = || Token::String(raw::compact(whole));
    match wrapper {
        "$oid" | "$symbol" | "$code" if matches!(inner_token, Token::String(_)) => {
            typed(image, name, ColumnType::String, &inner_token, ctx)
        }
        "$numberLong" | "$numberInt" => {
            let token = match inner_token {
                Token::String(s) => Token::Number(s),
                other => other,
            };
            typed(image, name, ColumnType::Long, &token, ctx)
        }
        "$numberDouble" => typed(image, name, ColumnType::Double, &inner_token, ctx),
        "$numberDecimal" => typed(image, name, ColumnType::String, &inner_token, ctx),
        "$uuid" => typed(image, name, ColumnType::Uuid, &inner_token, ctx),
        "$undefined" => typed(image, name, ColumnType::String, &Token::Null, ctx),
        "$date" => {
            let micros = date_micros(inner).ok_or_else(|| {
                invalid_value(
                    image,
                    name,
                    &as_text(),
                    ColumnType::Timestamptz,
                    "not a $date (milliseconds, $numberLong or ISO text)".into(),
                )
            })?;
            instant(image, name, micros, ctx)
        }
        "$timestamp" => {
            let seconds = raw::entries(inner.get())
                .ok()
                .and_then(|m| raw::get(&m, "t").and_then(raw::as_i64));
            match seconds.and_then(|s| s.checked_mul(1_000_000)) {
                Some(micros) => instant(image, name, micros, ctx),
                None => Err(invalid_value(
                    image,
                    name,
                    &as_text(),
                    ColumnType::Timestamptz,
                    "not a $timestamp {t, i}".into(),
                )),
            }
        }
        "$binary" => {
            let base64 = match &inner_token {
                Token::String(s) => Some(s.clone()), // legacy: {"$binary": "...", "$type": "04"}
                Token::Nested(_) => raw::entries(inner.get())
                    .ok()
                    .and_then(|m| raw::get(&m, "base64").and_then(raw::as_str))
                    .map(|s| Cow::Owned(s.into_owned())),
                _ => None,
            };
            let bytes = base64
                .and_then(|b| BASE64.decode(b.as_bytes()).ok())
                .ok_or_else(|| {
                    invalid_value(
                        image,
                        name,
                        &as_text(),
                        ColumnType::Binary,
                        "not a $binary".into(),
                    )
                })?;
            let ty = ctx.types.get(name).copied().unwrap_or(ColumnType::Binary);
            match ty {
                ColumnType::Binary => Ok((ty, Some(Value::Binary(bytes)))),
                ColumnType::Uuid => match <[u8; 16]>::try_from(bytes.as_slice()) {
                    Ok(uuid) => Ok((ty, Some(Value::Uuid(uuid)))),
                    Err(_) => Err(invalid_value(
                        image,
                        name,
                        &as_text(),
                        ty,
                        "not 16 bytes".into(),
                    )),
                },
                ColumnType::String => Ok((ty, Some(Value::String(BASE64.encode(&bytes))))),
                _ => Err(invalid_value(
                    image,
                    name,
                    &as_text(),
                    ty,
                    "binary data".into(),
                )),
            }
        }
        _ => typed(image, name, ColumnType::String, &as_text(), ctx),
    }
}

/// Microseconds since the epoch of a `$date`'s content.
fn date_micros(inner: &RawValue) -> Option<i64> {
    match Token::from_raw(inner) {
        Token::Number(ms) => ms.parse::<i64>().ok()?.checked_mul(1_000),
        Token::String(iso) => logical::parse_timestamp(&iso).ok(),
        Token::Nested(text) => {
            let members = raw::entries(&text).ok()?;
            let ms = raw::get(&members, "$numberLong").and_then(raw::as_str)?;
            ms.parse::<i64>().ok()?.checked_mul(1_000)
        }
        _ => None,
    }
}

/// An instant as the declared type (timestamptz when none).
fn instant(
    image: &'static str,
    name: &str,
    micros: i64,
    ctx: &Context,
) -> Result<(ColumnType, Option<Value>), DecodeError> {
    let ty = ctx
        .types
        .get(name)
        .copied()
        .unwrap_or(ColumnType::Timestamptz);
    let value = match ty {
        ColumnType::Timestamptz => Value::Timestamptz(micros),
        ColumnType::Timestamp => Value::Timestamp(micros),
        ColumnType::Long => Value::Long(micros.div_euclid(1_000)),
        ColumnType::Date => Value::Date(i32::try_from(micros.div_euclid(86_400_000_000)).map_err(
            |_| {
                invalid_value(
                    image,
                    name,
                    &Token::Number(micros.to_string().into()),
                    ty,
                    "out of range".into(),
                )
            },
        )?),
        ColumnType::String => Value::String(
            DateTime::from_timestamp_micros(micros)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
                .unwrap_or_else(|| micros.to_string()),
        ),
        _ => {
            return Err(invalid_value(
                image,
                name,
                &Token::Number(micros.to_string().into()),
                ty,
                "a MongoDB date".into(),
            ));
        }
    };
    Ok((ty, Some(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::debezium::numeric_time::TimeUnits;
    use crate::decode::debezium::schema::TypeMap;

    fn image(doc: &str, types: &TypeMap) -> Result<Image, DecodeError> {
        let ctx = Context {
            types,
            times: &TimeUnits::default(),
            width: None,
            names: None,
        };
        text_image("after", doc, &ctx)
    }

    #[test]
    fn extended_json_wrappers() {
        let doc = r#"{"_id": {"$oid": "67ab25755c0d5ac87eb8c632"}, "n": {"$numberLong": "1736207571013"},
            "i": {"$numberInt": "7"}, "d": {"$numberDouble": "-Infinity"}, "dec": {"$numberDecimal": "1.50"},
            "at": {"$date": 1739455297970}, "at2": {"$date": {"$numberLong": "-1"}}, "at3": {"$date": "1970-01-01T00:00:01Z"},
            "bin": {"$binary": {"base64": "AQI=", "subType": "00"}}, "old": {"$binary": "AQI=", "$type": "00"},
            "ts": {"$timestamp": {"t": 2, "i": 1}}, "u": {"$undefined": true},
            "re": {"$regularExpression": {"pattern": "a", "options": ""}},
            "tags": ["x", {"$numberLong": "1"}], "sub": {"a": 1}, "plain": 5, "f": 1.5, "s": "x"}"#;
        let img = image(doc, &TypeMap::default()).unwrap();
        assert_eq!(
            img.get("_id"),
            Some(&Value::String("67ab25755c0d5ac87eb8c632".into()))
        );
        assert_eq!(img.get("n"), Some(&Value::Long(1_736_207_571_013)));
        assert_eq!(img.get("i"), Some(&Value::Long(7)));
        assert_eq!(img.get("d"), Some(&Value::Double(f64::NEG_INFINITY)));
        assert_eq!(img.get("dec"), Some(&Value::String("1.50".into())));
        assert_eq!(
            img.get("at"),
            Some(&Value::Timestamptz(1_739_455_297_970_000))
        );
        assert_eq!(img.get("at2"), Some(&Value::Timestamptz(-1_000)));
        assert_eq!(img.get("at3"), Some(&Value::Timestamptz(1_000_000)));
        assert_eq!(img.get("bin"), Some(&Value::Binary(vec![1, 2])));
        assert_eq!(img.get("old"), Some(&Value::Binary(vec![1, 2])));
        assert_eq!(img.get("ts"), Some(&Value::Timestamptz(2_000_000)));
        assert_eq!(img.field("u").unwrap().value, None);
        assert_eq!(
            img.get("re"),
            Some(&Value::String(
                r#"{"$regularExpression":{"pattern":"a","options":""}}"#.into()
            ))
        );
        assert_eq!(
            img.get("tags"),
            Some(&Value::String(r#"["x",{"$numberLong":"1"}]"#.into()))
        );
        assert_eq!(img.get("sub"), Some(&Value::String(r#"{"a":1}"#.into())));
        assert_eq!(img.get("plain"), Some(&Value::Long(5)));
        assert_eq!(img.get("f"), Some(&Value::Double(1.5)));
        assert_eq!(img.get("s"), Some(&Value::String("x".into())));
    }

    #[test]
    fn declared_types_win() {
        let mut types = TypeMap::default();
        types.insert(
            "dec".into(),
            ColumnType::Decimal {
                precision: 10,
                scale: 3,
            },
        );
        types.insert("at".into(), ColumnType::Date);
        types.insert("n".into(), ColumnType::Int);
        types.insert("u".into(), ColumnType::Uuid);
        let img = image(
            r#"{"dec": {"$numberDecimal": "1.5"}, "at": {"$date": 86400000}, "n": {"$numberLong": "3"},
                "u": {"$binary": {"base64": "AAECAwQFBgcICQoLDA0ODw==", "subType": "04"}}}"#,
            &types,
        )
        .unwrap();
        assert_eq!(img.get("dec"), Some(&Value::Decimal(1500)));
        assert_eq!(img.get("at"), Some(&Value::Date(1)));
        assert_eq!(img.get("n"), Some(&Value::Int(3)));
        assert_eq!(
            img.get("u"),
            Some(&Value::Uuid([
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
            ]))
        );
        let err = image(r#"{"n": {"$numberLong": "99999999999"}}"#, &types).unwrap_err();
        assert!(err.to_string().starts_with("after.n: "), "{err}");
    }

    #[test]
    fn bad_documents() {
        assert!(
            image("[1]", &TypeMap::default())
                .unwrap_err()
                .to_string()
                .contains("not an array")
        );
        assert!(
            image("{", &TypeMap::default())
                .unwrap_err()
                .to_string()
                .contains("invalid Extended JSON")
        );
        assert!(image(r#"{"d": {"$date": true}}"#, &TypeMap::default()).is_err());
        assert!(image(r#"{"n": {"$numberLong": "x"}}"#, &TypeMap::default()).is_err());
    }
}
