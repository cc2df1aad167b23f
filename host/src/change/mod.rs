//! The change model: what flows from decoding to the table writer.
//!
//! A [`Change`] is one row-level event of a source table: its [`Op`], the key
//! column names, the before and after [`Image`]s, and the [`Position`] of the
//! Kafka record it came from. Values are typed as Iceberg primitives
//! ([`ColumnType`], [`Value`]). [`Op`], [`ColumnType`], the cell encodings
//! and the text forms of values are the `floe-contract` crate's, which the
//! guest SDK shares.
//!
//! Changes travel the pipeline in batches, as a [`ChangeBatch`]: the plugin
//! contract's columnar form, so that handing a batch to a plugin is a few
//! block copies. A [`Change`] is the owned form of one of its rows, for
//! tests, JSON and the places where one change is looked at on its own.

pub mod batch;
mod builder;
mod image;
pub mod json;
pub mod partial;
mod value;
mod view;

pub use batch::{
    Cell, ChangeBatch, ChangeBatchBuilder, Column, ImageBuilder, ImageColumns, ImageRef, Images,
    Which,
};
pub use floe_contract::{ColumnType, Op};
pub use image::{Field, Image};
pub use partial::{PartialRows, Unchanged};
pub use value::Value;

use std::fmt;
use std::sync::Arc;

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
