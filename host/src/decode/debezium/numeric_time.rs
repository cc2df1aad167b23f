//! The unit of integer timestamps and times that no schema block names.
//!
//! Debezium writes a timestamp as an integer counting milliseconds
//! (`io.debezium.time.Timestamp`: MySQL `DATETIME(0–3)`, and every temporal
//! type with `time.precision.mode=connect`), microseconds (`MicroTimestamp`:
//! MySQL `DATETIME(4–6)`, PostgreSQL `timestamp`) or nanoseconds
//! (`NanoTimestamp`). With a schema block the logical type names the unit;
//! without one (`schemas.enable=false`) only the number is left. A table
//! sets the unit ([`NumericTime`]) for all its columns and per column;
//! `auto` guesses a timestamp's unit from its magnitude
//! ([`TimeUnit::guess_for_timestamp`]), and [`TimeUnits`] counts and logs
//! the guesses that could be wrong: those in the ambiguous band
//! ([`in_ambiguous_band`]).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use chrono::DateTime;

use super::raw::FastMap;

/// The unit of an integer that counts time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// Milliseconds.
    Millis,
    /// Microseconds.
    Micros,
    /// Nanoseconds.
    Nanos,
}

impl TimeUnit {
    /// `value` in this unit, as microseconds (rounded towards negative infinity).
    pub fn to_micros(self, value: i64) -> Option<i64> {
        match self {
            TimeUnit::Millis => value.checked_mul(1_000),
            TimeUnit::Micros => Some(value),
            TimeUnit::Nanos => Some(value.div_euclid(1_000)),
        }
    }

    /// The unit a Debezium/Connect timestamp of magnitude `value` most likely
    /// has: below 10^14 milliseconds (up to year 5138), below 10^17
    /// microseconds, else nanoseconds. Wrong for microsecond or nanosecond
    /// values within about three years of 1970, and for millisecond values
    /// after year 5138.
    pub fn guess_for_timestamp(value: i64) -> TimeUnit {
        match value.unsigned_abs() {
            0..100_000_000_000_000 => TimeUnit::Millis,
            100_000_000_000_000..100_000_000_000_000_000 => TimeUnit::Micros,
            _ => TimeUnit::Nanos,
        }
    }

    /// The unit's name in the configuration: `millis`, `micros` or `nanos`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Millis => "millis",
            TimeUnit::Micros => "micros",
            TimeUnit::Nanos => "nanos",
        }
    }
}

/// How numbers become timestamps and times when no schema says their unit.
/// In the configuration: `"auto"`, `"millis"`, `"micros"` or `"nanos"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum NumericTime {
    /// Timestamps by magnitude ([`TimeUnit::guess_for_timestamp`]); times
    /// of day in microseconds.
    #[default]
    Auto,
    /// Every number in this unit.
    Fixed(TimeUnit),
}

/// A unit name that is not one of `auto`, `millis`, `micros`, `nanos`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time unit `{0}`: expected \"auto\", \"millis\", \"micros\" or \"nanos\"")]
pub struct UnknownTimeUnit(pub String);

impl FromStr for NumericTime {
    type Err = UnknownTimeUnit;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "auto" => NumericTime::Auto,
            "millis" => NumericTime::Fixed(TimeUnit::Millis),
            "micros" => NumericTime::Fixed(TimeUnit::Micros),
            "nanos" => NumericTime::Fixed(TimeUnit::Nanos),
            _ => return Err(UnknownTimeUnit(text.to_owned())),
        })
    }
}

impl TryFrom<String> for NumericTime {
    type Error = UnknownTimeUnit;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// Where the unit of an integer timestamp or time of day comes from.
pub(crate) trait UnitSource: Copy {
    /// The unit of the integer timestamp `value`.
    fn timestamp_unit(self, value: i64) -> TimeUnit;
    /// The unit of integer times of day (never guessed: any count of
    /// milliseconds in a day is also a count of microseconds in one).
    fn time_unit(self) -> TimeUnit;
}

impl UnitSource for NumericTime {
    fn timestamp_unit(self, value: i64) -> TimeUnit {
        match self {
            NumericTime::Auto => TimeUnit::guess_for_timestamp(value),
            NumericTime::Fixed(unit) => unit,
        }
    }

