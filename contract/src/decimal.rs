//! Decimal numbers ([`Decimal`]) and their text form.

use core::fmt;

use crate::ColumnType;

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

/// Parses a plain decimal number (`-12.345`, `+1`, `.5`, `1e3` not accepted)
/// into the unscaled value at `scale`, rounding half away from zero; `None`
/// when the text is not a number or the result needs more than `precision` digits.
pub fn parse_decimal(s: &str, precision: u8, scale: u8) -> Option<Decimal> {
    let s = s.trim();
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let scale_us = scale as usize;
    let mut unscaled: i128 = 0;
    for b in int
        .bytes()
        .chain(frac.bytes().chain(std::iter::repeat(b'0')).take(scale_us))
    {
        unscaled = unscaled.checked_mul(10)?.checked_add((b - b'0') as i128)?;
    }
    if frac.len() > scale_us && frac.as_bytes()[scale_us] >= b'5' {
        unscaled = unscaled.checked_add(1)?;
    }
    if unscaled >= 10i128.checked_pow(precision as u32)? {
        return None;
    }
    Some(Decimal {
        unscaled: if neg { -unscaled } else { unscaled },
        precision,
        scale,
    })
}

/// Formats an unscaled decimal at `scale` digits after the point (the text
/// form of [`Decimal`], which the precision does not change).
pub fn format_decimal(unscaled: i128, scale: u8) -> String {
    Decimal {
        unscaled,
        precision: 38,
        scale,
    }
    .to_string()
}

/// `10^i` for every `i` a decimal's precision or scale can take.
pub const POW10: [i128; 39] = {
    let mut table = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// Parses decimal text (`-12.5`, `1e3`) into an unscaled value at `scale`,
/// if it has at most `precision` digits and no more than `scale` fractional
/// digits: unlike [`parse_decimal`], exponents are accepted and nothing is
/// rounded (trailing zeros beyond the scale are dropped).
pub fn parse_decimal_exact(text: &str, precision: u8, scale: u8) -> Option<i128> {
    plain_decimal(text, precision, scale).or_else(|| general_decimal(text, precision, scale))
}

/// The common case of [`parse_decimal_exact`] without allocating: `-?d*(.d*)?`
/// that fits. `None` for anything else (exponents, rounding, overflow),
/// which the general parser then handles.
fn plain_decimal(text: &str, precision: u8, scale: u8) -> Option<i128> {
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, bytes),
    };
    let (int, frac) = match digits.iter().position(|&b| b == b'.') {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &[][..]),
    };
    let mut frac = frac;
    while frac.len() > usize::from(scale) && frac.last() == Some(&b'0') {
        frac = &frac[..frac.len() - 1];
    }
    if int.is_empty() && frac.is_empty() || frac.len() > usize::from(scale) {
        return None;
    }
    let mut v: i128 = 0;
    for &b in int.iter().chain(frac) {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    v = v.checked_mul(*POW10.get(usize::from(scale) - frac.len())?)?;
    if v.unsigned_abs() >= POW10[usize::from(precision.min(38))].unsigned_abs() {
        return None;
    }
    Some(if negative { -v } else { v })
}

/// [`parse_decimal_exact`] for every text: signs, exponents, leading zeros.
fn general_decimal(text: &str, precision: u8, scale: u8) -> Option<i128> {
    let text = text.trim();
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let mut digits: String = format!("{int}{frac}");
    // i64: no overflow whatever the exponent.
    let mut frac_len = frac.len() as i64 - i64::from(exponent);
    // Drop trailing zeros beyond the wanted scale; anything else would lose digits.
    while frac_len > i64::from(scale) && digits.ends_with('0') {
        digits.pop();
        frac_len -= 1;
    }
    if frac_len > i64::from(scale) {
        return None;
    }
    let zeros = i64::from(scale) - frac_len;
    let significant = digits.trim_start_matches('0').len() as i64;
    if significant == 0 {
        return Some(0);
    }
    if significant + zeros > i64::from(precision) {
        // Too many digits; also keeps `1e999999999` from allocating a gigabyte.
        return None;
    }
    digits.extend(std::iter::repeat_n('0', usize::try_from(zeros).ok()?));
    let digits = digits.trim_start_matches('0');
    if digits.len() > usize::from(precision) {
        return None;
    }
    let magnitude: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    Some(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        let d = parse_decimal("123.456", 10, 2).unwrap();
        assert_eq!(d.unscaled, 12346);
        assert_eq!(d.to_string(), "123.46");
        assert_eq!(parse_decimal("-0.05", 5, 2).unwrap().to_string(), "-0.05");
        assert_eq!(parse_decimal("1000", 3, 0), None);
        assert_eq!(parse_decimal("1e3", 10, 0), None);
        assert_eq!(parse_decimal(".5", 3, 1).unwrap().unscaled, 5);
    }

    #[test]
    fn decimals_parse_exactly_and_format_at_scale() {
        assert_eq!(parse_decimal_exact("12.5", 10, 2), Some(1250));
        assert_eq!(parse_decimal_exact("1e3", 10, 2), Some(100_000));
        assert_eq!(parse_decimal_exact("1.255", 10, 2), None, "would round");
        assert_eq!(parse_decimal_exact("1e999999999", 38, 0), None);
        assert_eq!(format_decimal(-1, 2), "-0.01");
    }

    #[test]
    fn the_plain_fast_path_agrees_with_the_general_parser() {
        for (text, p, s) in [
            ("0", 1, 0),
            ("-0.50", 5, 2),
            ("12345.110", 8, 3),
            (".5", 3, 1),
            ("5.", 3, 1),
            ("99999999999999999999999999999999999999", 38, 0),
            ("00012", 2, 0),
            ("-0.000", 10, 2),
        ] {
            assert_eq!(
                plain_decimal(text, p, s),
                general_decimal(text, p, s),
                "{text} ({p},{s})"
            );
        }
    }
}
