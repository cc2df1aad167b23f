//! The `replaced` batch of a transform call: the changes the plugin modified.
//!
//! When every modified change only set values (the common edit: a mask, a
//! cast in place), the batch is built column by column: a column no change
//! set is copied whole (or, when every change of the batch was modified,
//! handed back as it came), and only the set columns are written cell by
//! cell. Other edits (removed, renamed or new images, removed columns) are
//! written change by change.
//!
//! Either way the layout is the one the host and the Python SDK write: one
//! column per distinct (name, type), in the order the pairs first appear
//! reading the changes in order and each change's columns in order.

use crate::columnar::{self, BatchWriter, IndexedBatch, presence};
use crate::transform::{Change, Edit, Slot, StoredField, Which};
use crate::wit;
use crate::{ColumnType, Value};

/// A change the plugin modified.
pub(crate) struct Modified<'a> {
    /// Its row in the input batch.
    pub(crate) row: usize,
    /// The table it was routed to, if it was.
    pub(crate) route: Option<String>,
    /// What was modified.
    pub(crate) edit: Edit<'a>,
}

/// The replacement batch of `modified`, in order.
pub(crate) fn replaced_batch(
    indexed: &IndexedBatch<'_>,
    modified: Vec<Modified<'_>>,
) -> wit::ChangeBatch {
    let sets_only = modified.iter().all(|m| {
        [Which::Before, Which::After]
            .iter()
            .all(|&w| matches!(m.edit.slot_ref(w), Slot::Original | Slot::Overlay(_)))
    });
    if sets_only {
        return by_column(indexed, &modified);
    }
    let mut out = BatchWriter::default();
    for m in modified {
        let table = match &m.route {
            Some(table) => table.clone(),
            None => {
                let batch = indexed.batch;
                batch.tables[batch.table_index[m.row] as usize].clone()
            }
        };
        Change::with_edit(indexed, m.row, m.edit).write_into(&mut out, &table);
    }
    out.finish()
}

/// The replacement batch of changes that only set values, column by column.
fn by_column(indexed: &IndexedBatch<'_>, modified: &[Modified<'_>]) -> wit::ChangeBatch {
    let batch = indexed.batch;
    let rows: Vec<usize> = modified.iter().map(|m| m.row).collect();
    let all_rows = rows.len() == batch.ops.len();
    let mut tables: Vec<String> = Vec::new();
    let mut table_keys: Vec<Vec<String>> = Vec::new();
    let mut table_index = Vec::with_capacity(rows.len());
    for m in modified {
        let t = batch.table_index[m.row] as usize;
        let name = m.route.as_deref().unwrap_or(&batch.tables[t]);
        let keys = m.edit.keys.as_deref().unwrap_or(&batch.table_keys[t]);
        let index = match tables
            .iter()
            .zip(&table_keys)
            .rposition(|(n, k)| n == name && k.as_slice() == keys)
        {
            Some(i) => i,
            None => {
                tables.push(name.to_owned());
                table_keys.push(keys.to_vec());
                tables.len() - 1
            }
        };
        table_index.push(index as u32);
    }
    wit::ChangeBatch {
        ops: modified.iter().map(|m| m.edit.op.code()).collect(),
        tables,
        table_keys,
        table_index,
        event_time: modified
            .iter()
            .map(|m| m.edit.event_time.unwrap_or(0))
            .collect(),
        event_time_known: modified
            .iter()
            .map(|m| u8::from(m.edit.event_time.is_some()))
            .collect(),
        before: images(&batch.before, modified, Which::Before, &rows, all_rows),
        after: images(&batch.after, modified, Which::After, &rows, all_rows),
    }
}

/// One column being written for the replaced rows.
struct Out {
    name: String,
    ty: ColumnType,
    column: wit::Column,
}

/// What the replaced row `j` holds under a name.
enum Cell<'c> {
    Absent,
    Value(Value<'c>),
    Bytes(u8, &'c [u8]),
}

/// Writes a column of `rows` cells, `cell(j)` giving row `j`'s.
fn write_column<'c>(
    name: &str,
    ty: ColumnType,
    rows: usize,
    mut cell: impl FnMut(usize) -> Cell<'c>,
) -> Option<wit::Column> {
    let mut presence_codes = Vec::with_capacity(rows);
    let mut offsets = Vec::with_capacity(rows + 1);
    let mut data = Vec::new();
    offsets.push(0u32);
    let mut any = false;
    for j in 0..rows {
        let code = match cell(j) {
            Cell::Absent => presence::ABSENT,
            Cell::Value(value) if value.is_null() => presence::NULL,
            Cell::Value(value) => {
                value.encode_into(&mut data);
                presence::VALUE
            }
            Cell::Bytes(code, bytes) => {
                data.extend_from_slice(bytes);
                code
            }
        };
        any |= code != presence::ABSENT;
        presence_codes.push(code);
        offsets.push(data.len() as u32);
    }
    any.then(|| wit::Column {
        name: name.to_owned(),
        type_: columnar::column_type_to_wit(ty),
        presence: presence_codes,
        offsets,
        data,
    })
}

