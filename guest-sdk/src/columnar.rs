//! The columnar encoding of the WIT contract: reading cells out of a
//! `column`, and building `images` and `change-batch` records row by row.
//!
//! Everything here is internal; plugin authors use [`crate::Change`] and
//! [`crate::ChangeBuilder`].

pub(crate) use floe_contract::cell::presence;

use crate::wit;
use crate::{ColumnType, Op, Value};

floe_contract::column_type_conversions!(pub(crate));

/// The op of a code of a batch's `ops` bytes; a code the contract does not
/// define is a malformed batch.
pub(crate) fn op_from_code(code: u8) -> Op {
    Op::from_code(code).unwrap_or_else(|| malformed(&format!("op code {code}")))
}

/// Panics with a message about a batch that breaks the contract. A panic is a
/// trap: the host retries the batch record by record and dead-letters the
/// records with this message, which is the loudest honest answer to a host bug.
#[cold]
#[inline(never)]
pub(crate) fn malformed(what: &str) -> ! {
    panic!("floe-guest: malformed batch from the host: {what}")
}

/// Reads row `row` of `col`: `None` when absent, `Some(Value::Null)` when null.
#[inline]
pub(crate) fn read_cell(col: &wit::Column, row: usize) -> Option<Value<'_>> {
    match col.presence[row] {
        presence::ABSENT => None,
        presence::NULL => Some(Value::Null),
        presence::VALUE => {
            let start = col.offsets[row] as usize;
            let end = col.offsets[row + 1] as usize;
            let ty = column_type_from_wit(&col.type_);
            let bytes = match col.data.get(start..end) {
                Some(b) => b,
                None => malformed(&format!("column `{}`: offsets out of range", col.name)),
            };
            match Value::decode(ty, bytes) {
                Some(v) => Some(v),
                None => malformed(&format!(
                    "column `{}`: {} bytes are not a valid {ty}",
                    col.name,
                    bytes.len()
                )),
            }
        }
        other => malformed(&format!("column `{}`: presence code {other}", col.name)),
    }
}

/// A hash of a column name from its length and its first and last bytes:
/// constant time whatever the name's length (collisions are resolved by
/// comparing names).
#[inline]
fn name_hash(name: &str) -> u32 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let b = name.as_bytes();
    let n = b.len();
    let (lo, hi) = if n >= 8 {
        (
            u64::from_le_bytes(b[..8].try_into().unwrap()),
            u64::from_le_bytes(b[n - 8..].try_into().unwrap()),
        )
    } else if n >= 4 {
        (
            u32::from_le_bytes(b[..4].try_into().unwrap()) as u64,
            u32::from_le_bytes(b[n - 4..].try_into().unwrap()) as u64,
        )
    } else if n > 0 {
        (
            b[0] as u64 | (b[n / 2] as u64) << 8 | (b[n - 1] as u64) << 16,
            0,
        )
    } else {
        (0, 0)
    };
    let h = (lo ^ (n as u64).rotate_left(40)).wrapping_mul(K) ^ hi;
    (h.wrapping_mul(K) >> 32) as u32
}

/// Finds a column of an `images` record by name in O(1): built once per
/// batch, so reading a column of a wide table does not compare every name.
pub(crate) struct NameIndex {
    /// Open addressing: (hash, column index + 1); 0 marks an empty slot.
    slots: Vec<(u32, u32)>,
    mask: usize,
    /// Whether a name has several columns (of different types): then a scan.
    dup_names: bool,
}

impl NameIndex {
    pub(crate) fn new(columns: &[wit::Column]) -> NameIndex {
        let cap = (columns.len() * 2).next_power_of_two().max(4);
        let mut index = NameIndex {
            slots: vec![(0, 0); cap],
            mask: cap - 1,
            dup_names: false,
        };
        for (i, col) in columns.iter().enumerate() {
            let h = name_hash(&col.name);
            let mut at = h as usize & index.mask;
            loop {
                let (sh, sc) = index.slots[at];
                if sc == 0 {
                    index.slots[at] = (h, i as u32 + 1);
                    break;
                }
                if sh == h && columns[sc as usize - 1].name == col.name {
                    index.dup_names = true;
                    break;
                }
                at = (at + 1) & index.mask;
            }
        }
        index
    }

