//! The columnar batch of the WIT contract as plain Rust types, and its
//! validation: what the generated bindings of either side convert to and
//! from, and the one place a batch's layout is checked.

use crate::cell::presence;
use crate::{ColumnType, Op};

/// One column of an image: the WIT `column` record. Row `r`'s cell is
/// `data[offsets[r]..offsets[r + 1]]` when `presence[r]` is
/// [`presence::VALUE`], in the encoding of `type_` ([`crate::Value::decode`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column name.
    pub name: String,
    /// The column type (named as the generated bindings name WIT's `type`).
    pub type_: ColumnType,
    /// One [`presence`] code per row.
    pub presence: Vec<u8>,
    /// One more entry than rows: where each row's cell starts and ends in `data`.
    pub offsets: Vec<u32>,
    /// The cells, back to back.
    pub data: Vec<u8>,
}

/// One image (before or after) of every change of a batch: the WIT `images` record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Images {
    /// Per row, 1 when the row has this image, else 0.
    pub present: Vec<u8>,
    /// The columns: one per distinct (name, type).
    pub columns: Vec<Column>,
}

/// A batch of changes: the WIT `change-batch` record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeBatch {
    /// Per change, its [`Op::code`].
    pub ops: Vec<u8>,
    /// The distinct target tables.
    pub tables: Vec<String>,
    /// The key columns of each entry of `tables`.
    pub table_keys: Vec<Vec<String>>,
    /// Per change, its index into `tables`.
    pub table_index: Vec<u32>,
    /// Per change, its event time in microseconds since the epoch.
    pub event_time: Vec<i64>,
    /// Per change, 1 when `event_time` holds one, else 0.
    pub event_time_known: Vec<u8>,
    /// The before images.
    pub before: Images,
    /// The after images.
    pub after: Images,
}

impl ChangeBatch {
    /// Checks the batch in full: every list has one entry per change, every
    /// code and index is in range, every column's offsets lie within its
    /// data, every column type is valid and every cell is a valid encoding
    /// of its column's type. A column identical to one of `input`'s (a batch
    /// already checked, which a plugin hands back columns of) is not checked
    /// cell by cell again. Returns the column types of the before and after
    /// images; an error says what is wrong.
    pub fn check(&self, input: Option<&ChangeBatch>) -> Result<[Vec<ColumnType>; 2], String> {
        let rows = self.ops.len();
        for (name, len) in [
            ("table-index", self.table_index.len()),
            ("event-time", self.event_time.len()),
            ("event-time-known", self.event_time_known.len()),
        ] {
            if len != rows {
                return Err(format!(
                    "change batch has {rows} ops but {len} entries in {name}"
                ));
            }
        }
        if self.table_keys.len() != self.tables.len() {
            return Err(format!(
                "change batch has {} tables but {} key lists",
                self.tables.len(),
                self.table_keys.len()
            ));
        }
        if let Some(row) = self.ops.iter().position(|&c| Op::from_code(c).is_none()) {
            return Err(format!("row {row} has op code {}", self.ops[row]));
        }
        if let Some((row, index)) = self
            .table_index
            .iter()
            .enumerate()
            .find(|(_, t)| **t as usize >= self.tables.len())
        {
            return Err(format!(
                "row {row} names table {index} of {}",
                self.tables.len()
            ));
        }
        if let Some(bad) = self.event_time_known.iter().find(|&&k| k > 1) {
            return Err(format!("event-time-known holds {bad}, not 0 or 1"));
        }
        let before = check_images(&self.before, rows, input.map(|b| &b.before))
            .map_err(|e| format!("before images: {e}"))?;
        let after = check_images(&self.after, rows, input.map(|b| &b.after))
            .map_err(|e| format!("after images: {e}"))?;
        Ok([before, after])
    }
}