/// Row `row` of `column` as a cell.
fn original(column: &wit::Column, row: usize) -> Cell<'_> {
    match column.presence[row] {
        presence::ABSENT => Cell::Absent,
        code => Cell::Bytes(
            code,
            &column.data[column.offsets[row] as usize..column.offsets[row + 1] as usize],
        ),
    }
}

/// The replaced rows' images of one side.
fn images(
    side: &wit::Images,
    modified: &[Modified<'_>],
    which: Which,
    rows: &[usize],
    all_rows: bool,
) -> wit::Images {
    let present: Vec<u8> = rows.iter().map(|&r| side.present[r]).collect();
    if present.iter().all(|&p| p == 0) {
        return wit::Images {
            present,
            columns: Vec::new(),
        };
    }
    let overlays: Vec<&[StoredField<'_>]> = modified
        .iter()
        .map(|m| match m.edit.slot_ref(which) {
            Slot::Overlay(over) => over.as_slice(),
            _ => &[],
        })
        .collect();
    let set = |j: usize, name: &str| overlays[j].iter().find(|f| f.name == name);
    let mut touched: Vec<&str> = Vec::new();
    for over in &overlays {
        for f in over.iter() {
            if !touched.contains(&&*f.name) {
                touched.push(&f.name);
            }
        }
    }
    let m = rows.len();
    let mut out: Vec<Out> = Vec::new();
    // Where each input column's own (name, type) went, if anywhere.
    let mut base: Vec<Option<usize>> = Vec::with_capacity(side.columns.len());
    for c in &side.columns {
        let ty = columnar::column_type_from_wit(&c.type_);
        let column = if !touched.contains(&c.name.as_str()) {
            if all_rows {
                c.presence
                    .iter()
                    .any(|&p| p != presence::ABSENT)
                    .then(|| c.clone())
            } else {
                write_column(&c.name, ty, m, |j| original(c, rows[j]))
            }
        } else {
            write_column(&c.name, ty, m, |j| match set(j, &c.name) {
                Some(f) if f.ty == ty => Cell::Value(f.value.value()),
                Some(_) => Cell::Absent,
                None => original(c, rows[j]),
            })
        };
        base.push(column.map(|column| {
            out.push(Out {
                name: c.name.clone(),
                ty,
                column,
            });
            out.len() - 1
        }));
    }
    // (name, type) pairs only the set values have.
    for over in &overlays {
        for f in over.iter() {
            let known = out.iter().any(|o| o.name == f.name && o.ty == f.ty)
                || side
                    .columns
                    .iter()
                    .any(|c| c.name == f.name && columnar::column_type_from_wit(&c.type_) == f.ty);
            if known {
                continue;
            }
            let column = write_column(&f.name, f.ty, m, |j| match set(j, &f.name) {
                Some(g) if g.ty == f.ty => Cell::Value(g.value.value()),
                _ => Cell::Absent,
            });
            if let Some(column) = column {
                out.push(Out {
                    name: f.name.to_string(),
                    ty: f.ty,
                    column,
                });
            }
        }
    }
    let order = first_appearance(side, &overlays, rows, &present, &base, &out);
    let mut slots: Vec<Option<wit::Column>> = out.into_iter().map(|o| Some(o.column)).collect();
    wit::Images {
        present,
        columns: order.into_iter().filter_map(|i| slots[i].take()).collect(),
    }
}

/// The order of `out`'s columns: as their (name, type) pairs first appear
/// reading the rows in order, each row's cells in order (the original's
/// columns, set values in their place, then the columns set values add).
fn first_appearance(
    side: &wit::Images,
    overlays: &[&[StoredField<'_>]],
    rows: &[usize],
    present: &[u8],
    base: &[Option<usize>],
    out: &[Out],
) -> Vec<usize> {
    let mut placed = vec![false; out.len()];
    let mut order = Vec::with_capacity(out.len());
    let find = |name: &str, ty: ColumnType| out.iter().position(|o| o.name == name && o.ty == ty);
    let mut place = |i: Option<usize>, order: &mut Vec<usize>| {
        if let Some(i) = i
            && !placed[i]
        {
            placed[i] = true;
            order.push(i);
        }
    };
    for (j, &row) in rows.iter().enumerate() {
        if order.len() == out.len() {
            break;
        }
        if present[j] == 0 {
            continue;
        }
        let over = overlays[j];
        for (ci, c) in side.columns.iter().enumerate() {
            if c.presence[row] == presence::ABSENT {
                continue;
            }
            match over.iter().find(|f| f.name == c.name) {
                Some(f) => place(find(&f.name, f.ty), &mut order),
                None => place(base[ci], &mut order),
            }
        }
        for f in over {
            let in_original = side
                .columns
                .iter()
                .any(|c| c.name == f.name && c.presence[row] != presence::ABSENT);
            if !in_original {
                place(find(&f.name, f.ty), &mut order);
            }
        }
    }
    for i in 0..out.len() {
        place(Some(i), &mut order);
    }
    order
}
