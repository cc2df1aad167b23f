//! Change kinds, Iceberg column types and values, and their byte encodings.

use std::fmt;
use std::str::FromStr;

use crate::Error;
use crate::wit;

/// The kind of a change, as Debezium's `op` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A new row (`c`).
    Insert,
    /// A changed row (`u`).
    Update,
    /// A removed row (`d`).
    Delete,
    /// A row read by a snapshot (`r`): an upsert.
    Read,
    /// Every row of the table removed (`t`).
    Truncate,
}

impl Op {
    /// Every op, in WIT order.
    pub const ALL: [Op; 5] = [Op::Insert, Op::Update, Op::Delete, Op::Read, Op::Truncate];

    /// The lowercase name of the op: `insert`, `update`, `delete`, `read` or `truncate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Read => "read",
            Op::Truncate => "truncate",
        }
    }

    /// The op of a code of a batch's `ops` bytes.
    pub(crate) fn from_wit(code: u8) -> Op {
        match code {
            0 => Op::Insert,
            1 => Op::Update,
            2 => Op::Delete,
            3 => Op::Read,
            4 => Op::Truncate,
            other => crate::columnar::malformed(&format!("op code {other}")),
        }
    }

    /// The op's code in a batch's `ops` bytes.
    pub(crate) fn to_wit(self) -> u8 {
        match self {
            Op::Insert => 0,
            Op::Update => 1,
            Op::Delete => 2,
            Op::Read => 3,
            Op::Truncate => 4,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Op {
    type Err = Error;

    /// Parses `insert`, `update`, `delete`, `read`, `truncate` (any case) or the
    /// Debezium letters `c`, `u`, `d`, `r`, `t`.
    fn from_str(s: &str) -> Result<Op, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "insert" | "c" | "create" => Ok(Op::Insert),
            "update" | "u" => Ok(Op::Update),
            "delete" | "d" => Ok(Op::Delete),
            "read" | "r" | "snapshot" => Ok(Op::Read),
            "truncate" | "t" => Ok(Op::Truncate),
            other => Err(Error::new(format!(
                "unknown op `{other}` (expected insert, update, delete, read or truncate)"
            ))),
        }
    }
}

/// An Iceberg primitive type: the type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// `boolean`: 1 byte, 0 or 1.
    Boolean,
    /// `int`: 4-byte signed integer.
    Int,
    /// `long`: 8-byte signed integer.
    Long,
    /// `float`: 4-byte IEEE 754.
    Float,
    /// `double`: 8-byte IEEE 754.
    Double,
    /// `decimal(precision, scale)`: 16-byte two's-complement unscaled value.
    Decimal {
        /// Total number of decimal digits (1..=38).
        precision: u8,
        /// Digits after the decimal point.
        scale: u8,
    },
    /// `date`: days since 1970-01-01, 4 bytes.
    Date,
    /// `time`: microseconds since midnight, 8 bytes.
    Time,
    /// `timestamp`: microseconds since the epoch, without zone, 8 bytes.
    Timestamp,
    /// `timestamptz`: microseconds since the epoch, UTC, 8 bytes.
    Timestamptz,
    /// `string`: UTF-8.
    String,
    /// `uuid`: 16 bytes in RFC 4122 order.
    Uuid,
    /// `binary`: bytes as is.
    Binary,
}

impl ColumnType {
    /// The width in bytes of one value of this type, or `None` for the
    /// variable-width `string` and `binary`.
    pub fn fixed_width(self) -> Option<usize> {
        Some(match self {
            ColumnType::Boolean => 1,
            ColumnType::Int | ColumnType::Float | ColumnType::Date => 4,
            ColumnType::Long
            | ColumnType::Double
            | ColumnType::Time
            | ColumnType::Timestamp
            | ColumnType::Timestamptz => 8,
            ColumnType::Decimal { .. } | ColumnType::Uuid => 16,
            ColumnType::String | ColumnType::Binary => return None,
        })
    }

