//! A batch of changes in the plugin contract's columnar form.
//!
//! This is how changes move through the pipeline, from decoding to the table
//! writer: per change an op, a target table, an event time and a source
//! position; per image (before, after) one column per distinct (name, type),
//! each a few flat buffers laid out as `wit/floe-plugin.wit` describes
//! ([`floe_contract::columnar`]). A plugin call therefore hands the batch
//! over as it is, a few block copies (the plugin host converts it to the
//! generated WIT types), and a batch every plugin kept costs nothing to carry on.
//!
//! A [`ChangeBatch`] is valid by construction: [`ChangeBatchBuilder`] writes
//! only valid cells, and [`ChangeBatch::from_wire`] checks everything a guest
//! sends (list lengths, codes, offsets, every cell's width and UTF-8), so
//! readers never fail on a cell.
//!
//! ```
//! use floe::change::{ChangeBatchBuilder, ColumnType, Op, Position, Value};
//!
//! let mut builder = ChangeBatchBuilder::new();
//! let position = Position::new("dbserver1.inventory.customers", 0, 7);
//! builder.begin(Op::Insert, "inventory.customers", &["id".to_string()], &position, None);
//! builder.after().set("id", ColumnType::Long, Some(&Value::Long(1001)));
//! builder.after().set("email", ColumnType::String, Some(&Value::String("a@b.c".into())));
//! let batch = builder.finish();
//!
//! let after = batch.after(0).unwrap();
//! assert_eq!(after.get("id"), Some(Value::Long(1001)));
//! assert_eq!(batch.position(0), position);
//! ```

use std::sync::Arc;

use floe_contract::columnar;

use super::builder::source_slot;
use super::partial::{PartialRows, Unchanged};
use super::{Change, ColumnType, Op, Position};

pub use super::builder::{ChangeBatchBuilder, ImageBuilder};
pub use super::view::{Cell, Column, ImageColumns, ImageRef, Images};
pub use floe_contract::cell::presence;

/// Which image of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The row before the change.
    Before,
    /// The row after the change.
    After,
}

/// Changes in columnar form, with the source position of each.
///
/// Build one with [`ChangeBatchBuilder`] (or from [`Change`]s), read rows with
/// the accessors, hand it to a plugin as [`ChangeBatch::wire`].
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeBatch {
    /// The changes in the contract's form (every code and cell checked).
    pub(super) wire: columnar::ChangeBatch,
    /// The type of each column of the before and after images.
    pub(super) types: [Vec<ColumnType>; 2],
    /// Distinct (topic, partition); `source_index` points into it.
    pub(super) sources: Vec<(Arc<str>, i32)>,
    pub(super) source_index: Vec<u32>,
    pub(super) offsets: Vec<i64>,
    /// The changes whose after images leave columns unchanged.
    pub(super) partial: PartialRows,
}

impl Default for ChangeBatch {
    fn default() -> Self {
        ChangeBatchBuilder::new().finish()
    }
}

impl ChangeBatch {
    /// A batch with no changes.
    pub fn new() -> Self {
        ChangeBatch::default()
    }

    /// The number of changes.
    pub fn len(&self) -> usize {
        self.wire.ops.len()
    }

    /// Whether there are no changes.
    pub fn is_empty(&self) -> bool {
        self.wire.ops.is_empty()
    }

    /// Change `row`'s op.
    #[inline]
    pub fn op(&self, row: usize) -> Op {
        // Codes are checked when a batch is made.
        Op::from_code(self.wire.ops[row]).unwrap_or(Op::Insert)
    }

    /// Change `row`'s target table.
    pub fn table(&self, row: usize) -> &str {
        &self.wire.tables[self.wire.table_index[row] as usize]
    }

    /// Change `row`'s key columns (empty when unknown).
    pub fn key_columns(&self, row: usize) -> &[String] {
        &self.wire.table_keys[self.wire.table_index[row] as usize]
    }

