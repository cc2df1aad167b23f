//! Filling partial rows from the row's current state, before the window
//! takes them.
//!
//! A partial row's after image lacks the columns the source left unchanged
//! (see [`crate::change::partial`]). Each one takes its value from the row's
//! current state, in this order:
//! - an earlier change of the same key in the same batch, or the commit
//!   window's pending row of the key (`source = pending`);
//! - else the live row in the table, found through the key index: the
//!   lookups of a batch are grouped per data file, and each file is read
//!   once for only those rows and columns ([`super::live_rows`]).
//!
//! A partial row whose key has no row anywhere (never seen, deleted in the
//! window, truncated) cannot be filled: it is rejected (to the DLQ) with
//! that reason, never written with holes. So is one whose live row cannot
//! be read. The output batch has full rows only, in the input's order.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use iceberg::io::FileIO;
use iceberg::spec::Schema;
use tracing::debug;

use super::columns::WindowRow;
use super::error::{ChangeError, Rejected};
use super::index::{KeyIndex, RowLocation};
use super::key::{IndexKey, encode_cell, index_key};
use super::live_rows::{RowCells, WantedColumn, read_rows};
use super::schema::{SchemaMismatch, column_type};
use super::window::Window;
use crate::change::{ChangeBatch, ChangeBatchBuilder, ColumnType, ImageRef, Op, Unchanged, Which};

/// What filling a batch made of it.
#[derive(Debug, Default)]
pub struct Filled {
    /// The batch with every partial row filled (and the ones that could not
    /// be left out).
    pub batch: ChangeBatch,
    /// The partial rows that could not be filled, with why.
    pub rejected: Vec<Rejected>,
    /// Partial rows filled from an earlier change of the batch or the
    /// window's pending row.
    pub from_pending: u64,
    /// Partial rows filled from the live row in the table.
    pub from_table: u64,
}

/// What filling needs of the writer.
pub(crate) struct FillContext<'a> {
    /// The table's name, for logs.
    pub name: &'a str,
    /// The commit window (its pending rows).
    pub window: &'a Window,
    /// The key columns in index order (empty while unknown).
    pub key_names: &'a [String],
    /// The configured key, when the writer knows none yet.
    pub default_key: &'a [String],
    /// The key index of the committed table.
    pub index: Option<&'a KeyIndex>,
    /// Where the table's files are read, and its schema.
    pub table: Option<(&'a FileIO, &'a Schema)>,
}

/// Where a partial row's current state is.
enum Source {
    /// Change `row` of the batch (earlier, same key).
    Earlier(usize),
    /// The window's pending row.
    Window(WindowRow),
    /// The live row in the table: lookup `n`.
    Table(usize),
    /// Nowhere: the key has no row.
    Nowhere,
    /// The change lacks (or has NULL in) these key columns.
    NoKey(String),
}

/// A live row read back: the columns read, and its cells; or why it could
/// not be read.
type LiveRow = Result<(Arc<Vec<WantedColumn>>, RowCells), String>;

/// One cell filled in: name, type, bytes (`None`: NULL).
type FilledCell = (Arc<str>, ColumnType, Option<Vec<u8>>);

/// Fills `batch`'s partial rows (see the module documentation).
pub(crate) async fn fill(batch: ChangeBatch, cx: FillContext<'_>) -> Filled {
    if batch.partial_rows().is_empty() {
        return Filled {
            batch,
            ..Filled::default()
        };
    }
    let (sources, lookups) = locate(&batch, &cx);
    let read = read_table_rows(&lookups, &cx).await;
    let mut out = ChangeBatchBuilder::with_capacity(batch.len());
    let mut filled: HashMap<usize, Vec<FilledCell>> = HashMap::new();
    let mut result = Filled::default();
    for row in 0..batch.len() {
        let (Some(unchanged), Some(after)) = (batch.unchanged(row), batch.after(row)) else {
            out.push_row(&batch, row);
            continue;
        };
        let source = sources.get(&row).unwrap_or(&Source::Nowhere);
        let cells = match source {
            Source::Earlier(earlier) => {
                let image = batch.after(*earlier);
                let extra = filled.get(earlier).map(Vec::as_slice).unwrap_or_default();
                Ok(take_cells(&after, unchanged, image.as_ref(), extra))
            }
            Source::Window(at) => Ok(take_cells(
                &after,
                unchanged,
                cx.window.image(*at).as_ref(),
                &[],
            )),
            Source::Table(n) => match &read[*n] {
                Ok((columns, cells)) => Ok(table_cells(&after, unchanged, columns, cells)),
                Err(message) => Err(ChangeError::FillRead(message.clone())),
            },
            Source::Nowhere => Err(ChangeError::NoRowToFill(describe(unchanged))),
            Source::NoKey(names) => Err(SchemaMismatch::MissingKey(names.clone()).into()),
        };
        let cells = match cells {
            Ok(cells) => cells,
            Err(error) => {
                result.rejected.push(Rejected {
                    change: batch.to_change(row),
                    error,
                });
                continue;
            }
        };
        match source {
            Source::Table(_) => result.from_table += 1,
            _ => result.from_pending += 1,
        }
        push_filled(&mut out, &batch, row, &after, &cells);
        filled.insert(row, cells);
    }
    debug!(
        table = cx.name,
        from_pending = result.from_pending,
        from_table = result.from_table,
        files_read = lookups.by_file.len(),
        rejected = result.rejected.len(),
        "filled partial rows"
    );
    result.batch = out.finish();
    result
}