    fn time_unit(self) -> TimeUnit {
        match self {
            NumericTime::Auto => TimeUnit::Micros,
            NumericTime::Fixed(unit) => unit,
        }
    }
}

/// `|value|` below this is in the ambiguous band: 253,402,300,800,000, the
/// milliseconds from 1970 to year 10000.
const AMBIGUOUS_BELOW: u64 = 253_402_300_800_000;

/// Whether the integer timestamp `value` is in the ambiguous band: it is a
/// timestamp read as milliseconds (no further from 1970 than 9999-12-31,
/// the last day of SQL `DATETIME`, ISO 8601 and Python's `datetime`) and
/// read as microseconds (then within eight years of 1970), so its magnitude
/// cannot tell the two apart. [`TimeUnit::guess_for_timestamp`] reads
/// `|value| < 10^14` in it as milliseconds (a microsecond value from
/// 1966-11 to 1973-03 lands 1,000 times too far from 1970) and the rest as
/// microseconds (a millisecond value after year 5138, such as the
/// 9999-12-31 sentinel, lands in 1973–1978). Beyond it the millisecond
/// reading is past year 9999: such values are microseconds or nanoseconds.
pub(crate) fn in_ambiguous_band(value: i64) -> bool {
    value.unsigned_abs() < AMBIGUOUS_BELOW
}

/// A table's units of schemaless integer times: its `numeric_time`, the
/// per-column overrides, and the guesses `auto` made in the ambiguous band.
#[derive(Debug, Default)]
pub(crate) struct TimeUnits {
    /// The table, for the log.
    table: Option<String>,
    /// The table's setting.
    default: NumericTime,
    /// Per-column settings, which win over `default`.
    columns: FastMap<Box<str>, NumericTime>,
    /// Guesses in the ambiguous band.
    guesses: RefCell<Guesses>,
}

/// What [`TimeUnits`] noted of its guesses.
#[derive(Debug, Default)]
struct Guesses {
    /// Guesses per column since [`TimeUnits::take_guesses`].
    pending: FastMap<Box<str>, u64>,
    /// The columns whose first guess was logged.
    logged: HashSet<Box<str>>,
}

impl TimeUnits {
    /// The units of `table` (for the log): `default` unless `columns` names
    /// the column.
    pub(crate) fn new(
        table: Option<String>,
        default: NumericTime,
        columns: HashMap<String, NumericTime>,
    ) -> Self {
        TimeUnits {
            table,
            default,
            columns: columns
                .into_iter()
                .map(|(name, unit)| (name.into_boxed_str(), unit))
                .collect(),
            guesses: RefCell::default(),
        }
    }

    /// The units of column `column`.
    pub(crate) fn column<'u>(&'u self, column: &'u str) -> ColumnUnits<'u> {
        ColumnUnits {
            units: self,
            column,
        }
    }

    /// The setting of `column`.
    fn setting(&self, column: &str) -> NumericTime {
        if self.columns.is_empty() {
            return self.default;
        }
        self.columns.get(column).copied().unwrap_or(self.default)
    }

    /// The guesses in the ambiguous band since the last call: (column, count).
    pub(crate) fn take_guesses(&self) -> Vec<(String, u64)> {
        let mut guesses = self.guesses.borrow_mut();
        guesses
            .pending
            .drain()
            .map(|(column, n)| (column.into_string(), n))
            .collect()
    }

    /// Notes that `value` of `column`, in the ambiguous band, was read in
    /// `unit`; logs the first such value of each column.
    fn guessed(&self, column: &str, value: i64, unit: TimeUnit) {
        let mut guesses = self.guesses.borrow_mut();
        if let Some(n) = guesses.pending.get_mut(column) {
            *n += 1;
            return;
        }
        guesses.pending.insert(column.into(), 1);
        if !guesses.logged.contains(column) {
            guesses.logged.insert(column.into());
            log_first_guess(self.table.as_deref(), column, value, unit);
        }
    }
}

/// Warns that `value` of `table`'s `column` was read in `unit`, a guess,
/// with both readings and the key that decides.
fn log_first_guess(table: Option<&str>, column: &str, value: i64, unit: TimeUnit) {
    let other = match unit {
        TimeUnit::Millis => TimeUnit::Micros,
        _ => TimeUnit::Millis,
    };
    let reading = |unit: TimeUnit| {
        unit.to_micros(value)
            .and_then(DateTime::from_timestamp_micros)
            .map_or_else(|| "out of range".into(), |t| t.to_rfc3339())
    };
    tracing::warn!(
        table = table.unwrap_or("-"),
        column,
        value,
        unit = unit.as_str(),
        "`{column}`: integer timestamp {value} has no unit and is a date both as \
         milliseconds and as microseconds: read as {} ({}); as {} it is {}. Set \
         numeric_time_columns = {{ {column} = \"{}\" }} on the table if that is its \
         unit (\"{}\" keeps this reading); until then such values are counted \
         (floe_decode_guessed_time_total), not logged again",
        unit.as_str(),
        reading(unit),
        other.as_str(),
        reading(other),
        other.as_str(),
        unit.as_str(),
    );
}

/// The units of one column's integer times: its setting, and where `auto`
/// notes its guesses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnUnits<'u> {
    units: &'u TimeUnits,
    column: &'u str,
}

