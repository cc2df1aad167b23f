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

use std::collections::HashMap;
use std::sync::Arc;

use super::{Change, ColumnType, Field, Image, Op, Position, Value};

use floe_contract::columnar;

pub use floe_contract::cell::presence;

/// Which image of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The row before the change.
    Before,
    /// The row after the change.
    After,
}

/// One column of a batch's images, with its type already checked.
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    wire: &'a columnar::Column,
    ty: ColumnType,
}

impl<'a> Column<'a> {
    /// The column's name.
    pub fn name(&self) -> &'a str {
        &self.wire.name
    }

    /// The column's type.
    pub fn ty(&self) -> ColumnType {
        self.ty
    }

    /// Row `row`'s cell: `None` when absent, `Some(None)` for NULL,
    /// `Some(Some(bytes))` for a value.
    #[inline]
    pub fn cell(&self, row: usize) -> Option<Option<&'a [u8]>> {
        let wire = self.wire;
        match wire.presence[row] {
            presence::VALUE => Some(Some(
                &wire.data[wire.offsets[row] as usize..wire.offsets[row + 1] as usize],
            )),
            presence::NULL => Some(None),
            _ => None,
        }
    }

    /// Whether row `row` has a cell (NULL or a value) in this column.
    #[inline]
    pub fn has(&self, row: usize) -> bool {
        self.wire.presence[row] != presence::ABSENT
    }
}

/// One image (before or after) of every change of a batch, column by column:
/// a view of the contract's `images` record, checked.
#[derive(Debug, Clone, Copy)]
pub struct ImageColumns<'a> {
    wire: &'a columnar::Images,
    /// The type of each column.
    types: &'a [ColumnType],
}

impl<'a> ImageColumns<'a> {
    /// The number of columns.
    pub fn width(&self) -> usize {
        self.types.len()
    }

    /// Column `index`.
    pub fn column(&self, index: usize) -> Column<'a> {
        Column {
            wire: &self.wire.columns[index],
            ty: self.types[index],
        }
    }

    /// The columns, in order.
    pub fn columns(&self) -> impl Iterator<Item = Column<'a>> + use<'a> {
        self.wire
            .columns
            .iter()
            .zip(self.types)
            .map(|(wire, &ty)| Column { wire, ty })
    }

    /// Whether row `row` has this image.
    pub fn is_present(&self, row: usize) -> bool {
        self.wire.present[row] != 0
    }

    /// Row `row`'s image, `None` when it has none.
    pub fn row(&self, row: usize) -> Option<ImageRef<'a>> {
        self.is_present(row)
            .then_some(ImageRef { images: *self, row })
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.wire.present.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.wire.present.is_empty()
    }
}

/// One image (before or after) of every change of a batch, owned: what a
/// table writer keeps of a batch until it commits.
#[derive(Debug, Clone, PartialEq)]
pub struct Images {
    wire: columnar::Images,
    types: Vec<ColumnType>,
}

impl Images {
    /// The images, to read.
    pub fn view(&self) -> ImageColumns<'_> {
        ImageColumns {
            wire: &self.wire,
            types: &self.types,
        }
    }
}

/// One cell of an image: its column's name and type, and its bytes (`None`
/// for NULL) in the contract's encoding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell<'a> {
    /// The column name.
    pub name: &'a str,
    /// The column type.
    pub ty: ColumnType,
    /// The value's bytes, `None` for NULL.
    pub bytes: Option<&'a [u8]>,
}

impl Cell<'_> {
    /// The value, `None` for NULL.
    pub fn value(&self) -> Option<Value> {
        // Cells of a batch are valid by construction.
        self.bytes.and_then(|b| Value::decode(self.ty, b))
    }
}

/// A row's image, read in place.
#[derive(Debug, Clone, Copy)]
pub struct ImageRef<'a> {
    images: ImageColumns<'a>,
    row: usize,
}

impl<'a> ImageRef<'a> {
    /// The row this is the image of.
    pub fn row(&self) -> usize {
        self.row
    }

    /// The image's cells, in column order.
    pub fn cells(&self) -> impl Iterator<Item = Cell<'a>> + use<'a> {
        let row = self.row;
        self.images.columns().filter_map(move |c| {
            c.cell(row).map(|bytes| Cell {
                name: c.name(),
                ty: c.ty(),
                bytes,
            })
        })
    }

    /// The cell of column `name`, `None` when the image lacks it.
    pub fn cell(&self, name: &str) -> Option<Cell<'a>> {
        let row = self.row;
        self.images
            .columns()
            .filter(|c| c.name() == name)
            .find_map(|c| {
                c.cell(row).map(|bytes| Cell {
                    name: c.name(),
                    ty: c.ty(),
                    bytes,
                })
            })
    }

    /// The value of column `name`: `None` when the column is absent or NULL.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.cell(name).and_then(|c| c.value())
    }

    /// The number of columns the image has.
    pub fn len(&self) -> usize {
        self.images.columns().filter(|c| c.has(self.row)).count()
    }

    /// Whether the image has no columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The image as an owned [`Image`].
    pub fn to_image(&self) -> Image {
        Image::from_distinct_fields(
            self.cells()
                .map(|c| Field {
                    name: c.name.into(),
                    ty: c.ty,
                    value: c.value(),
                })
                .collect(),
        )
    }
}

/// Changes in columnar form, with the source position of each.
///
/// Build one with [`ChangeBatchBuilder`] (or from [`Change`]s), read rows with
/// the accessors, hand it to a plugin as [`ChangeBatch::wire`].
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeBatch {
    /// The changes in the contract's form (every code and cell checked).
    wire: columnar::ChangeBatch,
    /// The type of each column of the before and after images.
    types: [Vec<ColumnType>; 2],
    /// Distinct (topic, partition); `source_index` points into it.
    sources: Vec<(Arc<str>, i32)>,
    source_index: Vec<u32>,
    offsets: Vec<i64>,
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

    /// Change `row` as an owned [`Change`].
    pub fn to_change(&self, row: usize) -> Change {
        Change {
            op: self.op(row),
            table: self.table(row).to_string(),
            key: self.key_columns(row).to_vec(),
            before: self.before(row).map(|i| i.to_image()),
            after: self.after(row).map(|i| i.to_image()),
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

/// The index of `(topic, partition)` in `sources`, added when new.
fn source_slot(sources: &mut Vec<(Arc<str>, i32)>, topic: &Arc<str>, partition: i32) -> u32 {
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
