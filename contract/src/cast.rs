//! Casting values between column types.

use crate::Error;
use crate::decimal::parse_decimal;
use crate::{ColumnType, Decimal, OwnedValue, Value};

const MICROS_PER_DAY: i64 = 86_400_000_000;

fn pow10(scale: u8) -> i128 {
    10i128.pow(scale as u32)
}

fn fits(unscaled: i128, precision: u8) -> bool {
    unscaled.unsigned_abs() < 10u128.pow(precision as u32)
}

/// Rescales a decimal, rounding half away from zero; `None` when it no longer fits.
fn rescale(d: Decimal, precision: u8, scale: u8) -> Option<Decimal> {
    let unscaled = if scale >= d.scale {
        d.unscaled.checked_mul(pow10(scale - d.scale))?
    } else {
        let div = pow10(d.scale - scale);
        let q = d.unscaled / div;
        let r = d.unscaled % div;
        if r.unsigned_abs() * 2 >= div.unsigned_abs() {
            q + d.unscaled.signum()
        } else {
            q
        }
    };
    fits(unscaled, precision).then_some(Decimal {
        unscaled,
        precision,
        scale,
    })
}

fn float_to_integer(v: f64) -> Option<i64> {
    (v.is_finite() && v.fract() == 0.0 && v >= i64::MIN as f64 && v < i64::MAX as f64)
        .then_some(v as i64)
}

