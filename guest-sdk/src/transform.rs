//! The transformer API: a per-change view over a columnar batch.

use std::borrow::Cow;

use crate::Error;
use crate::columnar::{self, BatchWriter, IndexedBatch, NameIndex, presence};
use crate::config::Config;
use crate::replace::{Modified, replaced_batch};
use crate::wit;
use crate::{ColumnType, Op, OwnedValue, Value};

/// The codes of `outcomes` (the contract's `outcome`).
pub(crate) mod outcome {
    pub(crate) const KEEP: u8 = 0;
    pub(crate) const DROP: u8 = 1;
    pub(crate) const REPLACE: u8 = 2;
    pub(crate) const ROUTE: u8 = 3;
    pub(crate) const REJECT: u8 = 4;
}

/// Change `row`'s event time in `batch`.
fn event_time(batch: &wit::ChangeBatch, row: usize) -> Option<i64> {
    (batch.event_time_known[row] != 0).then(|| batch.event_time[row])
}

/// What becomes of one change, returned by [`Transformer::transform`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Pass the change on (with its modifications, if any were made).
    Keep,
    /// Drop the change silently (filtered out).
    Drop,
    /// Send the change (with its modifications, if any) to this table instead.
    Route(String),
    /// Send the change to the dead-letter queue with this reason.
    Reject(String),
}

/// A plugin that transforms changes: maps, masks, filters, routes or rejects them.
///
/// One value of the type lives in the plugin instance, made by [`init`](Self::init)
/// from the table's configuration; the host then calls
/// [`transform`](Self::transform) once per change, batch after batch. Export
/// the type with [`export_transformer!`](crate::export_transformer).
pub trait Transformer: Sized + 'static {
    /// Builds the plugin from its configuration; an error refuses the
    /// configuration and the plugin is not used (say why in the message).
    fn init(config: &Config) -> Result<Self, Error>;

    /// Decides the fate of one change, optionally modifying it first.
    fn transform(&mut self, change: &mut Change<'_>) -> Outcome;
}

/// Which of a change's two images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Which {
    Before,
    After,
}

/// A value stored in an edited image: a cell of the batch not yet read, a
/// value borrowed from the batch, or an owned one.
#[derive(Clone, Debug)]
pub(crate) enum Stored<'a> {
    /// Row `.1` of a column of the batch, present in that row: read only
    /// when asked for, and copied byte for byte into a replacement.
    Cell(&'a wit::Column, usize),
    Ref(Value<'a>),
    Own(OwnedValue),
}

impl Stored<'_> {
    pub(crate) fn value(&self) -> Value<'_> {
        match self {
            Stored::Cell(column, row) => columnar::read_cell(column, *row).unwrap_or(Value::Null),
            Stored::Ref(v) => *v,
            Stored::Own(v) => v.as_value(),
        }
    }
}

/// A column of an edited image.
#[derive(Clone, Debug)]
pub(crate) struct StoredField<'a> {
    pub(crate) name: Cow<'a, str>,
    pub(crate) ty: ColumnType,
    pub(crate) value: Stored<'a>,
}

/// An image as edited.
#[derive(Clone, Debug)]
pub(crate) enum Slot<'a> {
    /// As it came in.
    Original,
    /// The original with these cells set on top: each replaces the
    /// original's cell of that name (whatever its type) or adds a column.
    /// Setting values, the common edit, stays this cheap.
    Overlay(Vec<StoredField<'a>>),
    /// Every cell of the image, listed (`None`: the image was removed).
    /// Removals, renames and new images take this form.
    Edited(Option<Vec<StoredField<'a>>>),
}

/// What was changed on a change; it exists only once something was.
#[derive(Debug)]
pub(crate) struct Edit<'a> {
    pub(crate) op: Op,
    pub(crate) event_time: Option<i64>,
    pub(crate) keys: Option<Vec<String>>,
    pub(crate) before: Slot<'a>,
    pub(crate) after: Slot<'a>,
}

impl<'a> Edit<'a> {
    fn slot(&mut self, which: Which) -> &mut Slot<'a> {
        match which {
            Which::Before => &mut self.before,
            Which::After => &mut self.after,
        }
    }

    /// The state of image `which`.
    pub(crate) fn slot_ref(&self, which: Which) -> &Slot<'a> {
        match which {
            Which::Before => &self.before,
            Which::After => &self.after,
        }
    }
}

