//! floe's JSON form of a change, used by `floe plugin test` and in logs.
//!
//! ```json
//! {"op": "update", "table": "inventory.customers", "key": ["id"],
//!  "types": {"id": "long", "email": "string", "balance": "decimal(10,2)"},
//!  "before": {"id": 1004, "email": "annek@noanswer.org", "balance": "10.00"},
//!  "after":  {"id": 1004, "email": "anne@example.com",   "balance": "12.50"},
//!  "event_time": 1700000000000000,
//!  "position": {"topic": "dbserver1.inventory.customers", "partition": 0, "offset": 7}}
//! ```
//!
//! `types` maps a column name to its Iceberg type; a column without an entry
//! takes its type from its JSON value (integer → long, other number → double,
//! string → string, boolean → boolean, null → string, object or array →
//! string holding the JSON). Values are written by type: decimals as strings
//! at their scale, dates `YYYY-MM-DD`, times `HH:MM:SS.ffffff`, timestamps
//! ISO 8601 (`Z` for timestamptz), UUIDs hyphenated, binary as base64.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde_json::{Value as Json, json};

use floe_contract::{format_decimal, parse_decimal_exact};

use super::{Change, ColumnType, Field, Image, Op, Position, Value};

/// A JSON document that is not a change in floe's JSON form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonChangeError(pub String);

fn err(message: impl Into<String>) -> JsonChangeError {
    JsonChangeError(message.into())
}

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();

/// Writes a change in floe's JSON form.
pub fn change_to_json(change: &Change) -> Json {
    let mut types = BTreeMap::new();
    for image in [&change.before, &change.after].into_iter().flatten() {
        for field in image.fields() {
            types.insert(field.name.clone(), Json::String(field.ty.to_string()));
        }
    }
    let image_json = |image: &Option<Image>| match image {
        None => Json::Null,
        Some(image) => Json::Object(
            image
                .fields()
                .iter()
                .map(|f| {
                    (
                        f.name.to_string(),
                        f.value
                            .as_ref()
                            .map_or(Json::Null, |v| value_to_json(f.ty, v)),
                    )
                })
                .collect(),
        ),
    };
    json!({
        "op": change.op.as_str(),
        "table": change.table,
        "key": change.key,
        "types": types,
        "before": image_json(&change.before),
        "after": image_json(&change.after),
        "event_time": change.event_time,
        "position": {
            "topic": &*change.position.topic,
            "partition": change.position.partition,
            "offset": change.position.offset,
        },
    })
}

/// Reads a change in floe's JSON form. `position` is used where the document
/// has none (`floe plugin test` passes the line's number).
pub fn change_from_json(doc: &Json, position: Position) -> Result<Change, JsonChangeError> {
    let obj = doc
        .as_object()
        .ok_or_else(|| err("a change must be a JSON object"))?;
    for name in obj.keys() {
        if ![
            "op",
            "table",
            "key",
            "types",
            "before",
            "after",
            "event_time",
            "position",
        ]
        .contains(&name.as_str())
        {
            return Err(err(format!("unknown field `{name}` in change")));
        }
    }
    let op_name = obj
        .get("op")
        .and_then(Json::as_str)
        .ok_or_else(|| err("change has no `op`"))?;
    let op = Op::parse(op_name).ok_or_else(|| {
        err(format!(
            "unknown op `{op_name}` (expected insert, update, delete, read or truncate)"
        ))
    })?;
    let table = obj
        .get("table")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let key = match obj.get("key") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(names)) => names
            .iter()
            .map(|n| {
                n.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| err("`key` must list column names"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(err("`key` must be an array of column names")),
    };
    let mut types = BTreeMap::new();
    if let Some(declared) = obj.get("types") {
        let declared = declared
            .as_object()
            .ok_or_else(|| err("`types` must be an object of column name to type"))?;
        for (name, ty) in declared {
            let ty = ty
                .as_str()
                .ok_or_else(|| err(format!("type of `{name}` must be a string")))?;
            types.insert(
                name.clone(),
                ty.parse::<ColumnType>().map_err(|e| err(e.to_string()))?,
            );
        }
    }
    let image = |name: &str| -> Result<Option<Image>, JsonChangeError> {
        match obj.get(name) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Object(columns)) => columns
                .iter()
                .map(|(column, value)| {
                    let ty = types
                        .get(column)
                        .copied()
                        .unwrap_or_else(|| infer_type(value));
                    let value = if value.is_null() {
                        None
                    } else {
                        Some(
                            value_from_json(ty, value)
                                .map_err(|e| err(format!("{name}.{column}: {e}")))?,
                        )
                    };
                    Ok(Field {
                        name: column.as_str().into(),
                        ty,
                        value,
                    })
                })
                .collect::<Result<Image, _>>()
                .map(Some),
            Some(_) => Err(err(format!("`{name}` must be an object or null"))),
        }
    };
    let before = image("before")?;
    let after = image("after")?;
    let event_time = match obj.get("event_time") {
        None | Some(Json::Null) => None,
        Some(t) => Some(
            t.as_i64()
                .ok_or_else(|| err("`event_time` must be an integer (µs since the epoch)"))?,
        ),
    };
    let position = match obj.get("position") {
        None | Some(Json::Null) => position,
        Some(p) => Position::new(
            p.get("topic")
                .and_then(Json::as_str)
                .unwrap_or(&position.topic)
                .to_string(),
            p.get("partition")
                .and_then(Json::as_i64)
                .map_or(position.partition, |v| v as i32),
            p.get("offset")
                .and_then(Json::as_i64)
                .unwrap_or(position.offset),
        ),
    };
    Ok(Change {
        op,
        table,
        key,
        before,
        after,
        position,
        event_time,
    })
}

