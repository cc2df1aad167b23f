//! Between change images and Arrow columns: the record batches of data files,
//! and key forms read back from data and delete files.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, FixedSizeBinaryBuilder, Float32Builder,
    Float64Builder, Int32Builder, Int64Builder, LargeBinaryBuilder, StringBuilder,
    Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Float32Type, Float64Type, Int32Type, Int64Type,
    Time64MicrosecondType, TimestampMicrosecondType,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, SchemaRef as ArrowSchemaRef, TimeUnit};
use iceberg::spec::{PrimitiveType, Schema, Type};

use super::key::{encode_bytes, encode_null};
use crate::change::{ColumnType, Images};

/// A row of a table writer's window: row `row` of the after images of the
/// window's batch number `batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WindowRow {
    /// The batch, in the order the window took them.
    pub batch: u32,
    /// The row within it.
    pub row: u32,
}

/// A cell as a table column reads it: its type and bytes (NULL and absent
/// cells are `None`).
type Cell<'a> = Option<(ColumnType, &'a [u8])>;

fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    // Cells of a batch have their type's width.
    bytes.try_into().unwrap_or([0; N])
}

fn int((ty, b): (ColumnType, &[u8])) -> Option<i32> {
    matches!(ty, ColumnType::Int | ColumnType::Date).then(|| i32::from_le_bytes(array(b)))
}

fn long((ty, b): (ColumnType, &[u8])) -> Option<i64> {
    match ty {
        ColumnType::Int => Some(i64::from(i32::from_le_bytes(array(b)))),
        ColumnType::Long | ColumnType::Time | ColumnType::Timestamp | ColumnType::Timestamptz => {
            Some(i64::from_le_bytes(array(b)))
        }
        _ => None,
    }
}

fn double((ty, b): (ColumnType, &[u8])) -> Option<f64> {
    match ty {
        ColumnType::Float => Some(f64::from(f32::from_le_bytes(array(b)))),
        ColumnType::Double => Some(f64::from_le_bytes(array(b))),
        _ => None,
    }
}

fn only(wanted: fn(ColumnType) -> bool) -> impl Fn((ColumnType, &[u8])) -> Option<&[u8]> {
    move |(ty, b)| wanted(ty).then_some(b)
}

/// Each window batch's columns by name, found in one pass over each batch,
/// so that building a table's columns costs the batches' widths once rather
/// than once per table column.
struct ColumnsByName<'a>(Vec<HashMap<&'a str, Vec<usize>>>);

impl<'a> ColumnsByName<'a> {
    fn new(images: &'a [Images]) -> Self {
        ColumnsByName(
            images
                .iter()
                .map(|batch| {
                    let view = batch.view();
                    let mut by_name: HashMap<&'a str, Vec<usize>> = HashMap::new();
                    for c in 0..view.width() {
                        by_name.entry(view.column(c).name()).or_default().push(c);
                    }
                    by_name
                })
                .collect(),
        )
    }
}

/// The cells of column `name` in `rows`; a row takes the first of its
/// batch's columns of that name it has a cell in.
fn cells_of<'a>(
    images: &'a [Images],
    by_name: &'a ColumnsByName<'a>,
    rows: &'a [WindowRow],
    name: &str,
) -> impl Iterator<Item = Cell<'a>> + Clone + 'a {
    let columns: Vec<&'a [usize]> = by_name
        .0
        .iter()
        .map(|batch| batch.get(name).map_or(&[][..], Vec::as_slice))
        .collect();
    let columns = std::rc::Rc::new(columns);
    rows.iter().map(move |at| {
        let view = images[at.batch as usize].view();
        let row = at.row as usize;
        columns[at.batch as usize].iter().find_map(|&c| {
            let column = view.column(c);
            column
                .cell(row)
                .map(|bytes| bytes.map(|b| (column.ty(), b)))
        })?
    })
}