/// One change of a batch, as a transformer sees it: its op, table, key columns,
/// event time and before/after images with typed, named column access.
///
/// Reading never allocates: values borrow from the batch's column buffers.
/// The first modification copies the change's scalars; setting values keeps
/// the set cells on top of the original image, other edits list the image's
/// cells (still borrowed). A change that was modified is sent to the host as
/// a replacement, one that was not costs nothing more.
pub struct Change<'a> {
    indexed: &'a IndexedBatch<'a>,
    batch: &'a wit::ChangeBatch,
    row: usize,
    /// What was modified, kept in place (no allocation per change).
    edit: Option<Edit<'a>>,
}

impl<'a> Change<'a> {
    pub(crate) fn new(indexed: &'a IndexedBatch<'a>, row: usize) -> Change<'a> {
        Change {
            indexed,
            batch: indexed.batch,
            row,
            edit: None,
        }
    }

    /// Change `row` of `indexed` with the modifications `edit`.
    pub(crate) fn with_edit(
        indexed: &'a IndexedBatch<'a>,
        row: usize,
        edit: Edit<'a>,
    ) -> Change<'a> {
        Change {
            edit: Some(edit),
            ..Change::new(indexed, row)
        }
    }

    /// The position of the change in its batch.
    pub fn index(&self) -> usize {
        self.row
    }

    /// The kind of change.
    pub fn op(&self) -> Op {
        match &self.edit {
            Some(e) => e.op,
            None => columnar::op_from_code(self.batch.ops[self.row]),
        }
    }

    /// The table the change is for.
    pub fn table(&self) -> &'a str {
        &self.batch.tables[self.batch.table_index[self.row] as usize]
    }

    /// The key columns of the table (empty when unknown).
    pub fn key_columns(&self) -> &[String] {
        match self.edit.as_ref().and_then(|e| e.keys.as_ref()) {
            Some(keys) => keys,
            None => &self.batch.table_keys[self.batch.table_index[self.row] as usize],
        }
    }

    /// When the change happened at the source, in microseconds since the
    /// epoch, if the source said.
    pub fn event_time(&self) -> Option<i64> {
        match &self.edit {
            Some(e) => e.event_time,
            None => event_time(self.batch, self.row),
        }
    }

    /// Whether the change has been modified (and will be sent as a replacement).
    pub fn is_modified(&self) -> bool {
        self.edit.is_some()
    }

    fn edit(&mut self) -> &mut Edit<'a> {
        if self.edit.is_none() {
            self.edit = Some(Edit {
                op: columnar::op_from_code(self.batch.ops[self.row]),
                event_time: event_time(self.batch, self.row),
                keys: None,
                before: Slot::Original,
                after: Slot::Original,
            });
        }
        self.edit.as_mut().unwrap()
    }

    /// Changes the kind of change (e.g. a delete into an update of a
    /// soft-delete flag).
    pub fn set_op(&mut self, op: Op) {
        self.edit().op = op;
    }

    /// Sets the event time, in microseconds since the epoch.
    pub fn set_event_time(&mut self, event_time: Option<i64>) {
        self.edit().event_time = event_time;
    }

    /// Sets the key columns of the change's table.
    pub fn set_key_columns<S: Into<String>>(&mut self, keys: impl IntoIterator<Item = S>) {
        self.edit().keys = Some(keys.into_iter().map(Into::into).collect());
    }

    /// The columns of image `which` in the batch.
    fn columns(&self, which: Which) -> &'a [wit::Column] {
        match which {
            Which::Before => &self.batch.before.columns,
            Which::After => &self.batch.after.columns,
        }
    }

    /// The name index of image `which` in the batch.
    fn indexed_side(&self, which: Which) -> &'a NameIndex {
        match which {
            Which::Before => &self.indexed.before,
            Which::After => &self.indexed.after,
        }
    }

    fn original(&self, which: Which) -> Option<Image<'a>> {
        let (images, index) = match which {
            Which::Before => (&self.batch.before, &self.indexed.before),
            Which::After => (&self.batch.after, &self.indexed.after),
        };
        (images.present[self.row] != 0).then_some(Image {
            repr: Repr::Columns {
                columns: &images.columns,
                index,
                row: self.row,
            },
        })
    }

    /// The state of image `which`: original until modified.
    fn slot_of(&self, which: Which) -> &Slot<'a> {
        match (&self.edit, which) {
            (None, _) => &Slot::Original,
            (Some(e), Which::Before) => &e.before,
            (Some(e), Which::After) => &e.after,
        }
    }

    fn current(&self, which: Which) -> Option<Image<'_>> {
        let slot = self.slot_of(which);
        match slot {
            Slot::Original => self.original(which),
            Slot::Overlay(over) => match self.original(which)?.repr {
                Repr::Columns {
                    columns,
                    index,
                    row,
                } => Some(Image {
                    repr: Repr::Overlay {
                        columns,
                        index,
                        row,
                        over,
                    },
                }),
                _ => None,
            },
            Slot::Edited(None) => None,
            Slot::Edited(Some(fields)) => Some(Image {
                repr: Repr::Fields(fields),
            }),
        }
    }

    /// The row before the change (updates and deletes, when the source sends it),
    /// with the modifications made so far.
    pub fn before(&self) -> Option<Image<'_>> {
        self.current(Which::Before)
    }

    /// The row after the change (inserts, reads and updates), with the
    /// modifications made so far.
    pub fn after(&self) -> Option<Image<'_>> {
        self.current(Which::After)
    }

    /// The image that describes the row: the before image for deletes, the
    /// after image otherwise (falling back on the other when missing).
    pub fn image(&self) -> Option<Image<'_>> {
        let (first, second) = self.preferred();
        self.current(first).or_else(|| self.current(second))
    }

    fn preferred(&self) -> (Which, Which) {
        if self.op() == Op::Delete {
            (Which::Before, Which::After)
        } else {
            (Which::After, Which::Before)
        }
    }

    /// The before image as it came in, ignoring modifications; its values
    /// borrow from the batch, so they outlive borrows of the change.
    pub fn original_before(&self) -> Option<Image<'a>> {
        self.original(Which::Before)
    }

    /// The after image as it came in, ignoring modifications; its values
    /// borrow from the batch, so they outlive borrows of the change.
    pub fn original_after(&self) -> Option<Image<'a>> {
        self.original(Which::After)
    }

    fn image_mut(&mut self, which: Which) -> Option<ImageMut<'_, 'a>> {
        self.current(which)?;
        Some(ImageMut {
            change: self,
            which,
        })
    }

    /// The before image, to modify; `None` when the change has none.
    pub fn before_mut(&mut self) -> Option<ImageMut<'_, 'a>> {
        self.image_mut(Which::Before)
    }

    /// The after image, to modify; `None` when the change has none.
    pub fn after_mut(&mut self) -> Option<ImageMut<'_, 'a>> {
        self.image_mut(Which::After)
    }

    /// The image that [`image`](Self::image) returns, to modify.
    pub fn image_mut_preferred(&mut self) -> Option<ImageMut<'_, 'a>> {
        let (first, second) = self.preferred();
        let which = if self.current(first).is_some() {
            first
        } else {
            second
        };
        self.image_mut(which)
    }

    /// The before image to modify, created empty when the change has none.
    pub fn insert_before(&mut self) -> ImageMut<'_, 'a> {
        self.insert(Which::Before)
    }

    /// The after image to modify, created empty when the change has none.
    pub fn insert_after(&mut self) -> ImageMut<'_, 'a> {
        self.insert(Which::After)
    }

    fn insert(&mut self, which: Which) -> ImageMut<'_, 'a> {
        if self.current(which).is_none() {
            *self.edit().slot(which) = Slot::Edited(Some(Vec::new()));
        }
        ImageMut {
            change: self,
            which,
        }
    }

    /// Removes the before image.
    pub fn remove_before(&mut self) {
        if self.before().is_some() {
            *self.edit().slot(Which::Before) = Slot::Edited(None);
        }
    }

    /// Removes the after image.
    pub fn remove_after(&mut self) {
        if self.after().is_some() {
            *self.edit().slot(Which::After) = Slot::Edited(None);
        }
    }

    /// Renames column `from` to `to` in both images and in the key columns;
    /// whether anything was renamed.
    pub fn rename_column(&mut self, from: &str, to: &str) -> bool {
        let mut renamed = false;
        for which in [Which::Before, Which::After] {
            if let Some(mut image) = self.image_mut(which) {
                renamed |= image.rename(from, to);
            }
        }
        if self.key_columns().iter().any(|k| k == from) {
            let keys: Vec<String> = self
                .key_columns()
                .iter()
                .map(|k| if k == from { to.to_owned() } else { k.clone() })
                .collect();
            self.set_key_columns(keys);
            renamed = true;
        }
        renamed
    }

    /// Removes column `name` from both images; whether it was in either.
    pub fn remove_column(&mut self, name: &str) -> bool {
        let mut removed = false;
        for which in [Which::Before, Which::After] {
            if let Some(mut image) = self.image_mut(which) {
                removed |= image.remove(name);
            }
        }
        removed
    }

    /// The columns of the batch that the original image `which` has a cell
    /// in (null or not); none when the change has no such image.
    fn original_cells(&self, which: Which) -> impl Iterator<Item = &'a wit::Column> + use<'a> {
        let images: &'a wit::Images = match which {
            Which::Before => &self.batch.before,
            Which::After => &self.batch.after,
        };
        let row = self.row;
        let columns: &'a [wit::Column] = if images.present[row] != 0 {
            &images.columns
        } else {
            &[]
        };
        columns
            .iter()
            .filter(move |c| c.presence[row] != presence::ABSENT)
    }

    /// The cells of an image, listed for editing (not read, not copied).
    fn fields_mut(&mut self, which: Which) -> &mut Vec<StoredField<'a>> {
        let row = self.row;
        let original: Vec<StoredField<'a>> = match self.slot_of(which) {
            Slot::Original => self
                .original_cells(which)
                .map(|c| StoredField {
                    name: Cow::Borrowed(c.name.as_str()),
                    ty: columnar::column_type_from_wit(&c.type_),
                    value: Stored::Cell(c, row),
                })
                .collect(),
            Slot::Overlay(over) => {
                let mut fields: Vec<StoredField<'a>> = self
                    .original_cells(which)
                    .map(|c| match over.iter().find(|f| f.name == c.name) {
                        Some(f) => f.clone(),
                        None => StoredField {
                            name: Cow::Borrowed(c.name.as_str()),
                            ty: columnar::column_type_from_wit(&c.type_),
                            value: Stored::Cell(c, row),
                        },
                    })
                    .collect();
                for f in over {
                    if !fields.iter().any(|g| g.name == f.name) {
                        fields.push(f.clone());
                    }
                }
                fields
            }
            Slot::Edited(_) => Vec::new(),
        };
        let slot = self.edit().slot(which);
        if !matches!(slot, Slot::Edited(Some(_))) {
            // The original's cells, or none for a removed image.
            *slot = Slot::Edited(Some(original));
        }
        match slot {
            Slot::Edited(Some(fields)) => fields,
            _ => unreachable!(),
        }
    }

    /// Writes this change into a replacement batch.
    pub(crate) fn write_into(&self, out: &mut BatchWriter, table: &str) {
        let row = out.push_change(self.op(), table, self.event_time());
        let keys = out.keys_mut(row);
        if keys.is_empty() {
            keys.extend(self.key_columns().iter().cloned());
        }
        for (which, images) in [
            (Which::Before, &mut out.before),
            (Which::After, &mut out.after),
        ] {
            match self.slot_of(which) {
                Slot::Original => {
                    if self.original(which).is_some() {
                        images.set_present(row, true);
                        for column in self.original_cells(which) {
                            let ty = columnar::column_type_from_wit(&column.type_);
                            images.copy_cell(row, &column.name, ty, column, self.row);
                        }
                    }
                }
                Slot::Overlay(over) => {
                    images.set_present(row, true);
                    for column in self.original_cells(which) {
                        match over.iter().find(|f| f.name == column.name) {
                            Some(f) => images.set(row, &f.name, f.ty, f.value.value()),
                            None => {
                                let ty = columnar::column_type_from_wit(&column.type_);
                                images.copy_cell(row, &column.name, ty, column, self.row);
                            }
                        }
                    }
                    for f in over {
                        if self
                            .indexed_side(which)
                            .find(self.columns(which), &f.name, self.row)
                            .is_none()
                        {
                            images.set(row, &f.name, f.ty, f.value.value());
                        }
                    }
                }
                Slot::Edited(None) => {}
                Slot::Edited(Some(fields)) => {
                    images.set_present(row, true);
                    for f in fields {
                        match f.value {
                            Stored::Cell(column, from) => {
                                images.copy_cell(row, &f.name, f.ty, column, from)
                            }
                            _ => images.set(row, &f.name, f.ty, f.value.value()),
                        }
                    }
                }
            }
        }
    }
}

