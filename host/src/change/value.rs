//! Iceberg primitive types and typed values.

use std::fmt;
use std::str::FromStr;

/// An Iceberg primitive type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// `boolean`
    Boolean,
    /// `int`: 32-bit signed.
    Int,
    /// `long`: 64-bit signed.
    Long,
    /// `float`: 32-bit IEEE 754.
    Float,
    /// `double`: 64-bit IEEE 754.
    Double,
    /// `decimal(P, S)`: fixed point with `precision` digits, `scale` after the point.
    Decimal {
        /// Total number of digits, at most 38.
        precision: u8,
        /// Digits after the decimal point.
        scale: u8,
    },
    /// `date`: days since 1970-01-01.
    Date,
    /// `time`: microseconds since midnight.
    Time,
    /// `timestamp`: microseconds since the epoch, without time zone.
    Timestamp,
    /// `timestamptz`: microseconds since the epoch, UTC.
    Timestamptz,
    /// `string`: UTF-8 text.
    String,
    /// `uuid`: 16 bytes.
    Uuid,
    /// `binary`: arbitrary bytes.
    Binary,
}

impl fmt::Display for ColumnType {
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

/// A type name that is not an Iceberg primitive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown column type `{0}` (expected boolean, int, long, float, double, decimal(P,S), date, time, timestamp, timestamptz, string, uuid or binary)"
)]
pub struct ParseTypeError(pub String);

impl FromStr for ColumnType {
    type Err = ParseTypeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let name: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        Ok(match name.as_str() {
            "boolean" => ColumnType::Boolean,
            "int" => ColumnType::Int,
            "long" => ColumnType::Long,
            "float" => ColumnType::Float,
            "double" => ColumnType::Double,
            "date" => ColumnType::Date,
            "time" => ColumnType::Time,
            "timestamp" => ColumnType::Timestamp,
            "timestamptz" => ColumnType::Timestamptz,
            "string" => ColumnType::String,
            "uuid" => ColumnType::Uuid,
            "binary" => ColumnType::Binary,
            other => {
                let digits = other
                    .strip_prefix("decimal(")
                    .and_then(|rest| rest.strip_suffix(')'))
                    .and_then(|inner| inner.split_once(','))
                    .and_then(|(p, s)| Some((p.parse::<u8>().ok()?, s.parse::<u8>().ok()?)));
                match digits {
                    Some((precision, scale))
                        if (1..=38).contains(&precision) && scale <= precision =>
                    {
                        ColumnType::Decimal { precision, scale }
                    }
                    _ => return Err(ParseTypeError(text.to_string())),
                }
            }
        })
    }
}

/// A non-null value of one of the [`ColumnType`]s.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
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
    /// A `decimal`: the unscaled value (the column type carries the scale).
    Decimal(i128),
    /// A `date`: days since 1970-01-01.
    Date(i32),
    /// A `time`: microseconds since midnight.
    Time(i64),
    /// A `timestamp`: microseconds since the epoch.
    Timestamp(i64),
    /// A `timestamptz`: microseconds since the epoch, UTC.
    Timestamptz(i64),
    /// A `string`.
    String(String),
    /// A `uuid`, in RFC 4122 byte order.
    Uuid([u8; 16]),
    /// A `binary`.
    Binary(Vec<u8>),
}

impl Value {
    /// Whether this value can be stored in a column of type `ty`.
    pub fn fits(&self, ty: ColumnType) -> bool {
        matches!(
            (self, ty),
            (Value::Boolean(_), ColumnType::Boolean)
                | (Value::Int(_), ColumnType::Int)
                | (Value::Long(_), ColumnType::Long)
                | (Value::Float(_), ColumnType::Float)
                | (Value::Double(_), ColumnType::Double)
                | (Value::Decimal(_), ColumnType::Decimal { .. })
                | (Value::Date(_), ColumnType::Date)
                | (Value::Time(_), ColumnType::Time)
                | (Value::Timestamp(_), ColumnType::Timestamp)
                | (Value::Timestamptz(_), ColumnType::Timestamptz)
                | (Value::String(_), ColumnType::String)
                | (Value::Uuid(_), ColumnType::Uuid)
                | (Value::Binary(_), ColumnType::Binary)
        )
    }