    pub(crate) fn from_wit(ty: wit::ColumnType) -> ColumnType {
        match ty {
            wit::ColumnType::Boolean => ColumnType::Boolean,
            wit::ColumnType::Int => ColumnType::Int,
            wit::ColumnType::Long => ColumnType::Long,
            wit::ColumnType::Float => ColumnType::Float,
            wit::ColumnType::Double => ColumnType::Double,
            wit::ColumnType::Decimal(d) => ColumnType::Decimal {
                precision: d.precision,
                scale: d.scale,
            },
            wit::ColumnType::Date => ColumnType::Date,
            wit::ColumnType::Time => ColumnType::Time,
            wit::ColumnType::Timestamp => ColumnType::Timestamp,
            wit::ColumnType::Timestamptz => ColumnType::Timestamptz,
            wit::ColumnType::String => ColumnType::String,
            wit::ColumnType::Uuid => ColumnType::Uuid,
            wit::ColumnType::Binary => ColumnType::Binary,
        }
    }

    pub(crate) fn to_wit(self) -> wit::ColumnType {
        match self {
            ColumnType::Boolean => wit::ColumnType::Boolean,
            ColumnType::Int => wit::ColumnType::Int,
            ColumnType::Long => wit::ColumnType::Long,
            ColumnType::Float => wit::ColumnType::Float,
            ColumnType::Double => wit::ColumnType::Double,
            ColumnType::Decimal { precision, scale } => {
                wit::ColumnType::Decimal(wit::DecimalType { precision, scale })
            }
            ColumnType::Date => wit::ColumnType::Date,
            ColumnType::Time => wit::ColumnType::Time,
            ColumnType::Timestamp => wit::ColumnType::Timestamp,
            ColumnType::Timestamptz => wit::ColumnType::Timestamptz,
            ColumnType::String => wit::ColumnType::String,
            ColumnType::Uuid => wit::ColumnType::Uuid,
            ColumnType::Binary => wit::ColumnType::Binary,
        }
    }
}

impl fmt::Display for ColumnType {
    /// Writes the Iceberg name: `boolean`, `int`, `long`, `float`, `double`,
    /// `decimal(P,S)`, `date`, `time`, `timestamp`, `timestamptz`, `string`,
    /// `uuid`, `binary`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::Boolean => f.write_str("boolean"),
            ColumnType::Int => f.write_str("int"),
            ColumnType::Long => f.write_str("long"),
            ColumnType::Float => f.write_str("float"),
            ColumnType::Double => f.write_str("double"),
            ColumnType::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Time => f.write_str("time"),
            ColumnType::Timestamp => f.write_str("timestamp"),
            ColumnType::Timestamptz => f.write_str("timestamptz"),
            ColumnType::String => f.write_str("string"),
            ColumnType::Uuid => f.write_str("uuid"),
            ColumnType::Binary => f.write_str("binary"),
        }
    }
}

impl FromStr for ColumnType {
    type Err = Error;