/// One column of an image: its name, type and value in this row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field<'a> {
    /// The column name.
    pub name: &'a str,
    /// The column type.
    pub ty: ColumnType,
    /// The value (possibly [`Value::Null`]).
    pub value: Value<'a>,
}

#[derive(Clone, Copy)]
enum Repr<'a> {
    Columns {
        columns: &'a [wit::Column],
        index: &'a NameIndex,
        row: usize,
    },
    /// The original's columns with cells set on top (see [`Slot::Overlay`]).
    Overlay {
        columns: &'a [wit::Column],
        index: &'a NameIndex,
        row: usize,
        over: &'a [StoredField<'a>],
    },
    Fields(&'a [StoredField<'a>]),
}

/// A read-only row image (before or after): typed values by column name.
///
/// A column that is not part of the image reads as `None`; a column that is
/// part of it but holds SQL NULL reads as `Some(Value::Null)`.
#[derive(Clone, Copy)]
pub struct Image<'a> {
    repr: Repr<'a>,
}

impl<'a> Image<'a> {
    /// The column `name`: its type and value, `None` when the image lacks it.
    pub fn field(&self, name: &str) -> Option<Field<'a>> {
        match self.repr {
            Repr::Columns {
                columns,
                index,
                row,
            } => {
                let c = index.find(columns, name, row)?;
                columnar::read_cell(c, row).map(|value| Field {
                    name: &c.name,
                    ty: columnar::column_type_from_wit(&c.type_),
                    value,
                })
            }
            Repr::Overlay {
                columns,
                index,
                row,
                over,
            } => match over.iter().find(|f| f.name == name) {
                Some(f) => Some(Field {
                    name: &f.name,
                    ty: f.ty,
                    value: f.value.value(),
                }),
                None => Image {
                    repr: Repr::Columns {
                        columns,
                        index,
                        row,
                    },
                }
                .field(name),
            },
            Repr::Fields(fields) => fields.iter().find(|f| f.name == name).map(|f| Field {
                name: &f.name,
                ty: f.ty,
                value: f.value.value(),
            }),
        }
    }

    /// The value of column `name`, `None` when the image lacks it.
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        self.field(name).map(|f| f.value)
    }

    /// The type of column `name`, `None` when the image lacks it.
    pub fn column_type(&self, name: &str) -> Option<ColumnType> {
        self.field(name).map(|f| f.ty)
    }

    /// Whether the image has column `name` (null or not).
    pub fn contains(&self, name: &str) -> bool {
        self.field(name).is_some()
    }

    /// The columns of the image, in batch order.
    pub fn iter(&self) -> Fields<'a> {
        Fields {
            repr: self.repr,
            next: 0,
        }
    }

    /// The number of columns in the image.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the image has no column at all.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl std::fmt::Debug for Image<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|c| (c.name, c.value)))
            .finish()
    }
}

