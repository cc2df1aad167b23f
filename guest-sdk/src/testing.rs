//! Running plugins natively, without a host: build a batch, feed it to a
//! transformer or decoder, and look at the results as plain Rust values.
//!
//! ```
//! use floe_guest::testing::{self, TestOutcome};
//! use floe_guest::{Change, ChangeBuilder, Config, Error, Op, Outcome, Transformer};
//!
//! struct Upper;
//!
//! impl Transformer for Upper {
//!     fn init(_: &Config) -> Result<Self, Error> {
//!         Ok(Upper)
//!     }
//!     fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
//!         let name = change.after().and_then(|a| a.get("name")).and_then(|v| v.as_str());
//!         if let Some(upper) = name.map(str::to_uppercase) {
//!             change.after_mut().unwrap().set("name", upper);
//!         }
//!         Outcome::Keep
//!     }
//! }
//!
//! let mut batch = ChangeBuilder::new();
//! batch.change(Op::Insert, "t").after().set("name", "ann");
//! batch.change(Op::Delete, "t").before().set("name", "bob");
//! let mut plugin = Upper::init(&Config::default()).unwrap();
//! let out = testing::transform(&mut plugin, &batch.finish());
//! match &out[0] {
//!     TestOutcome::Replace(c) => assert_eq!(c.after.as_ref().unwrap().get("name"), Some(&"ANN".into())),
//!     other => panic!("{other:?}"),
//! }
//! assert_eq!(out[1], TestOutcome::Keep);
//! ```

use crate::columnar;
use crate::decode::{self, Decoder};
use crate::transform::{self, Change, Transformer, outcome};
use crate::wit;
use crate::{ColumnType, Op, OwnedValue};

/// A batch of changes in the columnar form the host sends; build one with
/// [`crate::ChangeBuilder`] and [`ChangeBuilder::finish`](crate::ChangeBuilder::finish).
#[derive(Clone)]
pub struct Batch(pub(crate) wit::ChangeBatch);

impl Batch {
    /// A batch as the host sends it: the contract's `change-batch`.
    pub fn from_wire(batch: wit::ChangeBatch) -> Batch {
        Batch(batch)
    }

    /// The number of changes.
    pub fn len(&self) -> usize {
        self.0.ops.len()
    }

    /// Whether the batch has no change.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every change of the batch, copied out.
    pub fn changes(&self) -> Vec<OwnedChange> {
        let indexed = columnar::IndexedBatch::new(&self.0);
        (0..self.len())
            .map(|row| OwnedChange::of(&Change::new(&indexed, row)))
            .collect()
    }
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.changes()).finish()
    }
}

/// A row image copied out of a batch: (name, type, value) per column.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct OwnedImage {
    /// The columns, in batch order.
    pub fields: Vec<(String, ColumnType, OwnedValue)>,
}

impl OwnedImage {
    /// The value of column `name`, `None` when the image lacks it.
    pub fn get(&self, name: &str) -> Option<&OwnedValue> {
        self.fields.iter().find(|f| f.0 == name).map(|f| &f.2)
    }

    /// The type of column `name`, `None` when the image lacks it.
    pub fn column_type(&self, name: &str) -> Option<ColumnType> {
        self.fields.iter().find(|f| f.0 == name).map(|f| f.1)
    }

    /// The column names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.0.as_str()).collect()
    }
}

/// A change copied out of a batch.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnedChange {
    /// The kind of change.
    pub op: Op,
    /// The target table.
    pub table: String,
    /// The table's key columns.
    pub key_columns: Vec<String>,
    /// Event time, microseconds since the epoch.
    pub event_time: Option<i64>,
    /// The before image, if any.
    pub before: Option<OwnedImage>,
    /// The after image, if any.
    pub after: Option<OwnedImage>,
}

impl OwnedChange {
    fn of(change: &Change<'_>) -> OwnedChange {
        let image = |i: Option<crate::Image<'_>>| {
            i.map(|i| OwnedImage {
                fields: i
                    .iter()
                    .map(|f| (f.name.to_owned(), f.ty, f.value.to_owned_value()))
                    .collect(),
            })
        };
        OwnedChange {
            op: change.op(),
            table: change.table().to_owned(),
            key_columns: change.key_columns().to_vec(),
            event_time: change.event_time(),
            before: image(change.before()),
            after: image(change.after()),
        }
    }
}

/// What became of one change, as the host would see it.
#[derive(Clone, Debug, PartialEq)]
pub enum TestOutcome {
    /// Passed on unchanged.
    Keep,
    /// Dropped.
    Drop,
    /// Replaced by this change.
    Replace(OwnedChange),
    /// Sent unchanged to this table.
    Route(String),
    /// Rejected with this reason.
    Reject(String),
}

