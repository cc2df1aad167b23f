//! Text forms of dates, times, timestamps, uuids and booleans: formatting
//! (used by `Display for Value`) and parsing text into a typed value
//! ([`ColumnType::parse_value`]).

use std::fmt;

use crate::Error;
use crate::decimal::parse_decimal;
use crate::{ColumnType, OwnedValue};

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a number of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub(crate) fn write_date(f: &mut fmt::Formatter<'_>, days: i32) -> fmt::Result {
    let (y, m, d) = civil_from_days(days as i64);
    if (0..=9999).contains(&y) {
        write!(f, "{y:04}-{m:02}-{d:02}")
    } else {
        write!(f, "{y:+}-{m:02}-{d:02}")
    }
}

pub(crate) fn write_time(f: &mut fmt::Formatter<'_>, micros: i64) -> fmt::Result {
    let micros = micros.rem_euclid(MICROS_PER_DAY);
    let secs = micros / MICROS_PER_SECOND;
    let frac = micros % MICROS_PER_SECOND;
    write!(
        f,
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )?;
    if frac != 0 {
        write!(f, ".{frac:06}")?;
    }
    Ok(())
}

pub(crate) fn write_timestamp(f: &mut fmt::Formatter<'_>, micros: i64, utc: bool) -> fmt::Result {
    let days = micros.div_euclid(MICROS_PER_DAY);
    write_date(f, days as i32)?;
    f.write_str("T")?;
    write_time(f, micros.rem_euclid(MICROS_PER_DAY))?;
    if utc {
        f.write_str("Z")?;
    }
    Ok(())
}

pub(crate) fn write_uuid(f: &mut fmt::Formatter<'_>, u: &[u8; 16]) -> fmt::Result {
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            f.write_str("-")?;
        }
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

