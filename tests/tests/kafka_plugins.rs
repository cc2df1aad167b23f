//! Plugins inside the streaming pipeline: a transform chain with a guest
//! that traps on some records and a stage whose plugin is replaced while
//! floe consumes; dead letters in Parquet and on a DLQ topic; the metrics
//! endpoint.

mod iceberg_common;
mod kafka_common;
mod pipeline_common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use floe_tests::{free_port, http_get, plugin_path, test_guest_path};
use iceberg_common::TestCatalog;
use kafka_common::{
    Broker, Event, Floe, dead_letter_positions, produce, wait_caught_up, write_config,
};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::json;
use sha2::{Digest, Sha256};

const TOPIC: &str = "dbserver1.shop.accounts";
const TABLE: &str = "shop.accounts";
const DLQ_TOPIC: &str = "floe.dead-letters";
const PARTITIONS: i32 = 3;
const TRAPPED: [i64; 4] = [7, 77, 777, 1777];
const SALT: &str = "s3cret";

/// Creates of ids `from..=to`, partitioned by id, continuing `ends`.
fn creates(from: i64, to: i64, ends: &mut [i64]) -> Vec<Event> {
    (from..=to)
        .map(|id| {
            let partition = (id % i64::from(PARTITIONS)) as i32;
            let offset = ends[partition as usize];
            ends[partition as usize] += 1;
            let after =
                json!({"id": id, "name": format!("name-{id}"), "amount": id * 10, "region": "eu"});
            Event {
                partition,
                offset,
                key: Some(json!({"id": id}).to_string()),
                value: Some(json!({"op": "c", "after": after, "source": {"ts_ms": 0}}).to_string()),
            }
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn a_trapping_guest_and_a_hot_reload_while_consuming() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let broker = Broker::start(1, TOPIC, PARTITIONS);
    broker.cluster.create_topic(DLQ_TOPIC, 1, 1).unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::copy(test_guest_path("trap"), plugins.join("trap.wasm")).unwrap();
    std::fs::copy(plugin_path("passthrough"), plugins.join("tx.wasm")).unwrap();
    let port = free_port();
    let trap_on: Vec<String> = TRAPPED.iter().map(i64::to_string).collect();
    let extra = format!(
        r#"[[tables.transforms]]
plugin = "trap"
config = {{ trap_on = "{}" }}
[[tables.transforms]]
plugin = "tx"
config = {{ columns = "name", salt = "{SALT}" }}
[plugins]
dir = "plugins"
cache_dir = "{cache}"
[metrics]
listen = "127.0.0.1:{port}"
"#,
        trap_on.join(","),
        cache = floe_tests::workspace_root()
            .join("target/floe-test-cache")
            .display()
    );
    let config = write_config(dir.path(), &catalog, &broker.servers, TOPIC, TABLE, &extra);
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[dlq]\npath = \"dlq\"",
        &format!("[dlq]\npath = \"dlq\"\ntopic = \"{DLQ_TOPIC}\""),
    );
    std::fs::write(&config, text).unwrap();

    let mut floe = Floe::start(&config, 0);
    let producer = broker.producer();
    let mut ends = vec![0_i64; PARTITIONS as usize];
    let before_swap = creates(1, 1000, &mut ends);
    produce(&producer, TOPIC, &before_swap);
    wait_caught_up(&catalog, TABLE, TOPIC, &ends, Duration::from_secs(90));

    // Replace `tx` (passthrough) by `mask`, by a rename over the file, while floe consumes.
    let staged = plugins.join("tx.wasm.new");
    std::fs::copy(plugin_path("mask"), &staged).unwrap();
    std::fs::rename(&staged, plugins.join("tx.wasm")).unwrap();
    // The start-up load of `tx` is its first published version; the
    // swap is the second.
    let started = Instant::now();
    while !http_get(port, "/metrics")
        .unwrap()
        .contains(r#"floe_plugin_reloads_total{plugin="tx",outcome="published"} 2"#)
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the new version was not published: {}",
            floe.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let after_swap = creates(1001, 3000, &mut ends);
    produce(&producer, TOPIC, &after_swap);
    wait_caught_up(&catalog, TABLE, TOPIC, &ends, Duration::from_secs(90));

    // The metrics follow the snapshot by a moment: wait for them.
    let wanted = [
        r#"floe_plugin_traps_total{plugin="trap"}"#.to_string(),
        r#"floe_dlq_records_total{topic="dbserver1.shop.accounts",reason="transform"} 4"#
            .to_string(),
        "floe_commit_duration_seconds_bucket".to_string(),
        r#"floe_key_index_keys{table="shop.accounts"} 2996"#.to_string(),
    ];
    let started = Instant::now();
    let mut metrics = http_get(port, "/metrics").unwrap();
    while !wanted.iter().all(|w| metrics.contains(w.as_str()))
        && started.elapsed() < Duration::from_secs(15)
    {
        std::thread::sleep(Duration::from_millis(100));
        metrics = http_get(port, "/metrics").unwrap();
    }
    for line in &wanted {
        assert!(metrics.contains(line.as_str()), "{line} in {metrics}");
    }
    assert!(
        http_get(port, "/health")
            .unwrap()
            .starts_with("HTTP/1.1 200"),
        "healthy while running"
    );
    assert!(floe.running());
    let status = floe.terminate(Duration::from_secs(30));
    assert!(status.success(), "{status}");

    // The table: every id but the trapped ones; names as the version that
    // processed them made them.
    let read = catalog.read(TABLE);
    let rows = read["pyiceberg"].as_array().unwrap();
    let ids: BTreeSet<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    let expected: BTreeSet<i64> = (1..=3000).filter(|id| !TRAPPED.contains(id)).collect();
    assert_eq!(
        ids, expected,
        "everything but the trapped records is in the table"
    );
    for row in rows {
        let id = row["id"].as_i64().unwrap();
        let plain = format!("name-{id}");
        let want = if id <= 1000 {
            plain
        } else {
            sha256_hex(format!("{SALT}{plain}").as_bytes())
        };
        assert_eq!(row["name"], json!(want), "row {id}");
    }
    let plugins_summary: serde_json::Value =
        serde_json::from_str(read["summary"]["floe.plugins"].as_str().unwrap()).unwrap();
    assert_eq!(
        plugins_summary["tx"],
        json!(sha256_hex(&std::fs::read(plugin_path("mask")).unwrap())),
        "the snapshot names the version that produced it"
    );

    // Exactly the trapped records are dead letters, in Parquet and on the topic.
    let trapped: Vec<(i32, i64)> = before_swap
        .iter()
        .chain(&after_swap)
        .enumerate()
        .filter(|(i, _)| TRAPPED.contains(&(*i as i64 + 1)))
        .map(|(_, e)| (e.partition, e.offset))
        .collect();
    let mut trapped_sorted = trapped.clone();
    trapped_sorted.sort();
    assert_eq!(dead_letter_positions(dir.path()), trapped_sorted);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &broker.servers)
        .set("group.id", "dlq-reader")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(DLQ_TOPIC, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut on_topic = Vec::new();
    let started = Instant::now();
    while on_topic.len() < TRAPPED.len() && started.elapsed() < Duration::from_secs(30) {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) {
            let header = |name: &str| {
                message
                    .headers()
                    .and_then(|h| h.iter().find(|h| h.key == name).and_then(|h| h.value))
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default()
            };
            assert!(
                header("floe.reason").contains("poisoned record id="),
                "{}",
                header("floe.reason")
            );
            assert_eq!(header("floe.stage"), "transform");
            on_topic.push((
                header("floe.partition").parse::<i32>().unwrap(),
                header("floe.offset").parse::<i64>().unwrap(),
            ));
        }
    }
    on_topic.sort();
    assert_eq!(
        on_topic, trapped_sorted,
        "the DLQ topic has each trapped record, with its position"
    );
}
