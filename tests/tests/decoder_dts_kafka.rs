//! The DTS decoder plugin end to end through `floe run` on a Kafka source
//! (librdkafka's mock cluster: the file source hands values on as JSON text
//! and cannot carry DTS's binary Avro): a randomized workload of inserts,
//! full-data rows, updates (some changing the key) and deletes over a small
//! key space, with BEGIN/COMMIT/DDL records and poison records between,
//! produced in pieces while `floe run` is killed by SIGKILL (up to four
//! times, each a moment after a commit);
//! then the table, read by PyIceberg and DuckDB, must equal the oracle and
//! the DLQ must hold each poison record once.

mod decoder_common;
mod iceberg_common;
mod kafka_common;
mod pipeline_common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use apache_avro::Schema;
use apache_avro::types::Value as Avro;
use decoder_common::dts::{self, rec, schema, union};
use decoder_common::{Change, Lcg, Row, row, workload};
use iceberg_common::{TestCatalog, decimal2};
use kafka_common::{Broker, Floe, table_offsets_of, wait_caught_up, write_config};
use pipeline_common::{dead_letters, read_oracle};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use serde_json::{Value as Json, json};

const TOPIC: &str = "dts_items";
const TABLE: &str = "shop.items";
const REGIONS: [&str; 3] = ["eu", "us", "apac"];

fn character(text: &str) -> Avro {
    union(
        2,
        rec(vec![
            ("charset", Avro::String("utf8mb4".into())),
            ("value", Avro::Bytes(text.into())),
        ]),
    )
}

/// A row's values in `COLUMNS` order, as DTS writes them from MySQL.
fn image(r: &Row) -> Avro {
    let (days, secs) = (r.seconds.div_euclid(86_400), r.seconds.rem_euclid(86_400));
    let (y, m, d) = floe_guest::parse::civil_from_days(days);
    let parts = [
        y as i32,
        m as i32,
        d as i32,
        (secs / 3600) as i32,
        (secs / 60 % 60) as i32,
        (secs % 60) as i32,
        0,
    ];
    let names = ["year", "month", "day", "hour", "minute", "second", "millis"];
    let datetime = rec(names
        .iter()
        .zip(parts)
        .map(|(n, p)| (*n, union(1, Avro::Int(p))))
        .collect());
    let values = vec![
        union(
            1,
            rec(vec![
                ("precision", Avro::Int(11)),
                ("value", Avro::String(r.id.to_string())),
            ]),
        ),
        match &r.name {
            Some(name) => character(name),
            None => union(0, Avro::Null),
        },
        union(
            3,
            rec(vec![
                ("value", Avro::String(decimal2(r.cents.into()))),
                ("precision", Avro::Int(10)),
                ("scale", Avro::Int(2)),
            ]),
        ),
        union(6, datetime),
        character(REGIONS[r.cents.rem_euclid(3) as usize]),
    ];
    union(2, Avro::Array(values))
}

/// Column names and MySQL type numbers (LONG, VAR_STRING, NEWDECIMAL, DATETIME2, VAR_STRING).
const COLUMNS: [(&str, i32); 5] = [
    ("id", 3),
    ("name", 253),
    ("amount", 246),
    ("updated_at", 18),
    ("region", 253),
];

/// One Record: `operation` (its index in the schema's enum) on `shop.items`.
fn record(schema: &Schema, op: (u32, &str), before: Option<&Row>, after: Option<&Row>) -> Vec<u8> {
    let fields: Vec<(String, i32)> = COLUMNS.iter().map(|(n, c)| ((*n).into(), *c)).collect();
    dts::record(
        schema,
        op,
        "shop.items",
        &fields,
        before.map(image),
        after.map(image),
    )
}

