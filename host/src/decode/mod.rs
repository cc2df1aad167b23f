//! Decoding: raw Kafka records into [`Change`]s.
//!
//! A [`Decoder`] turns one [`RawRecord`] into [`Decoded::Changes`], or
//! [`Decoded::Skipped`] with a [`SkipReason`] for records that carry no row
//! change (counted, not written), or a [`DecodeError`] that sends the record
//! to the dead-letter queue with a readable reason.
//!
//! # Debezium JSON ([`DebeziumDecoder`])
//!
//! Records as Kafka Connect's `JsonConverter` writes them, key and value,
//! with the schema block (`{"schema": …, "payload": …}`,
//! `schemas.enable=true`) or without it, from the MySQL, PostgreSQL, SQL
//! Server, Oracle and MongoDB connectors, and rows flattened by the
//! ExtractNewRecordState transform.
//!
//! **Ops.** `c` → [`Op::Insert`], `r` → [`Op::Read`], `u` → [`Op::Update`],
//! `d` → [`Op::Delete`], `t` → [`Op::Truncate`] (no images). The event time
//! is the source block's `ts_us`, else `ts_ns`, else `ts_ms` (the database's
//! commit time), in microseconds.
//!
//! **Skipped.** A null value or payload ([`SkipReason::Tombstone`]), `op: m`
//! ([`SkipReason::LogicalMessage`]), transaction BEGIN/END messages
//! ([`SkipReason::TransactionMetadata`]), schema-change topic messages
//! ([`SkipReason::SchemaChange`]) and heartbeats (a value of only `ts_ms`,
//! [`SkipReason::Heartbeat`]).
//!
//! **Keys.** The key columns are the configured ones, else the Kafka key's
//! field names, else none. A delete whose `before` and `after` are both
//! null (PostgreSQL `REPLICA IDENTITY DEFAULT` without a key change,
//! MongoDB without pre-images) gets a before image built from the Kafka
//! key's fields; without a key it is a [`DecodeError::NoRowIdentity`].
//!
//! **Types with a schema block.** Connect types: `int8`/`int16`/`int32` →
//! int, `int64` → long, `float`/`float32` → float, `double`/`float64` →
//! double, boolean, string, `bytes` (base64) → binary, `struct`/`array`/`map`
//! → string holding the value's compact JSON (a limitation: geometries,
//! PostgreSQL arrays and other nested values are not Iceberg structs or
//! lists). Logical types:
//!
//! | Logical type | Iceberg type |
//! |---|---|
//! | `org.apache.kafka.connect.data.Decimal` (base64 big-endian two's complement, `scale`, `connect.decimal.precision`) | `decimal(p,s)`; p = 38 without the parameter; p > 38 is capped at 38 (larger values go to the DLQ); a negative scale (Oracle) becomes scale 0. JSON numbers and decimal text are accepted too |
//! | `io.debezium.data.VariableScaleDecimal` (`{scale, value}`) | `decimal(p,s)` at the table's type when [`DebeziumConfig::column_types`] declares the column a decimal (values that would round go to the DLQ), else `double` |
//! | `io.debezium.time.Date`, `org.apache.kafka.connect.data.Date` (days), `IsoDate` | `date` |
//! | `io.debezium.time.Timestamp` (ms), `MicroTimestamp` (µs), `NanoTimestamp` (ns), `org.apache.kafka.connect.data.Timestamp` (ms), `IsoTimestamp` | `timestamp` |
//! | `io.debezium.time.ZonedTimestamp` (ISO text with offset) | `timestamptz` |
//! | `io.debezium.time.Time` (ms), `MicroTime` (µs), `NanoTime` (ns), `org.apache.kafka.connect.data.Time` (ms), `IsoTime` | `time` |
//! | `io.debezium.time.ZonedTime`, `Interval` | `string` (Iceberg has no time with zone or interval) |
//! | `io.debezium.time.MicroDuration` | `long` (µs) |
//! | `io.debezium.time.Year` | `int` |
//! | `io.debezium.data.Json`, `Enum`, `EnumSet`, `Xml`, `Ltree` | `string` |
//! | `io.debezium.data.Uuid` | `uuid` |
//! | `io.debezium.data.Bits` | `binary` |
//!
//! A payload field the schema does not describe is typed as without a schema.
//!
//! **Types without a schema block.** The target table's types decide
//! ([`DebeziumConfig::column_types`]); values are converted leniently:
//! numbers may come as strings and integral numbers as `1.0`; dates as days
//! since 1970-01-01 or `YYYY-MM-DD`; times as integers (see below) or
//! `HH:MM:SS[.f]`; timestamps as ISO 8601 text (an offset is converted to
//! UTC, none means UTC) or as integers (see below);
//! decimals as numbers or text (exactly, never through a double), base64
//! bytes at the column's scale, or a VariableScaleDecimal struct; binary as
//! base64; uuids as text. A value that cannot be converted is a
//! [`DecodeError::InvalidValue`] naming the column and the value. Columns
//! the table does not declare are inferred: integer → long, other number →
//! double, string → string, boolean → boolean, object or array → string
//! holding the JSON. A NULL in a column the table does not declare leaves
//! the column out of the image: a NULL fits any column, and the column is
//! added (typed) by its first value. The declared types are the table's
//! as it is now: a table created or evolved by this run teaches the
//! decoder its new columns' types as soon as they exist.
//!
//! **Integer times without a schema block.** An integer in a `timestamp`,
//! `timestamptz` or `time` column has no unit of its own.
//! [`DebeziumConfig::numeric_time`] gives the table's (`numeric_time` in a
//! table's configuration) and [`DebeziumConfig::numeric_time_columns`] a
//! column's (`numeric_time_columns`), which wins: `millis`, `micros`,
//! `nanos`, or `auto` (the default). Set them as the connector's
//! `time.precision.mode` writes the column: in the default modes
//! (`adaptive_time_microseconds` for MySQL, `adaptive` for PostgreSQL)
//! MySQL `DATETIME(0–3)` is `millis`, `DATETIME(4–6)` and `TIME` `micros`;
//! PostgreSQL `timestamp` and `time` are `micros`, `timestamp(0–3)` and
//! `time(0–3)` `millis`; with `connect` every type is `millis`. Dates are
//! always days (Debezium's `Date` in every mode): the keys do not apply to
//! them. Values with a schema block keep the unit their logical type names.
//!
//! `auto` reads times of day as microseconds and a timestamp by its
//! magnitude `|v|`: milliseconds below 10^14, microseconds below 10^17,
//! else nanoseconds. A magnitude is *ambiguous* when `v` is a timestamp both
//! as milliseconds (no further from 1970 than 9999-12-31, the last day of
//! SQL `DATETIME`, ISO 8601 and Python's `datetime`) and as microseconds
//! (then within eight years of 1970): `|v| < 253,402,300,800,000`. There the
//! guess can be 1,000 times off: `|v| < 10^14` is read as milliseconds (a
//! microsecond value from 1966-11 to 1973-03 lands up to year 5138), the rest
//! of the band as microseconds (a millisecond value after year 5138, such as
//! a 9999-12-31 sentinel, lands in 1973–1978). Above the band the
//! millisecond reading is past year 9999, so microseconds are the only
//! reading (nanoseconds within three years of 1970 are read as microseconds;
//! set `nanos` for nanosecond columns). Every value `auto` decides in the
//! band (in `before` and `after` images alike) is counted per column
//! ([`DebeziumDecoder::take_guessed_times`];
//! `floe_decode_guessed_time_total{table,column}` in `floe run`), and the
//! first one of each column is logged as a warning with both readings and
//! the key to set. Modern millisecond timestamps (below 10^14) are all in
//! the band: a column of them is counted until it is set to `millis`.
//!
//! **MongoDB.** `before`, `after` and `patch` are JSON strings holding
//! MongoDB Extended JSON; their top-level fields are the columns. `$oid` →
//! string, `$numberLong`/`$numberInt` → long, `$numberDouble` → double,
//! `$date` → timestamptz, `$binary` → binary, `$numberDecimal` → the exact
//! decimal text as a string, or a decimal when the table declares the column
//! `decimal(p,s)`; embedded documents and arrays → string holding their
//! JSON. The key is the Kafka key's `id` (itself Extended JSON) as column
//! `_id`. An update without a full document (only a `$set` patch or an
//! `updateDescription`) is a [`DecodeError::PartialUpdate`].
//!
//! **ExtractNewRecordState.** A payload with `__op` or `__deleted` (or,
//! without `op`, any `__` field) is a flattened row: the `__` fields are
//! read (`__op`, `__deleted`, `__table`, `__schema`, `__db`,
//! `__source_ts_us`/`_ns`/`_ms`) and dropped from the row;
//! `__deleted: "true"` makes it a delete whose before image is the row; a
//! row without `__op` is an upsert ([`Op::Update`]).
//!
//! **Schemas are parsed once.** Schema blocks are cached by their exact
//! text (up to [`debezium::SCHEMA_CACHE_CAPACITY`] schemas, then the cache
//! is cleared); a message whose schema block is byte-for-byte the previous
//! message's skips parsing it at all.
//!
//! [`Change`]: crate::change::Change
//! [`Op::Insert`]: crate::change::Op::Insert
//! [`Op::Read`]: crate::change::Op::Read
//! [`Op::Update`]: crate::change::Op::Update
//! [`Op::Delete`]: crate::change::Op::Delete
//! [`Op::Truncate`]: crate::change::Op::Truncate