    /// The column called `name` that row `row` has (absent cells skipped).
    #[inline]
    pub(crate) fn find<'c>(
        &self,
        columns: &'c [wit::Column],
        name: &str,
        row: usize,
    ) -> Option<&'c wit::Column> {
        if self.dup_names {
            return columns
                .iter()
                .find(|c| c.name == name && c.presence[row] != presence::ABSENT);
        }
        let h = name_hash(name);
        let mut at = h as usize & self.mask;
        loop {
            let (sh, sc) = self.slots[at];
            if sc == 0 {
                return None;
            }
            if sh == h {
                let col = &columns[sc as usize - 1];
                if col.name == name {
                    return (col.presence[row] != presence::ABSENT).then_some(col);
                }
            }
            at = (at + 1) & self.mask;
        }
    }
}

/// A batch with the name indexes of its two images.
pub(crate) struct IndexedBatch<'a> {
    pub(crate) batch: &'a wit::ChangeBatch,
    pub(crate) before: NameIndex,
    pub(crate) after: NameIndex,
}

impl<'a> IndexedBatch<'a> {
    /// Validates the batch's shape and indexes its column names.
    pub(crate) fn new(batch: &'a wit::ChangeBatch) -> IndexedBatch<'a> {
        validate_batch(batch);
        IndexedBatch {
            batch,
            before: NameIndex::new(&batch.before.columns),
            after: NameIndex::new(&batch.after.columns),
        }
    }
}

/// Checks the shape of a batch (list lengths), so that later indexing is in bounds.
pub(crate) fn validate_batch(batch: &wit::ChangeBatch) {
    let n = batch.ops.len();
    if batch.table_index.len() != n
        || batch.event_time.len() != n
        || batch.event_time_known.len() != n
    {
        malformed("per-change lists differ in length");
    }
    if batch.table_keys.len() != batch.tables.len() {
        malformed("table-keys and tables differ in length");
    }
    if batch
        .table_index
        .iter()
        .any(|&t| t as usize >= batch.tables.len())
    {
        malformed("table-index out of range");
    }
    for images in [&batch.before, &batch.after] {
        validate_images(images, n);
    }
}

fn validate_images(images: &wit::Images, n: usize) {
    if images.present.len() != n {
        malformed("images.present has the wrong length");
    }
    for col in &images.columns {
        if col.presence.len() != n || col.offsets.len() != n + 1 {
            malformed(&format!("column `{}` has the wrong length", col.name));
        }
    }
}

/// One column being built, row by row.
pub(crate) struct ColumnWriter {
    name: String,
    ty: ColumnType,
    presence: Vec<u8>,
    /// Always one entry more than `presence`.
    offsets: Vec<u32>,
    data: Vec<u8>,
}

impl ColumnWriter {
    fn new(name: &str, ty: ColumnType) -> ColumnWriter {
        ColumnWriter {
            name: name.to_owned(),
            ty,
            presence: Vec::new(),
            offsets: vec![0],
            data: Vec::new(),
        }
    }

    fn pad_to(&mut self, rows: usize) {
        let end = self.data.len() as u32;
        while self.presence.len() < rows {
            self.presence.push(presence::ABSENT);
            self.offsets.push(end);
        }
    }

    /// Forgets the value of `row` if it is the last row written.
    fn clear_row(&mut self, row: usize) -> bool {
        if self.presence.len() == row + 1 {
            self.truncate(row);
            true
        } else {
            false
        }
    }

    fn truncate(&mut self, rows: usize) {
        if self.presence.len() > rows {
            self.presence.truncate(rows);
            self.offsets.truncate(rows + 1);
            self.data.truncate(self.offsets[rows] as usize);
        }
    }

    fn has_row(&self, row: usize) -> bool {
        self.presence.len() == row + 1
    }

    fn push(&mut self, row: usize, value: Value<'_>) {
        self.clear_row(row);
        debug_assert!(self.presence.len() <= row, "rows are written in order");
        self.pad_to(row);
        if value.is_null() {
            self.presence.push(presence::NULL);
        } else {
            self.presence.push(presence::VALUE);
            value.encode_into(&mut self.data);
        }
        let end = u32::try_from(self.data.len())
            .unwrap_or_else(|_| panic!("floe-guest: column `{}` exceeds 4 GiB", self.name));
        self.offsets.push(end);
    }