/// The type a JSON value takes when no type is declared for its column.
pub fn infer_type(value: &Json) -> ColumnType {
    match value {
        Json::Bool(_) => ColumnType::Boolean,
        Json::Number(n) if n.is_i64() || n.is_u64() => ColumnType::Long,
        Json::Number(_) => ColumnType::Double,
        _ => ColumnType::String,
    }
}

/// Writes a value of type `ty` as JSON.
pub fn value_to_json(ty: ColumnType, value: &Value) -> Json {
    match value {
        Value::Boolean(b) => Json::Bool(*b),
        Value::Int(v) => json!(v),
        Value::Long(v) => json!(v),
        Value::Float(v) => serde_json::Number::from_f64(f64::from(*v))
            .map_or_else(|| Json::String(v.to_string()), Json::Number),
        Value::Double(v) => serde_json::Number::from_f64(*v)
            .map_or_else(|| Json::String(v.to_string()), Json::Number),
        Value::Decimal(unscaled) => {
            let scale = match ty {
                ColumnType::Decimal { scale, .. } => scale,
                _ => 0,
            };
            Json::String(format_decimal(*unscaled, scale))
        }
        Value::Date(days) => {
            Json::String(date_from_days(*days).map_or_else(|| days.to_string(), |d| d.to_string()))
        }
        Value::Time(micros) => Json::String(format_time(*micros)),
        Value::Timestamp(micros) => {
            Json::String(DateTime::from_timestamp_micros(*micros).map_or_else(
                || micros.to_string(),
                |t| t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
            ))
        }
        Value::Timestamptz(micros) => {
            Json::String(DateTime::from_timestamp_micros(*micros).map_or_else(
                || micros.to_string(),
                |t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            ))
        }
        Value::String(s) => Json::String(s.clone()),
        Value::Uuid(bytes) => Json::String(uuid::Uuid::from_bytes(*bytes).hyphenated().to_string()),
        Value::Binary(bytes) => Json::String(BASE64.encode(bytes)),
    }
}

