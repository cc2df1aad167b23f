//! Changes and records to and from the contract's flat, columnar batches.
//!
//! A batch crosses the boundary as a few flat buffers per column, so the
//! guest's allocations grow with the number of columns, not rows × fields.
//! Everything read back from a guest is validated: a malformed batch is an
//! error naming what is wrong, never a panic.

use crate::change::{Change, ColumnType, Field, Image, Op, Position, Value};
use crate::source::RawRecord;

use super::bindings as wit;

/// The contract's form of a column type.
pub fn type_to_wit(ty: ColumnType) -> wit::ColumnType {
    match ty {
        ColumnType::Boolean => wit::ColumnType::Boolean,
        ColumnType::Int => wit::ColumnType::Int,
        ColumnType::Long => wit::ColumnType::Long,
        ColumnType::Float => wit::ColumnType::Float,
        ColumnType::Double => wit::ColumnType::Double,
        ColumnType::Decimal { precision, scale } => {
            wit::ColumnType::Decimal(wit::DecimalType { precision, scale })
        }
        ColumnType::Date => wit::ColumnType::Date,
        ColumnType::Time => wit::ColumnType::Time,
        ColumnType::Timestamp => wit::ColumnType::Timestamp,
        ColumnType::Timestamptz => wit::ColumnType::Timestamptz,
        ColumnType::String => wit::ColumnType::String,
        ColumnType::Uuid => wit::ColumnType::Uuid,
        ColumnType::Binary => wit::ColumnType::Binary,
    }
}

/// A column type from the contract's form; decimals are checked for range.
pub fn type_from_wit(ty: &wit::ColumnType) -> Result<ColumnType, String> {
    Ok(match ty {
        wit::ColumnType::Boolean => ColumnType::Boolean,
        wit::ColumnType::Int => ColumnType::Int,
        wit::ColumnType::Long => ColumnType::Long,
        wit::ColumnType::Float => ColumnType::Float,
        wit::ColumnType::Double => ColumnType::Double,
        wit::ColumnType::Decimal(d) => {
            if d.precision == 0 || d.precision > 38 || d.scale > d.precision {
                return Err(format!(
                    "decimal({},{}) is not a valid Iceberg decimal",
                    d.precision, d.scale
                ));
            }
            ColumnType::Decimal {
                precision: d.precision,
                scale: d.scale,
            }
        }
        wit::ColumnType::Date => ColumnType::Date,
        wit::ColumnType::Time => ColumnType::Time,
        wit::ColumnType::Timestamp => ColumnType::Timestamp,
        wit::ColumnType::Timestamptz => ColumnType::Timestamptz,
        wit::ColumnType::String => ColumnType::String,
        wit::ColumnType::Uuid => ColumnType::Uuid,
        wit::ColumnType::Binary => ColumnType::Binary,
    })
}

fn op_to_wit(op: Op) -> wit::Op {
    match op {
        Op::Insert => wit::Op::Insert,
        Op::Update => wit::Op::Update,
        Op::Delete => wit::Op::Delete,
        Op::Read => wit::Op::Read,
        Op::Truncate => wit::Op::Truncate,
    }
}

pub(super) fn op_from_wit(op: wit::Op) -> Op {
    match op {
        wit::Op::Insert => Op::Insert,
        wit::Op::Update => Op::Update,
        wit::Op::Delete => Op::Delete,
        wit::Op::Read => Op::Read,
        wit::Op::Truncate => Op::Truncate,
    }
}

/// Encodes changes as a change batch, one row per change.
pub fn encode_changes(changes: &[Change]) -> wit::ChangeBatch {
    let mut tables: Vec<String> = Vec::new();
    let mut table_keys: Vec<Vec<String>> = Vec::new();
    let mut table_index = Vec::with_capacity(changes.len());
    let mut before = ImagesBuilder::default();
    let mut after = ImagesBuilder::default();
    for change in changes {
        let index = match tables.iter().rposition(|t| *t == change.table) {
            Some(i) => i,
            None => {
                tables.push(change.table.clone());
                table_keys.push(change.key.clone());
                tables.len() - 1
            }
        };
        table_index.push(index as u32);
        before.push(change.before.as_ref());
        after.push(change.after.as_ref());
    }
    wit::ChangeBatch {
        ops: changes.iter().map(|c| op_to_wit(c.op)).collect(),
        tables,
        table_keys,
        table_index,
        event_time: changes.iter().map(|c| c.event_time).collect(),
        before: before.finish(),
        after: after.finish(),
    }
}

