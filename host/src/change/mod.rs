//! The change model: what flows from decoding to the table writer.
//!
//! A [`Change`] is one row-level event of a source table: its [`Op`], the key
//! column names, the before and after [`Image`]s, and the [`Position`] of the
//! Kafka record it came from. Values are typed as Iceberg primitives
//! ([`ColumnType`], [`Value`]).
//!
//! Changes travel the pipeline in batches, as a [`ChangeBatch`]: the plugin
//! contract's columnar form, so that handing a batch to a plugin is a few
//! block copies. A [`Change`] is the owned form of one of its rows, for
//! tests, JSON and the places where one change is looked at on its own.

pub mod batch;
mod image;
pub mod json;
mod value;

pub use batch::{
    Cell, ChangeBatch, ChangeBatchBuilder, Column, ImageBuilder, ImageColumns, ImageRef, Images,
    Which,
};
pub use image::{Field, Image};
pub use value::{ColumnType, ParseTypeError, Value};

use std::fmt;
use std::sync::Arc;

/// The kind of a change, as Debezium's `op` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// A new row (`c`).
    Insert,
    /// A changed row (`u`).
    Update,
    /// A removed row (`d`).
    Delete,
    /// A row read by a snapshot (`r`): applied as an upsert.
    Read,
    /// Every row of the table removed (`t`).
    Truncate,
}

impl Op {
    /// Every op, in declaration order.
    pub const ALL: [Op; 5] = [Op::Insert, Op::Update, Op::Delete, Op::Read, Op::Truncate];

    /// The lower-case name used in configuration, JSON and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Read => "read",
            Op::Truncate => "truncate",
        }
    }

    /// Parses a name as written by [`Op::as_str`].
    pub fn parse(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.as_str() == name)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a record came from: its identity from source to snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    /// The Kafka topic (or the topic a file source stands for).
    pub topic: Arc<str>,
    /// The partition within the topic.
    pub partition: i32,
    /// The record's offset within the partition.
    pub offset: i64,
}

impl Position {
    /// A position from its parts.
    pub fn new(topic: impl Into<Arc<str>>, partition: i32, offset: i64) -> Self {
        Position {
            topic: topic.into(),
            partition,
            offset,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]@{}", self.topic, self.partition, self.offset)
    }
}

/// One row-level change bound for a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// What happened to the row.
    pub op: Op,
    /// The target table, as `namespace.name`.
    pub table: String,
    /// The key column names (empty when unknown: the table's identifier
    /// fields then decide).
    pub key: Vec<String>,
    /// The row as it was, when the source says.
    pub before: Option<Image>,
    /// The row as it is now; absent for deletes and truncates.
    pub after: Option<Image>,
    /// The record this change was decoded from.
    pub position: Position,
    /// When the change happened at the source, in microseconds since the epoch.
    pub event_time: Option<i64>,
}

impl Change {
    /// The image that identifies the row: the after image, or the before
    /// image for a delete.
    pub fn row_image(&self) -> Option<&Image> {
        match self.op {
            Op::Delete | Op::Truncate => self.before.as_ref(),
            _ => self.after.as_ref().or(self.before.as_ref()),
        }
    }
}
