//! Conversions of JSON values into typed values: by Kafka Connect schema
//! ([`Conv`], with a schema block) and by target column type
//! ([`to_type`], without one).
//!
//! Every function here returns a short reason on failure; the caller adds the
//! column, the value and the record.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use floe_contract::decimal::{POW10, format_decimal, parse_decimal_exact};

use crate::change::json::days_from_date;
use crate::change::{ColumnType, Value};

use super::numeric_time::{TimeUnit, UnitSource};
use super::raw::Token;

/// The converter of a column whose Connect schema is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Conv {
    /// The lenient conversion to a column type that [`to_type`] does.
    Plain(ColumnType),
    /// `org.apache.kafka.connect.data.Decimal`: base64 big-endian two's
    /// complement bytes (or a JSON number, or decimal text) at
    /// `source_scale`, stored at the type's precision and scale.
    Decimal {
        /// Digits of the Iceberg type.
        precision: u8,
        /// Scale of the Iceberg type.
        scale: u8,
        /// Scale of the unscaled bytes (may be negative for Oracle).
        source_scale: i32,
    },
    /// `io.debezium.data.VariableScaleDecimal` (`{"scale", "value"}`): at
    /// the table's decimal type when it has one, else a double.
    VariableScaleDecimal(Option<(u8, u8)>),
    /// An integer count of `unit` since the epoch, to `timestamp`.
    Timestamp(TimeUnit),
    /// An integer count of `unit` since midnight, to `time`.
    Time(TimeUnit),
}

impl Conv {
    /// The Iceberg type this converter produces.
    pub(crate) fn column_type(self) -> ColumnType {
        match self {
            Conv::Plain(ty) => ty,
            Conv::Decimal {
                precision, scale, ..
            }
            | Conv::VariableScaleDecimal(Some((precision, scale))) => {
                ColumnType::Decimal { precision, scale }
            }
            Conv::VariableScaleDecimal(None) => ColumnType::Double,
            Conv::Timestamp(_) => ColumnType::Timestamp,
            Conv::Time(_) => ColumnType::Time,
        }
    }

    /// Converts a non-null token; `units` gives the unit of an integer
    /// that the schema names none for.
    pub(crate) fn convert(self, token: &Token, units: impl UnitSource) -> Result<Value, String> {
        match self {
            Conv::Plain(ty) => to_type(ty, token, units),
            Conv::Decimal {
                precision,
                scale,
                source_scale,
            } => match token {
                Token::String(text) => {
                    let unscaled = match decode_base64_int(text) {
                        Ok(unscaled) => unscaled,
                        // Not base64: decimal text (decimal.handling.mode=string with a Decimal schema).
                        Err(_) => return decimal_from_text(text, precision, scale),
                    };
                    Ok(Value::Decimal(rescale(
                        unscaled,
                        source_scale,
                        precision,
                        scale,
                    )?))
                }
                Token::Number(text) => decimal_from_text(text, precision, scale),
                Token::Nested(text) => variable_scale_decimal(text, Some((precision, scale))),
                _ => Err("expected base64 decimal bytes or a number".into()),
            },
            Conv::VariableScaleDecimal(target) => match token {
                Token::Nested(text) => variable_scale_decimal(text, target),
                // Tolerate a plain number or decimal text.
                _ => match target {
                    Some((precision, scale)) => {
                        to_type(ColumnType::Decimal { precision, scale }, token, units)
                    }
                    None => to_type(ColumnType::Double, token, units),
                },
            },
            Conv::Timestamp(unit) => match token {
                Token::Number(text) => {
                    let v = integer(text)?;
                    unit.to_micros(v)
                        .map(Value::Timestamp)
                        .ok_or_else(|| "out of range".into())
                }
                _ => to_type(ColumnType::Timestamp, token, units),
            },
            Conv::Time(unit) => match token {
                Token::Number(text) => time_of_day(unit.to_micros(integer(text)?)),
                _ => to_type(ColumnType::Time, token, units),
            },
        }
    }
}