impl Value<'_> {
    /// Casts the value to `ty`.
    ///
    /// - `Null` stays `Null`; a value of type `ty` is copied.
    /// - Anything → `string`: its text form (`Display`; binary becomes lowercase hex).
    /// - `string` → anything: [`ColumnType::parse_value`].
    /// - Between `int`, `long`, `float`, `double` and `decimal(P,S)`: exact
    ///   conversions only towards integers (a fraction or an out-of-range
    ///   number is an error); towards decimals, rounding half away from zero
    ///   to the scale, an error when the precision is exceeded.
    /// - `boolean` ↔ `int`/`long` as 1/0 (other numbers are an error).
    /// - `date` ↔ `timestamp`/`timestamptz` (midnight; the day of the instant),
    ///   `timestamp` ↔ `timestamptz` (the same microseconds), timestamps → `time`.
    /// - `int` ↔ `date` (days) and `long` ↔ `time`/`timestamp`/`timestamptz`
    ///   (microseconds).
    /// - `uuid` ↔ `binary` (16 bytes).
    ///
    /// The error names the value and the types; callers add the column.
    pub fn cast(&self, ty: ColumnType) -> Result<OwnedValue, Error> {
        let from = match self.column_type() {
            None => return Ok(OwnedValue::Null),
            Some(from) if from == ty => return Ok(self.to_owned_value()),
            Some(from) => from,
        };
        if ty == ColumnType::String {
            return Ok(OwnedValue::String(self.to_string()));
        }
        if let Value::String(s) = self {
            return ty.parse_value(s);
        }
        let fail = || Error::new(format!("cannot cast {from} `{self}` to {ty}"));
        let out = match (*self, ty) {
            // Integers.
            (Value::Int(v), ColumnType::Long) => Some(OwnedValue::Long(v as i64)),
            (Value::Long(v), ColumnType::Int) => i32::try_from(v).ok().map(OwnedValue::Int),
            (Value::Int(_) | Value::Long(_), ColumnType::Float) => {
                Some(OwnedValue::Float(self.as_i64().unwrap() as f32))
            }
            (Value::Int(_) | Value::Long(_), ColumnType::Double) => {
                Some(OwnedValue::Double(self.as_i64().unwrap() as f64))
            }
            (Value::Int(_) | Value::Long(_), ColumnType::Decimal { precision, scale }) => {
                let unscaled = (self.as_i64().unwrap() as i128).checked_mul(pow10(scale));
                unscaled.filter(|u| fits(*u, precision)).map(|unscaled| {
                    OwnedValue::Decimal(Decimal {
                        unscaled,
                        precision,
                        scale,
                    })
                })
            }
            (Value::Int(_) | Value::Long(_), ColumnType::Boolean) => match self.as_i64() {
                Some(0) => Some(OwnedValue::Boolean(false)),
                Some(1) => Some(OwnedValue::Boolean(true)),
                _ => None,
            },
            (Value::Boolean(b), ColumnType::Int) => Some(OwnedValue::Int(b as i32)),
            (Value::Boolean(b), ColumnType::Long) => Some(OwnedValue::Long(b as i64)),
            // Floating point.
            (Value::Float(_) | Value::Double(_), ColumnType::Int) => {
                float_to_integer(self.as_f64().unwrap())
                    .and_then(|v| i32::try_from(v).ok())
                    .map(OwnedValue::Int)
            }
            (Value::Float(_) | Value::Double(_), ColumnType::Long) => {
                float_to_integer(self.as_f64().unwrap()).map(OwnedValue::Long)
            }
            (Value::Float(v), ColumnType::Double) => {
                // Through the shortest text form, so 0.1f32 becomes 0.1, not 0.100000001.
                v.to_string().parse().ok().map(OwnedValue::Double)
            }
            (Value::Double(v), ColumnType::Float) => {
                let f = v as f32;
                (f.is_finite() || !v.is_finite()).then_some(OwnedValue::Float(f))
            }
            (Value::Float(_) | Value::Double(_), ColumnType::Decimal { precision, scale }) => {
                let text = self.to_string();
                parse_decimal(&text, precision, scale).map(OwnedValue::Decimal)
            }
            // Decimals.
            (Value::Decimal(d), ColumnType::Decimal { precision, scale }) => {
                rescale(d, precision, scale).map(OwnedValue::Decimal)
            }
            (Value::Decimal(d), ColumnType::Int | ColumnType::Long) => {
                let div = pow10(d.scale);
                (d.unscaled % div == 0)
                    .then_some(d.unscaled / div)
                    .and_then(|v| match ty {
                        ColumnType::Int => i32::try_from(v).ok().map(OwnedValue::Int),
                        _ => i64::try_from(v).ok().map(OwnedValue::Long),
                    })
            }
            (Value::Decimal(d), ColumnType::Double) => {
                d.to_string().parse().ok().map(OwnedValue::Double)
            }
            (Value::Decimal(d), ColumnType::Float) => {
                d.to_string().parse().ok().map(OwnedValue::Float)
            }
            // Dates and times.
            (Value::Date(d), ColumnType::Timestamp) => {
                Some(OwnedValue::Timestamp(d as i64 * MICROS_PER_DAY))
            }
            (Value::Date(d), ColumnType::Timestamptz) => {
                Some(OwnedValue::Timestamptz(d as i64 * MICROS_PER_DAY))
            }
            (Value::Date(d), ColumnType::Int) => Some(OwnedValue::Int(d)),
            (Value::Int(d), ColumnType::Date) => Some(OwnedValue::Date(d)),
            (Value::Timestamp(t) | Value::Timestamptz(t), ColumnType::Date) => {
                i32::try_from(t.div_euclid(MICROS_PER_DAY))
                    .ok()
                    .map(OwnedValue::Date)
            }
            (Value::Timestamp(t) | Value::Timestamptz(t), ColumnType::Time) => {
                Some(OwnedValue::Time(t.rem_euclid(MICROS_PER_DAY)))
            }
            (Value::Timestamp(t), ColumnType::Timestamptz) => Some(OwnedValue::Timestamptz(t)),
            (Value::Timestamptz(t), ColumnType::Timestamp) => Some(OwnedValue::Timestamp(t)),
            (Value::Timestamp(t) | Value::Timestamptz(t) | Value::Time(t), ColumnType::Long) => {
                Some(OwnedValue::Long(t))
            }
            (Value::Long(t), ColumnType::Timestamp) => Some(OwnedValue::Timestamp(t)),
            (Value::Long(t), ColumnType::Timestamptz) => Some(OwnedValue::Timestamptz(t)),
            (Value::Long(t), ColumnType::Time) => (0..MICROS_PER_DAY)
                .contains(&t)
                .then_some(OwnedValue::Time(t)),
            // Bytes.
            (Value::Uuid(u), ColumnType::Binary) => Some(OwnedValue::Binary(u.to_vec())),
            (Value::Binary(b), ColumnType::Uuid) => {
                <[u8; 16]>::try_from(b).ok().map(OwnedValue::Uuid)
            }
            _ => None,
        };
        out.ok_or_else(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(unscaled: i128, precision: u8, scale: u8) -> Decimal {
        Decimal {
            unscaled,
            precision,
            scale,
        }
    }

    #[test]
    fn numeric_casts() {
        assert_eq!(
            Value::Long(7).cast(ColumnType::Int).unwrap(),
            OwnedValue::Int(7)
        );
        assert!(Value::Long(1 << 40).cast(ColumnType::Int).is_err());
        assert_eq!(
            Value::Double(3.0).cast(ColumnType::Long).unwrap(),
            OwnedValue::Long(3)
        );
        let err = Value::Double(3.5).cast(ColumnType::Long).unwrap_err();
        assert_eq!(err.to_string(), "cannot cast double `3.5` to long");
        assert_eq!(
            Value::Double(19.995)
                .cast(ColumnType::Decimal {
                    precision: 5,
                    scale: 2
                })
                .unwrap(),
            OwnedValue::Decimal(dec(2000, 5, 2))
        );
        assert_eq!(
            Value::Decimal(dec(-12345, 10, 3))
                .cast(ColumnType::Decimal {
                    precision: 4,
                    scale: 1
                })
                .unwrap(),
            OwnedValue::Decimal(dec(-123, 4, 1))
        );
        assert!(
            Value::Decimal(dec(12345, 10, 0))
                .cast(ColumnType::Decimal {
                    precision: 4,
                    scale: 0
                })
                .is_err()
        );
        assert_eq!(
            Value::Decimal(dec(1250, 6, 2))
                .cast(ColumnType::Double)
                .unwrap(),
            OwnedValue::Double(12.5)
        );
        assert!(
            Value::Decimal(dec(1250, 6, 2))
                .cast(ColumnType::Long)
                .is_err()
        );
        assert_eq!(
            Value::Float(0.1).cast(ColumnType::Double).unwrap(),
            OwnedValue::Double(0.1)
        );
    }

    #[test]
    fn text_and_time_casts() {
        assert_eq!(
            Value::Long(5).cast(ColumnType::String).unwrap(),
            OwnedValue::String("5".into())
        );
        assert_eq!(
            Value::String("2024-01-31T10:00:00Z")
                .cast(ColumnType::Timestamptz)
                .unwrap(),
            OwnedValue::Timestamptz(1_706_695_200_000_000)
        );
        assert_eq!(
            Value::String("x")
                .cast(ColumnType::Long)
                .unwrap_err()
                .to_string(),
            "`x` is not a valid long"
        );
        assert_eq!(
            Value::Timestamp(86_400_000_001)
                .cast(ColumnType::Date)
                .unwrap(),
            OwnedValue::Date(1)
        );
        assert_eq!(
            Value::Null.cast(ColumnType::Date).unwrap(),
            OwnedValue::Null
        );
        assert!(Value::Boolean(true).cast(ColumnType::Date).is_err());
    }
}