    /// Appends the value's bytes in the plugin contract's column encoding
    /// (little-endian fixed width; UTF-8 for strings; raw binary).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Value::Boolean(b) => out.push(u8::from(*b)),
            Value::Int(v) | Value::Date(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::Long(v) | Value::Time(v) | Value::Timestamp(v) | Value::Timestamptz(v) => {
                out.extend_from_slice(&v.to_le_bytes())
            }
            Value::Float(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::Double(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::Decimal(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::String(s) => out.extend_from_slice(s.as_bytes()),
            Value::Uuid(u) => out.extend_from_slice(u),
            Value::Binary(b) => out.extend_from_slice(b),
        }
    }

    /// Whether the value's column encoding (see [`Value::encode_into`]) is
    /// `bytes`, checked without encoding it.
    pub fn encodes_as(&self, bytes: &[u8]) -> bool {
        match self {
            Value::Boolean(b) => bytes == [u8::from(*b)],
            Value::Int(v) | Value::Date(v) => bytes == v.to_le_bytes(),
            Value::Long(v) | Value::Time(v) | Value::Timestamp(v) | Value::Timestamptz(v) => {
                bytes == v.to_le_bytes()
            }
            Value::Float(v) => bytes == v.to_le_bytes(),
            Value::Double(v) => bytes == v.to_le_bytes(),
            Value::Decimal(v) => bytes == v.to_le_bytes(),
            Value::String(s) => bytes == s.as_bytes(),
            Value::Uuid(u) => bytes == u,
            Value::Binary(b) => bytes == b.as_slice(),
        }
    }

    /// Whether `bytes` are a valid column encoding of a value of type `ty`:
    /// exactly when [`Value::decode`] would succeed, without allocating.
    pub fn is_encoding(ty: ColumnType, bytes: &[u8]) -> bool {
        match ty {
            ColumnType::Boolean => matches!(bytes, [0 | 1]),
            ColumnType::Int | ColumnType::Date | ColumnType::Float => bytes.len() == 4,
            ColumnType::Long
            | ColumnType::Time
            | ColumnType::Timestamp
            | ColumnType::Timestamptz
            | ColumnType::Double => bytes.len() == 8,
            ColumnType::Decimal { .. } | ColumnType::Uuid => bytes.len() == 16,
            ColumnType::String => std::str::from_utf8(bytes).is_ok(),
            ColumnType::Binary => true,
        }
    }

    /// Reads a value of type `ty` from its column encoding; `None` when the
    /// bytes do not have the type's width or are not UTF-8 for a string.
    pub fn decode(ty: ColumnType, bytes: &[u8]) -> Option<Value> {
        fn array<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
            bytes.try_into().ok()
        }
        Some(match ty {
            ColumnType::Boolean => match bytes {
                [0] => Value::Boolean(false),
                [1] => Value::Boolean(true),
                _ => return None,
            },
            ColumnType::Int => Value::Int(i32::from_le_bytes(array(bytes)?)),
            ColumnType::Date => Value::Date(i32::from_le_bytes(array(bytes)?)),
            ColumnType::Long => Value::Long(i64::from_le_bytes(array(bytes)?)),
            ColumnType::Time => Value::Time(i64::from_le_bytes(array(bytes)?)),
            ColumnType::Timestamp => Value::Timestamp(i64::from_le_bytes(array(bytes)?)),
            ColumnType::Timestamptz => Value::Timestamptz(i64::from_le_bytes(array(bytes)?)),
            ColumnType::Float => Value::Float(f32::from_le_bytes(array(bytes)?)),
            ColumnType::Double => Value::Double(f64::from_le_bytes(array(bytes)?)),
            ColumnType::Decimal { .. } => Value::Decimal(i128::from_le_bytes(array(bytes)?)),
            ColumnType::String => Value::String(std::str::from_utf8(bytes).ok()?.to_string()),
            ColumnType::Uuid => Value::Uuid(array(bytes)?),
            ColumnType::Binary => Value::Binary(bytes.to_vec()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip() {
        for name in [
            "boolean",
            "int",
            "long",
            "float",
            "double",
            "decimal(10,2)",
            "date",
            "time",
            "timestamp",
            "timestamptz",
            "string",
            "uuid",
            "binary",
        ] {
            let ty: ColumnType = name.parse().unwrap();
            assert_eq!(ty.to_string(), name);
        }
        assert_eq!(
            "Decimal( 38 , 0 )".parse::<ColumnType>().unwrap(),
            ColumnType::Decimal {
                precision: 38,
                scale: 0
            }
        );
        assert!("decimal(39,0)".parse::<ColumnType>().is_err());
        assert!("decimal(4,5)".parse::<ColumnType>().is_err());
        assert!("varchar".parse::<ColumnType>().is_err());
    }

    #[test]
    fn encoding_round_trips_every_type() {
        let cases = [
            (ColumnType::Boolean, Value::Boolean(true)),
            (ColumnType::Int, Value::Int(-7)),
            (ColumnType::Long, Value::Long(i64::MIN)),
            (ColumnType::Float, Value::Float(1.5)),
            (ColumnType::Double, Value::Double(-2.25)),
            (
                ColumnType::Decimal {
                    precision: 38,
                    scale: 4,
                },
                Value::Decimal(-123_456_789_012_345_678_901_234_567i128),
            ),
            (ColumnType::Date, Value::Date(19_000)),
            (ColumnType::Time, Value::Time(3_600_000_000)),
            (
                ColumnType::Timestamp,
                Value::Timestamp(1_700_000_000_000_000),
            ),
            (ColumnType::Timestamptz, Value::Timestamptz(-1)),
            (ColumnType::String, Value::String("grüße".into())),
            (ColumnType::Uuid, Value::Uuid([7; 16])),
            (ColumnType::Binary, Value::Binary(vec![0, 255])),
        ];
        for (ty, value) in cases {
            let mut bytes = Vec::new();
            value.encode_into(&mut bytes);
            assert_eq!(Value::decode(ty, &bytes), Some(value.clone()), "{ty}");
            assert!(value.fits(ty));
            assert!(value.encodes_as(&bytes), "{ty}");
            assert!(Value::is_encoding(ty, &bytes), "{ty}");
            let mut other = bytes.clone();
            other[0] ^= 1;
            assert!(!value.encodes_as(&other), "{ty}");
            assert!(
                !Value::is_encoding(ty, &bytes[1..])
                    || ty == ColumnType::Binary
                    || ty == ColumnType::String,
                "{ty}"
            );
        }
        assert_eq!(Value::decode(ColumnType::Long, &[1, 2, 3]), None);
        assert_eq!(Value::decode(ColumnType::String, &[0xff]), None);
        assert!(!Value::is_encoding(ColumnType::String, &[0xff]));
        assert!(!Value::is_encoding(ColumnType::Boolean, &[2]));
    }
}
