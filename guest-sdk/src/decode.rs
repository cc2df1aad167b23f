//! The decoder API: a per-record view over a columnar batch of Kafka records,
//! and a builder for the changes decoded from it.

use crate::Error;
use crate::columnar::{BatchWriter, ImagesWriter, malformed};
use crate::config::Config;
use crate::wit;
use crate::{ColumnType, Op, Value};

/// A plugin that decodes raw Kafka records (key, value, headers) into changes.
///
/// One value of the type lives in the plugin instance, made by [`init`](Self::init)
/// from the table's configuration; the host then calls [`decode`](Self::decode)
/// once per record. Export the type with [`export_decoder!`](crate::export_decoder).
pub trait Decoder: Sized + 'static {
    /// Builds the plugin from its configuration; an error refuses the
    /// configuration and the plugin is not used (say why in the message).
    fn init(config: &Config) -> Result<Self, Error>;

    /// Decodes one record into zero or more changes written to `out`. An
    /// error rejects the record (it goes to the dead-letter queue with the
    /// message as the reason) and discards the changes it had written.
    fn decode(&mut self, record: &Record<'_>, out: &mut ChangeBuilder) -> Result<(), Error>;
}

fn byte_string(bs: &wit::ByteStrings, i: usize) -> Option<&[u8]> {
    if bs.present[i] == 0 {
        return None;
    }
    let (start, end) = (bs.offsets[i] as usize, bs.offsets[i + 1] as usize);
    match bs.data.get(start..end) {
        Some(b) => Some(b),
        None => malformed("byte-strings offsets out of range"),
    }
}

fn validate_byte_strings(bs: &wit::ByteStrings, n: usize, what: &str) {
    if bs.present.len() != n || bs.offsets.len() != n + 1 {
        malformed(&format!("{what} has the wrong length"));
    }
}

/// Checks the shape of a record batch (list lengths).
pub(crate) fn validate_records(records: &wit::RecordBatch) {
    let n = records.topic_index.len();
    if records.partitions.len() != n
        || records.offsets.len() != n
        || records.timestamps.len() != n
        || records.timestamp_known.len() != n
        || !(records.header_start.len() == n + 1 || records.header_start.len() == n)
    {
        malformed("per-record lists differ in length");
    }
    if records
        .topic_index
        .iter()
        .any(|&t| t as usize >= records.topics.len())
    {
        malformed("topic-index out of range");
    }
    validate_byte_strings(&records.keys, n, "keys");
    validate_byte_strings(&records.values, n, "values");
    let headers = records.header_names.present.len();
    validate_byte_strings(&records.header_names, headers, "header-names");
    validate_byte_strings(&records.header_values, headers, "header-values");
    if records.header_start.iter().any(|&s| s as usize > headers)
        || records.header_start.windows(2).any(|w| w[0] > w[1])
    {
        malformed("header-start out of range");
    }
}

/// One raw Kafka record: its position, timestamp, key, value and headers.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    batch: &'a wit::RecordBatch,
    row: usize,
}

impl<'a> Record<'a> {
    /// The position of the record in its batch.
    pub fn index(&self) -> usize {
        self.row
    }

    /// The topic the record was read from.
    pub fn topic(&self) -> &'a str {
        &self.batch.topics[self.batch.topic_index[self.row] as usize]
    }

    /// The partition of the topic.
    pub fn partition(&self) -> i32 {
        self.batch.partitions[self.row]
    }

    /// The offset of the record in its partition.
    pub fn offset(&self) -> i64 {
        self.batch.offsets[self.row]
    }

    /// The Kafka timestamp in milliseconds since the epoch, when set.
    pub fn timestamp(&self) -> Option<i64> {
        (self.batch.timestamp_known[self.row] != 0).then(|| self.batch.timestamps[self.row])
    }

    /// The record key; `None` for a null key.
    pub fn key(&self) -> Option<&'a [u8]> {
        byte_string(&self.batch.keys, self.row)
    }

    /// The record value; `None` for a tombstone.
    pub fn value(&self) -> Option<&'a [u8]> {
        byte_string(&self.batch.values, self.row)
    }

    /// The record's headers, in order.
    pub fn headers(&self) -> Headers<'a> {
        let starts = &self.batch.header_start;
        let start = starts[self.row] as usize;
        let end = starts
            .get(self.row + 1)
            .map_or(self.batch.header_names.present.len(), |&e| e as usize);
        Headers {
            batch: self.batch,
            next: start,
            end,
        }
    }

    /// The value of the first header called `name` (null-valued headers are skipped).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers()
            .find(|h| h.name == name.as_bytes() && h.value.is_some())
            .and_then(|h| h.value)
    }
}

