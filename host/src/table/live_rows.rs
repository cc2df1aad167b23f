//! Reading live rows back from a table's data files: the rows at given
//! positions, only the columns asked for, as cells of the change model.
//!
//! Filling a partial row (see [`super::fill`]) needs the row's current
//! values of the columns the source left unchanged; the key index says which
//! data file and position the live row is at. One read per data file takes
//! every row asked of it, with a Parquet row selection (pages the selection
//! skips are not decoded) and a projection of the columns.

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use futures::TryStreamExt;
use iceberg::arrow::ArrowFileReader;
use iceberg::io::FileIO;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, RowSelection, RowSelector};
use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use parquet::file::metadata::PageIndexPolicy;

use crate::change::ColumnType;

/// A column to read: its field id, its name (files without field ids are
/// matched by name) and its type in the table.
#[derive(Debug, Clone, PartialEq)]
pub struct WantedColumn {
    /// The field id.
    pub id: i32,
    /// The column name.
    pub name: String,
    /// The table's type of the column: cells come back in its encoding.
    pub ty: ColumnType,
}

/// One row read back: per wanted column its cell (`None` for NULL, or a
/// column the file does not have), in the contract's cell encoding.
pub type RowCells = Vec<Option<Vec<u8>>>;

/// Reads the rows at `positions` (ascending, distinct) of the data file at
/// `path`, the columns `columns`; one [`RowCells`] per position, in order.
/// An error says what failed.
pub async fn read_rows(
    file_io: &FileIO,
    path: &str,
    positions: &[u32],
    columns: &[WantedColumn],
) -> Result<Vec<RowCells>, String> {
    debug_assert!(positions.windows(2).all(|w| w[0] < w[1]));
    let input = file_io.new_input(path).map_err(|e| e.to_string())?;
    let meta = input.metadata().await.map_err(|e| e.to_string())?;
    let reader = input.reader().await.map_err(|e| e.to_string())?;
    // With the offset index (when the file has one) only the pages that
    // hold the rows asked for are fetched and decoded.
    let options = ArrowReaderOptions::new().with_offset_index_policy(PageIndexPolicy::Optional);
    let builder = ParquetRecordBatchStreamBuilder::new_with_options(
        ArrowFileReader::new(meta, reader),
        options,
    )
    .await
    .map_err(|e| e.to_string())?;
    let rows_in_file = builder.metadata().file_metadata().num_rows();
    if let Some(&last) = positions.last()
        && i64::from(last) >= rows_in_file
    {
        return Err(format!(
            "position {last} is past the file's {rows_in_file} rows"
        ));
    }
    let descr = builder.parquet_schema();
    // Top-level leaves of the wanted columns: (leaf, index in `columns`).
    let mut leaves: Vec<(usize, usize)> = Vec::new();
    for (want, column) in columns.iter().enumerate() {
        let found = (0..descr.num_columns()).find(|&i| {
            let leaf = descr.column(i);
            let info = leaf.self_type().get_basic_info();
            leaf.path().parts().len() == 1
                && ((info.has_id() && info.id() == column.id)
                    || (!info.has_id() && leaf.name() == column.name))
        });
        if let Some(leaf) = found {
            leaves.push((leaf, want));
        }
    }
    leaves.sort_unstable();
    let mask = ProjectionMask::leaves(descr, leaves.iter().map(|(leaf, _)| *leaf));
    let stream = builder
        .with_projection(mask)
        .with_row_selection(selection(positions))
        .with_batch_size(positions.len().clamp(1, 8192))
        .build()
        .map_err(|e| e.to_string())?;
    let batches: Vec<RecordBatch> = stream.try_collect().await.map_err(|e| e.to_string())?;
    let mut out: Vec<RowCells> = Vec::with_capacity(positions.len());
    for batch in &batches {
        let mut cells: Vec<Option<Vec<Option<Vec<u8>>>>> = vec![None; columns.len()];
        for (j, (_, want)) in leaves.iter().enumerate() {
            let ty = columns[*want].ty;
            let read = cells_of(batch.column(j), ty)
                .map_err(|e| format!("column `{}`: {e}", columns[*want].name))?;
            cells[*want] = Some(read);
        }
        for row in 0..batch.num_rows() {
            out.push(
                cells
                    .iter()
                    .map(|column| column.as_ref().and_then(|c| c[row].clone()))
                    .collect(),
            );
        }
    }
    if out.len() != positions.len() {
        return Err(format!(
            "read {} rows for {} positions",
            out.len(),
            positions.len()
        ));
    }
    Ok(out)
}

