//! The commit window: the changes buffered since the last commit, collapsed
//! per key (the last state wins), each admitted to the table's schema (see
//! [`super::admission`]) and keyed as it is applied.

use std::collections::HashMap;
use std::sync::Arc;

use super::admission::{ColumnBudget, SideColumns, admit_side, columns_named};
use super::columns::WindowRow;
use super::error::{ChangeError, Rejected};
use super::key::{IndexKey, KeyHashBuilder, encode_cell, index_key};
use super::options::TableOptions;
use super::schema::{SchemaMismatch, SchemaState, new_table_schema};
use crate::change::{ChangeBatch, ImageRef, Images, Op, Which};
use crate::commit::Offsets;

/// What changes are checked against and teach the writer: the table's
/// schema (evolved by the window) and its key columns.
#[derive(Debug, Default)]
pub(crate) struct TableShape {
    /// The schema; before the table exists, the one it will be created with
    /// (`None` until the first change).
    pub schema: Option<SchemaState>,
    /// The key columns, in index order (empty while unknown).
    pub key_names: Vec<String>,
}

/// The buffered commit window.
#[derive(Debug, Default)]
pub(crate) struct Window {
    /// Key → final state: a row of `images`, or `None` for deleted.
    pub rows: HashMap<IndexKey, Option<WindowRow>, KeyHashBuilder>,
    /// The after images of the batches applied, in order.
    pub images: Vec<Images>,
    /// A truncate was applied: everything committed before is gone.
    pub truncated: bool,
    /// First offset applied per partition.
    pub first: Offsets,
    /// Next offset per partition (last applied + 1).
    pub next: Offsets,
    /// Columns schema evolution added in this window.
    columns_added: usize,
    /// Scratch space for encoding keys.
    buf: Vec<u8>,
}

/// What [`Window::apply`] did with a batch.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// The changes that cannot be applied, with why.
    pub rejected: Vec<Rejected>,
}