/// The live rows to read, by data file.
#[derive(Default)]
struct Lookups {
    /// Per lookup: where, and what it must fill.
    rows: Vec<(RowLocation, Unchanged)>,
    /// Lookups by file id, in order of position.
    by_file: BTreeMap<u32, Vec<usize>>,
}

/// Finds where each partial row's current state is, in change order.
fn locate(batch: &ChangeBatch, cx: &FillContext<'_>) -> (HashMap<usize, Source>, Lookups) {
    let mut sources = HashMap::new();
    let mut lookups = Lookups::default();
    // The batch's own rows so far: key → the change that holds its row,
    // or `None` when it was deleted.
    let mut latest: HashMap<IndexKey, Option<usize>> = HashMap::new();
    let mut truncated = cx.window.truncated;
    let mut buf = Vec::new();
    for row in 0..batch.len() {
        let op = batch.op(row);
        if op == Op::Truncate {
            latest.clear();
            truncated = true;
            continue;
        }
        let names = if !cx.key_names.is_empty() {
            cx.key_names
        } else if !batch.key_columns(row).is_empty() {
            batch.key_columns(row)
        } else {
            cx.default_key
        };
        let which = if op == Op::Delete {
            Which::Before
        } else {
            Which::After
        };
        let Some(key) = batch
            .images(which)
            .row(row)
            .and_then(|image| key_of(&image, names, &mut buf))
        else {
            if batch.unchanged(row).is_some() {
                sources.insert(row, Source::NoKey(names.join("`, `")));
            }
            continue;
        };
        if op == Op::Delete {
            latest.insert(key, None);
            continue;
        }
        if op == Op::Update
            && let Some(old) = batch.before(row).and_then(|b| key_of(&b, names, &mut buf))
            && old != key
        {
            latest.insert(old, None);
        }
        if let Some(unchanged) = batch.unchanged(row) {
            let source = match latest.get(&key) {
                Some(Some(earlier)) => Source::Earlier(*earlier),
                Some(None) => Source::Nowhere,
                None if truncated => Source::Nowhere,
                None => match cx.window.rows.get(&key) {
                    Some(Some(at)) => Source::Window(*at),
                    Some(None) => Source::Nowhere,
                    None => match cx.index.and_then(|index| index.get(&key)) {
                        Some(location) if cx.table.is_some() => {
                            let n = lookups.rows.len();
                            lookups.rows.push((location, unchanged.clone()));
                            lookups.by_file.entry(location.file).or_default().push(n);
                            Source::Table(n)
                        }
                        _ => Source::Nowhere,
                    },
                },
            };
            sources.insert(row, source);
        }
        latest.insert(key, Some(row));
    }
    (sources, lookups)
}

/// The key of an image, encoded as the window encodes it; `None` when a
/// key column is missing or NULL.
fn key_of(image: &ImageRef<'_>, names: &[String], buf: &mut Vec<u8>) -> Option<IndexKey> {
    if names.is_empty() {
        return None;
    }
    buf.clear();
    for name in names {
        let cell = image.cell(name)?;
        encode_cell(cell.ty, cell.bytes?, buf);
    }
    Some(index_key(buf))
}