impl<'a> IntoIterator for Image<'a> {
    type Item = Field<'a>;
    type IntoIter = Fields<'a>;

    fn into_iter(self) -> Fields<'a> {
        self.iter()
    }
}

/// An iterator over the columns of an [`Image`].
pub struct Fields<'a> {
    repr: Repr<'a>,
    next: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        match self.repr {
            Repr::Columns { columns, row, .. } => {
                while let Some(c) = columns.get(self.next) {
                    self.next += 1;
                    if let Some(value) = columnar::read_cell(c, row) {
                        return Some(Field {
                            name: &c.name,
                            ty: columnar::column_type_from_wit(&c.type_),
                            value,
                        });
                    }
                }
                None
            }
            Repr::Overlay {
                columns,
                index,
                row,
                over,
            } => {
                // The original's cells in order, set ones in their place...
                while let Some(c) = columns.get(self.next) {
                    self.next += 1;
                    if let Some(value) = columnar::read_cell(c, row) {
                        return Some(match over.iter().find(|f| f.name == c.name) {
                            Some(f) => Field {
                                name: &f.name,
                                ty: f.ty,
                                value: f.value.value(),
                            },
                            None => Field {
                                name: &c.name,
                                ty: columnar::column_type_from_wit(&c.type_),
                                value,
                            },
                        });
                    }
                }
                // ...then the columns the overlay adds.
                while let Some(f) = over.get(self.next - columns.len()) {
                    self.next += 1;
                    if index.find(columns, &f.name, row).is_none() {
                        return Some(Field {
                            name: &f.name,
                            ty: f.ty,
                            value: f.value.value(),
                        });
                    }
                }
                None
            }
            Repr::Fields(fields) => {
                let f = fields.get(self.next)?;
                self.next += 1;
                Some(Field {
                    name: &f.name,
                    ty: f.ty,
                    value: f.value.value(),
                })
            }
        }
    }
}