impl Window {
    /// Whether there is nothing to commit (no key touched, no truncate).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && !self.truncated
    }

    /// The image of a window row.
    pub fn image(&self, at: WindowRow) -> Option<ImageRef<'_>> {
        self.images[at.batch as usize].view().row(at.row as usize)
    }

    /// Buffers `batch` (in offset order), collapsing it per key: the last
    /// state wins. A change that cannot be applied is rejected and leaves
    /// the window as it was.
    pub fn apply(
        &mut self,
        batch: ChangeBatch,
        shape: &mut TableShape,
        options: &TableOptions,
    ) -> Applied {
        let mut applied = Applied::default();
        let mut applying = Applying {
            batch: &batch,
            number: self.images.len() as u32,
            sides: [None, None],
            keys: [None, None],
            kept: false,
        };
        // Per source partition: the first and last offsets applied.
        let mut ranges: Vec<Option<(i64, i64)>> = vec![None; batch.sources().len()];
        for row in 0..batch.len() {
            let source = batch.source_index(row);
            let offset = batch.offset(row);
            if let Err(error) = self.apply_row(&mut applying, shape, options, row) {
                applied.rejected.push(Rejected {
                    change: batch.to_change(row),
                    error,
                });
            }
            let range = ranges[source].get_or_insert((offset, offset));
            range.1 = range.1.max(offset);
        }
        for ((topic, partition), range) in batch.sources().iter().zip(ranges) {
            let Some((first, last)) = range else { continue };
            if self.first.get(topic, *partition).is_none() {
                self.first.set(topic, *partition, first);
            }
            self.next.advance(topic, *partition, last + 1);
        }
        if applying.kept {
            self.images.push(batch.into_after());
        }
        applied
    }

    /// Applies row `row` of a batch to the window; a row it refuses leaves
    /// the window as it was.
    fn apply_row(
        &mut self,
        applying: &mut Applying<'_>,
        shape: &mut TableShape,
        options: &TableOptions,
        row: usize,
    ) -> Result<(), ChangeError> {
        let batch = applying.batch;
        let op = batch.op(row);
        if op == Op::Truncate {
            self.rows.clear();
            self.truncated = true;
            return Ok(());
        }
        let is_delete = op == Op::Delete;
        let which = if is_delete {
            Which::Before
        } else {
            Which::After
        };
        let images = batch.images(which);
        let image = images.row(row).ok_or(ChangeError::NoImage(op))?;
        if shape.key_names.is_empty() {
            let key = if batch.key_columns(row).is_empty() {
                &options.key
            } else {
                batch.key_columns(row)
            };
            if key.is_empty() {
                return Err(ChangeError::NoKey);
            }
            let mut key = key.to_vec();
            if let Some(state) = &shape.schema {
                // An existing table without identifier fields: key in id order.
                let schema = state.schema();
                key.sort_by_key(|n| schema.field_id_by_name(n).unwrap_or(i32::MAX));
            }
            shape.key_names = key;
        }
        if shape.schema.is_none() {
            if is_delete {
                // Nothing to delete in a table that does not exist.
                return Ok(());
            }
            if !options.create {
                return Err(ChangeError::NoTable);
            }
            // Key columns first in the new table's id order.
            let image = image.to_image();
            let mut key = shape.key_names.clone();
            key.sort_by_key(|n| image.fields().iter().position(|f| *f.name == **n));
            let schema = new_table_schema(&image, &key)?;
            let last = schema.highest_field_id();
            shape.key_names = key;
            shape.schema = Some(SchemaState::new(Arc::new(schema), last));
        }
        let state = shape.schema.as_mut().expect("schema set above");
        let columns_added = &mut self.columns_added;
        let side = applying.sides[which as usize].get_or_insert_with(|| {
            let mut budget = ColumnBudget {
                limit: options.max_new_columns,
                added: *columns_added,
            };
            let side = admit_side(state, images, options.evolve, &mut budget);
            *columns_added = budget.added;
            side
        });
        if let Some(refusal) = side.refusal(images, row) {
            return Err(refusal.clone().into());
        }
        if !is_delete && let Some(name) = side.missing_required(images, row) {
            return Err(SchemaMismatch::Required(name.to_string()).into());
        }
        let key = applying.key(which, &shape.key_names, row, &mut self.buf)?;
        if op == Op::Update
            && batch.before(row).is_some()
            && let Ok(old) = applying.key(Which::Before, &shape.key_names, row, &mut self.buf)
            && old != key
        {
            // A primary-key change as one update: delete the old key.
            self.rows.insert(old, None);
        }
        let state = (!is_delete).then_some(WindowRow {
            batch: applying.number,
            row: row as u32,
        });
        applying.kept |= state.is_some();
        self.rows.insert(key, state);
        Ok(())
    }

    /// Admits the window's rows to `state` again (after the table was
    /// reloaded, its schema may have changed).
    pub fn readmit(&self, state: &mut SchemaState, evolve: bool) -> Result<(), SchemaMismatch> {
        for at in self.rows.values().flatten() {
            let image = self.image(*at).expect("window rows have an image");
            state.admit(&image, evolve, false)?;
        }
        Ok(())
    }
}

/// A batch being applied, and what is learnt of it once.
struct Applying<'b> {
    batch: &'b ChangeBatch,
    /// Its number in the window.
    number: u32,
    /// The schema's view of the after images and the before images.
    sides: [Option<SideColumns>; 2],
    /// Each key column's columns in the before and after images.
    keys: [Option<Vec<Vec<usize>>>; 2],
    /// Whether a row of its after images went into the window.
    kept: bool,
}

impl Applying<'_> {
    /// The index key of row `row`'s image `which`.
    fn key(
        &mut self,
        which: Which,
        names: &[String],
        row: usize,
        buf: &mut Vec<u8>,
    ) -> Result<IndexKey, ChangeError> {
        let images = self.batch.images(which);
        let columns = self.keys[which as usize]
            .get_or_insert_with(|| names.iter().map(|n| columns_named(images, n)).collect());
        buf.clear();
        for (name, columns) in names.iter().zip(columns.iter()) {
            let cell = columns
                .iter()
                .find_map(|&c| {
                    let column = images.column(c);
                    column.cell(row).flatten().map(|bytes| (column.ty(), bytes))
                })
                .ok_or_else(|| SchemaMismatch::MissingKey(name.clone()))?;
            encode_cell(cell.0, cell.1, buf);
        }
        Ok(index_key(buf))
    }
}
