//! The native decoder of Debezium change events as Kafka Connect's
//! `JsonConverter` writes them, with or without schema blocks.
//!
//! See the [module documentation of `decode`](crate::decode) for what a
//! record becomes; this module holds the decoder and its configuration.

mod envelope;
mod key;
mod logical;
mod mongodb;
mod raw;
mod row;
mod schema;

use std::collections::HashMap;
use std::sync::Arc;

use crate::change::ColumnType;
use crate::source::RawRecord;

use super::{DecodeError, Decoded, Decoder, Part, SkipReason};

pub use logical::{NumericTime, TimeUnit};

use raw::{Entries, EntriesError};
use schema::{ParsedSchema, SchemaCache, TypeMap};

/// How many distinct schemas the decoder keeps parsed before it clears its
/// cache and starts over.
pub const SCHEMA_CACHE_CAPACITY: usize = 1_024;

/// What a table's configuration tells the Debezium decoder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DebeziumConfig {
    /// The target table as `namespace.name`. When `None`, each change names
    /// the table from its source block: `schema.table` (PostgreSQL, SQL
    /// Server, Oracle), `db.table` (MySQL), `db.collection` (MongoDB),
    /// `__schema`/`__db` + `__table` (flattened rows), else the topic.
    pub table: Option<String>,
    /// The key columns. When `None`, the Kafka key's field names (`_id` for
    /// MongoDB); a record without a key then has no key columns.
    pub key: Option<Vec<String>>,
    /// The target table's column types (the existing table's schema or
    /// configured types). Without a schema block they decide each column's
    /// type; with one, they only give VariableScaleDecimal columns a scale.
    pub column_types: HashMap<String, ColumnType>,
    /// How integers become timestamps and times when no schema block gives
    /// their unit.
    pub numeric_time: NumericTime,
}

/// The configuration in the form decoding uses.
#[derive(Debug)]
pub(crate) struct Settings {
    table: Option<String>,
    key: Option<Vec<String>>,
    types: TypeMap,
    numeric: NumericTime,
}

/// Counts of what a decoder has seen, for metrics and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Records decoded into changes.
    pub changes: u64,
    /// Records skipped, by [`SkipReason`] in declaration order
    /// (see [`DecodeStats::skipped`]).
    skipped: [u64; SkipReason::ALL.len()],
    /// Records that failed to decode.
    pub errors: u64,
}

impl DecodeStats {
    /// Records skipped for `reason`.
    pub fn skipped(&self, reason: SkipReason) -> u64 {
        self.skipped[reason as usize]
    }
}

/// Decodes Debezium JSON records (MySQL, PostgreSQL, SQL Server, Oracle,
/// MongoDB; envelopes with or without schema blocks; ExtractNewRecordState
/// rows) into changes. One decoder serves one table configuration; it keeps
/// a cache of parsed schemas, so reuse it across records.
#[derive(Debug)]
pub struct DebeziumDecoder {
    settings: Settings,
    cache: SchemaCache,
    /// The last value schema seen, for the prefix fast path.
    last_schema: Option<(Arc<str>, Arc<ParsedSchema>)>,
    stats: DecodeStats,
}

/// How JsonConverter starts a message with a schema block.
const SCHEMA_PREFIX: &str = "{\"schema\":";
/// What follows the schema block.
const PAYLOAD_INFIX: &str = ",\"payload\":";

impl DebeziumDecoder {
    /// A decoder for a table configured by `config`.
    pub fn new(config: DebeziumConfig) -> Self {
        DebeziumDecoder {
            settings: Settings {
                table: config.table,
                key: config.key,
                types: config
                    .column_types
                    .into_iter()
                    .map(|(name, ty)| (name.into_boxed_str(), ty))
                    .collect(),
                numeric: config.numeric_time,
            },
            cache: SchemaCache::new(SCHEMA_CACHE_CAPACITY),
            last_schema: None,
            stats: DecodeStats::default(),
        }
    }