/// The records (BEGIN/COMMIT around each change, a DDL and a poison record
/// now and then) and the offsets of the poison records.
fn records(changes: &[Change], rng: &mut Lcg) -> (Vec<Vec<u8>>, Vec<i64>) {
    let schema = schema();
    let (mut out, mut poison) = (Vec::new(), Vec::new());
    for change in changes {
        match rng.below(25) {
            0 => out.push(record(&schema, (3, "DDL"), None, None)),
            1 => {
                poison.push(out.len() as i64);
                let mut bad = record(&schema, (0, "INSERT"), None, Some(&row(rng, 1)));
                bad.truncate(bad.len() / 2);
                out.push(bad);
            }
            _ => {}
        }
        out.push(record(&schema, (4, "BEGIN"), None, None));
        out.push(match change {
            Change::Insert(r) if rng.below(3) == 0 => record(&schema, (16, "INIT"), None, Some(r)),
            Change::Insert(r) => record(&schema, (0, "INSERT"), None, Some(r)),
            Change::Update(b, a) => record(&schema, (1, "UPDATE"), Some(b), Some(a)),
            Change::Delete(r) => record(&schema, (2, "DELETE"), Some(r), None),
        });
        out.push(record(&schema, (5, "COMMIT"), None, None));
    }
    (out, poison)
}

fn oracle_row(r: &Row) -> Json {
    json!({"id": r.id, "name": r.name, "amount": decimal2(r.cents.into()),
           "updated_at": r.seconds * 1_000_000, "region": REGIONS[r.cents.rem_euclid(3) as usize]})
}

fn produce(producer: &ThreadedProducer<DefaultProducerContext>, values: &[Vec<u8>]) {
    for value in values {
        let mut pending: BaseRecord<'_, [u8], [u8]> =
            BaseRecord::to(TOPIC).partition(0).payload(value.as_slice());
        while let Err((_, back)) = producer.send(pending) {
            std::thread::sleep(Duration::from_millis(10));
            pending = back;
        }
    }
    producer.flush(Duration::from_secs(60)).expect("flush");
}

#[test]
fn dts_avro_through_floe_run_on_kafka_with_kills_equals_the_oracle() {
    let (mut changes, mut live) = workload(0xd75, 500, 60);
    // The last record is a row, so the last snapshot covers the end.
    let last = row(&mut Lcg(1), 1000);
    live.insert(last.id, last.clone());
    changes.push(Change::Insert(last));
    let (values, poison) = records(&changes, &mut Lcg(7));
    assert!(poison.len() > 5, "poison records");

    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let broker = Broker::start(1, TOPIC, 1);
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::copy(floe_tests::plugin_path("dts"), plugins.join("dts.wasm")).unwrap();
    let cache = floe_tests::workspace_root().join("target/floe-test-cache");
    let extra = format!(
        "decoder = {{ plugin = \"dts\" }}\n[plugins]\ndir = \"{}\"\ncache_dir = \"{}\"\n",
        plugins.display(),
        cache.display()
    );
    let config = write_config(dir.path(), &catalog, &broker.servers, TOPIC, TABLE, &extra);

    // Produced in pieces while `floe run` is killed a moment after each of
    // its first commits, then run to the end.
    let producer = broker.producer();
    let mut rng = Lcg(11);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for piece in values.chunks(25) {
                produce(&producer, piece);
                std::thread::sleep(Duration::from_millis(150));
            }
        });
        let mut committed = None;
        for n in 0..4 {
            if committed == Some(values.len() as i64) {
                break;
            }
            let floe = Floe::start(&config, n);
            let started = Instant::now();
            while table_offsets_of(&catalog, TABLE, TOPIC, 1)[0] == committed {
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "no commit: {}",
                    floe.log_text()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(Duration::from_millis(rng.below(500)));
            floe.kill();
            committed = table_offsets_of(&catalog, TABLE, TOPIC, 1)[0];
            println!(
                "killed run {n}: the table at {committed:?} of {}",
                values.len()
            );
        }
    });
    let floe = Floe::start(&config, 9);
    wait_caught_up(
        &catalog,
        TABLE,
        TOPIC,
        &[values.len() as i64],
        Duration::from_secs(120),
    );
    let status = floe.terminate(Duration::from_secs(30));
    assert!(
        status.success(),
        "floe run exits cleanly on SIGTERM: {status:?}"
    );

    let oracle: BTreeMap<i64, Json> = live.values().map(|r| (r.id, oracle_row(r))).collect();
    read_oracle(&catalog, TABLE, &oracle);
    let letters = dead_letters(dir.path());
    assert_eq!(
        letters.iter().map(|l| l.0).collect::<Vec<_>>(),
        poison,
        "the DLQ holds each poison record once: {letters:?}"
    );
}
