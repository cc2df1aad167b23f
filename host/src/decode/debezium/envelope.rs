//! One Debezium payload (the envelope, or an ExtractNewRecordState row)
//! into a change or a skip.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::change::{Change, Image, Op};
use crate::decode::{DecodeError, Decoded, SkipReason};
use crate::source::RawRecord;

use super::Settings;
use super::key::{self, KafkaKey};
use super::mongodb;
use super::raw::{self, Entries, Text, Token};
use super::row::{self, Context};
use super::schema::{ParsedSchema, RowSchema, SchemaCache};

/// The prefix of the fields ExtractNewRecordState adds (`add.fields`, `__deleted`).
const META: &str = "__";

/// Decodes a payload's entries. `schema` is the value's parsed schema block.
pub(crate) fn decode(
    record: &RawRecord,
    payload: &Entries,
    schema: Option<&ParsedSchema>,
    settings: &Settings,
    cache: &mut SchemaCache,
) -> Result<Decoded, DecodeError> {
    let has = |name: &str| raw::get(payload, name).is_some();
    if has("__op") || has("__deleted") {
        return flattened(record, payload, schema, settings, cache);
    }
    let op_text = match raw::get(payload, "op").filter(|r| !raw::is_null(r)) {
        Some(raw_op) => raw::as_str(raw_op).ok_or_else(|| DecodeError::InvalidEnvelope {
            field: "op".to_owned(),
            message: format!("must be a string, not {}", raw::kind_of(raw_op.get())),
        })?,
        None => {
            return if has("status") && has("id") && (has("event_count") || has("data_collections"))
            {
                Ok(Decoded::Skipped(SkipReason::TransactionMetadata))
            } else if has("ddl")
                || has("tableChanges")
                || (has("databaseName") && !has("before") && !has("after"))
            {
                Ok(Decoded::Skipped(SkipReason::SchemaChange))
            } else if payload.iter().any(|(name, _)| name.starts_with(META)) {
                flattened(record, payload, schema, settings, cache)
            } else if payload.len() == 1 && has("ts_ms") {
                Ok(Decoded::Skipped(SkipReason::Heartbeat))
            } else {
                Err(DecodeError::MissingOp)
            };
        }
    };
    let op = match op_text.as_ref() {
        "c" => Op::Insert,
        "r" => Op::Read,
        "u" => Op::Update,
        "d" => Op::Delete,
        "t" => Op::Truncate,
        "m" => return Ok(Decoded::Skipped(SkipReason::LogicalMessage)),
        other => return Err(DecodeError::UnknownOp(other.to_owned())),
    };

    let source = Source::read(raw::get(payload, "source"));
    let present = |name: &str| raw::get(payload, name).filter(|r| !raw::is_null(r));
    let before_raw = present("before");
    let after_raw = present("after");
    let patch_raw = present("patch");
    let is_string = |r: Option<&RawValue>| r.is_some_and(|r| r.get().starts_with('"'));
    let mongo = source.connector() == Some("mongodb")
        || is_string(before_raw)
        || is_string(after_raw)
        || is_string(patch_raw);
    let ctx = Context {
        types: &settings.types,
        numeric: settings.numeric,
    };
    let image = |name: &'static str, raw: &RawValue, rows: Option<&RowSchema>| {
        if raw.get().starts_with('"') {
            mongodb::document_image(name, raw, &ctx)
        } else {
            let entries = row::object_entries(name, raw)?;
            row::image_from_entries(name, &entries, rows, &ctx, false)
        }
    };
    let before_schema = schema.and_then(|s| s.before.as_ref());
    let after_schema = schema.and_then(|s| s.after.as_ref());

    let mut kafka_key: Option<KafkaKey> = None;
    let (before, after) = match op {
        Op::Insert | Op::Read | Op::Update => {
            let after = match after_raw {
                Some(raw) => image("after", raw, after_schema)?,
                None if mongo && op == Op::Update => {
                    mongo_patch(patch_raw, present("updateDescription"), &ctx)?
                }
                None => {
                    return Err(DecodeError::MissingAfter {
                        op: op_text.into_owned(),
                    });
                }
            };
            let before = before_raw
                .map(|raw| image("before", raw, before_schema))
                .transpose()?;
            (before, Some(after))
        }
        Op::Delete => {
            let before = match before_raw {
                Some(raw) => image("before", raw, before_schema)?,
                None => {
                    // No pre-image (PostgreSQL REPLICA IDENTITY DEFAULT, MongoDB
                    // without pre-images): the key identifies the row.
                    kafka_key = key::decode(record.key.as_deref(), cache, &ctx, mongo, true)?;
                    match kafka_key.as_mut().and_then(|k| k.image.take()) {
                        Some(image) if !image.is_empty() => image,
                        _ => return Err(DecodeError::NoRowIdentity),
                    }
                }
            };
            (Some(before), None)
        }
        Op::Truncate => (None, None),
    };

    let key = match &settings.key {
        Some(key) => key.clone(),
        None => match kafka_key {
            Some(k) => k.names,
            None => key::decode(record.key.as_deref(), cache, &ctx, mongo, false)?
                .map(|k| k.names)
                .unwrap_or_default(),
        },
    };
    let table = match &settings.table {
        Some(table) => table.clone(),
        None => source
            .table_name()
            .unwrap_or_else(|| record.topic.to_string()),
    };
    Ok(Decoded::Changes(vec![Change {
        op,
        table,
        key,
        before,
        after,
        position: record.position(),
        event_time: source.event_time(),
    }]))
}

