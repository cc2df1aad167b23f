//! Why a record could not be decoded: the reason a dead-letter record carries.

use std::fmt;

use crate::change::ColumnType;

/// Which part of a Kafka record an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The record key.
    Key,
    /// The record value.
    Value,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Key => "key",
            Part::Value => "value",
        })
    }
}

/// A record that cannot be decoded into changes; it goes to the dead-letter
/// queue with this as its reason. The record's position is not repeated here:
/// the caller holds the record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// The key or value is not UTF-8 JSON.
    #[error("{part} is not valid JSON: {message}")]
    InvalidJson {
        /// Key or value.
        part: Part,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The key or value is JSON but not an object.
    #[error("{part} must be a JSON object, not {found}")]
    NotAnObject {
        /// Key or value.
        part: Part,
        /// What it is instead (`an array`, `a string`, ...).
        found: &'static str,
    },
    /// The value has no `op` and is none of the known non-change messages.
    #[error(
        "envelope has no `op` field (nor is it a transaction, schema-change or heartbeat message, or an ExtractNewRecordState row with `__op`/`__deleted`)"
    )]
    MissingOp,
    /// The `op` is not one Debezium writes.
    #[error("unknown op `{0}` (expected c, r, u, d, t or m)")]
    UnknownOp(String),
    /// A create, read or update without an `after` image.
    #[error("`{op}` event has no `after` image")]
    MissingAfter {
        /// The op as written (`c`, `r`, `u`).
        op: String,
    },
    /// A delete with neither a `before` image nor a Kafka key to identify the row.
    #[error(
        "delete has no row identity: `before` and `after` are null and the record has no key with fields"
    )]
    NoRowIdentity,
    /// A value its column's type cannot hold.
    #[error("{image}.{column}: {value} cannot be stored as {ty}: {reason}")]
    InvalidValue {
        /// Where the column is: `before`, `after` or `key`.
        image: &'static str,
        /// The column name.
        column: String,
        /// The value as JSON text (shortened past 120 characters).
        value: String,
        /// The column's type.
        ty: ColumnType,
        /// Why it does not fit.
        reason: String,
    },
    /// A Connect schema block that cannot be read.
    #[error("invalid Connect schema in the {part}: {message}")]
    InvalidSchema {
        /// Key or value.
        part: Part,
        /// What is wrong with it.
        message: String,
    },
    /// An envelope member of the wrong shape (`op` not a string, `after` an
    /// array, a MongoDB document that is not a JSON object, ...).
    #[error("`{field}` {message}")]
    InvalidEnvelope {
        /// The member, e.g. `after` or `op`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A MongoDB update that carries only the changed fields (a `$set`
    /// patch or `updateDescription`), not the full document.
    #[error(
        "MongoDB update carries no full document (`after` is null; only a patch or updateDescription): set the connector's capture.mode to change_streams_update_full"
    )]
    PartialUpdate,
}

impl DecodeError {
    /// A short, stable label for metrics (`floe_dlq_records_total{reason}`).
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::InvalidJson { .. } => "invalid_json",
            DecodeError::NotAnObject { .. } => "not_an_object",
            DecodeError::MissingOp => "missing_op",
            DecodeError::UnknownOp(_) => "unknown_op",
            DecodeError::MissingAfter { .. } => "missing_after",
            DecodeError::NoRowIdentity => "no_row_identity",
            DecodeError::InvalidValue { .. } => "invalid_value",
            DecodeError::InvalidSchema { .. } => "invalid_schema",
            DecodeError::InvalidEnvelope { .. } => "invalid_envelope",
            DecodeError::PartialUpdate => "partial_update",
        }
    }
}
