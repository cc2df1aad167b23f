//! The cell encodings of the columnar batch: how a value of each column type
//! is laid out in a column's `data` bytes, and the `presence` codes.

use crate::{ColumnType, Decimal, Value};

/// The codes of a column's `presence` bytes (the contract's `presence`).
pub mod presence {
    /// The row's image has no such column (or the row has no image).
    pub const ABSENT: u8 = 0;
    /// The column holds SQL NULL in this row.
    pub const NULL: u8 = 1;
    /// The column holds a value: its bytes are the row's cell.
    pub const VALUE: u8 = 2;
}

impl<'a> Value<'a> {
    /// Appends the value's bytes in the WIT column encoding to `out`: strings
    /// as UTF-8, binary as is, numbers little-endian fixed width, decimals as
    /// the 16-byte little-endian unscaled `i128`, uuids as their 16 bytes.
    /// `Null` appends nothing.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match *self {
            Value::Null => {}
            Value::Boolean(v) => out.push(v as u8),
            Value::Int(v) | Value::Date(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::Long(v) | Value::Time(v) | Value::Timestamp(v) | Value::Timestamptz(v) => {
                out.extend_from_slice(&v.to_le_bytes())
            }
            Value::Float(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::Double(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::Decimal(d) => out.extend_from_slice(&d.unscaled.to_le_bytes()),
            Value::String(s) => out.extend_from_slice(s.as_bytes()),
            Value::Uuid(u) => out.extend_from_slice(&u),
            Value::Binary(b) => out.extend_from_slice(b),
        }
    }

    /// Decodes one value of type `ty` from its WIT column encoding; `None`
    /// when the bytes have the wrong length or a string is not UTF-8.
    pub fn decode(ty: ColumnType, bytes: &'a [u8]) -> Option<Value<'a>> {
        fn arr<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
            b.try_into().ok()
        }
        Some(match ty {
            ColumnType::Boolean => match bytes {
                [0] => Value::Boolean(false),
                [1] => Value::Boolean(true),
                _ => return None,
            },
            ColumnType::Int => Value::Int(i32::from_le_bytes(arr(bytes)?)),
            ColumnType::Date => Value::Date(i32::from_le_bytes(arr(bytes)?)),
            ColumnType::Long => Value::Long(i64::from_le_bytes(arr(bytes)?)),
            ColumnType::Time => Value::Time(i64::from_le_bytes(arr(bytes)?)),
            ColumnType::Timestamp => Value::Timestamp(i64::from_le_bytes(arr(bytes)?)),
            ColumnType::Timestamptz => Value::Timestamptz(i64::from_le_bytes(arr(bytes)?)),
            ColumnType::Float => Value::Float(f32::from_le_bytes(arr(bytes)?)),
            ColumnType::Double => Value::Double(f64::from_le_bytes(arr(bytes)?)),
            ColumnType::Decimal { precision, scale } => Value::Decimal(Decimal {
                unscaled: i128::from_le_bytes(arr(bytes)?),
                precision,
                scale,
            }),
            ColumnType::Uuid => Value::Uuid(arr(bytes)?),
            ColumnType::String => Value::String(std::str::from_utf8(bytes).ok()?),
            ColumnType::Binary => Value::Binary(bytes),
        })
    }

    /// Whether the value's cell (see [`Value::encode_into`]) is `bytes`,
    /// checked without encoding it.
    pub fn encodes_as(&self, bytes: &[u8]) -> bool {
        match *self {
            Value::Null => bytes.is_empty(),
            Value::Boolean(b) => bytes == [u8::from(b)],
            Value::Int(v) | Value::Date(v) => bytes == v.to_le_bytes(),
            Value::Long(v) | Value::Time(v) | Value::Timestamp(v) | Value::Timestamptz(v) => {
                bytes == v.to_le_bytes()
            }
            Value::Float(v) => bytes == v.to_le_bytes(),
            Value::Double(v) => bytes == v.to_le_bytes(),
            Value::Decimal(d) => bytes == d.unscaled.to_le_bytes(),
            Value::String(s) => bytes == s.as_bytes(),
            Value::Uuid(u) => bytes == u,
            Value::Binary(b) => bytes == b,
        }
    }
}

/// Whether `bytes` are a valid cell of type `ty`: exactly when
/// [`Value::decode`] would succeed, without decoding.
pub fn is_encoding(ty: ColumnType, bytes: &[u8]) -> bool {
    match ty {
        ColumnType::Boolean => matches!(bytes, [0 | 1]),
        ColumnType::String => std::str::from_utf8(bytes).is_ok(),
        ColumnType::Binary => true,
        ty => ty.fixed_width() == Some(bytes.len()),
    }
}