/// Checks that a change batch's per-row lists have one entry per op and
/// that every table has its key list.
pub(super) fn check_lists(batch: &wit::ChangeBatch) -> Result<(), String> {
    let rows = batch.ops.len();
    for (name, len) in [
        ("table-index", batch.table_index.len()),
        ("event-time", batch.event_time.len()),
    ] {
        if len != rows {
            return Err(format!(
                "change batch has {rows} ops but {len} entries in {name}"
            ));
        }
    }
    if batch.table_keys.len() != batch.tables.len() {
        return Err(format!(
            "change batch has {} tables but {} key lists",
            batch.tables.len(),
            batch.table_keys.len()
        ));
    }
    Ok(())
}

/// Decodes a change batch from a guest. `position` gives each row's source
/// position (and the key to use when the batch names none for its table).
pub fn decode_changes(
    batch: wit::ChangeBatch,
    mut position: impl FnMut(usize) -> Position,
) -> Result<Vec<Change>, String> {
    let rows = batch.ops.len();
    check_lists(&batch)?;
    let mut before =
        decode_images(batch.before, rows).map_err(|e| format!("before images: {e}"))?;
    let mut after = decode_images(batch.after, rows).map_err(|e| format!("after images: {e}"))?;
    let mut changes = Vec::with_capacity(rows);
    for row in 0..rows {
        let table = batch.table_index[row] as usize;
        let Some(name) = batch.tables.get(table) else {
            return Err(format!(
                "row {row} names table {table} of {}",
                batch.tables.len()
            ));
        };
        changes.push(Change {
            op: op_from_wit(batch.ops[row]),
            table: name.clone(),
            key: batch.table_keys[table].clone(),
            before: before[row].take(),
            after: after[row].take(),
            position: position(row),
            event_time: batch.event_time[row],
        });
    }
    Ok(changes)
}

/// Builds the column buffers of a set of images, row by row.
#[derive(Default)]
struct ImagesBuilder {
    rows: usize,
    present: Vec<bool>,
    columns: Vec<ColumnBuilder>,
    /// For each field ordinal of the previous row, the column it went to:
    /// rows of one table share a layout, so this skips the search.
    hints: Vec<usize>,
}

struct ColumnBuilder {
    name: String,
    ty: ColumnType,
    presence: Vec<wit::Presence>,
    offsets: Vec<u32>,
    data: Vec<u8>,
}

impl ColumnBuilder {
    fn new(name: &str, ty: ColumnType, rows_before: usize) -> Self {
        ColumnBuilder {
            name: name.to_string(),
            ty,
            presence: vec![wit::Presence::Absent; rows_before],
            offsets: vec![0; rows_before + 1],
            data: Vec::new(),
        }
    }

    /// Marks rows up to (not including) `row` absent.
    fn pad_to(&mut self, row: usize) {
        let end = self.data.len() as u32;
        while self.presence.len() < row {
            self.presence.push(wit::Presence::Absent);
            self.offsets.push(end);
        }
    }

    fn push(&mut self, row: usize, value: Option<&Value>) {
        self.pad_to(row);
        match value {
            Some(value) => {
                value.encode_into(&mut self.data);
                self.presence.push(wit::Presence::Value);
            }
            None => self.presence.push(wit::Presence::Null),
        }
        self.offsets.push(self.data.len() as u32);
    }

    fn finish(mut self, rows: usize) -> wit::Column {
        self.pad_to(rows);
        wit::Column {
            name: self.name,
            type_: type_to_wit(self.ty),
            presence: self.presence,
            offsets: self.offsets,
            data: self.data,
        }
    }
}

impl ImagesBuilder {
    fn push(&mut self, image: Option<&Image>) {
        let row = self.rows;
        self.rows += 1;
        self.present.push(image.is_some());
        let Some(image) = image else { return };
        for (ordinal, field) in image.fields().iter().enumerate() {
            let hinted = self.hints.get(ordinal).copied().filter(|&c| {
                let column = &self.columns[c];
                *column.name == *field.name && column.ty == field.ty && column.presence.len() <= row
            });
            let column = match hinted {
                Some(c) => c,
                None => {
                    let found = self.columns.iter().position(|c| {
                        *c.name == *field.name && c.ty == field.ty && c.presence.len() <= row
                    });
                    let c = found.unwrap_or_else(|| {
                        self.columns
                            .push(ColumnBuilder::new(&field.name, field.ty, row));
                        self.columns.len() - 1
                    });
                    if ordinal < self.hints.len() {
                        self.hints[ordinal] = c;
                    } else {
                        self.hints.push(c);
                    }
                    c
                }
            };
            self.columns[column].push(row, field.value.as_ref());
        }
    }

    fn finish(self) -> wit::Images {
        let rows = self.rows;
        wit::Images {
            present: self.present,
            columns: self.columns.into_iter().map(|c| c.finish(rows)).collect(),
        }
    }
}

