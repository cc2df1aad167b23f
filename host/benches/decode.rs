//! Throughput of the native Debezium decoder on ~1 KB change events
//! (a 19-column orders row; one event in four an update with a before
//! image): schemaless envelopes, with inferred or the table's column types,
//! and envelopes with JsonConverter schema blocks. Prints events/s (per
//! wall second and per CPU second of the decoding thread, best of a few
//! rounds) and MB/s; asserts nothing.
//!
//! Run: `cargo bench -p floe --bench decode` (optionally `-- <seconds>
//! <case name filter>`).

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use floe::change::ColumnType;
use floe::decode::{DebeziumConfig, DebeziumDecoder, Decoded};
use floe::source::RawRecord;

const RECORDS: usize = 4_096;

/// A small deterministic generator.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn word(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b'a' + (self.next() % 26) as u8))
            .collect()
    }
}

/// One row of an `inventory.orders`-like table, as schemaless JSON and as the
/// payload of an envelope with a schema block (decimals as base64, times as
/// Debezium integers).
fn row(rng: &mut Lcg, id: u64, with_schema: bool) -> String {
    let cents = rng.next() % 10_000_000;
    let total = if with_schema {
        format!(
            "\"{}\"",
            BASE64.encode(
                cents
                    .to_be_bytes()
                    .iter()
                    .skip_while(|&&b| b == 0)
                    .copied()
                    .collect::<Vec<u8>>()
                    .as_slice()
            )
        )
    } else {
        format!("{}.{:02}", cents / 100, cents % 100)
    };
    let created_ms = 1_700_000_000_000 + rng.next() % 100_000_000_000;
    format!(
        concat!(
            r#"{{"id":{id},"customer_id":{cust},"email":"{first}.{last}@example.com","first_name":"{first}","#,
            r#""last_name":"{last}","street":"{n} {street} Street","city":"{city}","country":"{country}","#,
            r#""phone":"+1-555-{phone:04}","status":"{status}","total":{total},"currency":"EUR","quantity":{qty},"#,
            r#""weight":{weight},"is_gift":{gift},"created_at":"2024-05-{day:02}T10:{min:02}:33.123456Z","#,
            r#""updated_at":{updated},"ship_date":{ship},"note":"{note}"}}"#
        ),
        id = id,
        cust = rng.next() % 100_000,
        first = rng.word(7),
        last = rng.word(9),
        n = rng.next() % 999,
        street = rng.word(10),
        city = rng.word(8),
        country = rng.word(6),
        phone = rng.next() % 10_000,
        status = ["NEW", "PAID", "SHIPPED", "DONE"][(rng.next() % 4) as usize],
        total = total,
        qty = rng.next() % 20,
        weight = (rng.next() % 100_000) as f64 / 100.0 + 0.001,
        gift = rng.next().is_multiple_of(2),
        day = 1 + rng.next() % 28,
        min = rng.next() % 60,
        updated = created_ms,
        ship = 19_800 + rng.next() % 300,
        note = rng.word(260),
    )
}

const SOURCE: &str = r#"{"version":"2.7.0.Final","connector":"mysql","name":"dbserver1","ts_ms":1718486007000,"ts_us":1718486007000000,"ts_ns":1718486007000000000,"snapshot":"false","db":"inventory","sequence":null,"table":"orders","server_id":223344,"gtid":null,"file":"mysql-bin.000003","pos":632,"row":0,"thread":13,"query":null}"#;

fn row_schema(field: &str) -> String {
    let cols = [
        r#"{"type":"int64","optional":false,"field":"id"}"#,
        r#"{"type":"int32","optional":true,"field":"customer_id"}"#,
        r#"{"type":"string","optional":true,"field":"email"}"#,
        r#"{"type":"string","optional":true,"field":"first_name"}"#,
        r#"{"type":"string","optional":true,"field":"last_name"}"#,
        r#"{"type":"string","optional":true,"field":"street"}"#,
        r#"{"type":"string","optional":true,"field":"city"}"#,
        r#"{"type":"string","optional":true,"field":"country"}"#,
        r#"{"type":"string","optional":true,"field":"phone"}"#,
        r#"{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"NEW,PAID,SHIPPED,DONE"},"field":"status"}"#,
        r#"{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"12"},"field":"total"}"#,
        r#"{"type":"string","optional":true,"field":"currency"}"#,
        r#"{"type":"int16","optional":true,"field":"quantity"}"#,
        r#"{"type":"double","optional":true,"field":"weight"}"#,
        r#"{"type":"boolean","optional":true,"field":"is_gift"}"#,
        r#"{"type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp","version":1,"field":"created_at"}"#,
        r#"{"type":"int64","optional":true,"name":"io.debezium.time.Timestamp","version":1,"field":"updated_at"}"#,
        r#"{"type":"int32","optional":true,"name":"io.debezium.time.Date","version":1,"field":"ship_date"}"#,
        r#"{"type":"string","optional":true,"field":"note"}"#,
    ];
    format!(
        r#"{{"type":"struct","fields":[{}],"optional":true,"name":"dbserver1.inventory.orders.Value","field":"{field}"}}"#,
        cols.join(",")
    )
}