/// Converts a non-null token to a value of `ty`, leniently: numbers may
/// come as strings, integral numbers as `1.0`, dates/times/timestamps as
/// integers (in the unit `units` gives) or ISO text, decimals as numbers,
/// text or base64, binary as base64.
pub(crate) fn to_type(
    ty: ColumnType,
    token: &Token,
    units: impl UnitSource,
) -> Result<Value, String> {
    match ty {
        ColumnType::Boolean => match token {
            Token::Bool(b) => Ok(Value::Boolean(*b)),
            Token::String(s) if s == "true" => Ok(Value::Boolean(true)),
            Token::String(s) if s == "false" => Ok(Value::Boolean(false)),
            Token::Number(n) if n == "1" => Ok(Value::Boolean(true)),
            Token::Number(n) if n == "0" => Ok(Value::Boolean(false)),
            _ => Err("expected true or false".into()),
        },
        ColumnType::Int => {
            let v = integer(number_text(token)?)?;
            i32::try_from(v)
                .map(Value::Int)
                .map_err(|_| "out of range for int".into())
        }
        ColumnType::Long => integer(number_text(token)?).map(Value::Long),
        ColumnType::Float => {
            let v = float(number_text(token)?)?;
            let narrowed = v as f32;
            if narrowed.is_infinite() && v.is_finite() {
                return Err("out of range for float".into());
            }
            Ok(Value::Float(narrowed))
        }
        ColumnType::Double => float(number_text(token)?).map(Value::Double),
        ColumnType::Decimal { precision, scale } => match token {
            Token::Number(text) => decimal_from_text(text, precision, scale),
            Token::String(text) => decimal_from_text(text, precision, scale).or_else(|e| {
                // Debezium's precise mode without a schema: base64 bytes at the column's scale.
                match decode_base64_int(text) {
                    Ok(unscaled) => check_precision(unscaled, precision).map(Value::Decimal),
                    Err(_) => Err(e),
                }
            }),
            Token::Nested(text) => variable_scale_decimal(text, Some((precision, scale))),
            _ => Err("expected a decimal number".into()),
        },
        ColumnType::Date => match token {
            Token::Number(text) => {
                let days = integer(text)?;
                i32::try_from(days)
                    .map(Value::Date)
                    .map_err(|_| "out of range for date".into())
            }
            Token::String(text) => parse_date(text).map(Value::Date),
            _ => Err("expected days since 1970-01-01 or YYYY-MM-DD".into()),
        },
        ColumnType::Time => match token {
            Token::Number(text) => time_of_day(units.time_unit().to_micros(integer(text)?)),
            Token::String(text) => parse_time(text).map(Value::Time),
            _ => Err("expected microseconds since midnight or HH:MM:SS".into()),
        },
        ColumnType::Timestamp | ColumnType::Timestamptz => {
            let micros = match token {
                Token::Number(text) => {
                    let v = integer(text)?;
                    units.timestamp_unit(v).to_micros(v).ok_or("out of range")?
                }
                Token::String(text) => parse_timestamp(text)?,
                _ => {
                    return Err("expected a number since the epoch or an ISO 8601 timestamp".into());
                }
            };
            Ok(if ty == ColumnType::Timestamp {
                Value::Timestamp(micros)
            } else {
                Value::Timestamptz(micros)
            })
        }
        ColumnType::String => Ok(Value::String(match token {
            Token::String(s) => s.to_string(),
            Token::Number(s) | Token::Nested(s) => s.to_string(),
            Token::Bool(b) => b.to_string(),
            Token::Null => "null".to_owned(),
        })),
        ColumnType::Uuid => match token {
            Token::String(s) => uuid::Uuid::parse_str(s)
                .map(|u| Value::Uuid(*u.as_bytes()))
                .map_err(|_| "not a UUID".into()),
            _ => Err("expected a UUID string".into()),
        },
        ColumnType::Binary => match token {
            Token::String(s) => BASE64
                .decode(s.as_bytes())
                .map(Value::Binary)
                .map_err(|_| "not base64".into()),
            _ => Err("expected base64 text".into()),
        },
    }
}

/// The numeric text of a number or a string holding one.
fn number_text<'t>(token: &'t Token) -> Result<&'t str, String> {
    match token {
        Token::Number(text) => Ok(text),
        Token::String(text) => Ok(text.trim()),
        _ => Err("expected a number".into()),
    }
}

