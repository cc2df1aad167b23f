//! The Iceberg primitive types of columns ([`ColumnType`]) and their names.

use core::fmt;
use core::str::FromStr;

use crate::Error;

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

    /// Whether the type is one Iceberg has: every type but a decimal whose
    /// precision is not 1..=38 or whose scale exceeds its precision.
    pub fn is_valid(self) -> bool {
        match self {
            ColumnType::Decimal { precision, scale } => {
                (1..=38).contains(&precision) && scale <= precision
            }
            _ => true,
        }
    }
}

/// Writes the conversions between [`ColumnType`] and a generated `wit`
/// module's `ColumnType` (wasmtime's `bindgen!` on the host, `wit-bindgen` in
/// the guest: the same shape, two Rust types), as
/// `column_type_to_wit(ColumnType) -> wit::ColumnType` and
/// `column_type_from_wit(&wit::ColumnType) -> ColumnType`.
///
/// Call it where `wit` names the module holding the generated `ColumnType`
/// and `DecimalType`. A decimal is taken as it is; checking it is the
/// batch's validation ([`ColumnType::is_valid`]).
#[macro_export]
macro_rules! column_type_conversions {
    ($vis:vis) => {
        /// The contract's generated form of a column type.
        $vis fn column_type_to_wit(ty: $crate::ColumnType) -> wit::ColumnType {
            use $crate::ColumnType as T;
            match ty {
                T::Boolean => wit::ColumnType::Boolean,
                T::Int => wit::ColumnType::Int,
                T::Long => wit::ColumnType::Long,
                T::Float => wit::ColumnType::Float,
                T::Double => wit::ColumnType::Double,
                T::Decimal { precision, scale } => {
                    wit::ColumnType::Decimal(wit::DecimalType { precision, scale })
                }
                T::Date => wit::ColumnType::Date,
                T::Time => wit::ColumnType::Time,
                T::Timestamp => wit::ColumnType::Timestamp,
                T::Timestamptz => wit::ColumnType::Timestamptz,
                T::String => wit::ColumnType::String,
                T::Uuid => wit::ColumnType::Uuid,
                T::Binary => wit::ColumnType::Binary,
            }
        }

        /// A column type from the contract's generated form.
        $vis fn column_type_from_wit(ty: &wit::ColumnType) -> $crate::ColumnType {
            use $crate::ColumnType as T;
            match ty {
                wit::ColumnType::Boolean => T::Boolean,
                wit::ColumnType::Int => T::Int,
                wit::ColumnType::Long => T::Long,
                wit::ColumnType::Float => T::Float,
                wit::ColumnType::Double => T::Double,
                wit::ColumnType::Decimal(d) => T::Decimal {
                    precision: d.precision,
                    scale: d.scale,
                },
                wit::ColumnType::Date => T::Date,
                wit::ColumnType::Time => T::Time,
                wit::ColumnType::Timestamp => T::Timestamp,
                wit::ColumnType::Timestamptz => T::Timestamptz,
                wit::ColumnType::String => T::String,
                wit::ColumnType::Uuid => T::Uuid,
                wit::ColumnType::Binary => T::Binary,
            }
        }
    };
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
    /// (case-insensitive, white space ignored, as in `decimal( P , S )`). The
    /// aliases `integer`, `bigint`, `bool`, `text` and `bytes` are accepted too.
    fn from_str(s: &str) -> Result<ColumnType, Error> {
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
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
                let bad = || {
                    Error::new(format!(
                        "unknown column type `{}` (expected boolean, int, long, float, double, \
                         decimal(P,S), date, time, timestamp, timestamptz, string, uuid or binary)",
                        s.trim()
                    ))
                };
                let inner = t
                    .strip_prefix("decimal(")
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(bad)?;
                let (p, sc) = inner.split_once(',').ok_or_else(bad)?;
                let precision: u8 = p.parse().map_err(|_| bad())?;
                let scale: u8 = sc.parse().map_err(|_| bad())?;
                let ty = ColumnType::Decimal { precision, scale };
                if !ty.is_valid() {
                    return Err(Error::new(format!(
                        "invalid decimal type `{}`: need 1 <= precision <= 38 and scale <= precision",
                        s.trim()
                    )));
                }
                ty
            }
        })
    }
}