    /// Parses an Iceberg type name as written by [`Display`](fmt::Display)
    /// (case-insensitive, spaces allowed inside `decimal( P , S )`). The aliases
    /// `integer`, `bigint`, `bool`, `text` and `bytes` are accepted too.
    fn from_str(s: &str) -> Result<ColumnType, Error> {
        let t = s.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "boolean" | "bool" => ColumnType::Boolean,
            "int" | "integer" => ColumnType::Int,
            "long" | "bigint" => ColumnType::Long,
            "float" => ColumnType::Float,
            "double" => ColumnType::Double,
            "date" => ColumnType::Date,
            "time" => ColumnType::Time,
            "timestamp" => ColumnType::Timestamp,
            "timestamptz" => ColumnType::Timestamptz,
            "string" | "text" => ColumnType::String,
            "uuid" => ColumnType::Uuid,
            "binary" | "bytes" => ColumnType::Binary,
            _ => {
                let inner = t
                    .strip_prefix("decimal")
                    .map(str::trim_start)
                    .and_then(|r| r.strip_prefix('('))
                    .and_then(|r| r.strip_suffix(')'));
                let bad = || {
                    Error::new(format!(
                        "unknown column type `{}` (expected boolean, int, long, float, double, \
                         decimal(P,S), date, time, timestamp, timestamptz, string, uuid or binary)",
                        s.trim()
                    ))
                };
                let inner = inner.ok_or_else(bad)?;
                let (p, sc) = inner.split_once(',').ok_or_else(bad)?;
                let precision: u8 = p.trim().parse().map_err(|_| bad())?;
                let scale: u8 = sc.trim().parse().map_err(|_| bad())?;
                if precision == 0 || precision > 38 || scale > precision {
                    return Err(Error::new(format!(
                        "invalid decimal type `{}`: need 1 <= precision <= 38 and scale <= precision",
                        s.trim()
                    )));
                }
                ColumnType::Decimal { precision, scale }
            }
        })
    }
}

/// A decimal number: an unscaled integer and the column's precision and scale.
///
/// The number is `unscaled × 10^-scale`; `123.45` in a `decimal(10,2)` column
/// is `Decimal { unscaled: 12345, precision: 10, scale: 2 }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// The unscaled value.
    pub unscaled: i128,
    /// Total number of decimal digits of the column type.
    pub precision: u8,
    /// Digits after the decimal point.
    pub scale: u8,
}

impl Decimal {
    /// The decimal's column type, `decimal(precision, scale)`.
    pub fn column_type(&self) -> ColumnType {
        ColumnType::Decimal {
            precision: self.precision,
            scale: self.scale,
        }
    }
}

impl fmt::Display for Decimal {
    /// Writes the plain decimal form, e.g. `-0.05` or `123.45`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.unscaled.unsigned_abs().to_string();
        let sign = if self.unscaled < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        if digits.len() > scale {
            let (int, frac) = digits.split_at(digits.len() - scale);
            write!(f, "{sign}{int}.{frac}")
        } else {
            write!(f, "{sign}0.{}{digits}", "0".repeat(scale - digits.len()))
        }
    }
}