/// Reads a JSON value as a value of type `ty`, accepting the forms
/// [`value_to_json`] writes and the obvious numeric ones (days for dates,
/// microseconds for times and timestamps, numbers for decimals).
pub fn value_from_json(ty: ColumnType, json: &Json) -> Result<Value, String> {
    let mismatch = || format!("{json} is not a valid {ty}");
    Ok(match ty {
        ColumnType::Boolean => Value::Boolean(json.as_bool().ok_or_else(mismatch)?),
        ColumnType::Int => Value::Int(
            json.as_i64()
                .and_then(|v| i32::try_from(v).ok())
                .ok_or_else(mismatch)?,
        ),
        ColumnType::Long => Value::Long(json.as_i64().ok_or_else(mismatch)?),
        ColumnType::Float => Value::Float(number(json).ok_or_else(mismatch)? as f32),
        ColumnType::Double => Value::Double(number(json).ok_or_else(mismatch)?),
        ColumnType::Decimal { precision, scale } => {
            let text = match json {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                _ => return Err(mismatch()),
            };
            Value::Decimal(parse_decimal_exact(&text, precision, scale).ok_or_else(mismatch)?)
        }
        ColumnType::Date => match json {
            Json::Number(n) => Value::Date(
                n.as_i64()
                    .and_then(|v| i32::try_from(v).ok())
                    .ok_or_else(mismatch)?,
            ),
            Json::String(s) => Value::Date(days_from_date(
                NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| mismatch())?,
            )),
            _ => return Err(mismatch()),
        },
        ColumnType::Time => match json {
            Json::Number(n) => Value::Time(n.as_i64().ok_or_else(mismatch)?),
            Json::String(s) => {
                let t = NaiveTime::parse_from_str(s, "%H:%M:%S%.f").map_err(|_| mismatch())?;
                Value::Time(
                    i64::from(t.num_seconds_from_midnight()) * 1_000_000
                        + i64::from(t.nanosecond() / 1_000),
                )
            }
            _ => return Err(mismatch()),
        },
        ColumnType::Timestamp => match json {
            Json::Number(n) => Value::Timestamp(n.as_i64().ok_or_else(mismatch)?),
            Json::String(s) => Value::Timestamp(
                NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f")
                    .map_err(|_| mismatch())?
                    .and_utc()
                    .timestamp_micros(),
            ),
            _ => return Err(mismatch()),
        },
        ColumnType::Timestamptz => match json {
            Json::Number(n) => Value::Timestamptz(n.as_i64().ok_or_else(mismatch)?),
            Json::String(s) => Value::Timestamptz(
                DateTime::parse_from_rfc3339(s)
                    .map_err(|_| mismatch())?
                    .timestamp_micros(),
            ),
            _ => return Err(mismatch()),
        },
        ColumnType::String => match json {
            Json::String(s) => Value::String(s.clone()),
            other => Value::String(other.to_string()),
        },
        ColumnType::Uuid => {
            let text = json.as_str().ok_or_else(mismatch)?;
            Value::Uuid(
                *uuid::Uuid::parse_str(text)
                    .map_err(|_| mismatch())?
                    .as_bytes(),
            )
        }
        ColumnType::Binary => Value::Binary(
            BASE64
                .decode(json.as_str().ok_or_else(mismatch)?)
                .map_err(|_| mismatch())?,
        ),
    })
}

