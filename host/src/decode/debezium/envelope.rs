//! One Debezium payload (the envelope, or an ExtractNewRecordState row)
//! into a change or a skip.
//!
//! The payload is read in one pass ([`PayloadSeed`]): `before` and `after`
//! become images while serde_json reads them, `source` is read for its
//! names and times, every other member is kept as raw JSON. Rows that turn
//! out to be flattened (ExtractNewRecordState) are re-read member by member,
//! which is rare.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::change::{Change, Image, Op};
use crate::decode::{DecodeError, Decoded, Part, SkipReason};
use crate::source::RawRecord;

use super::Settings;
use super::key::{self, KafkaKey};
use super::mongodb;
use super::raw::{self, Entries, EntriesError, Text, Token};
use super::row::{self, Context, ImageSeed, Slot};
use super::schema::{ParsedSchema, RowSchema, SchemaCache};
use super::source::Source;

/// The prefix of the fields ExtractNewRecordState adds (`add.fields`, `__deleted`).
const META: &str = "__";

/// A payload read in one pass.
#[derive(Debug, Default)]
pub(crate) struct Payload<'a> {
    before: Slot<'a>,
    after: Slot<'a>,
    /// The source block, when there is one.
    source: Option<Source<'a>>,
    op: Option<&'a RawValue>,
    /// Every other member, in order.
    members: Entries<'a>,
}

impl<'a> Payload<'a> {
    fn get(&self, name: &str) -> Option<&'a RawValue> {
        raw::get(&self.members, name)
    }

    fn has(&self, name: &str) -> bool {
        match name {
            "before" => self.before.is_present(),
            "after" => self.after.is_present(),
            "source" => self.source.is_some(),
            "op" => self.op.is_some(),
            _ => self.get(name).is_some(),
        }
    }

    /// Whether members with envelope names were read as such (a flattened
    /// row must then be re-read to see them as columns).
    fn read_envelope_members(&self) -> bool {
        self.before.is_present()
            || self.after.is_present()
            || self.source.is_some()
            || self.op.is_some()
    }

    /// Whether this is the `{"schema", "payload"}` wrapper of a value with a
    /// schema block: its two members, raw.
    pub(crate) fn schema_wrapper(&self) -> Option<(&'a RawValue, &'a RawValue)> {
        match self.members.as_slice() {
            [(a, x), (b, y)] if !self.read_envelope_members() => match (a.as_ref(), b.as_ref()) {
                ("schema", "payload") => Some((x, y)),
                ("payload", "schema") => Some((y, x)),
                _ => None,
            },
            _ => None,
        }
    }

    fn is_flattened(&self) -> bool {
        self.get("__op").is_some()
            || self.get("__deleted").is_some()
            || (self.op.is_none() && self.members.iter().any(|(name, _)| name.starts_with(META)))
    }
}

/// Parses a payload in one pass: images converted by `schema` and `ctx`.
/// A conversion error comes back as itself; a syntax error as the JSON error.
pub(crate) fn parse<'a>(
    text: &'a str,
    schema: Option<&ParsedSchema>,
    ctx: &Context,
) -> Result<Payload<'a>, DecodeError> {
    let mut error = None;
    let seed = PayloadSeed {
        ctx,
        before: schema.and_then(|s| s.before.as_ref()),
        after: schema.and_then(|s| s.after.as_ref()),
        error: &mut error,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = seed.deserialize(&mut de).and_then(|p| de.end().map(|()| p));
    match (parsed, error) {
        (Ok(payload), _) => Ok(payload),
        (Err(_), Some(conversion)) => Err(conversion),
        (Err(e), None) => Err(match e.classify() {
            serde_json::error::Category::Data => DecodeError::NotAnObject {
                part: Part::Value,
                found: raw::kind_of(text),
            },
            _ => DecodeError::InvalidJson {
                part: Part::Value,
                message: e.to_string(),
            },
        }),
    }
}

struct PayloadSeed<'s, 'c> {
    ctx: &'s Context<'c>,
    before: Option<&'s RowSchema>,
    after: Option<&'s RowSchema>,
    error: &'s mut Option<DecodeError>,
}

impl<'de, 's, 'c> DeserializeSeed<'de> for PayloadSeed<'s, 'c> {
    type Value = Payload<'de>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, 's, 'c> Visitor<'de> for PayloadSeed<'s, 'c> {
    type Value = Payload<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut payload = Payload {
            members: Vec::with_capacity(8),
            ..Payload::default()
        };
        while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
            match name.as_ref() {
                "before" | "after" => {
                    let (image, rows) = if name == "before" {
                        ("before", self.before)
                    } else {
                        ("after", self.after)
                    };
                    let slot = map.next_value_seed(ImageSeed {
                        image,
                        rows,
                        ctx: self.ctx,
                        error: &mut *self.error,
                    })?;
                    if image == "before" {
                        payload.before = slot;
                    } else {
                        payload.after = slot;
                    }
                }
                "source" => payload.source = Some(map.next_value()?),
                "op" => payload.op = Some(map.next_value()?),
                _ => payload.members.push((name, map.next_value()?)),
            }
        }
        Ok(payload)
    }
}

