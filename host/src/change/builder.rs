//! Building a [`ChangeBatch`] change by change, or row by row from other
//! batches: only valid cells are written, so a built batch needs no check.

use std::collections::HashMap;
use std::sync::Arc;

use floe_contract::cell::presence;
use floe_contract::columnar;

use super::batch::{ChangeBatch, Which};
use super::partial::{PartialRows, Unchanged};
use super::{Change, ColumnType, Op, Position, Value};

/// The index of `(topic, partition)` in `sources`, added when new.
pub(super) fn source_slot(
    sources: &mut Vec<(Arc<str>, i32)>,
    topic: &Arc<str>,
    partition: i32,
) -> u32 {
    if let Some(i) = sources
        .iter()
        .rposition(|(t, p)| *p == partition && (Arc::ptr_eq(t, topic) || **t == **topic))
    {
        return i as u32;
    }
    sources.push((topic.clone(), partition));
    (sources.len() - 1) as u32
}

/// Builds one column, row by row.
#[derive(Debug)]
struct ColumnBuilder {
    name: String,
    ty: ColumnType,
    presence: Vec<u8>,
    offsets: Vec<u32>,
    data: Vec<u8>,
}

impl ColumnBuilder {
    fn new(name: &str, ty: ColumnType, rows_before: usize, capacity: usize) -> Self {
        let mut presence = Vec::with_capacity(capacity.max(rows_before + 1));
        presence.resize(rows_before, presence::ABSENT);
        let mut offsets = Vec::with_capacity(capacity.max(rows_before + 1) + 1);
        offsets.resize(rows_before + 1, 0);
        let width = ty.fixed_width().unwrap_or(0).max(8);
        ColumnBuilder {
            name: name.to_string(),
            ty,
            presence,
            offsets,
            data: Vec::with_capacity(capacity * width),
        }
    }

    /// Marks rows up to (not including) `row` absent.
    #[inline]
    fn pad_to(&mut self, row: usize) {
        if self.presence.len() < row {
            let end = self.data.len() as u32;
            self.presence.resize(row, presence::ABSENT);
            self.offsets.resize(row + 1, end);
        }
    }

    #[inline]
    fn end_row(&mut self, code: u8) {
        self.presence.push(code);
        self.offsets.push(self.data.len() as u32);
    }

    fn finish(mut self, rows: usize) -> columnar::Column {
        self.pad_to(rows);
        columnar::Column {
            name: self.name,
            type_: self.ty,
            presence: self.presence,
            offsets: self.offsets,
            data: self.data,
        }
    }
}

/// Builds one image (before or after) of every change, row by row.
#[derive(Debug, Default)]
pub struct ImageBuilder {
    present: Vec<bool>,
    columns: Vec<ColumnBuilder>,
    /// The column the next cell most likely goes to: rows of a table repeat
    /// their layout.
    cursor: usize,
    capacity: usize,
    /// The columns of each name, once there are [`ImageBuilder::INDEX_FROM`]
    /// columns: finding a column by a scan would make wide images quadratic.
    by_name: Option<HashMap<String, Vec<usize>>>,
}

impl ImageBuilder {
    /// How many columns an image has before they are indexed by name.
    const INDEX_FROM: usize = 64;

    fn begin_row(&mut self) {
        self.present.push(false);
        self.cursor = 0;
    }

    fn row(&self) -> usize {
        self.present.len() - 1
    }

    /// The column for `name` of type `ty` that the current row has not
    /// written yet, created if needed.
    #[inline]
    fn column_for(&mut self, name: &str, ty: ColumnType) -> usize {
        let row = self.row();
        let fits = |c: &ColumnBuilder| c.ty == ty && c.name == name && c.presence.len() <= row;
        let index = match self.columns.get(self.cursor) {
            Some(c) if fits(c) => self.cursor,
            _ => {
                let found = match &self.by_name {
                    Some(by_name) => by_name
                        .get(name)
                        .and_then(|at| at.iter().copied().find(|&i| fits(&self.columns[i]))),
                    None => self.columns.iter().position(fits),
                };
                match found {
                    Some(i) => i,
                    None => self.add_column(name, ty, row),
                }
            }
        };
        self.cursor = index + 1;
        let column = &mut self.columns[index];
        column.pad_to(row);
        index
    }