/// Checks images of `rows` rows; returns their column types. A
/// column equal to one of `known` (images already checked) is valid as it is.
fn check_images(
    images: &Images,
    rows: usize,
    known: Option<&Images>,
) -> Result<Vec<ColumnType>, String> {
    if images.present.len() != rows {
        return Err(format!(
            "{} presence flags for {rows} rows",
            images.present.len()
        ));
    }
    if let Some(bad) = images.present.iter().find(|&&p| p > 1) {
        return Err(format!("image presence flag {bad}, not 0 or 1"));
    }
    let mut types = Vec::with_capacity(images.columns.len());
    for (i, column) in images.columns.iter().enumerate() {
        let ty = column.type_;
        if !ty.is_valid() {
            return Err(format!(
                "column `{}`: {ty} is not a valid Iceberg decimal",
                column.name
            ));
        }
        // A column the plugin handed back as it got it is valid already.
        let checked = known.is_some_and(|known| {
            known.present.len() == rows
                && known
                    .columns
                    .get(i)
                    .into_iter()
                    .chain(&known.columns)
                    .any(|k| k == column)
        });
        if !checked {
            check_column(column, ty, rows)?;
        }
        types.push(ty);
    }
    check_distinct_cells(images)?;
    Ok(types)
}

/// Checks a column's layout and every value cell's encoding.
fn check_column(column: &Column, ty: ColumnType, rows: usize) -> Result<(), String> {
    let name = &column.name;
    if column.presence.len() != rows {
        return Err(format!(
            "column `{name}` has {} presence entries for {rows} rows",
            column.presence.len()
        ));
    }
    if column.offsets.len() != rows + 1 {
        return Err(format!(
            "column `{name}` has {} offsets for {rows} rows (want {})",
            column.offsets.len(),
            rows + 1
        ));
    }
    if column.offsets.windows(2).any(|w| w[0] > w[1])
        || column.offsets[rows] as usize > column.data.len()
    {
        return Err(format!(
            "column `{name}` has offsets out of order or past its {} data bytes",
            column.data.len()
        ));
    }
    if let Some(row) = column.presence.iter().position(|&p| p > presence::VALUE) {
        return Err(format!(
            "column `{name}` row {row}: presence code {}",
            column.presence[row]
        ));
    }
    let invalid = |row: usize| {
        let len = column.offsets[row + 1] - column.offsets[row];
        Err(format!(
            "column `{name}` row {row}: {len} bytes are not a valid {ty}"
        ))
    };
    let width = |row: usize| (column.offsets[row + 1] - column.offsets[row]) as usize;
    let values = || (0..rows).filter(|&row| column.presence[row] == presence::VALUE);
    match ty {
        ColumnType::Binary => {}
        ColumnType::String => {
            let start = column.offsets[0] as usize;
            let end = column.offsets[rows] as usize;
            let text = &column.data[start..end];
            if std::str::from_utf8(text).is_err() {
                // Find the first invalid cell, to name it.
                for row in values() {
                    let cell = &column.data
                        [column.offsets[row] as usize..column.offsets[row + 1] as usize];
                    if std::str::from_utf8(cell).is_err() {
                        return invalid(row);
                    }
                }
            }
            let boundary = |at: u32| {
                let at = at as usize - start;
                at == text.len() || (text[at] as i8) >= -0x40
            };
            for row in values() {
                if !boundary(column.offsets[row]) || !boundary(column.offsets[row + 1]) {
                    return invalid(row);
                }
            }
        }
        ColumnType::Boolean => {
            for row in values() {
                let at = column.offsets[row] as usize;
                if width(row) != 1 || column.data[at] > 1 {
                    return invalid(row);
                }
            }
        }
        ty => {
            let expected = ty.fixed_width().unwrap_or(0);
            for row in values() {
                if width(row) != expected {
                    return invalid(row);
                }
            }
        }
    }
    Ok(())
}

/// Checks that no row of a present image has two cells of one name (in
/// columns of different types).
fn check_distinct_cells(images: &Images) -> Result<(), String> {
    let columns = &images.columns;
    for (i, column) in columns.iter().enumerate() {
        for other in columns[..i].iter().filter(|c| c.name == column.name) {
            let both = |r: usize| {
                images.present[r] != 0
                    && column.presence[r] != presence::ABSENT
                    && other.presence[r] != presence::ABSENT
            };
            if let Some(row) = (0..images.present.len()).find(|&r| both(r)) {
                return Err(format!("row {row} has two cells named `{}`", column.name));
            }
        }
    }
    Ok(())
}