/// Checks that `images` describes `rows` rows: one presence flag per row,
/// and for each column a valid type and a layout within its data. Returns
/// the column types, in column order.
pub(super) fn check_images(images: &wit::Images, rows: usize) -> Result<Vec<ColumnType>, String> {
    if images.present.len() != rows {
        return Err(format!(
            "{} presence flags for {rows} rows",
            images.present.len()
        ));
    }
    images
        .columns
        .iter()
        .map(|column| {
            let ty = type_from_wit(&column.type_)
                .map_err(|e| format!("column `{}`: {e}", column.name))?;
            check_layout(
                &column.name,
                rows,
                column.presence.len(),
                &column.offsets,
                column.data.len(),
            )?;
            Ok(ty)
        })
        .collect()
}

/// Row `row`'s bytes in `column`, whose layout [`check_images`] has checked.
pub(super) fn cell(column: &wit::Column, row: usize) -> &[u8] {
    &column.data[column.offsets[row] as usize..column.offsets[row + 1] as usize]
}

/// Whether no two of `columns` share a name.
pub(super) fn distinct_names(columns: &[wit::Column]) -> bool {
    (0..columns.len()).all(|i| columns[..i].iter().all(|c| c.name != columns[i].name))
}

/// The error for row `row` of `column`, whose bytes are not a `ty`.
pub(super) fn invalid_cell(column: &wit::Column, row: usize, ty: ColumnType) -> String {
    format!(
        "column `{}` row {row}: {} bytes are not a valid {ty}",
        column.name,
        cell(column, row).len()
    )
}

/// Decodes the images of a batch of `rows` rows.
fn decode_images(images: wit::Images, rows: usize) -> Result<Vec<Option<Image>>, String> {
    let types = check_images(&images, rows)?;
    let width = images.columns.len();
    let distinct = distinct_names(&images.columns);
    let mut fields: Vec<Option<Vec<Field>>> = images
        .present
        .iter()
        .map(|&p| p.then(|| Vec::with_capacity(width)))
        .collect();
    for (column, ty) in images.columns.iter().zip(types) {
        let name: std::sync::Arc<str> = column.name.as_str().into();
        for row in 0..rows {
            let Some(row_fields) = fields[row].as_mut() else {
                continue;
            };
            let value = match column.presence[row] {
                wit::Presence::Absent => continue,
                wit::Presence::Null => None,
                wit::Presence::Value => Some(
                    Value::decode(ty, cell(column, row))
                        .ok_or_else(|| invalid_cell(column, row, ty))?,
                ),
            };
            row_fields.push(Field {
                name: name.clone(),
                ty,
                value,
            });
        }
    }
    let image = if distinct {
        Image::from_distinct_fields
    } else {
        Image::from_fields
    };
    Ok(fields.into_iter().map(|f| f.map(image)).collect())
}

/// Checks that a column's presence and offsets describe `rows` rows within `data_len` bytes.
fn check_layout(
    name: &str,
    rows: usize,
    presence: usize,
    offsets: &[u32],
    data_len: usize,
) -> Result<(), String> {
    if presence != rows {
        return Err(format!(
            "column `{name}` has {presence} presence entries for {rows} rows"
        ));
    }
    if offsets.len() != rows + 1 {
        return Err(format!(
            "column `{name}` has {} offsets for {rows} rows (want {})",
            offsets.len(),
            rows + 1
        ));
    }
    if offsets.windows(2).any(|w| w[0] > w[1])
        || offsets.last().is_some_and(|&end| end as usize > data_len)
    {
        return Err(format!(
            "column `{name}` has offsets out of order or past its {data_len} data bytes"
        ));
    }
    Ok(())
}

/// Lays optional byte strings out flat.
#[derive(Default)]
struct ByteStringsBuilder {
    present: Vec<bool>,
    offsets: Vec<u32>,
    data: Vec<u8>,
}

impl ByteStringsBuilder {
    fn push(&mut self, bytes: Option<&[u8]>) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.present.push(bytes.is_some());
        self.data.extend_from_slice(bytes.unwrap_or_default());
        self.offsets.push(self.data.len() as u32);
    }

    fn finish(mut self) -> wit::ByteStrings {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        wit::ByteStrings {
            present: self.present,
            offsets: self.offsets,
            data: self.data,
        }
    }
}

