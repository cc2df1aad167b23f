//! The typing of DTS's column values: each is a union of `Integer`,
//! `Character`, `Decimal`, `Float`, `Timestamp`, `DateTime`,
//! `TimestampWithTimeZone`, the geometries, `BinaryObject`, `TextObject` and
//! `EmptyObject` (or null).

use apache_avro::types::Value as Avro;
use floe_guest::parse::{parse_decimal, parse_timestamp};
use floe_guest::{ColumnType, Error, OwnedValue};

/// A typed column value; `None` is SQL NULL.
pub type Typed = (ColumnType, Option<OwnedValue>);

/// The column type of a null in a column of MySQL type number `code` (the
/// `dataTypeNumber` of DTS's `fields`, MySQL's binlog type codes), matching
/// what the non-null values of such a column become.
fn null_type(code: i32) -> ColumnType {
    match code {
        1 | 2 | 3 | 8 | 9 | 13 | 16 => ColumnType::Long,
        4 | 5 => ColumnType::Double,
        7 | 17 => ColumnType::Timestamptz,
        10 | 14 => ColumnType::Date,
        11 | 19 => ColumnType::Time,
        12 | 18 => ColumnType::Timestamp,
        249..=252 => ColumnType::Binary,
        _ => ColumnType::String,
    }
}

/// The fields of an Avro record value, by name.
pub struct Fields<'a>(&'a [(String, Avro)]);

impl<'a> Fields<'a> {
    /// The fields of `value`, which must be a record.
    pub fn of(value: &'a Avro, what: &str) -> Result<Fields<'a>, Error> {
        match value {
            Avro::Record(fields) => Ok(Fields(fields)),
            _ => Err(Error::new(format!("{what} is not an Avro record"))),
        }
    }

    /// The field `name`, with any union unwrapped.
    pub fn get(&self, name: &str) -> Result<&'a Avro, Error> {
        let value = self
            .0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| Error::new(format!("no field `{name}`")))?;
        Ok(match value {
            Avro::Union(_, inner) => inner,
            other => other,
        })
    }

    fn int(&self, name: &str) -> Result<i32, Error> {
        match self.get(name)? {
            Avro::Int(i) => Ok(*i),
            _ => Err(Error::new(format!("field `{name}` is not an int"))),
        }
    }

    fn opt_int(&self, name: &str) -> Result<Option<i32>, Error> {
        match self.get(name)? {
            Avro::Null => Ok(None),
            Avro::Int(i) => Ok(Some(*i)),
            _ => Err(Error::new(format!("field `{name}` is not an int"))),
        }
    }

    fn long(&self, name: &str) -> Result<i64, Error> {
        match self.get(name)? {
            Avro::Long(i) => Ok(*i),
            _ => Err(Error::new(format!("field `{name}` is not a long"))),
        }
    }

    /// The string field `name`.
    pub fn text(&self, name: &str) -> Result<&'a str, Error> {
        match self.get(name)? {
            Avro::String(s) => Ok(s),
            _ => Err(Error::new(format!("field `{name}` is not a string"))),
        }
    }

    fn bytes(&self, name: &str) -> Result<&'a [u8], Error> {
        match self.get(name)? {
            Avro::Bytes(b) => Ok(b),
            _ => Err(Error::new(format!("field `{name}` is not bytes"))),
        }
    }

    fn double(&self, name: &str) -> Result<f64, Error> {
        match self.get(name)? {
            Avro::Double(d) => Ok(*d),
            _ => Err(Error::new(format!("field `{name}` is not a double"))),
        }
    }
}