/// A value read from a column: borrowed from the batch, so reading never allocates.
///
/// `Null` is SQL NULL (the column is in the image but holds no value); a column
/// that is not in the image at all is reported as `None` by the getters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// SQL NULL.
    Null,
    /// A `boolean`.
    Boolean(bool),
    /// An `int`.
    Int(i32),
    /// A `long`.
    Long(i64),
    /// A `float`.
    Float(f32),
    /// A `double`.
    Double(f64),
    /// A `decimal(p,s)`.
    Decimal(Decimal),
    /// A `date`: days since 1970-01-01.
    Date(i32),
    /// A `time`: microseconds since midnight.
    Time(i64),
    /// A `timestamp`: microseconds since the epoch, without zone.
    Timestamp(i64),
    /// A `timestamptz`: microseconds since the epoch, UTC.
    Timestamptz(i64),
    /// A `string`.
    String(&'a str),
    /// A `uuid`, 16 bytes in RFC 4122 order.
    Uuid([u8; 16]),
    /// A `binary`.
    Binary(&'a [u8]),
}

/// An owned value, for writing into an image (see [`crate::ImageMut::set`]).
#[derive(Clone, Debug, PartialEq)]
pub enum OwnedValue {
    /// SQL NULL.
    Null,
    /// A `boolean`.
    Boolean(bool),
    /// An `int`.
    Int(i32),
    /// A `long`.
    Long(i64),
    /// A `float`.
    Float(f32),
    /// A `double`.
    Double(f64),
    /// A `decimal(p,s)`.
    Decimal(Decimal),
    /// A `date`: days since 1970-01-01.
    Date(i32),
    /// A `time`: microseconds since midnight.
    Time(i64),
    /// A `timestamp`: microseconds since the epoch, without zone.
    Timestamp(i64),
    /// A `timestamptz`: microseconds since the epoch, UTC.
    Timestamptz(i64),
    /// A `string`.
    String(String),
    /// A `uuid`, 16 bytes in RFC 4122 order.
    Uuid([u8; 16]),
    /// A `binary`.
    Binary(Vec<u8>),
}

impl<'a> Value<'a> {
    /// The type of the value, or `None` for `Null` (a null has its column's type).
    pub fn column_type(&self) -> Option<ColumnType> {
        Some(match self {
            Value::Null => return None,
            Value::Boolean(_) => ColumnType::Boolean,
            Value::Int(_) => ColumnType::Int,
            Value::Long(_) => ColumnType::Long,
            Value::Float(_) => ColumnType::Float,
            Value::Double(_) => ColumnType::Double,
            Value::Decimal(d) => d.column_type(),
            Value::Date(_) => ColumnType::Date,
            Value::Time(_) => ColumnType::Time,
            Value::Timestamp(_) => ColumnType::Timestamp,
            Value::Timestamptz(_) => ColumnType::Timestamptz,
            Value::String(_) => ColumnType::String,
            Value::Uuid(_) => ColumnType::Uuid,
            Value::Binary(_) => ColumnType::Binary,
        })
    }

    /// Whether the value is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The string, if this is a `string` value.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes of a `binary` value, or of a `string` value's UTF-8.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Value::Binary(b) => Some(b),
            Value::String(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// The number, if this is an `int` or `long` value.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(v) => Some(v as i64),
            Value::Long(v) => Some(v),
            _ => None,
        }
    }

    /// The number as a double, if this is an `int`, `long`, `float`, `double`
    /// or `decimal` value (decimals may lose precision).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(v) => Some(v as f64),
            Value::Long(v) => Some(v as f64),
            Value::Float(v) => Some(v as f64),
            Value::Double(v) => Some(v),
            Value::Decimal(d) => Some(d.unscaled as f64 / 10f64.powi(d.scale as i32)),
            _ => None,
        }
    }

    /// The flag, if this is a `boolean` value.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Boolean(b) => Some(b),
            _ => None,
        }
    }

    /// Copies the value into an [`OwnedValue`].
    pub fn to_owned_value(&self) -> OwnedValue {
        match *self {
            Value::Null => OwnedValue::Null,
            Value::Boolean(v) => OwnedValue::Boolean(v),
            Value::Int(v) => OwnedValue::Int(v),
            Value::Long(v) => OwnedValue::Long(v),
            Value::Float(v) => OwnedValue::Float(v),
            Value::Double(v) => OwnedValue::Double(v),
            Value::Decimal(v) => OwnedValue::Decimal(v),
            Value::Date(v) => OwnedValue::Date(v),
            Value::Time(v) => OwnedValue::Time(v),
            Value::Timestamp(v) => OwnedValue::Timestamp(v),
            Value::Timestamptz(v) => OwnedValue::Timestamptz(v),
            Value::String(v) => OwnedValue::String(v.to_owned()),
            Value::Uuid(v) => OwnedValue::Uuid(v),
            Value::Binary(v) => OwnedValue::Binary(v.to_vec()),
        }
    }

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
}