    /// Copies row `from` of `source` (present there, of this column's type)
    /// into `row`, byte for byte.
    fn copy(&mut self, row: usize, source: &wit::Column, from: usize) {
        self.clear_row(row);
        debug_assert!(self.presence.len() <= row, "rows are written in order");
        self.pad_to(row);
        let presence = source.presence[from];
        if presence == presence::VALUE {
            let start = source.offsets[from] as usize;
            let end = source.offsets[from + 1] as usize;
            match source.data.get(start..end) {
                Some(bytes) => self.data.extend_from_slice(bytes),
                None => malformed(&format!("column `{}`: offsets out of range", source.name)),
            }
        }
        self.presence.push(presence);
        let end = u32::try_from(self.data.len())
            .unwrap_or_else(|_| panic!("floe-guest: column `{}` exceeds 4 GiB", self.name));
        self.offsets.push(end);
    }

    fn is_empty(&self) -> bool {
        self.presence.iter().all(|p| *p == presence::ABSENT)
    }

    fn finish(mut self, rows: usize) -> wit::Column {
        self.pad_to(rows);
        wit::Column {
            name: self.name,
            type_: column_type_to_wit(self.ty),
            presence: self.presence,
            offsets: self.offsets,
            data: self.data,
        }
    }
}

/// One `images` record (before or after) being built, row by row: one column
/// per distinct (name, type), absent where a row lacks it.
#[derive(Default)]
pub(crate) struct ImagesWriter {
    present: Vec<bool>,
    columns: Vec<ColumnWriter>,
    /// The column after the last one written: rows tend to repeat their layout.
    cursor: usize,
    /// Whether some name has columns of several types.
    dup_names: bool,
}

impl ImagesWriter {
    fn push_row(&mut self) {
        self.present.push(false);
    }

    pub(crate) fn set_present(&mut self, row: usize, present: bool) {
        self.present[row] = present;
    }

    pub(crate) fn is_present(&self, row: usize) -> bool {
        self.present[row]
    }

    fn find(&self, name: &str, ty: ColumnType) -> Option<usize> {
        if let Some(c) = self.columns.get(self.cursor)
            && c.ty == ty
            && c.name == name
        {
            return Some(self.cursor);
        }
        self.columns
            .iter()
            .position(|c| c.ty == ty && c.name == name)
    }

    /// Writes `value` (of type `ty`, or null) into column `name` of `row`,
    /// replacing what the row had under that name.
    pub(crate) fn set(&mut self, row: usize, name: &str, ty: ColumnType, value: Value<'_>) {
        debug_assert!(value.is_null() || value.column_type() == Some(ty));
        let idx = self.column_for(row, name, ty);
        self.columns[idx].push(row, value);
    }

    /// Copies row `from` of `source` (a column of type `ty`) into column
    /// `name` of `row`, byte for byte, replacing what the row had under that name.
    pub(crate) fn copy_cell(
        &mut self,
        row: usize,
        name: &str,
        ty: ColumnType,
        source: &wit::Column,
        from: usize,
    ) {
        let idx = self.column_for(row, name, ty);
        self.columns[idx].copy(row, source, from);
    }

    /// The column that `row`'s cell `name` of type `ty` goes to, created if
    /// needed; other types' cells of `name` in `row` are cleared.
    fn column_for(&mut self, row: usize, name: &str, ty: ColumnType) -> usize {
        let idx = match self.find(name, ty) {
            Some(idx) => idx,
            None => {
                if self.columns.iter().any(|c| c.name == name) {
                    self.dup_names = true;
                }
                self.columns.push(ColumnWriter::new(name, ty));
                self.columns.len() - 1
            }
        };
        if self.dup_names {
            for (i, c) in self.columns.iter_mut().enumerate() {
                if i != idx && c.name == name {
                    c.clear_row(row);
                }
            }
        }
        self.cursor = idx + 1;
        idx
    }

