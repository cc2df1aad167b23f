//! Decoder throughput: ns per record for the `canal`, `dms` and `dts`
//! decoder plugins (and `canal-js`, canal in JavaScript) through the host, against the native Debezium JSON
//! decoder, on inserts of the same 10-column customer rows (ids, names,
//! email, phone, region, a decimal, a timestamp, a boolean, a double) in
//! batches of 1,024 records.
//!
//! Run with `cargo bench -p floe-tests --bench decoders` after building the
//! plugins. Prints numbers; asserts nothing about speed.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use apache_avro::Schema;
use apache_avro::types::Value as Avro;
use floe::change::{ColumnType, Image, Value};
use floe::decode::{DebeziumConfig, DebeziumDecoder};
use floe::plugin::{DecodeStage, StageSettings};
use floe::source::RawRecord;
use floe_tests::{customer, plugin_path, registry_with};
use serde_json::{Map, Value as Json, json};

#[path = "../tests/decoder_common/dts.rs"]
mod dts;

use dts::{rec, union};

const BATCH: i64 = 1024;

/// Renders a customer row as one record value of a format.
type Encode = Box<dyn Fn(&Image) -> Vec<u8>>;

/// The allocator of the `floe` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// ns per record of `apply` over `batches`: the best of 5 rounds of at least `min / 5`.
fn measure(min: Duration, batches: &[Vec<RawRecord>], mut apply: impl FnMut(&[RawRecord])) -> f64 {
    for batch in batches.iter().take(2) {
        apply(batch);
    }
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let (mut records, started) = (0usize, Instant::now());
        while started.elapsed() < min / 5 {
            for batch in batches {
                apply(black_box(batch));
                records += batch.len();
            }
        }
        best = best.min(started.elapsed().as_nanos() as f64 / records as f64);
    }
    best
}

fn raw(value: Vec<u8>, offset: i64) -> RawRecord {
    RawRecord {
        topic: "bench".into(),
        partition: 0,
        offset,
        timestamp: None,
        key: None,
        value: Some(value),
        headers: Vec::new(),
    }
}

/// A customer row as JSON: decimals as text, the timestamp as `text(micros)`.
fn json_row(row: &Image, time: impl Fn(i64) -> Json) -> Map<String, Json> {
    row.fields()
        .iter()
        .map(|f| {
            let v = match &f.value {
                None => Json::Null,
                Some(Value::Long(i)) => json!(i),
                Some(Value::String(s)) => json!(s),
                Some(Value::Decimal(d)) => json!(format!("{}.{:02}", d / 100, (d % 100).abs())),
                Some(Value::Timestamptz(t)) => time(*t),
                Some(Value::Boolean(b)) => json!(b),
                Some(Value::Double(d)) => json!(d),
                Some(other) => panic!("no JSON for {other:?}"),
            };
            (f.name.to_string(), v)
        })
        .collect()
}

