//! Column types from Canal's `mysqlType` (or, failing that, the JDBC
//! `sqlType` number) and the typing of Canal's values, which arrive as text.

use floe_guest::{ColumnType, Error, OwnedValue};

/// How a column's values are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The text form of a value of this column type.
    Typed(ColumnType),
    /// `binary`, `varbinary` and the blobs: Canal writes the bytes as
    /// ISO-8859-1 text, one character per byte.
    Bytes,
}

impl Kind {
    /// The column type the values get.
    pub fn column_type(self) -> ColumnType {
        match self {
            Kind::Typed(ty) => ty,
            Kind::Bytes => ColumnType::Binary,
        }
    }

    /// Types one value from its text.
    pub fn parse(self, text: &str) -> Result<OwnedValue, Error> {
        match self {
            Kind::Typed(ty) => ty.parse_value(text),
            Kind::Bytes => text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).ok())
                .collect::<Option<Vec<u8>>>()
                .map(OwnedValue::Binary)
                .ok_or_else(|| Error::new("binary text holds a character beyond ISO-8859-1")),
        }
    }
}

/// The kind of a column declared in MySQL as `declared` (Canal's
/// `mysqlType`, e.g. `bigint(20) unsigned`, `decimal(10,2)`, `varchar(255)`).
pub fn from_mysql(declared: &str) -> Result<Kind, Error> {
    let lower = declared.trim().to_ascii_lowercase();
    let end = lower.find(['(', ' ']).unwrap_or(lower.len());
    let (base, rest) = lower.split_at(end);
    let args = rest
        .strip_prefix('(')
        .and_then(|r| r.split_once(')'))
        .map(|(args, _)| args);
    let unsigned = rest.contains("unsigned");
    let ty = match base {
        "tinyint" | "smallint" | "mediumint" | "year" => ColumnType::Int,
        "int" | "integer" if unsigned => ColumnType::Long,
        "int" | "integer" => ColumnType::Int,
        "bigint" if unsigned => ColumnType::Decimal {
            precision: 20,
            scale: 0,
        },
        "bigint" | "bit" => ColumnType::Long,
        "decimal" | "numeric" | "dec" | "fixed" => decimal(args, declared)?,
        "float" => ColumnType::Float,
        "double" | "real" => ColumnType::Double,
        "bool" | "boolean" => ColumnType::Boolean,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set"
        | "json" => ColumnType::String,
        "date" => ColumnType::Date,
        "time" => ColumnType::Time,
        "datetime" | "timestamp" => ColumnType::Timestamp,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            return Ok(Kind::Bytes);
        }
        _ => {
            return Err(Error::new(format!("unknown MySQL type `{declared}`")));
        }
    };
    Ok(Kind::Typed(ty))
}

/// `decimal(p,s)`, `decimal(p)` (scale 0) or `decimal` (MySQL's 10,0).
fn decimal(args: Option<&str>, declared: &str) -> Result<ColumnType, Error> {
    let bad = || {
        Error::new(format!(
            "MySQL type `{declared}`: not a decimal Iceberg can hold"
        ))
    };
    let (precision, scale) = match args {
        None => (10, 0),
        Some(args) => match args.split_once(',') {
            Some((p, s)) => (
                p.trim().parse().map_err(|_| bad())?,
                s.trim().parse().map_err(|_| bad())?,
            ),
            None => (args.trim().parse().map_err(|_| bad())?, 0),
        },
    };
    if !(1..=38).contains(&precision) || scale > precision {
        return Err(bad());
    }
    Ok(ColumnType::Decimal { precision, scale })
}

/// The kind of a column from its JDBC type number (`java.sql.Types`), for a
/// column Canal gave no `mysqlType` for.
pub fn from_sql_type(code: i64) -> Result<Kind, Error> {
    let ty = match code {
        -6 | 5 | 4 => ColumnType::Int,
        -7 | -5 => ColumnType::Long,
        7 => ColumnType::Float,
        6 | 8 => ColumnType::Double,
        16 => ColumnType::Boolean,
        1 | 12 | -1 | -15 | -9 | -16 | 2005 | 2011 => ColumnType::String,
        91 => ColumnType::Date,
        92 => ColumnType::Time,
        93 => ColumnType::Timestamp,
        -2 | -3 | -4 | 2004 => return Ok(Kind::Bytes),
        2 | 3 => {
            return Err(Error::new(
                "a DECIMAL column (sqlType 3) needs its mysqlType for precision and scale",
            ));
        }
        other => return Err(Error::new(format!("unknown sqlType {other}"))),
    };
    Ok(Kind::Typed(ty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use floe_guest::Decimal;

    #[test]
    fn mysql_types() {
        let typed = |s: &str| from_mysql(s).unwrap().column_type();
        assert_eq!(typed("int(11)"), ColumnType::Int);
        assert_eq!(typed("INT(10) UNSIGNED"), ColumnType::Long);
        assert_eq!(typed("bigint(20)"), ColumnType::Long);
        assert_eq!(
            typed("bigint(20) unsigned"),
            ColumnType::Decimal {
                precision: 20,
                scale: 0
            }
        );
        assert_eq!(
            typed("decimal(10,2)"),
            ColumnType::Decimal {
                precision: 10,
                scale: 2
            }
        );
        assert_eq!(
            typed("decimal"),
            ColumnType::Decimal {
                precision: 10,
                scale: 0
            }
        );
        assert_eq!(typed("enum('a','b')"), ColumnType::String);
        assert_eq!(typed("datetime(6)"), ColumnType::Timestamp);
        assert_eq!(typed("bit(1)"), ColumnType::Long);
        assert_eq!(from_mysql("longblob").unwrap(), Kind::Bytes);
        assert_eq!(
            from_mysql("geometry").unwrap_err().message(),
            "unknown MySQL type `geometry`"
        );
        assert!(from_mysql("decimal(65,30)").is_err());
        assert_eq!(from_sql_type(-5).unwrap().column_type(), ColumnType::Long);
        assert!(from_sql_type(3).is_err());
        assert!(from_sql_type(1111).is_err());
    }

    #[test]
    fn values_from_text() {
        let dec = from_mysql("decimal(10,2)").unwrap();
        assert_eq!(
            dec.parse("5.18").unwrap(),
            OwnedValue::Decimal(Decimal {
                unscaled: 518,
                precision: 10,
                scale: 2
            })
        );
        let ts = from_mysql("datetime").unwrap();
        assert_eq!(
            ts.parse("2019-09-20 09:39:28").unwrap(),
            OwnedValue::Timestamp(1_568_972_368_000_000)
        );
        assert_eq!(
            Kind::Bytes.parse("a\u{ff}").unwrap(),
            OwnedValue::Binary(vec![b'a', 0xff])
        );
        assert!(Kind::Bytes.parse("\u{100}").is_err());
        assert!(from_mysql("int").unwrap().parse("x").is_err());
    }
}