    /// Removes column `name` from `row`; whether it was there.
    pub(crate) fn remove(&mut self, row: usize, name: &str) -> bool {
        let mut removed = false;
        for c in self.columns.iter_mut().filter(|c| c.name == name) {
            removed |= c.clear_row(row);
        }
        removed
    }

    /// The type of column `name`: the one `row` has, else the first seen.
    pub(crate) fn type_of(&self, row: usize, name: &str) -> Option<ColumnType> {
        let mut first = None;
        for c in self.columns.iter().filter(|c| c.name == name) {
            if c.has_row(row) && c.presence[row] != presence::ABSENT {
                return Some(c.ty);
            }
            first = first.or(Some(c.ty));
        }
        first
    }

    fn truncate(&mut self, rows: usize) {
        self.present.truncate(rows);
        for c in &mut self.columns {
            c.truncate(rows);
        }
    }

    fn finish(self, rows: usize) -> wit::Images {
        let mut present = self.present;
        present.resize(rows, false);
        wit::Images {
            present: present.into_iter().map(u8::from).collect(),
            columns: self
                .columns
                .into_iter()
                .filter(|c| !c.is_empty())
                .map(|c| c.finish(rows))
                .collect(),
        }
    }
}

/// A `change-batch` being built, change by change.
#[derive(Default)]
pub(crate) struct BatchWriter {
    ops: Vec<u8>,
    tables: Vec<String>,
    table_keys: Vec<Vec<String>>,
    table_index: Vec<u32>,
    event_time: Vec<Option<i64>>,
    pub(crate) before: ImagesWriter,
    pub(crate) after: ImagesWriter,
    last_table: usize,
}

impl BatchWriter {
    /// The number of changes so far.
    pub(crate) fn len(&self) -> usize {
        self.ops.len()
    }

    fn table_slot(&mut self, table: &str) -> usize {
        if self.tables.get(self.last_table).is_some_and(|t| t == table) {
            return self.last_table;
        }
        let idx = match self.tables.iter().position(|t| t == table) {
            Some(idx) => idx,
            None => {
                self.tables.push(table.to_owned());
                self.table_keys.push(Vec::new());
                self.tables.len() - 1
            }
        };
        self.last_table = idx;
        idx
    }

    /// Starts a change without images; returns its row.
    pub(crate) fn push_change(&mut self, op: Op, table: &str, event_time: Option<i64>) -> usize {
        let t = self.table_slot(table);
        self.ops.push(op.code());
        self.table_index.push(t as u32);
        self.event_time.push(event_time);
        self.before.push_row();
        self.after.push_row();
        self.ops.len() - 1
    }

    pub(crate) fn set_op(&mut self, row: usize, op: Op) {
        self.ops[row] = op.code();
    }

    pub(crate) fn set_event_time(&mut self, row: usize, event_time: Option<i64>) {
        self.event_time[row] = event_time;
    }

    /// The key columns of the table of `row`.
    pub(crate) fn keys_mut(&mut self, row: usize) -> &mut Vec<String> {
        &mut self.table_keys[self.table_index[row] as usize]
    }

    /// Forgets every change from `rows` on.
    pub(crate) fn truncate(&mut self, rows: usize) {
        self.ops.truncate(rows);
        self.table_index.truncate(rows);
        self.event_time.truncate(rows);
        self.before.truncate(rows);
        self.after.truncate(rows);
    }

    pub(crate) fn finish(self) -> wit::ChangeBatch {
        let rows = self.ops.len();
        wit::ChangeBatch {
            ops: self.ops,
            tables: self.tables,
            table_keys: self.table_keys,
            table_index: self.table_index,
            event_time: self.event_time.iter().map(|t| t.unwrap_or(0)).collect(),
            event_time_known: self
                .event_time
                .iter()
                .map(|t| u8::from(t.is_some()))
                .collect(),
            before: self.before.finish(rows),
            after: self.after.finish(rows),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decimal;

    fn col<'a>(images: &'a wit::Images, name: &str, ty: ColumnType) -> &'a wit::Column {
        images
            .columns
            .iter()
            .find(|c| c.name == name && column_type_from_wit(&c.type_) == ty)
            .unwrap_or_else(|| panic!("no column {name} {ty}"))
    }