/// The row selection of `positions` (ascending, distinct).
fn selection(positions: &[u32]) -> RowSelection {
    let mut selectors = Vec::new();
    let mut next = 0u32;
    for &pos in positions {
        if pos > next {
            selectors.push(RowSelector::skip((pos - next) as usize));
        }
        selectors.push(RowSelector::select(1));
        next = pos + 1;
    }
    RowSelection::from(selectors)
}

/// The cells of `array` in the encoding of `ty`, the table's type of the
/// column (a file written before the column was widened holds the narrower
/// type: it is cast).
fn cells_of(array: &ArrayRef, ty: ColumnType) -> Result<Vec<Option<Vec<u8>>>, String> {
    let target = match ty {
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Int | ColumnType::Date => DataType::Int32,
        ColumnType::Long | ColumnType::Time | ColumnType::Timestamp | ColumnType::Timestamptz => {
            DataType::Int64
        }
        ColumnType::Float => DataType::Float32,
        ColumnType::Double => DataType::Float64,
        ColumnType::Decimal { precision, scale } => DataType::Decimal128(precision, scale as i8),
        ColumnType::String => DataType::Utf8,
        ColumnType::Binary => DataType::Binary,
        ColumnType::Uuid => DataType::FixedSizeBinary(16),
    };
    let cast = if *array.data_type() == target || *array.data_type() == DataType::Null {
        array.clone()
    } else {
        arrow_cast::cast(array, &target)
            .map_err(|e| format!("{} cannot be read as {ty}: {e}", array.data_type()))?
    };
    let array = cast.as_ref();
    let rows = array.len();
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        if array.is_null(row) {
            out.push(None);
            continue;
        }
        let bytes = match ty {
            ColumnType::Boolean => vec![u8::from(array.as_boolean().value(row))],
            ColumnType::Int | ColumnType::Date => array
                .as_primitive::<Int32Type>()
                .value(row)
                .to_le_bytes()
                .to_vec(),
            ColumnType::Long
            | ColumnType::Time
            | ColumnType::Timestamp
            | ColumnType::Timestamptz => array
                .as_primitive::<Int64Type>()
                .value(row)
                .to_le_bytes()
                .to_vec(),
            ColumnType::Float => array
                .as_primitive::<Float32Type>()
                .value(row)
                .to_le_bytes()
                .to_vec(),
            ColumnType::Double => array
                .as_primitive::<Float64Type>()
                .value(row)
                .to_le_bytes()
                .to_vec(),
            ColumnType::Decimal { .. } => array
                .as_primitive::<Decimal128Type>()
                .value(row)
                .to_le_bytes()
                .to_vec(),
            ColumnType::String => array.as_string::<i32>().value(row).as_bytes().to_vec(),
            ColumnType::Binary => array.as_binary::<i32>().value(row).to_vec(),
            ColumnType::Uuid => array.as_fixed_size_binary().value(row).to_vec(),
        };
        out.push(Some(bytes));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_selection_takes_exactly_the_positions() {
        let selection = selection(&[0, 3, 4, 9]);
        let selectors: Vec<RowSelector> = selection.into();
        assert_eq!(
            selectors,
            vec![
                RowSelector::select(1),
                RowSelector::skip(2),
                RowSelector::select(2),
                RowSelector::skip(4),
                RowSelector::select(1),
            ]
        );
    }

    #[test]
    fn cells_are_the_contract_encoding_and_narrow_files_widen() {
        let ints: ArrayRef = Arc::new(arrow_array::Int32Array::from(vec![Some(7), None]));
        let as_long = cells_of(&ints, ColumnType::Long).unwrap();
        assert_eq!(as_long, vec![Some(7i64.to_le_bytes().to_vec()), None]);
        let text: ArrayRef = Arc::new(arrow_array::StringArray::from(vec!["é"]));
        assert_eq!(
            cells_of(&text, ColumnType::String).unwrap(),
            vec![Some("é".as_bytes().to_vec())]
        );
        let ts: ArrayRef =
            Arc::new(arrow_array::TimestampMicrosecondArray::from(vec![5]).with_timezone("+00:00"));
        assert_eq!(
            cells_of(&ts, ColumnType::Timestamptz).unwrap(),
            vec![Some(5i64.to_le_bytes().to_vec())]
        );
        assert!(cells_of(&text, ColumnType::Uuid).is_err());
    }
}