impl std::fmt::Debug for Record<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("topic", &self.topic())
            .field("partition", &self.partition())
            .field("offset", &self.offset())
            .field("timestamp", &self.timestamp())
            .finish_non_exhaustive()
    }
}

/// One Kafka record header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The header name (Kafka allows any bytes; usually UTF-8).
    pub name: &'a [u8],
    /// The header value; `None` for a null value.
    pub value: Option<&'a [u8]>,
}

impl<'a> Header<'a> {
    /// The name as text, if it is UTF-8.
    pub fn name_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.name).ok()
    }
}

/// An iterator over a record's headers.
pub struct Headers<'a> {
    batch: &'a wit::RecordBatch,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Headers<'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Header<'a>> {
        if self.next >= self.end {
            return None;
        }
        let i = self.next;
        self.next += 1;
        Some(Header {
            name: byte_string(&self.batch.header_names, i).unwrap_or_default(),
            value: byte_string(&self.batch.header_values, i),
        })
    }
}

/// Collects the changes a decoder produces, straight into the columnar form.
///
/// ```
/// use floe_guest::{ChangeBuilder, Op};
///
/// let mut out = ChangeBuilder::new();
/// let mut change = out.change(Op::Insert, "shop.orders");
/// change.key_columns(["id"]).event_time(Some(1_700_000_000_000_000));
/// change.after().set("id", 7i64).set("status", "new");
/// assert_eq!(out.len(), 1);
/// ```
#[derive(Default)]
pub struct ChangeBuilder {
    writer: BatchWriter,
    source_row: Vec<u32>,
    current_record: u32,
}

impl ChangeBuilder {
    /// An empty builder (the SDK makes one per batch; this is for tests).
    pub fn new() -> ChangeBuilder {
        ChangeBuilder::default()
    }

    /// Starts a new change of kind `op` for `table`, with no images yet.
    pub fn change(&mut self, op: Op, table: &str) -> NewChange<'_> {
        let row = self.writer.push_change(op, table, None);
        self.source_row.push(self.current_record);
        NewChange {
            writer: &mut self.writer,
            row,
        }
    }

    /// The number of changes written so far.
    pub fn len(&self) -> usize {
        self.writer.len()
    }

    /// Whether no change was written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn set_current_record(&mut self, record: u32) {
        self.current_record = record;
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        self.writer.truncate(len);
        self.source_row.truncate(len);
    }

    pub(crate) fn finish_parts(self) -> (Vec<u32>, wit::ChangeBatch) {
        (self.source_row, self.writer.finish())
    }

    /// Finishes the builder into a batch, e.g. to feed a transformer in tests
    /// (see [`crate::testing`]).
    pub fn finish(self) -> crate::testing::Batch {
        crate::testing::Batch(self.writer.finish())
    }
}

/// A change being written by a decoder; see [`ChangeBuilder::change`].
pub struct NewChange<'b> {
    writer: &'b mut BatchWriter,
    row: usize,
}