    #[test]
    fn builds_columns_with_presence_and_offsets() {
        let mut w = BatchWriter::default();
        let r0 = w.push_change(Op::Insert, "db.t", Some(7));
        w.after.set_present(r0, true);
        w.after.set(r0, "id", ColumnType::Long, Value::Long(1));
        w.after
            .set(r0, "name", ColumnType::String, Value::String("ann"));
        let r1 = w.push_change(Op::Update, "db.t", None);
        w.after.set_present(r1, true);
        w.after.set(r1, "id", ColumnType::Long, Value::Long(2));
        w.after.set(r1, "name", ColumnType::String, Value::Null);
        let r2 = w.push_change(Op::Delete, "db.u", None);
        w.before.set_present(r2, true);
        w.before.set(r2, "id", ColumnType::Long, Value::Long(3));
        let b = w.finish();

        assert_eq!(b.ops, vec![0, 1, 2], "op codes: insert, update, delete");
        assert_eq!(b.tables, vec!["db.t".to_string(), "db.u".to_string()]);
        assert_eq!(b.table_index, vec![0, 0, 1]);
        assert_eq!(b.event_time, vec![7, 0, 0]);
        assert_eq!(b.event_time_known, vec![1, 0, 0]);
        assert_eq!(b.after.present, vec![1, 1, 0]);
        assert_eq!(b.before.present, vec![0, 0, 1]);

        let id = col(&b.after, "id", ColumnType::Long);
        assert_eq!(
            id.presence,
            vec![presence::VALUE, presence::VALUE, presence::ABSENT]
        );
        assert_eq!(id.offsets, vec![0, 8, 16, 16]);
        assert_eq!(&id.data[..8], &1i64.to_le_bytes());
        let name = col(&b.after, "name", ColumnType::String);
        assert_eq!(
            name.presence,
            vec![presence::VALUE, presence::NULL, presence::ABSENT]
        );
        assert_eq!(name.offsets, vec![0, 3, 3, 3]);
        assert_eq!(name.data, b"ann");
        assert_eq!(read_cell(name, 0), Some(Value::String("ann")));
        assert_eq!(read_cell(name, 1), Some(Value::Null));
        assert_eq!(read_cell(name, 2), None);

        let before_id = col(&b.before, "id", ColumnType::Long);
        assert_eq!(before_id.offsets, vec![0, 0, 0, 8]);
        assert_eq!(read_cell(before_id, 2), Some(Value::Long(3)));
        validate_batch(&b);
    }

    #[test]
    fn every_type_round_trips() {
        let values = [
            Value::Boolean(true),
            Value::Int(-5),
            Value::Long(1 << 40),
            Value::Float(1.5),
            Value::Double(-2.25),
            Value::Decimal(Decimal {
                unscaled: -123456789012345678901234567890,
                precision: 38,
                scale: 4,
            }),
            Value::Date(19000),
            Value::Time(3_600_000_000),
            Value::Timestamp(1_700_000_000_000_000),
            Value::Timestamptz(-1),
            Value::String("héllo"),
            Value::Uuid([7; 16]),
            Value::Binary(&[0, 1, 2, 255]),
        ];
        let mut w = BatchWriter::default();
        let r = w.push_change(Op::Read, "t", None);
        w.after.set_present(r, true);
        for (i, v) in values.iter().enumerate() {
            w.after
                .set(r, &format!("c{i}"), v.column_type().unwrap(), *v);
        }
        let b = w.finish();
        for (i, v) in values.iter().enumerate() {
            let c = col(&b.after, &format!("c{i}"), v.column_type().unwrap());
            assert_eq!(read_cell(c, 0), Some(*v));
            assert_eq!(
                c.data.len(),
                v.column_type()
                    .unwrap()
                    .fixed_width()
                    .unwrap_or(c.data.len())
            );
        }
        let dec = col(
            &b.after,
            "c5",
            ColumnType::Decimal {
                precision: 38,
                scale: 4,
            },
        );
        assert_eq!(
            dec.data,
            (-123456789012345678901234567890i128).to_le_bytes().to_vec()
        );
    }