    /// Change `row`'s event time, in microseconds since the epoch.
    pub fn event_time(&self, row: usize) -> Option<i64> {
        (self.wire.event_time_known[row] != 0).then(|| self.wire.event_time[row])
    }

    /// The offset of the record change `row` came from.
    pub fn offset(&self, row: usize) -> i64 {
        self.offsets[row]
    }

    /// The topic and partition of the record change `row` came from.
    pub fn source(&self, row: usize) -> (&Arc<str>, i32) {
        let (topic, partition) = &self.sources[self.source_index[row] as usize];
        (topic, *partition)
    }

    /// The distinct (topic, partition) pairs the changes came from.
    pub fn sources(&self) -> &[(Arc<str>, i32)] {
        &self.sources
    }

    /// Which of [`ChangeBatch::sources`] change `row` came from.
    pub fn source_index(&self, row: usize) -> usize {
        self.source_index[row] as usize
    }

    /// The position of the record change `row` came from.
    pub fn position(&self, row: usize) -> Position {
        let (topic, partition) = self.source(row);
        Position {
            topic: topic.clone(),
            partition,
            offset: self.offsets[row],
        }
    }

    /// The images of `which` of every change.
    pub fn images(&self, which: Which) -> ImageColumns<'_> {
        let (wire, types) = match which {
            Which::Before => (&self.wire.before, &self.types[0]),
            Which::After => (&self.wire.after, &self.types[1]),
        };
        ImageColumns { wire, types }
    }

    /// Change `row`'s before image.
    pub fn before(&self, row: usize) -> Option<ImageRef<'_>> {
        self.images(Which::Before).row(row)
    }

    /// Change `row`'s after image.
    pub fn after(&self, row: usize) -> Option<ImageRef<'_>> {
        self.images(Which::After).row(row)
    }

    /// The image that identifies change `row`'s row (see [`Change::row_image`]).
    pub fn row_image(&self, row: usize) -> Option<ImageRef<'_>> {
        match self.op(row) {
            Op::Delete | Op::Truncate => self.before(row),
            _ => self.after(row).or_else(|| self.before(row)),
        }
    }

    /// What change `row`'s after image leaves unchanged; `None` for a full
    /// row (see [`super::partial`]).
    pub fn unchanged(&self, row: usize) -> Option<&Unchanged> {
        self.partial.get(row)
    }

    /// The partial rows (see [`super::partial`]).
    pub fn partial_rows(&self) -> &PartialRows {
        &self.partial
    }

    /// Change `row` as an owned [`Change`].
    pub fn to_change(&self, row: usize) -> Change {
        let mut after = self.after(row).map(|i| i.to_image());
        if let (Some(after), Some(unchanged)) = (after.as_mut(), self.unchanged(row)) {
            unchanged.mark(after);
        }
        Change {
            op: self.op(row),
            table: self.table(row).to_string(),
            key: self.key_columns(row).to_vec(),
            before: self.before(row).map(|i| i.to_image()),
            after,
            position: self.position(row),
            event_time: self.event_time(row),
        }
    }

    /// Every change, owned.
    pub fn to_changes(&self) -> Vec<Change> {
        (0..self.len()).map(|row| self.to_change(row)).collect()
    }

    /// The after images of every change, owned (what a table writer keeps).
    pub fn into_after(self) -> Images {
        let [_, types] = self.types;
        Images {
            wire: self.wire.after,
            types,
        }
    }

    /// Sends every change to `table`, keeping each one's key columns.
    pub fn retarget(&mut self, table: &str) {
        let wire = &mut self.wire;
        if wire.tables.iter().all(|t| t == table) {
            return;
        }
        let mut keys: Vec<Vec<String>> = Vec::new();
        let remap: Vec<u32> = wire
            .table_keys
            .iter()
            .map(|key| match keys.iter().position(|k| k == key) {
                Some(i) => i as u32,
                None => {
                    keys.push(key.clone());
                    (keys.len() - 1) as u32
                }
            })
            .collect();
        for index in &mut wire.table_index {
            *index = remap[*index as usize];
        }
        wire.tables = vec![table.to_string(); keys.len()];
        wire.table_keys = keys;
    }

    /// The changes at `rows` (in that order), copied into a batch of their own.
    pub fn select(&self, rows: impl IntoIterator<Item = usize>) -> ChangeBatch {
        let rows = rows.into_iter();
        let mut out = ChangeBatchBuilder::with_capacity(rows.size_hint().0);
        for row in rows {
            out.push_row(self, row);
        }
        out.finish()
    }

    /// Keeps only the rows for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&ChangeBatch, usize) -> bool) {
        let kept: Vec<usize> = (0..self.len()).filter(|&row| keep(self, row)).collect();
        if kept.len() != self.len() {
            *self = self.select(kept);
        }
    }

    /// Splits the batch in two: the changes for which `first` is true, and
    /// the others, each in their order.
    pub fn split(
        self,
        mut first: impl FnMut(&ChangeBatch, usize) -> bool,
    ) -> (ChangeBatch, ChangeBatch) {
        let (yes, no): (Vec<usize>, Vec<usize>) =
            (0..self.len()).partition(|&row| first(&self, row));
        if no.is_empty() {
            return (self, ChangeBatch::new());
        }
        if yes.is_empty() {
            return (ChangeBatch::new(), self);
        }
        (self.select(yes), self.select(no))
    }

    /// Appends `other`'s changes.
    pub fn extend(&mut self, other: &ChangeBatch) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = other.clone();
            return;
        }
        let mut out = ChangeBatchBuilder::with_capacity(self.len() + other.len());
        for row in 0..self.len() {
            out.push_row(self, row);
        }
        for row in 0..other.len() {
            out.push_row(other, row);
        }
        *self = out.finish();
    }

    /// The batch in the contract's form, to hand to a plugin. Positions do
    /// not cross the boundary.
    pub fn wire(&self) -> &columnar::ChangeBatch {
        &self.wire
    }

    /// A batch from the contract's form, checked in full: every list has
    /// one entry per change, every code and index is in range, every
    /// column's offsets lie within its data and every cell is a valid
    /// encoding of its column's type. `position(row)` gives each change's
    /// source position. An error says what is wrong.
    pub fn from_wire(
        wire: columnar::ChangeBatch,
        position: impl FnMut(usize) -> Position,
    ) -> Result<ChangeBatch, String> {
        ChangeBatch::from_wire_after(wire, position, None)
    }

    /// As [`ChangeBatch::from_wire`], for a batch a plugin returned for
    /// `input`: a column identical to one of `input`'s (a plugin hands back
    /// the columns it did not touch) is not checked cell by cell again.
    pub fn from_wire_after(
        wire: columnar::ChangeBatch,
        mut position: impl FnMut(usize) -> Position,
        input: Option<&ChangeBatch>,
    ) -> Result<ChangeBatch, String> {
        let rows = wire.ops.len();
        let [before, after] = wire.check(input.map(|b| &b.wire))?;
        let mut sources: Vec<(Arc<str>, i32)> = Vec::new();
        let mut source_index = Vec::with_capacity(rows);
        let mut offsets = Vec::with_capacity(rows);
        for row in 0..rows {
            let p = position(row);
            source_index.push(source_slot(&mut sources, &p.topic, p.partition));
            offsets.push(p.offset);
        }
        Ok(ChangeBatch {
            wire,
            types: [before, after],
            sources,
            source_index,
            offsets,
            partial: PartialRows::default(),
        })
    }
}