/// Runs `plugin` over `batch` through the same columnar path the host uses,
/// and returns one outcome per change.
pub fn transform<T: Transformer>(plugin: &mut T, batch: &Batch) -> Vec<TestOutcome> {
    let out = transform::transform_batch(plugin, &batch.0);
    assert_eq!(out.outcomes.len(), batch.len(), "one outcome per change");
    let replaced = Batch(out.replaced).changes();
    let mut replaced = replaced.into_iter();
    let mut routes = out.routes.into_iter();
    let mut rejected = out.rejected.into_iter();
    let outcomes = out
        .outcomes
        .iter()
        .enumerate()
        .map(|(row, o)| match o {
            &outcome::KEEP => TestOutcome::Keep,
            &outcome::DROP => TestOutcome::Drop,
            &outcome::REPLACE => TestOutcome::Replace(replaced.next().expect("a replacement")),
            &outcome::ROUTE => TestOutcome::Route(routes.next().expect("a route")),
            &outcome::REJECT => {
                let r = rejected.next().expect("a rejection");
                assert_eq!(r.row as usize, row, "rejections in input order");
                TestOutcome::Reject(r.reason)
            }
            other => panic!("outcome code {other}"),
        })
        .collect();
    assert!(replaced.next().is_none() && routes.next().is_none() && rejected.next().is_none());
    outcomes
}

/// Runs `plugin` over `batch` exactly as a call from the host does (the
/// SDK's batch loop, the `transformed` result built and dropped), without
/// reading the result back; returns how many changes it replaced. For
/// measuring a plugin natively.
pub fn run_batch<T: Transformer>(plugin: &mut T, batch: &Batch) -> usize {
    let out = transform::transform_batch(plugin, &batch.0);
    out.replaced.ops.len()
}

/// A raw Kafka record to feed a decoder.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TestRecord {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
    /// The Kafka timestamp, milliseconds since the epoch.
    pub timestamp: Option<i64>,
    /// The key; `None` for a null key.
    pub key: Option<Vec<u8>>,
    /// The value; `None` for a tombstone.
    pub value: Option<Vec<u8>>,
    /// The headers: name and optional value.
    pub headers: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl TestRecord {
    /// A record on topic `topic` with the given value.
    pub fn new(topic: &str, value: impl Into<Vec<u8>>) -> TestRecord {
        TestRecord {
            topic: topic.to_owned(),
            value: Some(value.into()),
            ..TestRecord::default()
        }
    }
}

/// What a decoder made of a list of records.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TestDecoded {
    /// The changes, each with the index of the record it came from.
    pub changes: Vec<(u32, OwnedChange)>,
    /// The rejected records: index and reason.
    pub rejected: Vec<(u32, String)>,
}

fn byte_strings<'a>(items: impl Iterator<Item = Option<&'a [u8]>>) -> wit::ByteStrings {
    let mut bs = wit::ByteStrings {
        present: Vec::new(),
        offsets: vec![0],
        data: Vec::new(),
    };
    for item in items {
        bs.present.push(u8::from(item.is_some()));
        bs.data.extend_from_slice(item.unwrap_or_default());
        bs.offsets.push(bs.data.len() as u32);
    }
    bs
}

/// Lays records out as the host's columnar record batch.
pub(crate) fn record_batch(records: &[TestRecord]) -> wit::RecordBatch {
    let mut topics: Vec<String> = Vec::new();
    let topic_index = records
        .iter()
        .map(|r| match topics.iter().position(|t| *t == r.topic) {
            Some(i) => i as u32,
            None => {
                topics.push(r.topic.clone());
                topics.len() as u32 - 1
            }
        })
        .collect();
    let mut header_start = vec![0u32];
    for r in records {
        header_start.push(header_start.last().unwrap() + r.headers.len() as u32);
    }
    let headers = records.iter().flat_map(|r| r.headers.iter());
    wit::RecordBatch {
        topics,
        topic_index,
        partitions: records.iter().map(|r| r.partition).collect(),
        offsets: records.iter().map(|r| r.offset).collect(),
        timestamps: records.iter().map(|r| r.timestamp.unwrap_or(0)).collect(),
        timestamp_known: records
            .iter()
            .map(|r| u8::from(r.timestamp.is_some()))
            .collect(),
        keys: byte_strings(records.iter().map(|r| r.key.as_deref())),
        values: byte_strings(records.iter().map(|r| r.value.as_deref())),
        header_start,
        header_names: byte_strings(headers.clone().map(|h| Some(h.0.as_slice()))),
        header_values: byte_strings(headers.map(|h| h.1.as_deref())),
    }
}

/// Runs `plugin` over `records` through the same columnar path the host uses.
pub fn decode<D: Decoder>(plugin: &mut D, records: &[TestRecord]) -> TestDecoded {
    let batch = record_batch(records);
    let out = decode::decode_batch(plugin, &batch);
    let changes = Batch(out.changes).changes();
    assert_eq!(
        changes.len(),
        out.source_row.len(),
        "one source row per change"
    );
    TestDecoded {
        changes: out.source_row.into_iter().zip(changes).collect(),
        rejected: out
            .rejected
            .into_iter()
            .map(|r| (r.row, r.reason))
            .collect(),
    }
}