fn number(json: &Json) -> Option<f64> {
    match json {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The date `days` after 1970-01-01.
pub fn date_from_days(days: i32) -> Option<NaiveDate> {
    EPOCH.checked_add_signed(chrono::TimeDelta::try_days(i64::from(days))?)
}

/// Days since 1970-01-01.
pub fn days_from_date(date: NaiveDate) -> i32 {
    (date - EPOCH).num_days() as i32
}

fn format_time(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60,
        frac
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use floe_contract::parse_decimal_exact as parse_decimal;

    #[test]
    fn decimals_parse_and_format_at_scale() {
        assert_eq!(parse_decimal("12.5", 10, 2), Some(1250));
        assert_eq!(parse_decimal("-0.01", 10, 2), Some(-1));
        assert_eq!(parse_decimal("1e3", 10, 2), Some(100_000));
        assert_eq!(parse_decimal("1.250", 10, 2), Some(125));
        assert_eq!(parse_decimal("1.255", 10, 2), None, "would round");
        assert_eq!(parse_decimal("123456789", 8, 0), None, "too many digits");
        assert_eq!(parse_decimal("abc", 8, 0), None);
        assert_eq!(
            parse_decimal("1e999999999", 38, 0),
            None,
            "no huge allocation"
        );
        assert_eq!(parse_decimal("1e-2147483648", 38, 0), None, "no overflow");
        assert_eq!(parse_decimal("0e999999999", 38, 2), Some(0));
        assert_eq!(parse_decimal("-0.000", 10, 2), Some(0));
        assert_eq!(format_decimal(1250, 2), "12.50");
        assert_eq!(format_decimal(-1, 2), "-0.01");
        assert_eq!(format_decimal(42, 0), "42");
    }

    #[test]
    fn every_type_round_trips_through_json() {
        let image = Image::from_fields([
            Field {
                name: "b".into(),
                ty: ColumnType::Boolean,
                value: Some(Value::Boolean(true)),
            },
            Field {
                name: "i".into(),
                ty: ColumnType::Int,
                value: Some(Value::Int(-3)),
            },
            Field {
                name: "l".into(),
                ty: ColumnType::Long,
                value: Some(Value::Long(1 << 60)),
            },
            Field {
                name: "f".into(),
                ty: ColumnType::Float,
                value: Some(Value::Float(0.5)),
            },
            Field {
                name: "d".into(),
                ty: ColumnType::Double,
                value: Some(Value::Double(2.75)),
            },
            Field {
                name: "dec".into(),
                ty: ColumnType::Decimal {
                    precision: 19,
                    scale: 4,
                },
                value: Some(Value::Decimal(-12_3456)),
            },
            Field {
                name: "day".into(),
                ty: ColumnType::Date,
                value: Some(Value::Date(19_723)),
            },
            Field {
                name: "t".into(),
                ty: ColumnType::Time,
                value: Some(Value::Time(45_296_000_001)),
            },
            Field {
                name: "ts".into(),
                ty: ColumnType::Timestamp,
                value: Some(Value::Timestamp(1_700_000_000_123_456)),
            },
            Field {
                name: "tz".into(),
                ty: ColumnType::Timestamptz,
                value: Some(Value::Timestamptz(1_700_000_000_000_001)),
            },
            Field {
                name: "s".into(),
                ty: ColumnType::String,
                value: Some(Value::String("x".into())),
            },
            Field {
                name: "u".into(),
                ty: ColumnType::Uuid,
                value: Some(Value::Uuid(*b"0123456789abcdef")),
            },
            Field {
                name: "bin".into(),
                ty: ColumnType::Binary,
                value: Some(Value::Binary(vec![1, 2, 250])),
            },
            Field {
                name: "n".into(),
                ty: ColumnType::String,
                value: None,
            },
        ]);
        let change = Change {
            op: Op::Update,
            table: "db.t".into(),
            key: vec!["l".into()],
            before: None,
            after: Some(image),
            position: Position::new("topic", 2, 9),
            event_time: Some(5),
        };
        let json = change_to_json(&change);
        assert_eq!(json["after"]["day"], "2024-01-01");
        assert_eq!(json["after"]["t"], "12:34:56.000001");
        assert_eq!(json["after"]["dec"], "-12.3456");
        assert_eq!(json["after"]["tz"], "2023-11-14T22:13:20.000001Z");
        let back = change_from_json(&json, Position::new("other", 0, 0)).unwrap();
        assert_eq!(back, change);
    }

    #[test]
    fn untyped_columns_are_inferred_and_errors_name_the_column() {
        let doc: Json = serde_json::from_str(r#"{"op":"insert","table":"t","after":{"id":1,"name":"a","ok":true,"w":1.5,"tags":[1]}}"#).unwrap();
        let change = change_from_json(&doc, Position::new("t", 0, 3)).unwrap();
        let after = change.after.unwrap();
        assert_eq!(after.field("id").unwrap().ty, ColumnType::Long);
        assert_eq!(after.get("tags"), Some(&Value::String("[1]".into())));
        assert_eq!(change.position.offset, 3);
        let bad: Json = serde_json::from_str(
            r#"{"op":"insert","types":{"d":"date"},"after":{"d":"31/01/2024"}}"#,
        )
        .unwrap();
        assert!(
            change_from_json(&bad, Position::new("t", 0, 0))
                .unwrap_err()
                .0
                .contains("after.d")
        );
        let bad_op: Json = serde_json::from_str(r#"{"op":"upsert"}"#).unwrap();
        assert!(
            change_from_json(&bad_op, Position::new("t", 0, 0))
                .unwrap_err()
                .0
                .contains("unknown op")
        );
    }
}