impl UnitSource for ColumnUnits<'_> {
    fn timestamp_unit(self, value: i64) -> TimeUnit {
        let setting = self.units.setting(self.column);
        let unit = setting.timestamp_unit(value);
        if setting == NumericTime::Auto && in_ambiguous_band(value) {
            self.units.guessed(self.column, value, unit);
        }
        unit
    }

    fn time_unit(self) -> TimeUnit {
        self.units.setting(self.column).time_unit()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::change::{ColumnType, Value};
    use crate::decode::Decoded;
    use crate::decode::debezium::{DebeziumConfig, DebeziumDecoder};
    use crate::source::RawRecord;

    /// 1971-08-02T01:20:00.123456Z in microseconds: within three years of
    /// 1970, so below 10^14.
    const MICROS_1971: i64 = 49_944_000_123_456;
    const MILLIS: NumericTime = NumericTime::Fixed(TimeUnit::Millis);
    const MICROS: NumericTime = NumericTime::Fixed(TimeUnit::Micros);

    /// A decoder of table `shop.events` whose `created_at` is a timestamp,
    /// `opens` a time and `born` a date.
    fn decoder(table: NumericTime, columns: &[(&str, NumericTime)]) -> DebeziumDecoder {
        DebeziumDecoder::new(DebeziumConfig {
            table: Some("shop.events".into()),
            column_types: HashMap::from([
                ("created_at".into(), ColumnType::Timestamp),
                ("opens".into(), ColumnType::Time),
                ("born".into(), ColumnType::Date),
            ]),
            numeric_time: table,
            numeric_time_columns: columns.iter().map(|(c, u)| (c.to_string(), *u)).collect(),
            ..DebeziumConfig::default()
        })
    }

    /// Column `column` of the after image of the insert whose value is `value`.
    fn decoded(decoder: &mut DebeziumDecoder, value: &str, column: &str) -> Option<Value> {
        let record = RawRecord {
            topic: Arc::from("dbserver1.shop.events"),
            partition: 0,
            offset: 0,
            timestamp: None,
            key: None,
            value: Some(value.as_bytes().to_vec()),
            headers: Vec::new(),
        };
        let Ok(Decoded::Changes(changes)) = decoder.decode(&record) else {
            panic!("{value} does not decode to changes");
        };
        changes[0].after.as_ref()?.get(column).cloned()
    }

    /// An insert without a schema block.
    fn insert(after: &str) -> String {
        format!(r#"{{"op":"c","before":null,"after":{after},"source":{{"ts_ms":1}}}}"#)
    }

    #[test]
    fn auto_reads_microseconds_near_1970_as_milliseconds_and_counts_them() {
        let mut auto = decoder(NumericTime::Auto, &[]);
        let row = insert(&format!(r#"{{"id":1,"created_at":{MICROS_1971}}}"#));
        assert_eq!(
            decoded(&mut auto, &row, "created_at"),
            Some(Value::Timestamp(MICROS_1971 * 1_000)),
            "the guess: milliseconds, year 3552"
        );
        decoded(&mut auto, &row, "created_at");
        assert_eq!(auto.take_guessed_times(), [("created_at".to_string(), 2)]);
        assert!(auto.take_guessed_times().is_empty(), "taken");
    }

    #[test]
    fn a_column_set_to_micros_reads_them_exactly_and_wins_over_the_table() {
        let row = insert(&format!(r#"{{"id":1,"created_at":{MICROS_1971}}}"#));
        for mut set in [
            decoder(NumericTime::Auto, &[("created_at", MICROS)]),
            decoder(MILLIS, &[("created_at", MICROS)]),
            decoder(MICROS, &[]),
        ] {
            assert_eq!(
                decoded(&mut set, &row, "created_at"),
                Some(Value::Timestamp(MICROS_1971))
            );
            assert!(set.take_guessed_times().is_empty(), "nothing guessed");
        }
        let mut millis = decoder(MICROS, &[("created_at", MILLIS)]);
        assert_eq!(
            decoded(&mut millis, &row, "created_at"),
            Some(Value::Timestamp(MICROS_1971 * 1_000))
        );
    }

    #[test]
    fn only_guesses_in_the_ambiguous_band_are_counted() {
        let units = TimeUnits::new(None, NumericTime::Auto, HashMap::new());
        let column = units.column("t");
        let cases = [
            // (value, unit read, in the band)
            (0, TimeUnit::Millis, true),
            (-1, TimeUnit::Millis, true),
            (1_700_000_000_000, TimeUnit::Millis, true), // 2023 in ms, or 1970-01-20 in µs
            (MICROS_1971, TimeUnit::Millis, true),
            (99_999_999_999_999, TimeUnit::Millis, true),
            (100_000_000_000_000, TimeUnit::Micros, true),
            (253_402_214_400_000, TimeUnit::Micros, true), // 9999-12-31 in ms
            (-253_402_300_799_999, TimeUnit::Micros, true),
            (253_402_300_800_000, TimeUnit::Micros, false), // year 10000 in ms
            (1_700_000_000_000_000, TimeUnit::Micros, false), // 2023 in µs
            (1_700_000_000_000_000_000, TimeUnit::Nanos, false), // 2023 in ns
        ];
        for (value, unit, in_band) in cases {
            assert_eq!(column.timestamp_unit(value), unit, "{value}");
            assert_eq!(in_ambiguous_band(value), in_band, "{value}");
        }
        let counted = cases.iter().filter(|(_, _, in_band)| *in_band).count() as u64;
        assert_eq!(units.take_guesses(), [("t".to_string(), counted)]);
        let fixed = TimeUnits::new(None, MICROS, HashMap::new());
        assert_eq!(fixed.column("t").timestamp_unit(0), TimeUnit::Micros);
        assert!(fixed.take_guesses().is_empty(), "a set unit is no guess");
    }

    #[test]
    fn times_follow_the_keys_unguessed_and_dates_stay_days() {
        let row = insert(r#"{"id":1,"opens":36803000,"born":19439}"#);
        let mut auto = decoder(NumericTime::Auto, &[]);
        assert_eq!(
            decoded(&mut auto, &row, "opens"),
            Some(Value::Time(36_803_000)),
            "auto: microseconds"
        );
        assert_eq!(decoded(&mut auto, &row, "born"), Some(Value::Date(19439)));
        assert!(
            auto.take_guessed_times().is_empty(),
            "times are not guessed"
        );
        let mut millis = decoder(MILLIS, &[]);
        assert_eq!(
            decoded(&mut millis, &row, "opens"),
            Some(Value::Time(36_803_000_000)),
            "10:13:23 in milliseconds"
        );
        assert_eq!(decoded(&mut millis, &row, "born"), Some(Value::Date(19439)));
    }

    #[test]
    fn a_schema_block_names_the_unit_whatever_the_keys_say() {
        let value = format!(
            r#"{{"schema":{{"type":"struct","fields":[{{"type":"struct","optional":true,"field":"after","fields":[{{"type":"int64","field":"id"}},{{"type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp","field":"created_at"}}]}},{{"type":"string","field":"op"}}]}},"payload":{}}}"#,
            insert(&format!(r#"{{"id":1,"created_at":{MICROS_1971}}}"#))
        );
        for mut decoder in [
            decoder(NumericTime::Auto, &[]),
            decoder(MILLIS, &[("created_at", MILLIS)]),
        ] {
            assert_eq!(
                decoded(&mut decoder, &value, "created_at"),
                Some(Value::Timestamp(MICROS_1971))
            );
            assert!(decoder.take_guessed_times().is_empty());
        }
    }

    #[test]
    fn units_are_named_as_in_the_configuration() {
        for (text, unit) in [
            ("auto", NumericTime::Auto),
            ("millis", MILLIS),
            ("micros", MICROS),
            ("nanos", NumericTime::Fixed(TimeUnit::Nanos)),
        ] {
            assert_eq!(text.parse(), Ok(unit));
        }
        assert_eq!(
            "ms".parse::<NumericTime>().unwrap_err().to_string(),
            "unknown time unit `ms`: expected \"auto\", \"millis\", \"micros\" or \"nanos\""
        );
        assert_eq!(TimeUnit::Micros.as_str(), "micros");
    }
}