pub mod debezium;
mod error;

pub use debezium::{
    DebeziumConfig, DebeziumDecoder, DecodeStats, NumericTime, TimeUnit, UnknownTimeUnit,
};
pub use error::{DecodeError, Part};

use crate::change::Change;
use crate::source::RawRecord;

/// What a record decodes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// The row changes the record carries, in order (one for Debezium).
    Changes(Vec<Change>),
    /// The record carries no row change; it is counted, not written.
    Skipped(SkipReason),
}

/// Why a record carries no row change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// A null value: the tombstone that follows a delete for log compaction.
    Tombstone,
    /// A logical decoding message (`op: m`, PostgreSQL `pg_logical_emit_message`).
    LogicalMessage,
    /// A transaction BEGIN or END message (transaction metadata topic).
    TransactionMetadata,
    /// A schema-change topic message (DDL, `tableChanges`).
    SchemaChange,
    /// A heartbeat (a value holding only `ts_ms`).
    Heartbeat,
}

impl SkipReason {
    /// Every reason, in declaration order.
    pub const ALL: [SkipReason; 5] = [
        SkipReason::Tombstone,
        SkipReason::LogicalMessage,
        SkipReason::TransactionMetadata,
        SkipReason::SchemaChange,
        SkipReason::Heartbeat,
    ];

    /// A short, stable label for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Tombstone => "tombstone",
            SkipReason::LogicalMessage => "logical_message",
            SkipReason::TransactionMetadata => "transaction_metadata",
            SkipReason::SchemaChange => "schema_change",
            SkipReason::Heartbeat => "heartbeat",
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Turns raw records into changes. Implementations keep per-table state
/// (caches), hence `&mut self`; they never panic on any input.
pub trait Decoder: Send {
    /// Decodes one record.
    fn decode(&mut self, record: &RawRecord) -> Result<Decoded, DecodeError>;
}