fn digits(s: &str, n: usize) -> Option<u32> {
    if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Parses `YYYY-MM-DD` into days since 1970-01-01.
pub fn parse_date(s: &str) -> Option<i32> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let mut parts = body.splitn(3, '-');
    let y = parts.next()?;
    if y.len() < 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut year: i64 = y.parse().ok()?;
    if neg {
        year = -year;
    }
    let month = digits(parts.next()?, 2)?;
    let day = digits(parts.next()?, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    i32::try_from(days_from_civil(year, month, day)).ok()
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses `HH:MM[:SS[.fraction]]` into microseconds since midnight (fractions
/// beyond microseconds are truncated).
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let (hms, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let mut parts = hms.split(':');
    let h = digits(parts.next()?, 2)?;
    let m = digits(parts.next()?, 2)?;
    let sec = match parts.next() {
        Some(p) => digits(p, 2)?,
        None if frac.is_none() => 0,
        None => return None,
    };
    if parts.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let mut micros = 0i64;
    if let Some(frac) = frac {
        if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut padded = frac.to_string();
        while padded.len() < 6 {
            padded.push('0');
        }
        micros = padded[..6].parse().ok()?;
    }
    Some(((h as i64 * 60 + m as i64) * 60 + sec.min(59) as i64) * MICROS_PER_SECOND + micros)
}

/// Parses an ISO 8601 timestamp `YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|±HH[:MM]]`
/// into microseconds since the epoch, and whether it carried a zone offset.
/// With an offset, the result is the UTC instant.
pub fn parse_timestamp(s: &str) -> Option<(i64, bool)> {
    let s = s.trim();
    if s.len() < 10 {
        return None;
    }
    let date_end = s
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == 'T' || c == 't' || c == ' ')
        .map_or(s.len(), |(i, _)| i);
    let days = parse_date(&s[..date_end])? as i64;
    let mut rest = if date_end < s.len() {
        &s[date_end + 1..]
    } else {
        ""
    };
    let mut offset_micros = 0i64;
    let mut zoned = false;
    if let Some(r) = rest.strip_suffix(['Z', 'z']) {
        rest = r;
        zoned = true;
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let (time, zone) = rest.split_at(pos);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let zone = &zone[1..];
        let (zh, zm) = match zone.split_once(':') {
            Some((h, m)) => (digits(h, 2)?, digits(m, 2)?),
            None if zone.len() == 4 => (digits(&zone[..2], 2)?, digits(&zone[2..], 2)?),
            None => (digits(zone, 2)?, 0),
        };
        if zh > 18 || zm > 59 {
            return None;
        }
        offset_micros = sign * (zh as i64 * 3600 + zm as i64 * 60) * MICROS_PER_SECOND;
        rest = time;
        zoned = true;
    }
    let time = if rest.is_empty() {
        if date_end < s.len() && !zoned {
            return None;
        }
        0
    } else {
        parse_time(rest)?
    };
    let local = days.checked_mul(MICROS_PER_DAY)?.checked_add(time)?;
    Some((local.checked_sub(offset_micros)?, zoned))
}

/// Parses a uuid, hyphenated (`8-4-4-4-12`) or as 32 hex digits, optionally in braces.
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let s = s.trim();
    let s = s
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(s);
    let hex: Vec<u8> = s.bytes().filter(|&b| b != b'-').collect();
    if hex.len() != 32 || (s.len() != 32 && s.len() != 36) {
        return None;
    }
    if s.len() == 36 && [8, 13, 18, 23].iter().any(|&i| s.as_bytes()[i] != b'-') {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// Parses a boolean: `true`/`false`, `t`/`f`, `yes`/`no`, `y`/`n`, `1`/`0`, `on`/`off`
/// (any case).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" | "on" => Some(true),
        "false" | "f" | "no" | "n" | "0" | "off" => Some(false),
        _ => None,
    }
}

impl ColumnType {
    /// Parses the text form of a value of this type (the inverse of
    /// `Display for Value`): integers and floats as Rust parses them, decimals
    /// in plain notation (rounded half away from zero to the scale), booleans
    /// (`true`, `false`, `1`, `0`, `yes`, `no`, …), ISO 8601 dates, times and
    /// timestamps (a `timestamp` given with an offset is converted to UTC; a
    /// `timestamptz` without one is taken as UTC), uuids, strings as they are
    /// and binary as the string's UTF-8 bytes.
    pub fn parse_value(self, text: &str) -> Result<OwnedValue, Error> {
        let t = text.trim();
        let v = match self {
            ColumnType::Boolean => parse_bool(t).map(OwnedValue::Boolean),
            ColumnType::Int => t.parse().ok().map(OwnedValue::Int),
            ColumnType::Long => t.parse().ok().map(OwnedValue::Long),
            ColumnType::Float => t.parse().ok().map(OwnedValue::Float),
            ColumnType::Double => t.parse().ok().map(OwnedValue::Double),
            ColumnType::Decimal { precision, scale } => {
                parse_decimal(t, precision, scale).map(OwnedValue::Decimal)
            }
            ColumnType::Date => parse_date(t).map(OwnedValue::Date),
            ColumnType::Time => parse_time(t).map(OwnedValue::Time),
            ColumnType::Timestamp => parse_timestamp(t).map(|(m, _)| OwnedValue::Timestamp(m)),
            ColumnType::Timestamptz => parse_timestamp(t).map(|(m, _)| OwnedValue::Timestamptz(m)),
            ColumnType::Uuid => parse_uuid(t).map(OwnedValue::Uuid),
            ColumnType::String => Some(OwnedValue::String(text.to_owned())),
            ColumnType::Binary => Some(OwnedValue::Binary(text.as_bytes().to_vec())),
        };
        v.ok_or_else(|| Error::new(format!("`{text}` is not a valid {self}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;

    #[test]
    fn dates_round_trip() {
        for (text, days) in [("1970-01-01", 0), ("2024-02-29", 19782), ("1969-12-31", -1)] {
            assert_eq!(parse_date(text), Some(days), "{text}");
            assert_eq!(Value::Date(days).to_string(), text);
        }
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-13-01"), None);
        assert_eq!(parse_date("23-01-01"), None);
    }

    #[test]
    fn times_and_timestamps() {
        assert_eq!(parse_time("12:34:56.789"), Some(45_296_789_000));
        assert_eq!(parse_time("00:01"), Some(60_000_000));
        assert_eq!(Value::Time(45_296_789_000).to_string(), "12:34:56.789000");
        assert_eq!(
            parse_timestamp("1970-01-01T00:00:01Z"),
            Some((1_000_000, true))
        );
        assert_eq!(
            parse_timestamp("1970-01-01 01:00:00+01:00"),
            Some((0, true))
        );
        assert_eq!(
            parse_timestamp("1970-01-01T00:00:00-0130"),
            Some((5_400_000_000, true))
        );
        assert_eq!(parse_timestamp("1970-01-02"), Some((86_400_000_000, false)));
        assert_eq!(
            parse_timestamp("2024-01-31T10:00:00.5"),
            Some((1_706_695_200_500_000, false))
        );
        assert_eq!(parse_timestamp("2024-01-31T"), None);
        assert_eq!(parse_timestamp("nonsense!!"), None);
        assert_eq!(
            Value::Timestamptz(1_706_695_200_500_000).to_string(),
            "2024-01-31T10:00:00.500000Z"
        );
        assert_eq!(
            Value::Timestamp(-1).to_string(),
            "1969-12-31T23:59:59.999999"
        );
    }

    #[test]
    fn uuids() {
        let text = "123e4567-e89b-12d3-a456-426614174000";
        let u = parse_uuid(text).unwrap();
        assert_eq!(u[0], 0x12);
        assert_eq!(Value::Uuid(u).to_string(), text);
        assert_eq!(parse_uuid("123e4567e89b12d3a456426614174000"), Some(u));
        assert_eq!(parse_uuid("123e4567-e89b-12d3-a456-42661417400"), None);
    }

    #[test]
    fn parse_values() {
        assert_eq!(
            ColumnType::Long.parse_value(" 42 ").unwrap(),
            OwnedValue::Long(42)
        );
        assert_eq!(
            ColumnType::Boolean.parse_value("Yes").unwrap(),
            OwnedValue::Boolean(true)
        );
        assert!(ColumnType::Int.parse_value("4.5").is_err());
        let err = ColumnType::Date.parse_value("soon").unwrap_err();
        assert_eq!(err.to_string(), "`soon` is not a valid date");
    }

    #[test]
    fn column_type_names() {
        for ty in [
            ColumnType::Boolean,
            ColumnType::Decimal {
                precision: 10,
                scale: 2,
            },
            ColumnType::Timestamptz,
            ColumnType::Binary,
        ] {
            assert_eq!(ty.to_string().parse::<ColumnType>().unwrap(), ty);
        }
        assert_eq!(
            "Decimal( 38 , 0 )".parse::<ColumnType>().unwrap(),
            ColumnType::Decimal {
                precision: 38,
                scale: 0
            }
        );
        assert!("decimal(2,3)".parse::<ColumnType>().is_err());
        assert!("varchar".parse::<ColumnType>().is_err());
    }
}