/// One Arrow column of `rows`' values of `name`, of Iceberg type `ty`. A value
/// of another type (schema already checked: a narrower one) is widened; one
/// that cannot be is written as NULL.
fn column(
    ty: &PrimitiveType,
    name: &str,
    images: &[Images],
    by_name: &ColumnsByName<'_>,
    rows: &[WindowRow],
) -> Result<ArrayRef, ArrowError> {
    let n = rows.len();
    let cells = cells_of(images, by_name, rows, name);
    Ok(match ty {
        PrimitiveType::Boolean => {
            let mut b = BooleanBuilder::with_capacity(n);
            let boolean = only(|t| t == ColumnType::Boolean);
            cells.for_each(|c| b.append_option(c.and_then(&boolean).map(|v| v[0] != 0)));
            Arc::new(b.finish())
        }
        PrimitiveType::Int => {
            let mut b = Int32Builder::with_capacity(n);
            cells.for_each(|c| b.append_option(c.and_then(int)));
            Arc::new(b.finish())
        }
        PrimitiveType::Long => {
            let mut b = Int64Builder::with_capacity(n);
            cells.for_each(|c| b.append_option(c.and_then(long)));
            Arc::new(b.finish())
        }
        PrimitiveType::Float => {
            let mut b = Float32Builder::with_capacity(n);
            let float = only(|t| t == ColumnType::Float);
            cells.for_each(|c| {
                b.append_option(c.and_then(&float).map(|v| f32::from_le_bytes(array(v))))
            });
            Arc::new(b.finish())
        }
        PrimitiveType::Double => {
            let mut b = Float64Builder::with_capacity(n);
            cells.for_each(|c| b.append_option(c.and_then(double)));
            Arc::new(b.finish())
        }
        PrimitiveType::Decimal { precision, scale } => {
            let mut b = Decimal128Builder::with_capacity(n)
                .with_precision_and_scale(*precision as u8, *scale as i8)?;
            let decimal = only(|t| matches!(t, ColumnType::Decimal { .. }));
            cells.for_each(|c| {
                b.append_option(c.and_then(&decimal).map(|v| i128::from_le_bytes(array(v))))
            });
            Arc::new(b.finish())
        }
        PrimitiveType::Date => {
            let mut b = Date32Builder::with_capacity(n);
            cells.for_each(|c| b.append_option(c.and_then(int)));
            Arc::new(b.finish())
        }
        PrimitiveType::Time => {
            let mut b = Time64MicrosecondBuilder::with_capacity(n);
            cells.for_each(|c| b.append_option(c.and_then(long)));
            Arc::new(b.finish())
        }
        PrimitiveType::Timestamp | PrimitiveType::Timestamptz => {
            let mut b = TimestampMicrosecondBuilder::with_capacity(n);
            cells.for_each(|c| b.append_option(c.and_then(long)));
            let array = b.finish();
            if matches!(ty, PrimitiveType::Timestamptz) {
                Arc::new(array.with_timezone("+00:00"))
            } else {
                Arc::new(array)
            }
        }
        PrimitiveType::String => {
            let string = only(|t| t == ColumnType::String);
            let bytes = cells
                .clone()
                .map(|c| c.and_then(&string).map_or(0, <[u8]>::len))
                .sum();
            let mut b = StringBuilder::with_capacity(n, bytes);
            // Batches hold valid UTF-8 only (checked when they are made).
            cells.for_each(|c| {
                b.append_option(
                    c.and_then(&string)
                        .and_then(|v| std::str::from_utf8(v).ok()),
                )
            });
            Arc::new(b.finish())
        }
        PrimitiveType::Uuid => {
            let mut b = FixedSizeBinaryBuilder::with_capacity(n, 16);
            let uuid = only(|t| t == ColumnType::Uuid);
            for c in cells {
                match c.and_then(&uuid) {
                    Some(u) => b.append_value(u)?,
                    None => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        PrimitiveType::Binary => {
            let binary = only(|t| t == ColumnType::Binary);
            let bytes = cells
                .clone()
                .map(|c| c.and_then(&binary).map_or(0, <[u8]>::len))
                .sum();
            let mut b = LargeBinaryBuilder::with_capacity(n, bytes);
            cells.for_each(|c| b.append_option(c.and_then(&binary)));
            Arc::new(b.finish())
        }
        other => {
            return Err(ArrowError::NotYetImplemented(format!(
                "column `{name}`: floe does not write {other} columns"
            )));
        }
    })
}

/// The record batch of `rows` (of the window's `images`) for the table
/// schema `schema` (`arrow` is its Arrow form, with field ids). Columns a
/// row lacks are NULL.
pub fn record_batch(
    schema: &Schema,
    arrow: &ArrowSchemaRef,
    images: &[Images],
    rows: &[WindowRow],
) -> Result<RecordBatch, ArrowError> {
    let fields = schema.as_struct().fields();
    let by_name = ColumnsByName::new(images);
    let by_name = &by_name;
    let build = |fields: &[iceberg::spec::NestedFieldRef]| -> Result<Vec<ArrayRef>, ArrowError> {
        fields
            .iter()
            .map(|field| {
                let Type::Primitive(ty) = field.field_type.as_ref() else {
                    return Err(ArrowError::NotYetImplemented(format!(
                        "column `{}`: floe does not write nested columns",
                        field.name
                    )));
                };
                column(ty, &field.name, images, by_name, rows)
            })
            .collect()
    };
    // Columns are independent: a big window builds half of them on a
    // second thread (the writer waits for this at commit).
    let columns = if rows.len() >= PARALLEL_ROWS && fields.len() >= 2 {
        let (first, second) = fields.split_at(fields.len() / 2);
        let (first, second) = std::thread::scope(|scope| {
            let helper = std::thread::Builder::new().spawn_scoped(scope, || build(second));
            let first = build(first);
            let second = match helper {
                Ok(helper) => helper.join().unwrap_or_else(|_| {
                    Err(ArrowError::ComputeError(
                        "building record batch columns panicked".into(),
                    ))
                }),
                // No thread to be had: build them here.
                Err(_) => build(second),
            };
            (first, second)
        });
        let mut columns = first?;
        columns.extend(second?);
        columns
    } else {
        build(fields)?
    };
    RecordBatch::try_new(arrow.clone(), columns)
}

/// Windows of at least this many rows build their columns on two threads.
const PARALLEL_ROWS: usize = 10_000;

/// A column of key values read back from a file, its type resolved once so
/// that rows are encoded without a type dispatch each.
pub enum KeyColumn<'a> {
    /// `int` keys.
    Int32(&'a arrow_array::Int32Array),
    /// `long` keys.
    Int64(&'a arrow_array::Int64Array),
    /// `string` keys.
    Utf8(&'a arrow_array::StringArray),
    /// Any other type, encoded by [`encode_arrow`].
    Other(&'a dyn Array),
}

impl<'a> KeyColumn<'a> {
    /// The reader of `array`.
    pub fn new(array: &'a dyn Array) -> Self {
        match array.data_type() {
            DataType::Int32 => KeyColumn::Int32(array.as_primitive()),
            DataType::Int64 => KeyColumn::Int64(array.as_primitive()),
            DataType::Utf8 => KeyColumn::Utf8(array.as_string()),
            _ => KeyColumn::Other(array),
        }
    }

    /// Appends row `row`'s canonical key form (as [`encode_arrow`] does);
    /// `false` when the column's type cannot be a key.
    #[inline]
    pub fn encode(&self, row: usize, out: &mut Vec<u8>) -> bool {
        match self {
            KeyColumn::Int32(a) if a.is_valid(row) => {
                out.extend_from_slice(&i64::from(a.value(row)).to_le_bytes())
            }
            KeyColumn::Int64(a) if a.is_valid(row) => {
                out.extend_from_slice(&a.value(row).to_le_bytes())
            }
            KeyColumn::Utf8(a) if a.is_valid(row) => encode_bytes(a.value(row).as_bytes(), out),
            KeyColumn::Int32(_) | KeyColumn::Int64(_) | KeyColumn::Utf8(_) => encode_null(out),
            KeyColumn::Other(a) => return encode_arrow(*a, row, out),
        }
        true
    }
}

/// Appends the canonical key form (see [`super::key`]) of `array[row]`;
/// `false` when the column's type cannot be a key.
pub fn encode_arrow(array: &dyn Array, row: usize, out: &mut Vec<u8>) -> bool {
    if array.is_null(row) {
        encode_null(out);
        return true;
    }
    match array.data_type() {
        DataType::Boolean => out.push(u8::from(array.as_boolean().value(row)) + 1),
        DataType::Int32 => out.extend_from_slice(
            &i64::from(array.as_primitive::<Int32Type>().value(row)).to_le_bytes(),
        ),
        DataType::Int64 => {
            out.extend_from_slice(&array.as_primitive::<Int64Type>().value(row).to_le_bytes())
        }
        DataType::Float32 => out.extend_from_slice(
            &f64::from(array.as_primitive::<Float32Type>().value(row))
                .to_bits()
                .to_le_bytes(),
        ),
        DataType::Float64 => out.extend_from_slice(
            &array
                .as_primitive::<Float64Type>()
                .value(row)
                .to_bits()
                .to_le_bytes(),
        ),
        DataType::Decimal128(_, _) => out.extend_from_slice(
            &array
                .as_primitive::<Decimal128Type>()
                .value(row)
                .to_le_bytes(),
        ),
        DataType::Date32 => {
            out.extend_from_slice(&array.as_primitive::<Date32Type>().value(row).to_le_bytes())
        }
        DataType::Time64(TimeUnit::Microsecond) => out.extend_from_slice(
            &array
                .as_primitive::<Time64MicrosecondType>()
                .value(row)
                .to_le_bytes(),
        ),
        DataType::Timestamp(TimeUnit::Microsecond, _) => out.extend_from_slice(
            &array
                .as_primitive::<TimestampMicrosecondType>()
                .value(row)
                .to_le_bytes(),
        ),
        DataType::Utf8 => encode_bytes(array.as_string::<i32>().value(row).as_bytes(), out),
        DataType::LargeUtf8 => encode_bytes(array.as_string::<i64>().value(row).as_bytes(), out),
        DataType::Utf8View => encode_bytes(array.as_string_view().value(row).as_bytes(), out),
        DataType::Binary => encode_bytes(array.as_binary::<i32>().value(row), out),
        DataType::LargeBinary => encode_bytes(array.as_binary::<i64>().value(row), out),
        DataType::BinaryView => encode_bytes(array.as_binary_view().value(row), out),
        DataType::FixedSizeBinary(16) => {
            out.extend_from_slice(array.as_fixed_size_binary().value(row))
        }
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{Change, ChangeBatch, Field, Image, Op, Position, Value};
    use crate::table::key::{encode_value, index_key};

    #[test]
    fn arrow_key_forms_match_value_forms() {
        let fields = [
            (ColumnType::Int, Value::Int(-3)),
            (ColumnType::Long, Value::Long(1 << 40)),
            (ColumnType::String, Value::String("héllo".into())),
            (
                ColumnType::Decimal {
                    precision: 10,
                    scale: 2,
                },
                Value::Decimal(-12345),
            ),
            (ColumnType::Date, Value::Date(19000)),
            (
                ColumnType::Timestamptz,
                Value::Timestamptz(1_700_000_000_000_000),
            ),
            (ColumnType::Uuid, Value::Uuid([9; 16])),
            (ColumnType::Binary, Value::Binary(vec![1, 2, 3])),
            (ColumnType::Boolean, Value::Boolean(true)),
        ];
        let image: Image = fields
            .iter()
            .enumerate()
            .map(|(i, (ty, v))| Field {
                name: format!("c{i}").into(),
                ty: *ty,
                value: Some(v.clone()),
            })
            .collect();
        let schema = crate::table::schema::new_table_schema(&image, &[]).unwrap();
        let arrow = Arc::new(iceberg::arrow::schema_to_arrow_schema(&schema).unwrap());
        let change = Change {
            op: Op::Insert,
            table: "t".into(),
            key: Vec::new(),
            before: None,
            after: Some(image),
            position: Position::new("t", 0, 0),
            event_time: None,
        };
        let images = [ChangeBatch::from(vec![change]).into_after()];
        let batch =
            record_batch(&schema, &arrow, &images, &[WindowRow { batch: 0, row: 0 }]).unwrap();
        for (i, (_, value)) in fields.iter().enumerate() {
            let mut from_value = Vec::new();
            encode_value(value, &mut from_value);
            let mut from_arrow = Vec::new();
            assert!(encode_arrow(batch.column(i).as_ref(), 0, &mut from_arrow));
            assert_eq!(index_key(&from_value), index_key(&from_arrow), "{value:?}");
            let mut typed = Vec::new();
            assert!(KeyColumn::new(batch.column(i).as_ref()).encode(0, &mut typed));
            assert_eq!(typed, from_arrow, "{value:?}");
        }
    }
}