impl From<Vec<Change>> for ChangeBatch {
    fn from(changes: Vec<Change>) -> Self {
        ChangeBatch::from(changes.as_slice())
    }
}

impl From<&[Change]> for ChangeBatch {
    fn from(changes: &[Change]) -> Self {
        let mut builder = ChangeBatchBuilder::with_capacity(changes.len());
        for change in changes {
            builder.push_change(change);
        }
        builder.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{Field, Image, Value};

    fn field(name: &str, ty: ColumnType, value: Option<Value>) -> Field {
        Field {
            name: name.into(),
            ty,
            value,
        }
    }

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

    fn sample() -> Vec<Change> {
        vec![
            change(
                Op::Insert,
                "a",
                0,
                Some(Image::from_fields([
                    field("id", ColumnType::Long, Some(Value::Long(1))),
                    field("name", ColumnType::String, Some(Value::String("x".into()))),
                ])),
            ),
            Change {
                before: Some(Image::from_fields([field(
                    "id",
                    ColumnType::Long,
                    Some(Value::Long(9)),
                )])),
                event_time: None,
                ..change(Op::Delete, "b", 1, None)
            },
            change(
                Op::Update,
                "a",
                2,
                Some(Image::from_fields([
                    field("id", ColumnType::Long, Some(Value::Long(2))),
                    field("name", ColumnType::String, None),
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
            change(
                Op::Insert,
                "a",
                3,
                Some(Image::from_fields([field(
                    "id",
                    ColumnType::Int,
                    Some(Value::Int(3)),
                )])),
            ),
        ]
    }

    #[test]
    fn changes_round_trip_through_the_batch_and_the_wire() {
        let changes = sample();
        let batch = ChangeBatch::from(changes.clone());
        assert_eq!(batch.len(), 4);
        assert_eq!(
            batch.images(Which::After).width(),
            4,
            "one column per distinct name and type"
        );
        assert_eq!(batch.to_changes(), changes);
        let wire = batch.wire().clone();
        assert_eq!(wire.ops, vec![0, 2, 1, 0]);
        assert_eq!(wire.event_time_known, vec![1, 0, 1, 1]);
        let back = ChangeBatch::from_wire(wire, |row| Position::new("t", 0, row as i64)).unwrap();
        assert_eq!(back, batch);
    }

    #[test]
    fn an_image_reads_back_in_the_batch_column_order() {
        let first = change(
            Op::Insert,
            "a",
            0,
            Some(Image::from_fields([
                field("id", ColumnType::Long, Some(Value::Long(1))),
                field("name", ColumnType::String, None),
            ])),
        );
        let second = change(
            Op::Insert,
            "a",
            1,
            Some(Image::from_fields([
                field("name", ColumnType::String, Some(Value::String("n".into()))),
                field("id", ColumnType::Long, Some(Value::Long(2))),
            ])),
        );
        let batch = ChangeBatch::from(vec![first, second.clone()]);
        let back = batch.to_change(1);
        let names: Vec<&str> = back
            .after
            .as_ref()
            .unwrap()
            .fields()
            .iter()
            .map(|f| &*f.name)
            .collect();
        assert_eq!(names, ["id", "name"]);
        for f in second.after.as_ref().unwrap().fields() {
            assert_eq!(back.after.as_ref().unwrap().field(&f.name), Some(f));
        }
    }

    #[test]
    fn rows_read_in_place() {
        let batch = ChangeBatch::from(sample());
        let after = batch.after(2).unwrap();
        assert_eq!(after.get("id"), Some(Value::Long(2)));
        assert_eq!(after.get("name"), None);
        assert_eq!(after.cell("name").unwrap().bytes, None, "NULL, not absent");
        assert!(after.cell("nope").is_none());
        assert_eq!(after.len(), 3);
        assert!(batch.after(1).is_none());
        assert_eq!(batch.row_image(1).unwrap().get("id"), Some(Value::Long(9)));
        assert_eq!(batch.after(3).unwrap().get("id"), Some(Value::Int(3)));
        assert_eq!(batch.table(1), "b");
        assert_eq!(batch.position(3), Position::new("t", 0, 3));
    }

    #[test]
    fn select_and_retarget() {
        let batch = ChangeBatch::from(sample());
        let picked = batch.select([2, 0]);
        assert_eq!(
            picked.to_changes(),
            vec![sample()[2].clone(), sample()[0].clone()]
        );
        let mut all = batch.clone();
        all.retarget("c");
        assert!((0..all.len()).all(|row| all.table(row) == "c"));
        assert_eq!(all.key_columns(1), ["id".to_string()]);
    }

    #[test]
    fn malformed_wire_batches_are_errors_not_panics() {
        let good = ChangeBatch::from(sample()).wire().clone();
        let position = |row: usize| Position::new("t", 0, row as i64);
        let check = |edit: &dyn Fn(&mut columnar::ChangeBatch), wanted: &str| {
            let mut wire = good.clone();
            edit(&mut wire);
            let error = ChangeBatch::from_wire(wire, position).unwrap_err();
            assert!(error.contains(wanted), "{error} (wanted {wanted})");
        };
        check(&|w| w.ops[0] = 9, "op code 9");
        check(&|w| w.table_index[1] = 5, "names table 5");
        check(
            &|w| w.event_time.pop().map(drop).unwrap_or(()),
            "event-time",
        );
        check(&|w| w.after.present[0] = 3, "presence flag 3");
        check(&|w| w.after.columns[0].offsets[1] = 99, "offsets");
        check(&|w| w.after.columns[0].presence[0] = 7, "presence code 7");
        check(
            &|w| {
                let id = &mut w.after.columns[0];
                id.data.pop();
                id.offsets = id
                    .offsets
                    .iter()
                    .map(|&o| o.min(id.data.len() as u32))
                    .collect();
            },
            "not a valid long",
        );
        check(
            &|w| {
                let name = w
                    .after
                    .columns
                    .iter_mut()
                    .find(|c| c.name == "name")
                    .unwrap();
                name.data[0] = 0xff;
            },
            "not a valid string",
        );
        check(
            &|w| {
                w.after.columns[3].name = "id".into();
                w.after.columns[3].presence[0] = presence::NULL;
            },
            "two cells named `id`",
        );
        check(
            &|w| {
                w.after.columns[2].type_ = ColumnType::Decimal {
                    precision: 50,
                    scale: 0,
                }
            },
            "not a valid Iceberg decimal",
        );
    }

    #[test]
    fn a_returned_batch_is_checked_except_for_columns_handed_back_unchanged() {
        let input = ChangeBatch::from(sample());
        let position = |row: usize| Position::new("t", 0, row as i64);
        let same = ChangeBatch::from_wire_after(input.wire().clone(), position, Some(&input));
        assert_eq!(same.unwrap(), input);
        let mut edited = input.wire().clone();
        let name = edited
            .after
            .columns
            .iter_mut()
            .find(|c| c.name == "name")
            .unwrap();
        name.data[0] = 0xff;
        let error = ChangeBatch::from_wire_after(edited, position, Some(&input)).unwrap_err();
        assert!(error.contains("not a valid string"), "{error}");
    }

    #[test]
    fn a_split_utf8_character_is_refused() {
        let mut wire = ChangeBatch::from(vec![
            change(
                Op::Insert,
                "a",
                0,
                Some(Image::from_fields([field(
                    "s",
                    ColumnType::String,
                    Some(Value::String("é".into())),
                )])),
            ),
            change(
                Op::Insert,
                "a",
                1,
                Some(Image::from_fields([field(
                    "s",
                    ColumnType::String,
                    Some(Value::String("x".into())),
                )])),
            ),
        ])
        .wire()
        .clone();
        // "é" is two bytes: move the boundary between the rows into it.
        wire.after.columns[0].offsets[1] = 1;
        let error = ChangeBatch::from_wire(wire, |r| Position::new("t", 0, r as i64)).unwrap_err();
        assert!(
            error.contains("row 0") && error.contains("string"),
            "{error}"
        );
    }
}