/// The live rows of `lookups`, each file read once: per lookup, the columns
/// read and the row's cells, or why it could not be read.
async fn read_table_rows(lookups: &Lookups, cx: &FillContext<'_>) -> Vec<LiveRow> {
    let mut read: Vec<LiveRow> = (0..lookups.rows.len())
        .map(|_| Err(String::new()))
        .collect();
    let (Some((file_io, schema)), Some(index)) = (cx.table, cx.index) else {
        return read;
    };
    for (file, wanted) in &lookups.by_file {
        let path = index.file(*file).path.clone();
        let columns = Arc::new(wanted_columns(
            schema,
            wanted.iter().map(|&n| &lookups.rows[n].1),
        ));
        let mut positions: Vec<u32> = wanted.iter().map(|&n| lookups.rows[n].0.pos).collect();
        positions.sort_unstable();
        positions.dedup();
        match read_rows(file_io, &path, &positions, &columns).await {
            Ok(rows) => {
                for &n in wanted {
                    let pos = lookups.rows[n].0.pos;
                    let at = positions.binary_search(&pos).expect("position asked for");
                    read[n] = Ok((columns.clone(), rows[at].clone()));
                }
            }
            Err(message) => {
                let message = format!("reading the live row from {path}: {message}");
                for &n in wanted {
                    read[n] = Err(message.clone());
                }
            }
        }
    }
    read
}

/// The table's columns the lookups of one file need: the ones they name,
/// or every column for a lookup whose absent columns are unchanged.
fn wanted_columns<'u>(
    schema: &Schema,
    unchanged: impl Iterator<Item = &'u Unchanged>,
) -> Vec<WantedColumn> {
    let mut names: Vec<&str> = Vec::new();
    let mut all = false;
    for u in unchanged {
        all |= u.absent;
        names.extend(u.names.iter().map(|n| &**n));
    }
    schema
        .as_struct()
        .fields()
        .iter()
        .filter(|f| all || names.contains(&f.name.as_str()))
        .filter_map(|f| {
            Some(WantedColumn {
                id: f.id,
                name: f.name.clone(),
                ty: column_type(&f.field_type)?,
            })
        })
        .collect()
}

/// The cells a partial row (`after`, leaving `unchanged`) takes from an
/// earlier image of its key: `image` (a NULL or absent cell there is NULL)
/// and the cells that image was itself filled with.
fn take_cells(
    after: &ImageRef<'_>,
    unchanged: &Unchanged,
    image: Option<&ImageRef<'_>>,
    extra: &[FilledCell],
) -> Vec<FilledCell> {
    let mut cells: Vec<FilledCell> = Vec::new();
    let mut take = |name: &str, ty: ColumnType, bytes: Option<&[u8]>| {
        if after.cell(name).is_none() && !cells.iter().any(|(n, _, _)| &**n == name) {
            cells.push((Arc::from(name), ty, bytes.map(<[u8]>::to_vec)));
        }
    };
    let wanted = |name: &str| unchanged.absent || unchanged.names.iter().any(|n| &**n == name);
    if let Some(image) = image {
        for cell in image.cells().filter(|c| wanted(c.name)) {
            take(cell.name, cell.ty, cell.bytes);
        }
    }
    for (name, ty, bytes) in extra.iter().filter(|(n, _, _)| wanted(n)) {
        take(name, *ty, bytes.as_deref());
    }
    cells
}

/// The cells a partial row takes from its live row in the table.
fn table_cells(
    after: &ImageRef<'_>,
    unchanged: &Unchanged,
    columns: &[WantedColumn],
    cells: &RowCells,
) -> Vec<FilledCell> {
    columns
        .iter()
        .zip(cells)
        .filter(|(c, _)| {
            after.cell(&c.name).is_none()
                && (unchanged.absent || unchanged.names.iter().any(|n| **n == c.name))
        })
        .map(|(c, bytes)| (Arc::from(c.name.as_str()), c.ty, bytes.clone()))
        .collect()
}

/// Appends change `row` of `batch` with its after image's cells and the
/// filled ones: a full row.
fn push_filled(
    out: &mut ChangeBatchBuilder,
    batch: &ChangeBatch,
    row: usize,
    after: &ImageRef<'_>,
    cells: &[FilledCell],
) {
    out.begin(
        batch.op(row),
        batch.table(row),
        batch.key_columns(row),
        &batch.position(row),
        batch.event_time(row),
    );
    if let Some(before) = batch.before(row) {
        let image = out.before();
        image.mark_present();
        for cell in before.cells() {
            image.set_encoded(cell.name, cell.ty, cell.bytes);
        }
    }
    let image = out.after();
    image.mark_present();
    for cell in after.cells() {
        image.set_encoded(cell.name, cell.ty, cell.bytes);
    }
    for (name, ty, bytes) in cells {
        image.set_encoded(name, *ty, bytes.as_deref());
    }
}

/// The unchanged columns, for a reason.
fn describe(unchanged: &Unchanged) -> String {
    let mut names: Vec<String> = unchanged.names.iter().map(|n| format!("`{n}`")).collect();
    if unchanged.absent {
        names.push("every column the change did not send".to_string());
    }
    names.join(", ")
}