impl OwnedValue {
    /// Borrows the value as a [`Value`].
    pub fn as_value(&self) -> Value<'_> {
        match self {
            OwnedValue::Null => Value::Null,
            OwnedValue::Boolean(v) => Value::Boolean(*v),
            OwnedValue::Int(v) => Value::Int(*v),
            OwnedValue::Long(v) => Value::Long(*v),
            OwnedValue::Float(v) => Value::Float(*v),
            OwnedValue::Double(v) => Value::Double(*v),
            OwnedValue::Decimal(v) => Value::Decimal(*v),
            OwnedValue::Date(v) => Value::Date(*v),
            OwnedValue::Time(v) => Value::Time(*v),
            OwnedValue::Timestamp(v) => Value::Timestamp(*v),
            OwnedValue::Timestamptz(v) => Value::Timestamptz(*v),
            OwnedValue::String(v) => Value::String(v),
            OwnedValue::Uuid(v) => Value::Uuid(*v),
            OwnedValue::Binary(v) => Value::Binary(v),
        }
    }

    /// The type of the value, or `None` for `Null`.
    pub fn column_type(&self) -> Option<ColumnType> {
        self.as_value().column_type()
    }

    /// Whether the value is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, OwnedValue::Null)
    }
}

impl fmt::Display for Value<'_> {
    /// Writes the value's text form: `null`, `true`/`false`, numbers as Rust
    /// prints them, decimals in plain notation, dates `YYYY-MM-DD`, times
    /// `HH:MM:SS[.ffffff]`, timestamps `YYYY-MM-DDTHH:MM:SS[.ffffff]` (with a
    /// trailing `Z` for `timestamptz`), uuids hyphenated lowercase, binary as
    /// lowercase hex, strings as they are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::Null => f.write_str("null"),
            Value::Boolean(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Long(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Double(v) => write!(f, "{v}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Date(d) => crate::text::write_date(f, d),
            Value::Time(t) => crate::text::write_time(f, t),
            Value::Timestamp(t) => crate::text::write_timestamp(f, t, false),
            Value::Timestamptz(t) => crate::text::write_timestamp(f, t, true),
            Value::String(s) => f.write_str(s),
            Value::Uuid(u) => crate::text::write_uuid(f, &u),
            Value::Binary(b) => {
                for byte in b {
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for OwnedValue {
    /// The text form of [`Value`]'s `Display`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_value().fmt(f)
    }
}

macro_rules! from_scalar {
    ($($t:ty => $variant:ident),*) => {$(
        impl From<$t> for Value<'_> {
            fn from(v: $t) -> Self { Value::$variant(v) }
        }
        impl From<$t> for OwnedValue {
            fn from(v: $t) -> Self { OwnedValue::$variant(v) }
        }
    )*};
}

from_scalar!(bool => Boolean, i32 => Int, i64 => Long, f32 => Float, f64 => Double, Decimal => Decimal, [u8; 16] => Uuid);

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::String(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::String(v)
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(v: &'a [u8]) -> Self {
        Value::Binary(v)
    }
}

impl<'a> From<&'a OwnedValue> for Value<'a> {
    fn from(v: &'a OwnedValue) -> Self {
        v.as_value()
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    /// `None` becomes `Null`.
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl From<&str> for OwnedValue {
    fn from(v: &str) -> Self {
        OwnedValue::String(v.to_owned())
    }
}

impl From<String> for OwnedValue {
    fn from(v: String) -> Self {
        OwnedValue::String(v)
    }
}

impl From<&String> for OwnedValue {
    fn from(v: &String) -> Self {
        OwnedValue::String(v.clone())
    }
}

impl From<Vec<u8>> for OwnedValue {
    fn from(v: Vec<u8>) -> Self {
        OwnedValue::Binary(v)
    }
}

impl From<&[u8]> for OwnedValue {
    fn from(v: &[u8]) -> Self {
        OwnedValue::Binary(v.to_vec())
    }
}

impl From<Value<'_>> for OwnedValue {
    fn from(v: Value<'_>) -> Self {
        v.to_owned_value()
    }
}

impl From<&Value<'_>> for OwnedValue {
    fn from(v: &Value<'_>) -> Self {
        v.to_owned_value()
    }
}

impl<T: Into<OwnedValue>> From<Option<T>> for OwnedValue {
    /// `None` becomes `Null`.
    fn from(v: Option<T>) -> Self {
        v.map_or(OwnedValue::Null, Into::into)
    }
}
