//! The native decoder of Debezium change events as Kafka Connect's
//! `JsonConverter` writes them, with or without schema blocks.
//!
//! See the [module documentation of `decode`](crate::decode) for what a
//! record becomes; this module holds the decoder and its configuration.

mod envelope;
mod key;
mod logical;
mod mongodb;
mod numeric_time;
mod partial;
#[cfg(test)]
mod partial_tests;
mod raw;
mod row;
mod schema;
mod source;

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::change::ColumnType;
use crate::source::RawRecord;

use super::{DecodeError, Decoded, Decoder, Part, SkipReason};

pub use numeric_time::{NumericTime, TimeUnit, UnknownTimeUnit};

use numeric_time::TimeUnits;
use row::{Context, NameCache};
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
    /// Per column, what [`numeric_time`](Self::numeric_time) says for the
    /// rest of the table.
    pub numeric_time_columns: HashMap<String, NumericTime>,
}

/// The configuration in the form decoding uses.
#[derive(Debug)]
pub(crate) struct Settings {
    table: Option<String>,
    key: Option<Vec<String>>,
    types: TypeMap,
    times: TimeUnits,
    /// The width of the last image built, to size the next one.
    width: Cell<usize>,
    /// The column names of the images built so far.
    names: NameCache,
}

impl Settings {
    /// What converting values needs.
    fn context(&self) -> Context<'_> {
        Context {
            types: &self.types,
            times: &self.times,
            width: Some(&self.width),
            names: Some(&self.names),
        }
    }
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

impl DebeziumDecoder {
    /// A decoder for a table configured by `config`.
    pub fn new(config: DebeziumConfig) -> Self {
        let times = TimeUnits::new(
            config.table.clone(),
            config.numeric_time,
            config.numeric_time_columns,
        );
        DebeziumDecoder {
            settings: Settings {
                table: config.table,
                key: config.key,
                types: type_map(config.column_types),
                times,
                width: Cell::new(16),
                names: NameCache::default(),
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

    /// Replaces the target table's column types (see
    /// [`DebeziumConfig::column_types`]): the table was created or its
    /// schema evolved since the decoder was made, and schemaless values must
    /// be typed by the table as it is now. Parsed schemas are dropped, since
    /// the types give VariableScaleDecimal columns their scale.
    pub fn set_column_types(&mut self, column_types: HashMap<String, ColumnType>) {
        self.settings.types = type_map(column_types);
        self.cache = SchemaCache::new(SCHEMA_CACHE_CAPACITY);
        self.last_schema = None;
    }

    /// What this decoder has seen so far.
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// The integer timestamps decoded since the last call whose unit `auto`
    /// guessed in the ambiguous band (see the [module
    /// documentation](crate::decode)), per column: `(column, count)`.
    pub fn take_guessed_times(&mut self) -> Vec<(String, u64)> {
        self.settings.times.take_guesses()
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
        let ctx = self.settings.context();
        // Fast path: the same schema block as the last message, byte for
        // byte, in JsonConverter's compact layout. The schema text is known
        // valid, so only the payload is validated and parsed.
        if let Some((schema_text, parsed)) = &self.last_schema {
            let payload = raw::payload_after_schema(bytes, schema_text)
                .and_then(|rest| std::str::from_utf8(rest).ok());
            if let Some(text) = payload {
                let parsed = parsed.clone();
                match envelope::parse(text, Some(&parsed), &ctx) {
                    // Not one JSON object (a null payload, trailing members):
                    // the general path below decides.
                    Err(DecodeError::InvalidJson { .. } | DecodeError::NotAnObject { .. }) => {}
                    payload => {
                        return envelope::decode(
                            record,
                            text,
                            payload,
                            Some(&parsed),
                            &self.settings,
                            &mut self.cache,
                        );
                    }
                }
            }
        }
        let text = std::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidJson {
            part: Part::Value,
            message: e.to_string(),
        })?;
        if text.trim() == "null" {
            return Ok(Decoded::Skipped(SkipReason::Tombstone));
        }
        let top = envelope::parse(text, None, &ctx);
        let Some((schema, payload)) = top.as_ref().ok().and_then(|p| p.schema_wrapper()) else {
            return envelope::decode(record, text, top, None, &self.settings, &mut self.cache);
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
            return Ok(Decoded::Skipped(SkipReason::Tombstone));
        }
        let text = payload.get();
        let payload = envelope::parse(text, parsed.as_deref(), &ctx);
        envelope::decode(
            record,
            text,
            payload,
            parsed.as_deref(),
            &self.settings,
            &mut self.cache,
        )
    }
}

/// Column types in the form decoding looks them up.
fn type_map(column_types: HashMap<String, ColumnType>) -> TypeMap {
    column_types
        .into_iter()
        .map(|(name, ty)| (name.into_boxed_str(), ty))
        .collect()
}

impl Decoder for DebeziumDecoder {
    fn decode(&mut self, record: &RawRecord) -> Result<Decoded, DecodeError> {
        DebeziumDecoder::decode(self, record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{Change, Value};

    fn record(value: &str) -> RawRecord {
        RawRecord {
            topic: "t".into(),
            partition: 0,
            offset: 0,
            timestamp: None,
            key: Some(br#"{"id": 1}"#.to_vec()),
            value: Some(value.as_bytes().to_vec()),
            headers: Vec::new(),
        }
    }

    fn decode_one(decoder: &mut DebeziumDecoder, value: &str) -> Change {
        match decoder.decode(&record(value)).unwrap() {
            Decoded::Changes(mut changes) => changes.remove(0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn schemaless_nulls_are_typed_by_the_table_as_it_is_now() {
        let mut decoder = DebeziumDecoder::new(DebeziumConfig::default());
        let value =
            r#"{"op":"c","before":null,"after":{"id":1,"active":null,"score":2},"source":{}}"#;
        let change = decode_one(&mut decoder, value);
        let after = change.after.as_ref().unwrap();
        // Undeclared and NULL: left out, not typed as a string.
        assert!(after.field("active").is_none(), "{after:?}");
        assert_eq!(after.field("score").unwrap().ty, ColumnType::Long);
        // The table is created or evolves: the decoder learns its types.
        decoder.set_column_types(HashMap::from([
            ("active".to_string(), ColumnType::Boolean),
            ("score".to_string(), ColumnType::Double),
        ]));
        let change = decode_one(&mut decoder, value);
        let after = change.after.as_ref().unwrap();
        let active = after.field("active").unwrap();
        assert_eq!((active.ty, &active.value), (ColumnType::Boolean, &None));
        let score = after.field("score").unwrap();
        assert_eq!(
            (score.ty, &score.value),
            (ColumnType::Double, &Some(Value::Double(2.0)))
        );
    }
}