/// An integer from number text; `1.0` and `1e3` count, `1.5` does not.
fn integer(text: &str) -> Result<i64, String> {
    if let Ok(v) = text.parse::<i64>() {
        return Ok(v);
    }
    match parse_decimal_exact(text, 38, 0) {
        Some(v) => i64::try_from(v).map_err(|_| "out of range for long".into()),
        None if text.parse::<f64>().is_ok() => Err("not an integer".into()),
        None => Err("not a number".into()),
    }
}

fn float(text: &str) -> Result<f64, String> {
    text.parse::<f64>().map_err(|_| "not a number".into())
}

/// A decimal from its text at the column's precision and scale.
fn decimal_from_text(text: &str, precision: u8, scale: u8) -> Result<Value, String> {
    if let Some(v) = parse_decimal_exact(text, precision, scale) {
        return Ok(Value::Decimal(v));
    }
    let trimmed = text.trim();
    let numeric = trimmed
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && trimmed.parse::<f64>().is_ok();
    Err(if !numeric {
        "not a decimal number".into()
    } else if parse_decimal_exact(text, 38, scale).is_some() {
        format!("more than {precision} digits")
    } else {
        format!("does not fit decimal({precision},{scale}) without rounding")
    })
}

/// The big-endian two's-complement integer that base64 `text` encodes.
pub(crate) fn decode_base64_int(text: &str) -> Result<i128, String> {
    let mut buf = [0u8; 48];
    let bytes: Cow<[u8]> = match BASE64.decode_slice(text.as_bytes(), &mut buf) {
        Ok(n) => Cow::Borrowed(&buf[..n]),
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
            Cow::Owned(BASE64.decode(text.as_bytes()).map_err(|_| "not base64")?)
        }
        Err(_) => return Err("not base64".into()),
    };
    int_from_be_bytes(&bytes).ok_or_else(|| "more than 38 digits".into())
}

/// A big-endian two's-complement integer; `None` if it needs more than 128 bits.
pub(crate) fn int_from_be_bytes(bytes: &[u8]) -> Option<i128> {
    let Some(&first) = bytes.first() else {
        return Some(0);
    };
    let fill = if first & 0x80 != 0 { 0xff } else { 0x00 };
    let (extra, rest) = bytes.split_at(bytes.len().saturating_sub(16));
    if extra.iter().any(|&b| b != fill) {
        return None;
    }
    if !extra.is_empty() && (rest[0] & 0x80 != 0) != (fill == 0xff) {
        return None;
    }
    let mut word = [fill; 16];
    word[16 - rest.len()..].copy_from_slice(rest);
    Some(i128::from_be_bytes(word))
}

/// Fails if `unscaled` has more than `precision` digits.
fn check_precision(unscaled: i128, precision: u8) -> Result<i128, String> {
    if unscaled.unsigned_abs() >= POW10[usize::from(precision.min(38))].unsigned_abs() {
        Err(format!("more than {precision} digits"))
    } else {
        Ok(unscaled)
    }
}

/// `unscaled` at `from` scale, moved to `scale` without rounding and checked
/// against `precision`.
pub(crate) fn rescale(unscaled: i128, from: i32, precision: u8, scale: u8) -> Result<i128, String> {
    // i64: no overflow whatever the scales.
    let (to, from) = (i64::from(scale), i64::from(from));
    let v = if unscaled == 0 {
        0
    } else if to >= from {
        let factor = usize::try_from(to - from)
            .ok()
            .and_then(|d| POW10.get(d))
            .ok_or_else(|| format!("more than {precision} digits"))?;
        unscaled
            .checked_mul(*factor)
            .ok_or_else(|| format!("more than {precision} digits"))?
    } else {
        match usize::try_from(from - to).ok().and_then(|d| POW10.get(d)) {
            Some(factor) if unscaled % factor == 0 => unscaled / factor,
            _ if unscaled == 0 => 0,
            _ => {
                return Err(format!(
                    "has more than {scale} digits after the point, would round"
                ));
            }
        }
    };
    check_precision(v, precision)
}

