//! Between change images and Arrow columns: the record batches of data files,
//! and key forms read back from data and delete files.

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
use crate::change::{Image, Value};

fn int(v: &Value) -> Option<i32> {
    match v {
        Value::Int(x) | Value::Date(x) => Some(*x),
        _ => None,
    }
}

fn long(v: &Value) -> Option<i64> {
    match v {
        Value::Int(x) => Some(i64::from(*x)),
        Value::Long(x) | Value::Time(x) | Value::Timestamp(x) | Value::Timestamptz(x) => Some(*x),
        _ => None,
    }
}

fn double(v: &Value) -> Option<f64> {
    match v {
        Value::Float(x) => Some(f64::from(*x)),
        Value::Double(x) => Some(*x),
        _ => None,
    }
}

/// The values of column `name` in `rows`. Rows of one window almost always
/// list their columns in the same order, so each row is first asked at the
/// position the column had in the row before.
fn values_of<'a>(rows: &'a [&'a Image], name: &'a str) -> impl Iterator<Item = Option<&'a Value>> {
    let mut at = 0;
    rows.iter().map(move |row| {
        let fields = row.fields();
        if let Some(field) = fields.get(at)
            && *field.name == *name
        {
            return field.value.as_ref();
        }
        let found = fields.iter().position(|f| *f.name == *name)?;
        at = found;
        fields[found].value.as_ref()
    })
}

/// One Arrow column of `rows`' values of `name`, of Iceberg type `ty`. A value
/// of another type (schema already checked: a narrower one) is widened; one
/// that cannot be is written as NULL.
fn column(ty: &PrimitiveType, name: &str, rows: &[&Image]) -> Result<ArrayRef, ArrowError> {
    let n = rows.len();
    let values = values_of(rows, name);
    Ok(match ty {
        PrimitiveType::Boolean => {
            let mut b = BooleanBuilder::with_capacity(n);
            values.for_each(|v| {
                b.append_option(v.and_then(|v| match v {
                    Value::Boolean(x) => Some(*x),
                    _ => None,
                }))
            });
            Arc::new(b.finish())
        }
        PrimitiveType::Int => {
            let mut b = Int32Builder::with_capacity(n);
            values.for_each(|v| b.append_option(v.and_then(int)));
            Arc::new(b.finish())
        }
        PrimitiveType::Long => {
            let mut b = Int64Builder::with_capacity(n);
            values.for_each(|v| b.append_option(v.and_then(long)));
            Arc::new(b.finish())
        }
        PrimitiveType::Float => {
            let mut b = Float32Builder::with_capacity(n);
            values.for_each(|v| {
                b.append_option(v.and_then(|v| match v {
                    Value::Float(x) => Some(*x),
                    _ => None,
                }))
            });
            Arc::new(b.finish())
        }
        PrimitiveType::Double => {
            let mut b = Float64Builder::with_capacity(n);
            values.for_each(|v| b.append_option(v.and_then(double)));
            Arc::new(b.finish())
        }
        PrimitiveType::Decimal { precision, scale } => {
            let mut b = Decimal128Builder::with_capacity(n)
                .with_precision_and_scale(*precision as u8, *scale as i8)?;
            values.for_each(|v| {
                b.append_option(v.and_then(|v| match v {
                    Value::Decimal(x) => Some(*x),
                    _ => None,
                }))
            });
            Arc::new(b.finish())
        }
        PrimitiveType::Date => {
            let mut b = Date32Builder::with_capacity(n);
            values.for_each(|v| b.append_option(v.and_then(int)));
            Arc::new(b.finish())
        }
        PrimitiveType::Time => {
            let mut b = Time64MicrosecondBuilder::with_capacity(n);
            values.for_each(|v| b.append_option(v.and_then(long)));
            Arc::new(b.finish())
        }
        PrimitiveType::Timestamp | PrimitiveType::Timestamptz => {
            let mut b = TimestampMicrosecondBuilder::with_capacity(n);
            values.for_each(|v| b.append_option(v.and_then(long)));
            let array = b.finish();
            if matches!(ty, PrimitiveType::Timestamptz) {
                Arc::new(array.with_timezone("+00:00"))
            } else {
                Arc::new(array)
            }
        }
        PrimitiveType::String => {
            let bytes = values_of(rows, name)
                .map(|v| match v {
                    Some(Value::String(s)) => s.len(),
                    _ => 0,
                })
                .sum();
            let mut b = StringBuilder::with_capacity(n, bytes);
            values.for_each(|v| {
                b.append_option(v.and_then(|v| match v {
                    Value::String(s) => Some(s.as_str()),
                    _ => None,
                }))
            });
            Arc::new(b.finish())
        }
        PrimitiveType::Uuid => {
            let mut b = FixedSizeBinaryBuilder::with_capacity(n, 16);
            for v in values {
                match v {
                    Some(Value::Uuid(u)) => b.append_value(u)?,
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        PrimitiveType::Binary => {
            let bytes = values_of(rows, name)
                .map(|v| match v {
                    Some(Value::Binary(b)) => b.len(),
                    _ => 0,
                })
                .sum();
            let mut b = LargeBinaryBuilder::with_capacity(n, bytes);
            values.for_each(|v| {
                b.append_option(v.and_then(|v| match v {
                    Value::Binary(s) => Some(s.as_slice()),
                    _ => None,
                }))
            });
            Arc::new(b.finish())
        }
        other => {
            return Err(ArrowError::NotYetImplemented(format!(
                "column `{name}`: floe does not write {other} columns"
            )));
        }
    })
}

/// The record batch of `rows` for the table schema `schema` (`arrow` is its
/// Arrow form, with field ids). Columns an image lacks are NULL.
pub fn record_batch(
    schema: &Schema,
    arrow: &ArrowSchemaRef,
    rows: &[&Image],
) -> Result<RecordBatch, ArrowError> {
    let fields = schema.as_struct().fields();
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
                column(ty, &field.name, rows)
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
    use crate::change::{ColumnType, Field};
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
        let batch = record_batch(&schema, &arrow, &[&image]).unwrap();
        for (i, (_, value)) in fields.iter().enumerate() {
            let mut from_value = Vec::new();
            encode_value(value, &mut from_value);
            let mut from_arrow = Vec::new();
            assert!(encode_arrow(batch.column(i).as_ref(), 0, &mut from_arrow));
            assert_eq!(index_key(&from_value), index_key(&from_arrow), "{value:?}");
        }
    }
}