    /// Adds a column whose rows before `row` are absent; returns its index.
    fn add_column(&mut self, name: &str, ty: ColumnType, row: usize) -> usize {
        let index = self.columns.len();
        self.columns
            .push(ColumnBuilder::new(name, ty, row, self.capacity));
        if let Some(by_name) = &mut self.by_name {
            by_name.entry(name.to_string()).or_default().push(index);
        } else if self.columns.len() >= Self::INDEX_FROM {
            let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, column) in self.columns.iter().enumerate() {
                by_name.entry(column.name.clone()).or_default().push(i);
            }
            self.by_name = Some(by_name);
        }
        index
    }

    /// Whether the current change's image has a cell named `name`.
    pub fn has_cell(&self, name: &str) -> bool {
        let Some(row) = self.present.len().checked_sub(1) else {
            return false;
        };
        self.columns
            .iter()
            .any(|c| c.name == name && c.presence.len() == row + 1)
    }

    /// Gives the current change this image (empty until cells are set).
    pub fn mark_present(&mut self) {
        let row = self.row();
        self.present[row] = true;
    }

    /// Sets column `name` of the current change's image to `value` (`None`
    /// for NULL), of type `ty`, and marks the image present. The value must
    /// fit the type, and a row sets each name once.
    pub fn set(&mut self, name: &str, ty: ColumnType, value: Option<&Value>) -> &mut Self {
        debug_assert!(
            value.is_none_or(|v| v.fits(ty)),
            "{name}: {value:?} is not a {ty}"
        );
        self.mark_present();
        let index = self.column_for(name, ty);
        let column = &mut self.columns[index];
        match value {
            Some(value) => {
                value.encode_into(&mut column.data);
                column.end_row(presence::VALUE);
            }
            None => column.end_row(presence::NULL),
        }
        self
    }

    /// Sets column `name` from a cell's encoded bytes (`None` for NULL),
    /// which must be a valid encoding of `ty`.
    pub fn set_encoded(&mut self, name: &str, ty: ColumnType, bytes: Option<&[u8]>) -> &mut Self {
        self.mark_present();
        let index = self.column_for(name, ty);
        let column = &mut self.columns[index];
        match bytes {
            Some(bytes) => {
                column.data.extend_from_slice(bytes);
                column.end_row(presence::VALUE);
            }
            None => column.end_row(presence::NULL),
        }
        self
    }

    fn finish(self, rows: usize) -> (columnar::Images, Vec<ColumnType>) {
        let types = self.columns.iter().map(|c| c.ty).collect();
        let images = columnar::Images {
            present: self.present.into_iter().map(u8::from).collect(),
            columns: self.columns.into_iter().map(|c| c.finish(rows)).collect(),
        };
        (images, types)
    }
}

/// Builds a [`ChangeBatch`], change by change: [`begin`](Self::begin) a
/// change, then set the cells of its [`before`](Self::before) and
/// [`after`](Self::after) images.
#[derive(Debug, Default)]
pub struct ChangeBatchBuilder {
    ops: Vec<Op>,
    tables: Vec<(String, Vec<String>)>,
    table_index: Vec<u32>,
    event_time: Vec<Option<i64>>,
    before: ImageBuilder,
    after: ImageBuilder,
    sources: Vec<(Arc<str>, i32)>,
    source_index: Vec<u32>,
    offsets: Vec<i64>,
    partial: PartialRows,
}