/// A row image (before or after) being modified: set, remove and rename
/// columns. Obtained from [`Change::before_mut`] or [`Change::after_mut`].
pub struct ImageMut<'c, 'a> {
    change: &'c mut Change<'a>,
    which: Which,
}

impl<'a> ImageMut<'_, 'a> {
    /// The image as modified so far.
    pub fn view(&self) -> Image<'_> {
        self.change
            .current(self.which)
            .expect("an ImageMut's image exists")
    }

    /// The value of column `name`, `None` when the image lacks it.
    pub fn get(&self, name: &str) -> Option<Value<'_>> {
        self.view().get(name)
    }

    /// The type of column `name`, `None` when the image lacks it.
    pub fn column_type(&self, name: &str) -> Option<ColumnType> {
        self.view().column_type(name)
    }

    /// Whether the image has column `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.view().contains(name)
    }

    fn fields(&mut self) -> &mut Vec<StoredField<'a>> {
        self.change.fields_mut(self.which)
    }

    fn put(&mut self, name: &str, ty: ColumnType, value: Stored<'a>) {
        let which = self.which;
        let change = &mut *self.change;
        if matches!(change.slot_of(which), Slot::Original | Slot::Overlay(_)) {
            // Borrow the name from the batch when the original has the column.
            let original = change
                .indexed_side(which)
                .find(change.columns(which), name, change.row);
            let slot = change.edit().slot(which);
            if matches!(slot, Slot::Original) {
                *slot = Slot::Overlay(Vec::with_capacity(2));
            }
            let Slot::Overlay(over) = slot else {
                unreachable!("the slot was just made an overlay")
            };
            match over.iter_mut().find(|f| f.name == name) {
                Some(f) => {
                    f.ty = ty;
                    f.value = value;
                }
                None => over.push(StoredField {
                    name: match original {
                        Some(c) => Cow::Borrowed(c.name.as_str()),
                        None => Cow::Owned(name.to_owned()),
                    },
                    ty,
                    value,
                }),
            }
            return;
        }
        let fields = self.fields();
        match fields.iter_mut().find(|f| f.name == name) {
            Some(f) => {
                f.ty = ty;
                f.value = value;
            }
            None => fields.push(StoredField {
                name: Cow::Owned(name.to_owned()),
                ty,
                value,
            }),
        }
    }

    /// Sets column `name` to `value`, adding the column if needed. The column
    /// takes the value's type (`42i64` is a `long`, `"x"` a `string`; use
    /// [`OwnedValue`] variants for dates, times, timestamps, decimals and uuids).
    /// [`OwnedValue::Null`] keeps the column's type, or makes a `string`
    /// column; see [`set_null`](Self::set_null) to choose.
    pub fn set(&mut self, name: &str, value: impl Into<OwnedValue>) {
        let value = value.into();
        let ty = value
            .column_type()
            .or_else(|| self.column_type(name))
            .unwrap_or(ColumnType::String);
        self.put(name, ty, Stored::Own(value));
    }

    /// Sets column `name` to a value borrowed from the batch (e.g. read from
    /// [`Change::original_after`]), without copying it.
    pub fn set_borrowed(
        &mut self,
        name: &str,
        ty: ColumnType,
        value: Value<'a>,
    ) -> Result<(), Error> {
        check_type(name, ty, &value)?;
        self.put(name, ty, Stored::Ref(value));
        Ok(())
    }

    /// Sets column `name` to SQL NULL with type `ty`.
    pub fn set_null(&mut self, name: &str, ty: ColumnType) {
        self.put(name, ty, Stored::Ref(Value::Null));
    }

    /// Sets column `name` to `value` with type `ty`; an error when the value
    /// is not of that type (a null fits any type).
    pub fn set_typed(
        &mut self,
        name: &str,
        ty: ColumnType,
        value: impl Into<OwnedValue>,
    ) -> Result<(), Error> {
        let value = value.into();
        check_type(name, ty, &value.as_value())?;
        self.put(name, ty, Stored::Own(value));
        Ok(())
    }

    /// Removes column `name`; whether the image had it.
    pub fn remove(&mut self, name: &str) -> bool {
        if !self.contains(name) {
            return false;
        }
        self.fields().retain(|f| f.name != name);
        true
    }

    /// Renames column `from` to `to` (replacing a column already called `to`);
    /// whether the image had `from`.
    pub fn rename(&mut self, from: &str, to: &str) -> bool {
        if !self.contains(from) {
            return false;
        }
        if from == to {
            return true;
        }
        let fields = self.fields();
        fields.retain(|f| f.name != to);
        if let Some(f) = fields.iter_mut().find(|f| f.name == from) {
            f.name = Cow::Owned(to.to_owned());
        }
        true
    }

    /// Keeps only the columns for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Field<'_>) -> bool) {
        let drop_any = self.view().iter().any(|f| !keep(&f));
        if !drop_any {
            return;
        }
        self.fields().retain(|f| {
            keep(&Field {
                name: &f.name,
                ty: f.ty,
                value: f.value.value(),
            })
        });
    }
}