fn iso(micros: i64) -> String {
    let (days, secs) = (
        micros.div_euclid(86_400_000_000),
        micros.rem_euclid(86_400_000_000) / 1_000_000,
    );
    let (y, m, d) = floe_guest::parse::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn debezium(row: &Image) -> Vec<u8> {
    let after = json_row(row, |t| json!(t));
    json!({"op": "c", "before": null, "after": after, "source": {"ts_ms": 1_700_000_000_000i64}})
        .to_string()
        .into_bytes()
}

fn canal(row: &Image) -> Vec<u8> {
    let mut data = json_row(row, |t| json!(iso(t)));
    for v in data.values_mut() {
        // Canal writes every value as text, a `tinyint(1)` as 0 or 1.
        *v = match v {
            Json::Bool(b) => json!(u8::from(*b).to_string()),
            Json::Number(n) => json!(n.to_string()),
            _ => v.take(),
        };
    }
    json!({"data": [data], "database": "inventory", "table": "customers", "type": "INSERT", "isDdl": false,
        "es": 1_700_000_000_000i64, "pkNames": ["id"], "old": null,
        "mysqlType": {"id": "bigint(20)", "first_name": "varchar(64)", "last_name": "varchar(64)", "email": "varchar(128)",
            "phone": "varchar(32)", "region": "varchar(8)", "balance": "decimal(12,2)", "created_at": "datetime",
            "active": "tinyint(1)", "score": "double"}})
    .to_string()
    .into_bytes()
}

fn dms(row: &Image) -> Vec<u8> {
    let data = json_row(row, |t| json!(iso(t)));
    json!({"data": data, "metadata": {"timestamp": "2024-05-01T10:00:00.000000Z", "record-type": "data",
        "operation": "insert", "schema-name": "inventory", "table-name": "customers"}})
    .to_string()
    .into_bytes()
}

fn dts(schema: &Schema, row: &Image) -> Vec<u8> {
    let (mut fields, mut values) = (Vec::new(), Vec::new());
    for f in row.fields() {
        let (code, value) = match &f.value {
            None => (253, union(0, Avro::Null)),
            Some(Value::Long(i)) => (
                8,
                union(
                    1,
                    rec(vec![
                        ("precision", Avro::Int(20)),
                        ("value", Avro::String(i.to_string())),
                    ]),
                ),
            ),
            Some(Value::String(s)) => (
                253,
                union(
                    2,
                    rec(vec![
                        ("charset", Avro::String("utf8mb4".into())),
                        ("value", Avro::Bytes(s.clone().into_bytes())),
                    ]),
                ),
            ),
            Some(Value::Decimal(d)) => (
                246,
                union(
                    3,
                    rec(vec![
                        (
                            "value",
                            Avro::String(format!("{}.{:02}", d / 100, (d % 100).abs())),
                        ),
                        ("precision", Avro::Int(12)),
                        ("scale", Avro::Int(2)),
                    ]),
                ),
            ),
            Some(Value::Timestamptz(t)) => (
                17,
                union(
                    5,
                    rec(vec![
                        ("timestamp", Avro::Long(t / 1_000_000)),
                        ("millis", Avro::Int((t % 1_000_000) as i32)),
                    ]),
                ),
            ),
            Some(Value::Boolean(b)) => (
                1,
                union(
                    1,
                    rec(vec![
                        ("precision", Avro::Int(1)),
                        ("value", Avro::String(u8::from(*b).to_string())),
                    ]),
                ),
            ),
            Some(Value::Double(d)) => (
                5,
                union(
                    4,
                    rec(vec![
                        ("value", Avro::Double(*d)),
                        ("precision", Avro::Int(22)),
                        ("scale", Avro::Int(0)),
                    ]),
                ),
            ),
            Some(other) => panic!("no DTS value for {other:?}"),
        };
        fields.push((f.name.to_string(), code));
        values.push(value);
    }
    dts::record(
        schema,
        (0, "INSERT"),
        "inventory.customers",
        &fields,
        None,
        Some(union(2, Avro::Array(values))),
    )
}

fn main() {
    let min = Duration::from_secs(
        std::env::var("FLOE_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3),
    );
    let schema = dts::schema();
    let batches = |encode: &dyn Fn(&Image) -> Vec<u8>| -> Vec<Vec<RawRecord>> {
        (0..4)
            .map(|b| {
                (b * BATCH + 1..=(b + 1) * BATCH)
                    .map(|id| raw(encode(&customer(id)), id))
                    .collect()
            })
            .collect()
    };
    println!(
        "decoder throughput, batches of {BATCH} inserts x 10 columns (ns per record, lower is better)"
    );

    let mut types = HashMap::new();
    types.insert(
        "balance".to_string(),
        ColumnType::Decimal {
            precision: 12,
            scale: 2,
        },
    );
    types.insert("created_at".to_string(), ColumnType::Timestamptz);
    let config = DebeziumConfig {
        table: Some("inventory.customers".into()),
        key: Some(vec!["id".into()]),
        column_types: types,
        ..Default::default()
    };
    let mut native = DebeziumDecoder::new(config);
    let records = batches(&debezium);
    let base = measure(min, &records, |batch| {
        for record in batch {
            black_box(native.decode(record).expect("decodes"));
        }
    });
    println!("  debezium JSON, native           {base:>7.0} ns/record");

    let plugins: [(&str, Encode); 4] = [
        ("canal", Box::new(canal)),
        // The same decoder written with the JavaScript SDK.
        ("canal-js", Box::new(canal)),
        ("dms", Box::new(dms)),
        ("dts", Box::new(move |row| dts(&schema, row))),
    ];
    for (name, encode) in plugins {
        let (_dir, registry) = registry_with(&[(name, plugin_path(name))]);
        let mut stage = DecodeStage::new(registry, name, StageSettings::default()).expect("stage");
        let records = batches(encode.as_ref());
        let probe = stage.apply(&records[0]);
        assert!(
            probe.rejected.is_empty(),
            "{name}: {:?}",
            probe.rejected.first()
        );
        let ns = measure(min, &records, |batch| {
            black_box(stage.apply(batch));
        });
        println!(
            "  {name:<8} plugin (Wasm)          {ns:>7.0} ns/record  ({:.2}x native Debezium)",
            ns / base
        );
    }
}