fn envelope_schema() -> String {
    format!(
        concat!(
            r#"{{"type":"struct","fields":[{before},{after},"#,
            r#"{{"type":"struct","fields":[{{"type":"string","optional":false,"field":"version"}},{{"type":"string","optional":false,"field":"connector"}},{{"type":"string","optional":false,"field":"name"}},{{"type":"int64","optional":false,"field":"ts_ms"}},{{"type":"int64","optional":true,"field":"ts_us"}},{{"type":"int64","optional":true,"field":"ts_ns"}},{{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{{"allowed":"true,last,false,incremental"}},"default":"false","field":"snapshot"}},{{"type":"string","optional":false,"field":"db"}},{{"type":"string","optional":true,"field":"sequence"}},{{"type":"string","optional":true,"field":"table"}},{{"type":"int64","optional":false,"field":"server_id"}},{{"type":"string","optional":true,"field":"gtid"}},{{"type":"string","optional":false,"field":"file"}},{{"type":"int64","optional":false,"field":"pos"}},{{"type":"int32","optional":false,"field":"row"}},{{"type":"int64","optional":true,"field":"thread"}},{{"type":"string","optional":true,"field":"query"}}],"optional":false,"name":"io.debezium.connector.mysql.Source","field":"source"}},"#,
            r#"{{"type":"string","optional":false,"field":"op"}},{{"type":"int64","optional":true,"field":"ts_ms"}}],"optional":false,"name":"dbserver1.inventory.orders.Envelope","version":1}}"#
        ),
        before = row_schema("before"),
        after = row_schema("after"),
    )
}