/// `io.debezium.data.VariableScaleDecimal`: `{"scale": S, "value": base64}`,
/// at `target` (precision, scale), or as a double without one.
fn variable_scale_decimal(text: &str, target: Option<(u8, u8)>) -> Result<Value, String> {
    #[derive(serde::Deserialize)]
    struct Vsd<'a> {
        scale: i32,
        #[serde(borrow)]
        value: Cow<'a, str>,
    }
    let vsd: Vsd = serde_json::from_str(text)
        .map_err(|_| "expected {\"scale\": int, \"value\": base64}".to_string())?;
    let unscaled = decode_base64_int(&vsd.value)?;
    match target {
        Some((precision, scale)) => {
            rescale(unscaled, vsd.scale, precision, scale).map(Value::Decimal)
        }
        None => {
            let v = if vsd.scale <= 0 {
                // Beyond 10^400 a double is infinite anyway.
                (unscaled as f64) * 10f64.powi((-i64::from(vsd.scale)).min(400) as i32)
            } else {
                let scale = u8::try_from(vsd.scale).map_err(|_| "scale out of range")?;
                format_decimal(unscaled, scale)
                    .parse::<f64>()
                    .map_err(|_| "not a number")?
            };
            Ok(Value::Double(v))
        }
    }
}

/// A time of day in microseconds, checked to be within a day (24:00:00 included).
fn time_of_day(micros: Option<i64>) -> Result<Value, String> {
    match micros {
        Some(v) if (0..=86_400_000_000).contains(&v) => Ok(Value::Time(v)),
        _ => Err("not a time of day".into()),
    }
}

/// `YYYY-MM-DD`, optionally followed by `Z` (io.debezium.time.IsoDate).
fn parse_date(text: &str) -> Result<i32, String> {
    let text = text.trim();
    let text = text.strip_suffix('Z').unwrap_or(text);
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(days_from_date)
        .map_err(|_| "not a date (YYYY-MM-DD)".into())
}

/// `HH:MM:SS[.fraction]`, optionally followed by `Z`.
fn parse_time(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let text = text.strip_suffix('Z').unwrap_or(text);
    let t = NaiveTime::parse_from_str(text, "%H:%M:%S%.f")
        .map_err(|_| "not a time of day (HH:MM:SS)")?;
    Ok(i64::from(t.num_seconds_from_midnight()) * 1_000_000 + i64::from(t.nanosecond() / 1_000))
}