impl ChangeBatchBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        ChangeBatchBuilder::default()
    }

    /// An empty builder sized for `changes` changes.
    pub fn with_capacity(changes: usize) -> Self {
        let mut builder = ChangeBatchBuilder::default();
        builder.ops.reserve(changes);
        builder.table_index.reserve(changes);
        builder.event_time.reserve(changes);
        builder.source_index.reserve(changes);
        builder.offsets.reserve(changes);
        builder.before.capacity = changes;
        builder.after.capacity = changes;
        builder.before.present.reserve(changes);
        builder.after.present.reserve(changes);
        builder
    }

    /// The number of changes begun so far.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether no change was begun.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Starts a change (with no images yet); returns its row.
    pub fn begin(
        &mut self,
        op: Op,
        table: &str,
        key: &[String],
        position: &Position,
        event_time: Option<i64>,
    ) -> usize {
        let row = self.ops.len();
        self.ops.push(op);
        let table = match self
            .tables
            .iter()
            .rposition(|(name, k)| name == table && k == key)
        {
            Some(i) => i,
            None => {
                self.tables.push((table.to_string(), key.to_vec()));
                self.tables.len() - 1
            }
        };
        self.table_index.push(table as u32);
        self.event_time.push(event_time);
        self.source_index.push(source_slot(
            &mut self.sources,
            &position.topic,
            position.partition,
        ));
        self.offsets.push(position.offset);
        self.before.begin_row();
        self.after.begin_row();
        row
    }

    /// The current change's before image.
    pub fn before(&mut self) -> &mut ImageBuilder {
        &mut self.before
    }

    /// The current change's after image.
    pub fn after(&mut self) -> &mut ImageBuilder {
        &mut self.after
    }

    /// The current change's image `which`.
    pub fn image(&mut self, which: Which) -> &mut ImageBuilder {
        match which {
            Which::Before => &mut self.before,
            Which::After => &mut self.after,
        }
    }

    /// Notes that the current change's after image leaves `unchanged`
    /// columns unchanged (see [`super::partial`]).
    pub fn set_unchanged(&mut self, unchanged: Unchanged) {
        self.partial.push(self.ops.len() - 1, unchanged);
    }

    /// Carries what change `row` of `batch` left unchanged over to the
    /// current change, for the columns its after image has no cell of: a
    /// plugin's replacement that sets such a column gives it its value.
    pub fn inherit_unchanged(&mut self, batch: &ChangeBatch, row: usize) {
        let Some(unchanged) = batch.unchanged(row) else {
            return;
        };
        let names: Box<[_]> = unchanged
            .names
            .iter()
            .filter(|name| !self.after.has_cell(name))
            .cloned()
            .collect();
        if !names.is_empty() || unchanged.absent {
            self.set_unchanged(Unchanged {
                names,
                absent: unchanged.absent,
            });
        }
    }

    /// Appends a change.
    pub fn push_change(&mut self, change: &Change) {
        self.push_change_for(&change.table, change);
    }

    /// Appends a change, bound for `table` whatever it names.
    pub fn push_change_for(&mut self, table: &str, change: &Change) {
        self.begin(
            change.op,
            table,
            &change.key,
            &change.position,
            change.event_time,
        );
        for (image, builder) in [
            (&change.before, &mut self.before),
            (&change.after, &mut self.after),
        ] {
            if let Some(image) = image {
                builder.mark_present();
                for field in image.fields() {
                    builder.set(&field.name, field.ty, field.value.as_ref());
                }
            }
        }
        if let Some(unchanged) = change.after.as_ref().and_then(Unchanged::of) {
            self.set_unchanged(unchanged);
        }
    }

    /// Appends change `row` of `batch`, cell by cell (bytes copied as they are).
    pub fn push_row(&mut self, batch: &ChangeBatch, row: usize) {
        let (topic, partition) = batch.source(row);
        let position = Position {
            topic: topic.clone(),
            partition,
            offset: batch.offset(row),
        };
        self.begin(
            batch.op(row),
            batch.table(row),
            batch.key_columns(row),
            &position,
            batch.event_time(row),
        );
        self.copy_images(batch, row);
    }

    /// Copies change `row`'s images of `batch` into the current change.
    pub fn copy_images(&mut self, batch: &ChangeBatch, row: usize) {
        for (images, builder) in [
            (batch.images(Which::Before), &mut self.before),
            (batch.images(Which::After), &mut self.after),
        ] {
            if let Some(image) = images.row(row) {
                builder.mark_present();
                for cell in image.cells() {
                    builder.set_encoded(cell.name, cell.ty, cell.bytes);
                }
            }
        }
        if let Some(unchanged) = batch.unchanged(row) {
            self.set_unchanged(unchanged.clone());
        }
    }

    /// The batch.
    pub fn finish(self) -> ChangeBatch {
        let rows = self.ops.len();
        let (before, before_types) = self.before.finish(rows);
        let (after, after_types) = self.after.finish(rows);
        let (tables, table_keys) = self.tables.into_iter().unzip();
        ChangeBatch {
            wire: columnar::ChangeBatch {
                ops: self.ops.iter().map(|op| op.code()).collect(),
                tables,
                table_keys,
                table_index: self.table_index,
                event_time: self.event_time.iter().map(|t| t.unwrap_or(0)).collect(),
                event_time_known: self
                    .event_time
                    .iter()
                    .map(|t| u8::from(t.is_some()))
                    .collect(),
                before,
                after,
            },
            types: [before_types, after_types],
            sources: self.sources,
            source_index: self.source_index,
            offsets: self.offsets,
            partial: self.partial,
        }
    }
}