    #[test]
    fn overwriting_and_type_changes_keep_one_cell_per_name() {
        let mut w = BatchWriter::default();
        let r0 = w.push_change(Op::Insert, "t", None);
        w.after.set_present(r0, true);
        w.after.set(r0, "x", ColumnType::Long, Value::Long(1));
        w.after.set(r0, "x", ColumnType::Long, Value::Long(2));
        let r1 = w.push_change(Op::Insert, "t", None);
        w.after.set_present(r1, true);
        w.after.set(r1, "x", ColumnType::Long, Value::Long(3));
        w.after
            .set(r1, "x", ColumnType::String, Value::String("three"));
        assert_eq!(w.after.type_of(r1, "x"), Some(ColumnType::String));
        assert!(w.after.remove(r1, "x"));
        assert!(!w.after.remove(r1, "x"));
        w.after.set(r1, "x", ColumnType::String, Value::String("3"));
        let b = w.finish();
        let long = col(&b.after, "x", ColumnType::Long);
        assert_eq!(read_cell(long, 0), Some(Value::Long(2)));
        assert_eq!(read_cell(long, 1), None);
        assert_eq!(long.data.len(), 8);
        let s = col(&b.after, "x", ColumnType::String);
        assert_eq!(read_cell(s, 0), None);
        assert_eq!(read_cell(s, 1), Some(Value::String("3")));
    }

    #[test]
    fn truncate_rolls_back_rows_and_drops_empty_columns() {
        let mut w = BatchWriter::default();
        let r0 = w.push_change(Op::Insert, "t", None);
        w.after.set_present(r0, true);
        w.after.set(r0, "a", ColumnType::Int, Value::Int(1));
        let mark = w.len();
        let r1 = w.push_change(Op::Insert, "t", None);
        w.after.set_present(r1, true);
        w.after.set(r1, "a", ColumnType::Int, Value::Int(2));
        w.after.set(r1, "b", ColumnType::Int, Value::Int(3));
        w.truncate(mark);
        let b = w.finish();
        assert_eq!(b.ops.len(), 1);
        assert_eq!(b.after.columns.len(), 1);
        assert_eq!(b.after.columns[0].offsets, vec![0, 4]);
        validate_batch(&b);
    }

    #[test]
    fn name_index_finds_columns_and_handles_duplicate_names() {
        let mut w = BatchWriter::default();
        for i in 0..3 {
            let r = w.push_change(Op::Insert, "t", None);
            w.after.set_present(r, true);
            for j in 0..40 {
                w.after.set(
                    r,
                    &format!("column_{j}"),
                    ColumnType::Long,
                    Value::Long(i * 100 + j),
                );
            }
        }
        w.after
            .set(2, "column_7", ColumnType::String, Value::String("seven"));
        let b = w.finish();
        let plain = NameIndex::new(&b.before.columns);
        assert!(plain.find(&b.before.columns, "column_1", 0).is_none());
        let index = NameIndex::new(&b.after.columns);
        assert!(index.dup_names);
        let c = index.find(&b.after.columns, "column_7", 2).unwrap();
        assert_eq!(read_cell(c, 2), Some(Value::String("seven")));
        assert_eq!(
            read_cell(index.find(&b.after.columns, "column_7", 1).unwrap(), 1),
            Some(Value::Long(107))
        );

        let mut w = BatchWriter::default();
        let r = w.push_change(Op::Insert, "t", None);
        w.after.set_present(r, true);
        for j in 0..40 {
            w.after
                .set(r, &format!("column_{j}"), ColumnType::Long, Value::Long(j));
        }
        let b = w.finish();
        let index = NameIndex::new(&b.after.columns);
        assert!(!index.dup_names);
        for j in 0..40 {
            let c = index
                .find(&b.after.columns, &format!("column_{j}"), 0)
                .unwrap();
            assert_eq!(read_cell(c, 0), Some(Value::Long(j)));
        }
        assert!(index.find(&b.after.columns, "column_40", 0).is_none());
        assert!(index.find(&b.after.columns, "", 0).is_none());
    }

    #[test]
    #[should_panic(expected = "malformed batch")]
    fn malformed_cells_trap() {
        let c = wit::Column {
            name: "x".into(),
            type_: wit::ColumnType::Long,
            presence: vec![presence::VALUE],
            offsets: vec![0, 3],
            data: vec![1, 2, 3],
        };
        read_cell(&c, 0);
    }
}