/// An ISO 8601 timestamp: with an offset (converted to UTC) or without one
/// (taken as UTC); `T` or a space between date and time; a bare date is midnight.
pub(crate) fn parse_timestamp(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_micros());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Ok(t.timestamp_micros());
        }
    }
    let naive = text.strip_suffix('Z').unwrap_or(text);
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, format) {
            return Ok(t.and_utc().timestamp_micros());
        }
    }
    if let Ok(days) = parse_date(text) {
        return Ok(i64::from(days) * 86_400_000_000);
    }
    Err("not an ISO 8601 timestamp".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::debezium::numeric_time::NumericTime;
    use floe_contract::parse_decimal_exact as parse_decimal;

    fn num(text: &str) -> Token<'_> {
        Token::Number(text.into())
    }

    fn string(text: &str) -> Token<'_> {
        Token::String(text.into())
    }

    const DEC_19_4: Conv = Conv::Decimal {
        precision: 19,
        scale: 4,
        source_scale: 4,
    };

    #[test]
    fn connect_decimal_bytes_are_big_endian_twos_complement() {
        // "dzWUAA==" = 0x77 0x35 0x94 0x00 = 2_000_000_000 -> 200000.0000 at scale 4.
        assert_eq!(
            DEC_19_4.convert(&string("dzWUAA=="), NumericTime::Auto),
            Ok(Value::Decimal(2_000_000_000))
        );
        // "AYag" = 0x01 0x86 0xa0 = 100_000 -> 10.0000.
        assert_eq!(
            DEC_19_4.convert(&string("AYag"), NumericTime::Auto),
            Ok(Value::Decimal(100_000))
        );
        // 0xff 0x38 = -200.
        assert_eq!(
            DEC_19_4.convert(&string("/zg="), NumericTime::Auto),
            Ok(Value::Decimal(-200))
        );
        assert_eq!(int_from_be_bytes(&[]), Some(0));
        assert_eq!(int_from_be_bytes(&[0xff; 20]), Some(-1));
        assert_eq!(int_from_be_bytes(&[0x01; 17]), None);
        let mut seventeen = [0u8; 17];
        seventeen[1] = 0x80;
        assert_eq!(int_from_be_bytes(&seventeen), None, "positive beyond i128");
    }

    #[test]
    fn connect_decimal_accepts_json_numbers_and_checks_precision() {
        let fixed = Conv::Decimal {
            precision: 38,
            scale: 3,
            source_scale: 3,
        };
        assert_eq!(
            fixed.convert(&num("1.2345678987654322e+32"), NumericTime::Auto),
            Ok(Value::Decimal(
                123_456_789_876_543_220_000_000_000_000_000_000
            ))
        );
        let small = Conv::Decimal {
            precision: 2,
            scale: 1,
            source_scale: 1,
        };
        assert_eq!(
            small.convert(&num("1.1"), NumericTime::Auto),
            Ok(Value::Decimal(11))
        );
        assert!(small.convert(&num("12.5"), NumericTime::Auto).is_err());
        assert!(
            small
                .convert(&num("1.15"), NumericTime::Auto)
                .unwrap_err()
                .contains("rounding")
        );
        // 100_000 at scale 4 = 10.0000 has 6 digits: too many for precision 5.
        let narrow = Conv::Decimal {
            precision: 5,
            scale: 4,
            source_scale: 4,
        };
        assert!(narrow.convert(&string("AYag"), NumericTime::Auto).is_err());
    }

    #[test]
    fn plain_decimals_match_the_general_parser() {
        for (text, p, s) in [
            ("0", 1, 0),
            ("-0.50", 5, 2),
            ("12345.110", 8, 3),
            ("1.5", 10, 0),
            (".5", 3, 1),
            ("5.", 3, 1),
            ("-", 3, 1),
            ("1e3", 10, 0),
            ("99999999999999999999999999999999999999", 38, 0),
            ("999999999999999999999999999999999999999", 38, 0),
            ("12.345", 4, 3),
            ("00012", 2, 0),
            ("1.2.3", 5, 2),
        ] {
            assert_eq!(
                decimal_from_text(text, p, s).ok(),
                parse_decimal(text, p, s).map(Value::Decimal),
                "{text} ({p},{s})"
            );
        }
    }

    #[test]
    fn negative_source_scale_is_multiplied_out() {
        // Oracle NUMBER(5,-2): unscaled 12 at scale -2 is 1200.
        let conv = Conv::Decimal {
            precision: 7,
            scale: 0,
            source_scale: -2,
        };
        assert_eq!(
            conv.convert(&string("DA=="), NumericTime::Auto),
            Ok(Value::Decimal(1200))
        );
        assert_eq!(rescale(1250, 3, 10, 2), Ok(125));
        assert!(rescale(1255, 3, 10, 2).is_err());
        assert!(rescale(1, i32::MIN, 38, 0).is_err(), "no overflow");
        assert!(rescale(1, i32::MAX, 38, 38).is_err());
        assert_eq!(rescale(0, i32::MAX, 38, 0), Ok(0));
        let huge = Token::Nested(r#"{"scale":-2147483648,"value":"AQ=="}"#.into());
        assert_eq!(
            Conv::VariableScaleDecimal(None).convert(&huge, NumericTime::Auto),
            Ok(Value::Double(f64::INFINITY))
        );
        assert!(to_type(ColumnType::Long, &num("1e999999999"), NumericTime::Auto).is_err());
    }

    #[test]
    fn variable_scale_decimal_to_table_scale_or_double() {
        let vsd = Token::Nested(r#"{"scale":2,"value":"AYag"}"#.into()); // 1000.00
        assert_eq!(
            Conv::VariableScaleDecimal(Some((10, 3))).convert(&vsd, NumericTime::Auto),
            Ok(Value::Decimal(1_000_000))
        );
        assert_eq!(
            Conv::VariableScaleDecimal(None).convert(&vsd, NumericTime::Auto),
            Ok(Value::Double(1000.0))
        );
        assert_eq!(
            Conv::VariableScaleDecimal(None).column_type(),
            ColumnType::Double
        );
        let fine = Token::Nested(r#"{"scale":5,"value":"AYah"}"#.into()); // 1.00001
        assert!(
            Conv::VariableScaleDecimal(Some((10, 3)))
                .convert(&fine, NumericTime::Auto)
                .is_err()
        );
        assert!(
            Conv::VariableScaleDecimal(None)
                .convert(&num("x"), NumericTime::Auto)
                .is_err()
        );
    }

    #[test]
    fn debezium_time_units() {
        assert_eq!(
            Conv::Timestamp(TimeUnit::Millis).convert(&num("1562630400000"), NumericTime::Auto),
            Ok(Value::Timestamp(1_562_630_400_000_000))
        );
        assert_eq!(
            Conv::Timestamp(TimeUnit::Micros).convert(&num("1665791731989360"), NumericTime::Auto),
            Ok(Value::Timestamp(1_665_791_731_989_360))
        );
        assert_eq!(
            Conv::Timestamp(TimeUnit::Nanos)
                .convert(&num("1465491411815437158"), NumericTime::Auto),
            Ok(Value::Timestamp(1_465_491_411_815_437))
        );
        assert_eq!(
            Conv::Timestamp(TimeUnit::Nanos).convert(&num("-1"), NumericTime::Auto),
            Ok(Value::Timestamp(-1)),
            "floors before the epoch"
        );
        assert!(
            Conv::Timestamp(TimeUnit::Millis)
                .convert(&num("9223372036854775807"), NumericTime::Auto)
                .is_err()
        );
        assert_eq!(
            Conv::Time(TimeUnit::Millis).convert(&num("10162800"), NumericTime::Auto),
            Ok(Value::Time(10_162_800_000))
        );
        assert_eq!(
            Conv::Time(TimeUnit::Nanos).convert(&num("86131989360123"), NumericTime::Auto),
            Ok(Value::Time(86_131_989_360))
        );
        assert!(
            Conv::Time(TimeUnit::Micros)
                .convert(&num("-5"), NumericTime::Auto)
                .is_err()
        );
        assert!(
            Conv::Time(TimeUnit::Micros)
                .convert(&num("86400000001"), NumericTime::Auto)
                .is_err()
        );
    }

    #[test]
    fn zoned_and_iso_timestamps() {
        let tz = Conv::Plain(ColumnType::Timestamptz);
        // 2011-01-11T16:40:30Z = 1294764030 s; nanoseconds truncate to micros.
        assert_eq!(
            tz.convert(
                &string("2011-01-11T16:40:30.123456789+00:00"),
                NumericTime::Auto
            ),
            Ok(Value::Timestamptz(1_294_764_030_123_456))
        );
        assert_eq!(
            tz.convert(&string("2011-01-11T18:40:30+02:00"), NumericTime::Auto),
            Ok(Value::Timestamptz(1_294_764_030_000_000))
        );
        assert_eq!(
            to_type(
                ColumnType::Timestamp,
                &string("2011-01-11 16:40:30.5"),
                NumericTime::Auto
            ),
            Ok(Value::Timestamp(1_294_764_030_500_000))
        );
        assert_eq!(
            to_type(
                ColumnType::Timestamp,
                &string("2011-01-11"),
                NumericTime::Auto
            ),
            Ok(Value::Timestamp(1_294_704_000_000_000))
        );
        assert!(
            to_type(
                ColumnType::Timestamptz,
                &string("yesterday"),
                NumericTime::Auto
            )
            .is_err()
        );
    }

    #[test]
    fn numeric_timestamps_without_schema() {
        let auto = NumericTime::Auto;
        assert_eq!(
            to_type(ColumnType::Timestamp, &num("1679581805000"), auto),
            Ok(Value::Timestamp(1_679_581_805_000_000)),
            "milliseconds"
        );
        assert_eq!(
            to_type(ColumnType::Timestamp, &num("1679581805123456"), auto),
            Ok(Value::Timestamp(1_679_581_805_123_456)),
            "microseconds"
        );
        assert_eq!(
            to_type(ColumnType::Timestamptz, &num("1679581805123456789"), auto),
            Ok(Value::Timestamptz(1_679_581_805_123_456)),
            "nanoseconds"
        );
        assert_eq!(
            to_type(
                ColumnType::Timestamp,
                &num("1000"),
                NumericTime::Fixed(TimeUnit::Micros)
            ),
            Ok(Value::Timestamp(1000))
        );
        assert_eq!(
            to_type(ColumnType::Time, &num("36803000000"), auto),
            Ok(Value::Time(36_803_000_000))
        );
        assert_eq!(
            to_type(ColumnType::Time, &string("10:13:23.5Z"), auto),
            Ok(Value::Time(36_803_500_000))
        );
    }

    #[test]
    fn dates() {
        assert_eq!(
            to_type(ColumnType::Date, &num("19439"), NumericTime::Auto),
            Ok(Value::Date(19439))
        );
        assert_eq!(
            to_type(ColumnType::Date, &string("2023-03-23"), NumericTime::Auto),
            Ok(Value::Date(19439))
        );
        assert_eq!(
            to_type(ColumnType::Date, &string("1969-12-31Z"), NumericTime::Auto),
            Ok(Value::Date(-1))
        );
        assert!(to_type(ColumnType::Date, &num("3000000000"), NumericTime::Auto).is_err());
        assert!(to_type(ColumnType::Date, &string("23/03/2023"), NumericTime::Auto).is_err());
    }

    #[test]
    fn lenient_scalars() {
        let a = NumericTime::Auto;
        assert_eq!(to_type(ColumnType::Int, &num("1.0"), a), Ok(Value::Int(1)));
        assert_eq!(
            to_type(ColumnType::Int, &string(" 42 "), a),
            Ok(Value::Int(42))
        );
        assert!(
            to_type(ColumnType::Int, &num("1.5"), a)
                .unwrap_err()
                .contains("integer")
        );
        assert!(to_type(ColumnType::Int, &num("3000000000"), a).is_err());
        assert_eq!(
            to_type(ColumnType::Long, &num("1e3"), a),
            Ok(Value::Long(1000))
        );
        assert_eq!(
            to_type(ColumnType::Boolean, &string("true"), a),
            Ok(Value::Boolean(true))
        );
        assert_eq!(
            to_type(ColumnType::Boolean, &num("0"), a),
            Ok(Value::Boolean(false))
        );
        assert!(to_type(ColumnType::Boolean, &num("2"), a).is_err());
        assert_eq!(
            to_type(ColumnType::Double, &string("NaN"), a)
                .map(|v| matches!(v, Value::Double(d) if d.is_nan())),
            Ok(true)
        );
        assert!(to_type(ColumnType::Float, &num("1e300"), a).is_err());
        assert_eq!(
            to_type(ColumnType::String, &Token::Nested(r#"{"a":1}"#.into()), a),
            Ok(Value::String(r#"{"a":1}"#.into()))
        );
        assert_eq!(
            to_type(ColumnType::String, &num("1.50"), a),
            Ok(Value::String("1.50".into()))
        );
        assert_eq!(
            to_type(
                ColumnType::Uuid,
                &string("67e55044-10b1-426f-9247-bb680e5fe0c8"),
                a
            ),
            Ok(Value::Uuid([
                0x67, 0xe5, 0x50, 0x44, 0x10, 0xb1, 0x42, 0x6f, 0x92, 0x47, 0xbb, 0x68, 0x0e, 0x5f,
                0xe0, 0xc8
            ]))
        );
        assert_eq!(
            to_type(ColumnType::Binary, &string("AQI="), a),
            Ok(Value::Binary(vec![1, 2]))
        );
        assert!(to_type(ColumnType::Binary, &string("***"), a).is_err());
    }

    #[test]
    fn schemaless_decimals_from_text_base64_or_struct() {
        let ty = ColumnType::Decimal {
            precision: 10,
            scale: 2,
        };
        let a = NumericTime::Auto;
        assert_eq!(
            to_type(ty, &num("12345.1"), a),
            Ok(Value::Decimal(1_234_510))
        );
        assert_eq!(to_type(ty, &string("-0.05"), a), Ok(Value::Decimal(-5)));
        assert_eq!(to_type(ty, &string("AYag"), a), Ok(Value::Decimal(100_000)));
        assert_eq!(
            to_type(
                ty,
                &Token::Nested(r#"{"scale":0,"value":"AYag"}"#.into()),
                a
            ),
            Ok(Value::Decimal(10_000_000))
        );
        assert!(to_type(ty, &string("abc!"), a).is_err());
        assert!(
            to_type(ty, &num("0.001"), a)
                .unwrap_err()
                .contains("rounding")
        );
    }
}