/// Decodes a payload (`text`, read into `payload`). `schema` is the
/// value's parsed schema block.
pub(crate) fn decode(
    record: &RawRecord,
    text: &str,
    payload: Result<Payload, DecodeError>,
    schema: Option<&ParsedSchema>,
    settings: &Settings,
    cache: &mut SchemaCache,
) -> Result<Decoded, DecodeError> {
    let payload = match payload {
        Ok(payload) if payload.is_flattened() => {
            return if payload.read_envelope_members() {
                let entries = reread(text)?;
                flattened(record, &entries, schema, settings, cache)
            } else {
                flattened(record, &payload.members, schema, settings, cache)
            };
        }
        Ok(payload) => payload,
        Err(error @ DecodeError::InvalidValue { .. }) => {
            // A flattened row with a column named `before` or `after` was
            // read as an envelope: re-read it as a row before blaming it.
            // And since the conversion stopped the parse early, invalid JSON
            // further on is the better reason.
            return match reread(text) {
                Ok(entries) if is_flattened(&entries) => {
                    flattened(record, &entries, schema, settings, cache)
                }
                Ok(_) => Err(error),
                Err(json) => Err(json),
            };
        }
        Err(error) => return Err(error),
    };

    let op_text = match payload.op.filter(|r| !raw::is_null(r)) {
        Some(raw_op) => raw::as_str(raw_op).ok_or_else(|| DecodeError::InvalidEnvelope {
            field: "op".to_owned(),
            message: format!("must be a string, not {}", raw::kind_of(raw_op.get())),
        })?,
        None => {
            let has = |name: &str| payload.has(name);
            return if has("status") && has("id") && (has("event_count") || has("data_collections"))
            {
                Ok(Decoded::Skipped(SkipReason::TransactionMetadata))
            } else if has("ddl")
                || has("tableChanges")
                || (has("databaseName") && !has("before") && !has("after"))
            {
                Ok(Decoded::Skipped(SkipReason::SchemaChange))
            } else if payload.members.len() == 1 && has("ts_ms") && !payload.read_envelope_members()
            {
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

    let Payload {
        before: before_slot,
        after: after_slot,
        source,
        members,
        ..
    } = payload;
    let source = source.unwrap_or_default();
    let patch = raw::get(&members, "patch").filter(|r| !raw::is_null(r));
    let mongo = source.connector() == Some("mongodb")
        || matches!(before_slot, Slot::Document(_))
        || matches!(after_slot, Slot::Document(_))
        || patch.is_some_and(|r| r.get().starts_with('"'));
    let ctx = settings.context();
    let image = |name: &'static str, slot: Slot| -> Result<Option<Image>, DecodeError> {
        match slot {
            Slot::Absent | Slot::Null => Ok(None),
            Slot::Image(image) => Ok(Some(image)),
            Slot::Document(text) => mongodb::text_image(name, &text, &ctx).map(Some),
            Slot::Invalid(kind) => Err(DecodeError::InvalidEnvelope {
                field: name.to_owned(),
                message: row::not_an_image(kind),
            }),
        }
    };

    let mut kafka_key: Option<KafkaKey> = None;
    let (before, after) = match op {
        Op::Insert | Op::Read | Op::Update => {
            let after = match image("after", after_slot)? {
                Some(after) => after,
                None if mongo && op == Op::Update => {
                    mongo_patch(patch, raw::get(&members, "updateDescription"), &ctx)?
                }
                None => {
                    return Err(DecodeError::MissingAfter {
                        op: op_text.into_owned(),
                    });
                }
            };
            (image("before", before_slot)?, Some(after))
        }
        Op::Delete => {
            let before = match image("before", before_slot)? {
                Some(before) if !before.is_empty() => before,
                _ => {
                    // No pre-image (PostgreSQL REPLICA IDENTITY DEFAULT, MongoDB
                    // without pre-images) or an empty one: the key identifies the row.
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

    let (mut before, mut after) = (before, after);
    settle_unchanged(op == Op::Update, &mut before, &mut after);
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

/// The payload's members, re-read one by one.
fn reread(text: &str) -> Result<Entries<'_>, DecodeError> {
    raw::entries(text).map_err(|e| match e {
        EntriesError::Syntax(message) => DecodeError::InvalidJson {
            part: Part::Value,
            message,
        },
        EntriesError::NotAnObject(found) => DecodeError::NotAnObject {
            part: Part::Value,
            found,
        },
    })
}

fn is_flattened(entries: &Entries) -> bool {
    raw::get(entries, "__op").is_some() || raw::get(entries, "__deleted").is_some()
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
        None if update_description.is_some_and(|r| !raw::is_null(r)) => {
            Err(DecodeError::PartialUpdate)
        }
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
    let ctx = settings.context();
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
    // Without `__op` the row is an upsert of a whole row.
    let (mut before, mut after) = (before, after);
    settle_unchanged(
        op == Op::Update && meta("__op").is_some(),
        &mut before,
        &mut after,
    );
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
    let int = |name: &str| meta(name).and_then(raw::as_i64);
    let event_time = micros_of(
        int("__source_ts_us"),
        int("__source_ts_ns"),
        int("__source_ts_ms"),
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
pub(crate) fn qualified(namespace: Option<Cow<str>>, name: Option<Cow<str>>) -> Option<String> {
    match (namespace, name) {
        (Some(ns), Some(name)) => Some(format!("{ns}.{name}")),
        (None, Some(name)) => Some(name.into_owned()),
        _ => None,
    }
}

/// Microseconds from the first of a µs, ns or ms timestamp that is given.
pub(crate) fn micros_of(us: Option<i64>, ns: Option<i64>, ms: Option<i64>) -> Option<i64> {
    us.or_else(|| ns.map(|v| v.div_euclid(1_000)))
        .or_else(|| ms.and_then(|v| v.checked_mul(1_000)))
}

/// What a change's images keep of the columns the source left unchanged:
/// the after image its unchanged columns (the table writer fills them), and
/// when `update`, that the columns a YugabyteDB image lacks are unchanged
/// (replica identity CHANGE); a before image nothing (only its key is read).
fn settle_unchanged(update: bool, before: &mut Option<Image>, after: &mut Option<Image>) {
    if let Some(before) = before {
        before.clear_unchanged();
    }
    if let Some(after) = after
        && !update
    {
        after.set_absent_unchanged(false);
    }
}
