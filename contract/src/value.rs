//! Typed values of columns: [`Value`] (borrowed) and [`OwnedValue`].

use core::fmt;

use crate::{ColumnType, Decimal};

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

/// An owned value, for writing into an image (the guest SDK's `ImageMut::set`).
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