/// Encodes raw Kafka records as a record batch, one row per record.
pub fn encode_records(records: &[RawRecord]) -> wit::RecordBatch {
    let mut topics: Vec<String> = Vec::new();
    let mut topic_index = Vec::with_capacity(records.len());
    let mut keys = ByteStringsBuilder::default();
    let mut values = ByteStringsBuilder::default();
    let mut header_names = ByteStringsBuilder::default();
    let mut header_values = ByteStringsBuilder::default();
    let mut header_start = Vec::with_capacity(records.len() + 1);
    header_start.push(0u32);
    for record in records {
        let index = match topics.iter().rposition(|t| **t == *record.topic) {
            Some(i) => i,
            None => {
                topics.push(record.topic.to_string());
                topics.len() - 1
            }
        };
        topic_index.push(index as u32);
        keys.push(record.key.as_deref());
        values.push(record.value.as_deref());
        for header in &record.headers {
            header_names.push(Some(header.name.as_bytes()));
            header_values.push(header.value.as_deref());
        }
        header_start.push(header_start.last().copied().unwrap_or(0) + record.headers.len() as u32);
    }
    wit::RecordBatch {
        topics,
        topic_index,
        partitions: records.iter().map(|r| r.partition).collect(),
        offsets: records.iter().map(|r| r.offset).collect(),
        timestamps: records.iter().map(|r| r.timestamp).collect(),
        keys: keys.finish(),
        values: values.finish(),
        header_start,
        header_names: header_names.finish(),
        header_values: header_values.finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(op: Op, table: &str, offset: i64, after: Option<Image>) -> Change {
        Change {
            op,
            table: table.into(),
            key: vec!["id".into()],
            before: None,
            after,
            position: Position::new("t", 0, offset),
            event_time: Some(offset * 10),
        }
    }

    fn field(name: &str, ty: ColumnType, value: Option<Value>) -> Field {
        Field {
            name: name.into(),
            ty,
            value,
        }
    }

    #[test]
    fn changes_round_trip_with_differing_layouts() {
        let changes = vec![
            change(
                Op::Insert,
                "a",
                0,
                Some(Image::from_fields([
                    field("id", ColumnType::Long, Some(Value::Long(1))),
                    field("name", ColumnType::String, Some(Value::String("x".into()))),
                ])),
            ),
            change(Op::Delete, "b", 1, None),
            change(
                Op::Update,
                "a",
                2,
                Some(Image::from_fields([
                    field("name", ColumnType::String, None),
                    field("id", ColumnType::Long, Some(Value::Long(2))),
                    field(
                        "price",
                        ColumnType::Decimal {
                            precision: 10,
                            scale: 2,
                        },
                        Some(Value::Decimal(1999)),
                    ),
                ])),
            ),
        ];
        let batch = encode_changes(&changes);
        assert_eq!(batch.tables, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(
            batch.after.columns.len(),
            3,
            "one column per distinct name and type"
        );
        let back = decode_changes(batch, |row| Position::new("t", 0, row as i64)).unwrap();
        assert_eq!(back.len(), 3);
        for (original, decoded) in changes.iter().zip(&back) {
            assert_eq!(original.op, decoded.op);
            assert_eq!(original.table, decoded.table);
            assert_eq!(original.event_time, decoded.event_time);
            let (a, b) = (original.after.as_ref(), decoded.after.as_ref());
            assert_eq!(a.map(Image::len), b.map(Image::len));
            for f in a.map(Image::fields).unwrap_or_default() {
                assert_eq!(b.unwrap().field(&f.name), Some(f));
            }
        }
    }

    #[test]
    fn malformed_batches_are_errors_not_panics() {
        let mut batch = encode_changes(&[change(
            Op::Insert,
            "a",
            0,
            Some(Image::from_fields([field(
                "id",
                ColumnType::Long,
                Some(Value::Long(1)),
            )])),
        )]);
        batch.after.columns[0].offsets = vec![0, 99];
        assert!(
            decode_changes(batch.clone(), |_| Position::new("t", 0, 0))
                .unwrap_err()
                .contains("offsets")
        );
        batch.after.columns[0].offsets = vec![0, 3];
        batch.after.columns[0].data = vec![1, 2, 3];
        assert!(
            decode_changes(batch.clone(), |_| Position::new("t", 0, 0))
                .unwrap_err()
                .contains("not a valid long")
        );
        batch.table_index = vec![5];
        assert!(decode_changes(batch, |_| Position::new("t", 0, 0)).is_err());
    }

    #[test]
    fn records_are_laid_flat() {
        let record = |offset, key: Option<&[u8]>, value: Option<&[u8]>, headers: usize| RawRecord {
            topic: "t".into(),
            partition: 1,
            offset,
            timestamp: None,
            key: key.map(<[u8]>::to_vec),
            value: value.map(<[u8]>::to_vec),
            headers: (0..headers)
                .map(|i| crate::source::Header {
                    name: format!("h{i}"),
                    value: Some(vec![i as u8]),
                })
                .collect(),
        };
        let batch = encode_records(&[
            record(5, Some(b"k"), Some(b"vv"), 2),
            record(6, None, None, 0),
            record(7, None, Some(b"w"), 1),
        ]);
        assert_eq!(batch.keys.present, vec![true, false, false]);
        assert_eq!(batch.values.offsets, vec![0, 2, 2, 3]);
        assert_eq!(batch.header_start, vec![0, 2, 2, 3]);
        assert_eq!(batch.header_names.data, b"h0h1h0");
        assert_eq!(batch.offsets, vec![5, 6, 7]);
    }
}