impl NewChange<'_> {
    /// Sets the key columns of the change's table (for the whole batch).
    pub fn key_columns<S: AsRef<str>>(&mut self, keys: impl IntoIterator<Item = S>) -> &mut Self {
        let keys_mut = self.writer.keys_mut(self.row);
        keys_mut.clear();
        keys_mut.extend(keys.into_iter().map(|k| k.as_ref().to_owned()));
        self
    }

    /// Sets when the change happened at the source, in microseconds since the epoch.
    pub fn event_time(&mut self, micros: Option<i64>) -> &mut Self {
        self.writer.set_event_time(self.row, micros);
        self
    }

    /// Changes the kind of change.
    pub fn op(&mut self, op: Op) -> &mut Self {
        self.writer.set_op(self.row, op);
        self
    }

    /// The row before the change, to fill in; the change now has a before image.
    pub fn before(&mut self) -> ImageWriter<'_> {
        self.writer.before.set_present(self.row, true);
        ImageWriter {
            images: &mut self.writer.before,
            row: self.row,
        }
    }

    /// The row after the change, to fill in; the change now has an after image.
    pub fn after(&mut self) -> ImageWriter<'_> {
        self.writer.after.set_present(self.row, true);
        ImageWriter {
            images: &mut self.writer.after,
            row: self.row,
        }
    }

    /// Removes the before image again.
    pub fn remove_before(&mut self) -> &mut Self {
        self.writer.before.set_present(self.row, false);
        self
    }

    /// Removes the after image again.
    pub fn remove_after(&mut self) -> &mut Self {
        self.writer.after.set_present(self.row, false);
        self
    }
}

/// A row image being written by a decoder: values are encoded straight into
/// the batch's column buffers (one column per distinct name and type).
pub struct ImageWriter<'b> {
    images: &'b mut ImagesWriter,
    row: usize,
}

impl ImageWriter<'_> {
    /// Sets column `name` to `value`, which gives the column its type
    /// (`7i64` is a `long`, `"x"` a `string`, `Value::Date(..)` a `date`).
    /// [`Value::Null`] takes the type of an existing column of that name, or
    /// `string`; see [`set_null`](Self::set_null) to choose. Setting a column
    /// twice keeps the last value.
    pub fn set<'v>(&mut self, name: &str, value: impl Into<Value<'v>>) -> &mut Self {
        let value = value.into();
        let ty = value
            .column_type()
            .or_else(|| self.images.type_of(self.row, name))
            .unwrap_or(ColumnType::String);
        self.images.set(self.row, name, ty, value);
        self
    }

    /// Sets column `name` to SQL NULL with type `ty`.
    pub fn set_null(&mut self, name: &str, ty: ColumnType) -> &mut Self {
        self.images.set(self.row, name, ty, Value::Null);
        self
    }

    /// Sets column `name` to `value` with type `ty`; an error when the value
    /// is not of that type (a null fits any type).
    pub fn set_typed<'v>(
        &mut self,
        name: &str,
        ty: ColumnType,
        value: impl Into<Value<'v>>,
    ) -> Result<&mut Self, Error> {
        let value = value.into();
        if let Some(t) = value.column_type()
            && t != ty
        {
            return Err(Error::new(format!(
                "column `{name}`: a {t} value does not fit type {ty}"
            )));
        }
        self.images.set(self.row, name, ty, value);
        Ok(self)
    }

    /// Removes column `name` from this image; whether it was set.
    pub fn remove(&mut self, name: &str) -> bool {
        self.images.remove(self.row, name)
    }

    /// Whether the image is present (always, once obtained).
    pub fn is_present(&self) -> bool {
        self.images.is_present(self.row)
    }
}

/// Runs a decoder over a batch: the loop that turns records into the
/// columnar `decoded` result.
pub(crate) fn decode_batch<D: Decoder>(plugin: &mut D, records: &wit::RecordBatch) -> wit::Decoded {
    validate_records(records);
    let n = records.topic_index.len();
    let mut out = ChangeBuilder::new();
    let mut rejected = Vec::new();
    for row in 0..n {
        let record = Record {
            batch: records,
            row,
        };
        out.set_current_record(row as u32);
        let mark = out.len();
        if let Err(e) = plugin.decode(&record, &mut out) {
            out.truncate(mark);
            rejected.push(wit::Rejection {
                row: row as u32,
                reason: e.into(),
            });
        }
    }
    let (source_row, changes) = out.finish_parts();
    wit::Decoded {
        source_row,
        changes,
        rejected,
    }
}