fn records(with_schema: bool) -> Vec<RawRecord> {
    let mut rng = Lcg(42);
    let schema = envelope_schema();
    let key_schema = r#"{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],"optional":false,"name":"dbserver1.inventory.orders.Key"}"#;
    (0..RECORDS as u64)
        .map(|i| {
            let after = row(&mut rng, i, with_schema);
            // Every fourth event an update with a full before image.
            let (op, before) = if i % 4 == 3 {
                ("u", row(&mut rng, i, with_schema))
            } else {
                ("c", "null".to_owned())
            };
            let payload = format!(
                r#"{{"before":{before},"after":{after},"source":{SOURCE},"op":"{op}","ts_ms":1718486007972}}"#
            );
            let (key, value) = if with_schema {
                (
                    format!(r#"{{"schema":{key_schema},"payload":{{"id":{i}}}}}"#),
                    format!(r#"{{"schema":{schema},"payload":{payload}}}"#),
                )
            } else {
                (format!(r#"{{"id":{i}}}"#), payload)
            };
            RawRecord {
                topic: Arc::from("dbserver1.inventory.orders"),
                partition: 0,
                offset: i as i64,
                timestamp: None,
                key: Some(key.into_bytes()),
                value: Some(value.into_bytes()),
                headers: Vec::new(),
            }
        })
        .collect()
}

/// The case-name filter given on the command line, if any.
fn filter() -> Option<String> {
    std::env::args()
        .skip(1)
        .find(|a| a.parse::<f64>().is_err() && !a.starts_with('-'))
}

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`), so that
/// rates stay meaningful on a busy machine; `None` elsewhere.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Rounds per case; the best one is reported.
const ROUNDS: usize = 5;

/// Runs `decode` over `records` for `seconds` in [`ROUNDS`] rounds and
/// prints the best round's events per wall second and per CPU second of
/// this thread (the best round is the one least disturbed by other work).
fn measure(
    label: &str,
    records: &[RawRecord],
    seconds: f64,
    note: &str,
    mut decode: impl FnMut(&RawRecord),
) {
    let bytes: usize = records
        .iter()
        .map(|r| r.value.as_ref().map_or(0, Vec::len) + r.key.as_ref().map_or(0, Vec::len))
        .sum();
    let round = Duration::from_secs_f64(seconds / ROUNDS as f64);
    let (mut best_wall, mut best_cpu) = (0f64, None::<f64>);
    for _ in 0..ROUNDS {
        let cpu = cpu_ns();
        let start = Instant::now();
        let mut events = 0usize;
        while start.elapsed() < round {
            for record in records {
                decode(black_box(record));
            }
            events += records.len();
        }
        let wall = start.elapsed().as_secs_f64();
        best_wall = best_wall.max(events as f64 / wall);
        if let (Some(a), Some(b)) = (cpu, cpu_ns())
            && b > a
        {
            let rate = events as f64 / ((b - a) as f64 / 1e9);
            best_cpu = Some(best_cpu.map_or(rate, |c| c.max(rate)));
        }
    }
    let per_cpu = best_cpu.map_or_else(|| "-".to_owned(), |r| format!("{r:.0}"));
    let mb = best_wall * bytes as f64 / records.len() as f64 / 1e6;
    println!(
        "{label:<28} {best_wall:>9.0} {per_cpu:>9} {mb:>7.1} {:>7.2}  {note}",
        1e6 / best_wall
    );
}

fn run(label: &str, records: &[RawRecord], config: DebeziumConfig, seconds: f64) {
    if filter().is_some_and(|f| !label.contains(&f)) {
        return;
    }
    let mut decoder = DebeziumDecoder::new(config);
    // Warm up, and check that everything decodes.
    for record in records {
        match decoder.decode(record) {
            Ok(Decoded::Changes(_)) => {}
            other => panic!("{label}: {other:?}"),
        }
    }
    let per_event = records
        .iter()
        .map(|r| r.value.as_ref().map_or(0, Vec::len) + r.key.as_ref().map_or(0, Vec::len))
        .sum::<usize>()
        / records.len();
    let note = format!("{per_event} B/event (key + value)");
    measure(label, records, seconds, &note, |record| {
        black_box(decoder.decode(record).ok());
    });
}

/// For scale: serde_json parsing the same values into `serde_json::Value`
/// trees (no typing, no change building).
fn reference(records: &[RawRecord], seconds: f64) {
    if filter().is_some_and(|f| !"reference serde_json".contains(&f)) {
        return;
    }
    measure(
        "serde_json::Value (ref.)",
        records,
        seconds,
        "schemaless values into serde_json::Value, for scale",
        |record| {
            let value = record.value.as_deref().unwrap_or_default();
            black_box(serde_json::from_slice::<serde_json::Value>(value).ok());
        },
    );
}

fn main() {
    let seconds: f64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5.0);
    let schemaless = records(false);
    let with_schema = records(true);
    let typed = DebeziumConfig {
        column_types: HashMap::from([
            ("id".to_owned(), ColumnType::Long),
            ("customer_id".to_owned(), ColumnType::Int),
            (
                "total".to_owned(),
                ColumnType::Decimal {
                    precision: 12,
                    scale: 2,
                },
            ),
            ("quantity".to_owned(), ColumnType::Int),
            ("created_at".to_owned(), ColumnType::Timestamptz),
            ("updated_at".to_owned(), ColumnType::Timestamp),
            ("ship_date".to_owned(), ColumnType::Date),
        ]),
        ..DebeziumConfig::default()
    };
    let configured_key = DebeziumConfig {
        key: Some(vec!["id".to_owned()]),
        ..DebeziumConfig::default()
    };
    println!(
        "Debezium JSON decoder: {RECORDS} distinct events per pass, {seconds} s per case, best of {ROUNDS} rounds"
    );
    println!(
        "{:<28} {:>9} {:>9} {:>7} {:>7}",
        "case", "events/s", "ev/cpu-s", "MB/s", "µs/ev"
    );
    reference(&schemaless, seconds);
    run(
        "schemaless, inferred types",
        &schemaless,
        DebeziumConfig::default(),
        seconds,
    );
    run(
        "schemaless, configured key",
        &schemaless,
        configured_key.clone(),
        seconds,
    );
    run("schemaless, table types", &schemaless, typed, seconds);
    run(
        "with schema blocks",
        &with_schema,
        DebeziumConfig::default(),
        seconds,
    );
    run(
        "with schema, configured key",
        &with_schema,
        configured_key,
        seconds,
    );
}
