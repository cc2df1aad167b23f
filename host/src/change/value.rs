//! Typed values, owned: what a [`Change`](super::Change) holds.

use floe_contract::{ColumnType, Decimal};

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

    /// The value as the contract's borrowed [`floe_contract::Value`], whose
    /// cell encoding is the one a batch holds. A decimal's precision and
    /// scale are not in its encoding: it is given as `decimal(38,0)`.
    pub fn as_cell(&self) -> floe_contract::Value<'_> {
        use floe_contract::Value as V;
        match self {
            Value::Boolean(v) => V::Boolean(*v),
            Value::Int(v) => V::Int(*v),
            Value::Long(v) => V::Long(*v),
            Value::Float(v) => V::Float(*v),
            Value::Double(v) => V::Double(*v),
            Value::Decimal(v) => V::Decimal(Decimal {
                unscaled: *v,
                precision: 38,
                scale: 0,
            }),
            Value::Date(v) => V::Date(*v),
            Value::Time(v) => V::Time(*v),
            Value::Timestamp(v) => V::Timestamp(*v),
            Value::Timestamptz(v) => V::Timestamptz(*v),
            Value::String(s) => V::String(s),
            Value::Uuid(u) => V::Uuid(*u),
            Value::Binary(b) => V::Binary(b),
        }
    }

    /// Appends the value's bytes in the plugin contract's cell encoding
    /// (little-endian fixed width; UTF-8 for strings; raw binary).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        self.as_cell().encode_into(out)
    }

    /// Whether the value's column encoding (see [`Value::encode_into`]) is
    /// `bytes`, checked without encoding it.
    pub fn encodes_as(&self, bytes: &[u8]) -> bool {
        self.as_cell().encodes_as(bytes)
    }

    /// Whether `bytes` are a valid column encoding of a value of type `ty`:
    /// exactly when [`Value::decode`] would succeed, without allocating.
    pub fn is_encoding(ty: ColumnType, bytes: &[u8]) -> bool {
        floe_contract::cell::is_encoding(ty, bytes)
    }

    /// Reads a value of type `ty` from its column encoding; `None` when the
    /// bytes do not have the type's width or are not UTF-8 for a string.
    pub fn decode(ty: ColumnType, bytes: &[u8]) -> Option<Value> {
        use floe_contract::Value as V;
        Some(match floe_contract::Value::decode(ty, bytes)? {
            V::Null => return None,
            V::Boolean(v) => Value::Boolean(v),
            V::Int(v) => Value::Int(v),
            V::Long(v) => Value::Long(v),
            V::Float(v) => Value::Float(v),
            V::Double(v) => Value::Double(v),
            V::Decimal(d) => Value::Decimal(d.unscaled),
            V::Date(v) => Value::Date(v),
            V::Time(v) => Value::Time(v),
            V::Timestamp(v) => Value::Timestamp(v),
            V::Timestamptz(v) => Value::Timestamptz(v),
            V::String(s) => Value::String(s.to_string()),
            V::Uuid(u) => Value::Uuid(u),
            V::Binary(b) => Value::Binary(b.to_vec()),
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
