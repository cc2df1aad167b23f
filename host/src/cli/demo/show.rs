//! Reads back what the demo wrote: each table's rows, through the iceberg
//! crate's own reader (which applies floe's position deletes), printed as
//! text.

use arrow_array::RecordBatch;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use floe::commit::catalog::{LoadedTable, SqlCatalog};
use futures::TryStreamExt;
use iceberg::table::Table;

/// A table's current rows as text: the column names, then the rows sorted
/// by their first column.
pub struct Rows {
    /// Column names.
    pub columns: Vec<String>,
    /// Cells, as text.
    pub rows: Vec<Vec<String>>,
}

/// Scans `loaded` and renders every row.
pub async fn read(catalog: &SqlCatalog, loaded: &LoadedTable) -> anyhow::Result<Rows> {
    let table = Table::builder()
        .metadata(loaded.metadata.clone())
        .metadata_location(loaded.metadata_location.clone())
        .identifier(loaded.ident.clone())
        .file_io(catalog.file_io().clone())
        .readonly(true)
        .runtime(iceberg::Runtime::current())
        .build()?;
    let batches: Vec<RecordBatch> = table
        .scan()
        .select_all()
        .build()?
        .to_arrow()
        .await?
        .try_collect()
        .await?;
    let columns: Vec<String> = loaded
        .metadata
        .current_schema()
        .as_struct()
        .fields()
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let options = FormatOptions::default().with_null("null");
    let mut rows = Vec::new();
    for batch in &batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    rows.sort_by_key(|row: &Vec<String>| {
        let first = row.first().cloned().unwrap_or_default();
        (first.parse::<i64>().unwrap_or(i64::MAX), first)
    });
    Ok(Rows { columns, rows })
}

/// The widest a cell is shown; a longer one ends in `…`.
const CELL_WIDTH: usize = 40;

/// `cell`, cut to [`CELL_WIDTH`] characters with `…` as the last when longer.
fn clip(cell: &str) -> String {
    if cell.chars().count() <= CELL_WIDTH {
        return cell.to_string();
    }
    let mut clipped: String = cell.chars().take(CELL_WIDTH - 1).collect();
    clipped.push('…');
    clipped
}

/// Prints `rows`' first `limit` rows as an aligned text table.
pub fn print(rows: &Rows, limit: usize) {
    let shown: Vec<&Vec<String>> = rows.rows.iter().take(limit).collect();
    let width = |i: usize| {
        shown
            .iter()
            .map(|r| r.get(i).map_or(0, |c| c.chars().count().min(CELL_WIDTH)))
            .chain([rows.columns[i].len()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..rows.columns.len()).map(width).collect();
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:<w$}", clip(c)))
            .collect();
        println!("    {}", padded.join("  ").trim_end());
    };
    line(rows.columns.clone());
    for row in shown {
        line(row.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_cell_is_clipped_with_an_ellipsis_and_a_short_one_kept() {
        let digest = "c6985989740ffd52dc193fb6e5f95538db5b439e0123456789abcdef01234567";
        let clipped = clip(digest);
        assert_eq!(clipped.chars().count(), CELL_WIDTH);
        assert!(clipped.ends_with('…'));
        assert!(digest.starts_with(clipped.trim_end_matches('…')));
        assert_eq!(clip("apac"), "apac");
        assert_eq!(clip(&digest[..CELL_WIDTH]), &digest[..CELL_WIDTH]);
    }
}