fn check_type(name: &str, ty: ColumnType, value: &Value<'_>) -> Result<(), Error> {
    match value.column_type() {
        Some(t) if t != ty => Err(Error::new(format!(
            "column `{name}`: a {t} value does not fit type {ty}"
        ))),
        _ => Ok(()),
    }
}

/// Runs a transformer over a batch: the loop that turns per-change outcomes
/// into the columnar `transformed` result.
pub(crate) fn transform_batch<T: Transformer>(
    plugin: &mut T,
    batch: &wit::ChangeBatch,
) -> wit::Transformed {
    let indexed = IndexedBatch::new(batch);
    let n = batch.ops.len();
    let mut outcomes = Vec::with_capacity(n);
    let mut routes = Vec::new();
    let mut rejected = Vec::new();
    let mut modified: Vec<Modified<'_>> = Vec::new();
    for row in 0..n {
        let mut change = Change::new(&indexed, row);
        let outcome = plugin.transform(&mut change);
        let code = match (outcome, change.edit.take()) {
            (Outcome::Keep, None) => outcome::KEEP,
            (Outcome::Keep, Some(edit)) => {
                modified.push(Modified {
                    row,
                    route: None,
                    edit,
                });
                outcome::REPLACE
            }
            (Outcome::Drop, _) => outcome::DROP,
            (Outcome::Route(table), None) => {
                routes.push(table);
                outcome::ROUTE
            }
            (Outcome::Route(table), Some(edit)) => {
                modified.push(Modified {
                    row,
                    route: Some(table),
                    edit,
                });
                outcome::REPLACE
            }
            (Outcome::Reject(reason), _) => {
                rejected.push(wit::Rejection {
                    row: row as u32,
                    reason,
                });
                outcome::REJECT
            }
        };
        outcomes.push(code);
    }
    wit::Transformed {
        outcomes,
        replaced: replaced_batch(&indexed, modified),
        routes,
        rejected,
    }
}