/// A MongoDB update whose `after` is null: a full-document `patch` (1.x
/// oplog connector, a replacement) is the new document; an operator patch
/// (`$set`, ...) or an `updateDescription` alone is a partial update.
fn mongo_patch(
    patch: Option<&RawValue>,
    update_description: Option<&RawValue>,
    ctx: &Context,
) -> Result<Image, DecodeError> {
    match patch {
        Some(raw) => {
            let text = mongodb::document_text("patch", raw)?;
            let entries = mongodb::document_entries("patch", &text)?;
            if mongodb::is_operator_document(&entries) {
                return Err(DecodeError::PartialUpdate);
            }
            mongodb::image_of("after", &entries, ctx)
        }
        None if update_description.is_some() => Err(DecodeError::PartialUpdate),
        None => Err(DecodeError::MissingAfter { op: "u".to_owned() }),
    }
}

/// A row flattened by ExtractNewRecordState: the row's columns plus `__`
/// fields (`__op`, `__deleted`, `__table`, `__db`, `__source_ts_ms`, ...),
/// which are read and dropped. `__deleted: "true"` is a delete of the row;
/// without `__op` the row is an upsert ([`Op::Update`]).
fn flattened(
    record: &RawRecord,
    payload: &Entries,
    schema: Option<&ParsedSchema>,
    settings: &Settings,
    cache: &mut SchemaCache,
) -> Result<Decoded, DecodeError> {
    let meta = |name: &str| raw::get(payload, name).filter(|r| !raw::is_null(r));
    let deleted = meta("__deleted").is_some_and(|r| match Token::from_raw(r) {
        Token::Bool(b) => b,
        Token::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    });
    let op = match meta("__op") {
        None => Op::Update,
        Some(raw_op) => match raw::as_str(raw_op).as_deref() {
            Some("c") => Op::Insert,
            Some("r") => Op::Read,
            Some("u") => Op::Update,
            Some("d") => Op::Delete,
            Some("t") => Op::Truncate,
            Some(other) => return Err(DecodeError::UnknownOp(other.to_owned())),
            None => {
                return Err(DecodeError::InvalidEnvelope {
                    field: "__op".to_owned(),
                    message: format!("must be a string, not {}", raw::kind_of(raw_op.get())),
                });
            }
        },
    };
    let op = if deleted { Op::Delete } else { op };
    let ctx = Context {
        types: &settings.types,
        numeric: settings.numeric,
    };
    let rows = schema.map(|s| &s.top);
    let (before, after) = match op {
        Op::Truncate => (None, None),
        Op::Delete => (
            Some(row::image_from_entries(
                "before", payload, rows, &ctx, true,
            )?),
            None,
        ),
        _ => (
            None,
            Some(row::image_from_entries("after", payload, rows, &ctx, true)?),
        ),
    };
    let key = match &settings.key {
        Some(key) => key.clone(),
        None => key::decode(record.key.as_deref(), cache, &ctx, false, false)?
            .map(|k| k.names)
            .unwrap_or_default(),
    };
    let text = |name: &str| meta(name).and_then(raw::as_str).filter(|s| !s.is_empty());
    let table = match &settings.table {
        Some(table) => table.clone(),
        None => qualified(text("__schema").or_else(|| text("__db")), text("__table"))
            .unwrap_or_else(|| record.topic.to_string()),
    };
    let event_time = micros_of(
        meta("__source_ts_us"),
        meta("__source_ts_ns"),
        meta("__source_ts_ms"),
    );
    Ok(Decoded::Changes(vec![Change {
        op,
        table,
        key,
        before,
        after,
        position: record.position(),
        event_time,
    }]))
}