/// Types one image value of a column of MySQL type number `code`.
pub fn typed(value: &Avro, code: i32) -> Result<Typed, Error> {
    let Avro::Union(branch, inner) = value else {
        return Err(Error::new("a column value is not a union"));
    };
    let fields = || Fields::of(inner, "a column value");
    let some = |ty: ColumnType, v: OwnedValue| Ok((ty, Some(v)));
    match branch {
        0 => Ok((null_type(code), None)),
        // Integer: the digits as text, of any width.
        1 => {
            let text = fields()?.text("value")?;
            let i: i64 = text
                .parse()
                .map_err(|_| Error::new(format!("Integer `{text}` does not fit a long")))?;
            some(ColumnType::Long, OwnedValue::Long(i))
        }
        // Character: bytes in the column's charset.
        2 => {
            let f = fields()?;
            let charset = f.text("charset")?;
            let bytes = f.bytes("value")?;
            let text = if charset.eq_ignore_ascii_case("latin1") {
                bytes.iter().map(|&b| char::from(b)).collect()
            } else {
                String::from_utf8(bytes.to_vec()).map_err(|_| {
                    Error::new(format!("Character in charset `{charset}` is not UTF-8"))
                })?
            };
            some(ColumnType::String, OwnedValue::String(text))
        }
        3 => {
            let f = fields()?;
            let text = f.text("value")?;
            let (p, s) = (f.int("precision")?, f.int("scale")?);
            let (Ok(precision @ 1..=38), Ok(scale)) = (u8::try_from(p), u8::try_from(s)) else {
                return Err(Error::new(format!(
                    "Decimal({p},{s}) is beyond decimal(38)"
                )));
            };
            let d = parse_decimal(text, precision, scale).ok_or_else(|| {
                Error::new(format!("Decimal `{text}` does not fit decimal({p},{s})"))
            })?;
            some(d.column_type(), OwnedValue::Decimal(d))
        }
        4 => some(
            ColumnType::Double,
            OwnedValue::Double(fields()?.double("value")?),
        ),
        // Timestamp: epoch seconds and the fraction (MySQL's microseconds).
        5 => {
            let f = fields()?;
            let fraction = i64::from(f.int("millis")?);
            let micros = f
                .long("timestamp")?
                .checked_mul(1_000_000)
                .and_then(|s| s.checked_add(fraction))
                .ok_or_else(|| Error::new("Timestamp out of range"))?;
            some(ColumnType::Timestamptz, OwnedValue::Timestamptz(micros))
        }
        6 => date_time(&fields()?, code),
        7 => {
            let f = fields()?;
            let zone = f.text("timezone")?;
            let offset = match zone {
                "UTC" | "GMT" | "Z" => "Z",
                z if z.starts_with(['+', '-']) => z,
                z => return Err(Error::new(format!("time zone `{z}` is not a UTC offset"))),
            };
            let local = iso(&Fields::of(f.get("value")?, "a DateTime")?, true)?;
            let (micros, _) = parse_timestamp(&format!("{local}{offset}"))
                .ok_or_else(|| Error::new(format!("`{local}{offset}` is not a valid time")))?;
            some(ColumnType::Timestamptz, OwnedValue::Timestamptz(micros))
        }
        8 | 9 => Err(Error::new("geometry values are not supported")),
        10 => some(
            ColumnType::Binary,
            OwnedValue::Binary(fields()?.bytes("value")?.to_vec()),
        ),
        11 => some(
            ColumnType::String,
            OwnedValue::String(fields()?.text("value")?.to_owned()),
        ),
        12 => Ok((null_type(code), None)),
        other => Err(Error::new(format!(
            "unknown value type (union branch {other})"
        ))),
    }
}

/// A DateTime: a `timestamp` when it has a date and a time, a `date` with
/// only a date, a `time` with only a time, an `int` for a MySQL `YEAR`.
fn date_time(f: &Fields<'_>, code: i32) -> Result<Typed, Error> {
    let (year, hour) = (f.opt_int("year")?, f.opt_int("hour")?);
    let bad = |text: &str| Error::new(format!("DateTime `{text}` is not a valid time"));
    match (year, hour) {
        (Some(y), None) if code == 13 => Ok((ColumnType::Long, Some(OwnedValue::Long(y.into())))),
        (Some(_), None) => {
            let text = iso(f, false)?;
            let (micros, _) = parse_timestamp(&text).ok_or_else(|| bad(&text))?;
            let days = i32::try_from(micros.div_euclid(86_400_000_000)).map_err(|_| bad(&text))?;
            Ok((ColumnType::Date, Some(OwnedValue::Date(days))))
        }
        (None, Some(_)) => {
            let text = format!("1970-01-01T{}", clock(f)?);
            let (micros, _) = parse_timestamp(&text).ok_or_else(|| bad(&text))?;
            Ok((ColumnType::Time, Some(OwnedValue::Time(micros))))
        }
        (Some(_), Some(_)) => {
            let text = iso(f, true)?;
            let (micros, _) = parse_timestamp(&text).ok_or_else(|| bad(&text))?;
            Ok((ColumnType::Timestamp, Some(OwnedValue::Timestamp(micros))))
        }
        (None, None) => Err(Error::new("a DateTime with neither date nor time")),
    }
}

/// `YYYY-MM-DD` (with `THH:MM:SS.ffffff` when `with_time`).
fn iso(f: &Fields<'_>, with_time: bool) -> Result<String, Error> {
    let part = |name: &str| f.opt_int(name).map(Option::unwrap_or_default);
    let date = format!(
        "{:04}-{:02}-{:02}",
        part("year")?,
        part("month")?,
        part("day")?
    );
    Ok(if with_time {
        format!("{date}T{}", clock(f)?)
    } else {
        date
    })
}

/// `HH:MM:SS.ffffff`; `millis` holds the fraction in microseconds.
fn clock(f: &Fields<'_>) -> Result<String, Error> {
    let part = |name: &str| f.opt_int(name).map(Option::unwrap_or_default);
    Ok(format!(
        "{:02}:{:02}:{:02}.{:06}",
        part("hour")?,
        part("minute")?,
        part("second")?,
        part("millis")?
    ))
}