    /// Decodes one record: its changes, the reason it carries none, or why
    /// it belongs in the dead-letter queue.
    pub fn decode(&mut self, record: &RawRecord) -> Result<Decoded, DecodeError> {
        let result = self.decode_value(record);
        match &result {
            Ok(Decoded::Changes(_)) => self.stats.changes += 1,
            Ok(Decoded::Skipped(reason)) => self.stats.skipped[*reason as usize] += 1,
            Err(_) => self.stats.errors += 1,
        }
        result
    }

    /// What this decoder has seen so far.
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// How many distinct schema blocks (key and value) were parsed: each
    /// is parsed once while it stays in the cache.
    pub fn schemas_parsed(&self) -> u64 {
        self.cache.parsed()
    }

    fn decode_value(&mut self, record: &RawRecord) -> Result<Decoded, DecodeError> {
        let Some(bytes) = record.value.as_deref() else {
            return Ok(Decoded::Skipped(SkipReason::Tombstone));
        };
        let text = std::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidJson {
            part: Part::Value,
            message: e.to_string(),
        })?;
        let Some((schema, payload)) = self.split(text)? else {
            return Ok(Decoded::Skipped(SkipReason::Tombstone));
        };
        envelope::decode(
            record,
            &payload,
            schema.as_deref(),
            &self.settings,
            &mut self.cache,
        )
    }

    /// The value's schema (if it has a block) and payload entries; `None`
    /// for a JSON `null` value or payload (a tombstone).
    #[allow(clippy::type_complexity)]
    fn split<'t>(
        &mut self,
        text: &'t str,
    ) -> Result<Option<(Option<Arc<ParsedSchema>>, Entries<'t>)>, DecodeError> {
        // Fast path: the same schema block as the last message, byte for
        // byte, in JsonConverter's compact layout. The schema text is known
        // valid, so only the payload is parsed.
        if let Some((schema_text, parsed)) = &self.last_schema {
            if let Some(rest) = text
                .strip_prefix(SCHEMA_PREFIX)
                .and_then(|rest| rest.strip_prefix(&**schema_text))
                .and_then(|rest| rest.strip_prefix(PAYLOAD_INFIX))
                .and_then(|rest| rest.trim_end().strip_suffix('}'))
            {
                if let Ok(entries) = raw::entries(rest) {
                    return Ok(Some((Some(parsed.clone()), entries)));
                }
            }
        }
        if text.trim() == "null" {
            return Ok(None);
        }
        let top = raw::entries(text).map_err(|e| value_error(e))?;
        let (schema, payload) = match (raw::get(&top, "schema"), raw::get(&top, "payload")) {
            (Some(schema), Some(payload)) if top.len() == 2 => (schema, payload),
            _ => return Ok(Some((None, top))),
        };
        let parsed = if raw::is_null(schema) {
            None
        } else {
            let (schema_text, parsed) = self
                .cache
                .get_or_parse(schema.get(), &self.settings.types)
                .map_err(|message| DecodeError::InvalidSchema {
                    part: Part::Value,
                    message,
                })?;
            self.last_schema = Some((schema_text, parsed.clone()));
            Some(parsed)
        };
        if raw::is_null(payload) {
            return Ok(None);
        }
        let entries = raw::entries(payload.get()).map_err(|e| value_error(e))?;
        Ok(Some((parsed, entries)))
    }
}

fn value_error(e: EntriesError) -> DecodeError {
    match e {
        EntriesError::Syntax(message) => DecodeError::InvalidJson {
            part: Part::Value,
            message,
        },
        EntriesError::NotAnObject(found) => DecodeError::NotAnObject {
            part: Part::Value,
            found,
        },
    }
}

impl Decoder for DebeziumDecoder {
    fn decode(&mut self, record: &RawRecord) -> Result<Decoded, DecodeError> {
        DebeziumDecoder::decode(self, record)
    }
}