/// `namespace.name`, or `name` alone.
fn qualified(namespace: Option<Cow<str>>, name: Option<Cow<str>>) -> Option<String> {
    match (namespace, name) {
        (Some(ns), Some(name)) => Some(format!("{ns}.{name}")),
        (None, Some(name)) => Some(name.into_owned()),
        _ => None,
    }
}

/// Microseconds from the first of a µs, ns or ms timestamp that is an integer.
fn micros_of(us: Option<&RawValue>, ns: Option<&RawValue>, ms: Option<&RawValue>) -> Option<i64> {
    us.and_then(raw::as_i64)
        .or_else(|| ns.and_then(raw::as_i64).map(|v| v.div_euclid(1_000)))
        .or_else(|| ms.and_then(raw::as_i64).and_then(|v| v.checked_mul(1_000)))
}

/// The envelope's `source` block: what names the table and dates the change.
/// Read leniently: a block of an unexpected shape names nothing.
#[derive(Debug, Default, Deserialize)]
struct Source<'a> {
    #[serde(borrow, default)]
    connector: Option<Text<'a>>,
    #[serde(borrow, default)]
    db: Option<Text<'a>>,
    #[serde(borrow, default)]
    schema: Option<Text<'a>>,
    #[serde(borrow, default)]
    table: Option<Text<'a>>,
    #[serde(borrow, default)]
    collection: Option<Text<'a>>,
    #[serde(borrow, default)]
    ts_ms: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ts_us: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ts_ns: Option<&'a RawValue>,
}

impl<'a> Source<'a> {
    fn read(raw: Option<&'a RawValue>) -> Source<'a> {
        let Some(raw) = raw.filter(|r| !raw::is_null(r)) else {
            return Source::default();
        };
        serde_json::from_str(raw.get()).unwrap_or_else(|e| {
            tracing::debug!(error = %e, "unreadable Debezium source block; ignoring it");
            Source::default()
        })
    }

    /// The connector's name (`mysql`, `postgresql`, `mongodb`, ...).
    fn connector(&self) -> Option<&str> {
        self.connector.as_ref().map(|t| t.0.as_ref())
    }

    /// When the database committed the change, in µs: `ts_us`, else
    /// `ts_ns`, else `ts_ms` of the source block.
    fn event_time(&self) -> Option<i64> {
        micros_of(self.ts_us, self.ts_ns, self.ts_ms)
    }

    /// `schema.table` (PostgreSQL, SQL Server, Oracle), `db.table` (MySQL)
    /// or `db.collection` (MongoDB).
    fn table_name(&self) -> Option<String> {
        let non_empty =
            |t: &Option<Text<'a>>| t.as_ref().map(|t| t.0.clone()).filter(|s| !s.is_empty());
        qualified(
            non_empty(&self.schema).or_else(|| non_empty(&self.db)),
            non_empty(&self.table).or_else(|| non_empty(&self.collection)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_blocks() {
        let text = r#"{"connector":"postgresql","db":"postgres","schema":"public","table":"t","ts_ms":1,"ts_us":1500,"ts_ns":1500999,"snapshot":true}"#;
        let raw: &RawValue = serde_json::from_str(text).unwrap();
        let s = Source::read(Some(raw));
        assert_eq!(s.connector(), Some("postgresql"));
        assert_eq!(s.event_time(), Some(1500));
        assert_eq!(s.table_name().as_deref(), Some("public.t"));

        let raw: &RawValue = serde_json::from_str(
            r#"{"db":"inventory","table":"customers","ts_ns":1465491411815437158}"#,
        )
        .unwrap();
        let s = Source::read(Some(raw));
        assert_eq!(s.event_time(), Some(1_465_491_411_815_437));
        assert_eq!(s.table_name().as_deref(), Some("inventory.customers"));

        let raw: &RawValue =
            serde_json::from_str(r#"{"db":"x","schema":"","collection":"c","ts_ms":2}"#).unwrap();
        let s = Source::read(Some(raw));
        assert_eq!(s.event_time(), Some(2000));
        assert_eq!(s.table_name().as_deref(), Some("x.c"));

        let raw: &RawValue = serde_json::from_str(r#"{"db":5}"#).unwrap();
        assert_eq!(Source::read(Some(raw)).table_name(), None, "lenient");
        let raw: &RawValue = serde_json::from_str(r#"{"ts_ms":1.5}"#).unwrap();
        assert_eq!(Source::read(Some(raw)).event_time(), None);
    }
}
