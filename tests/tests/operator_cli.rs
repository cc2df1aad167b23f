//! `floe table status` and `floe dlq list|show`, as an operator runs them
//! after `floe run`: what they print agrees with what PyIceberg reads of the
//! table and with the records that went to the dead-letter queue.

mod iceberg_common;
mod pipeline_common;

use std::process::Command;

use floe_tests::floe_bin;
use iceberg_common::TestCatalog;
use pipeline_common::{run_to_end, write_config, write_events};
use serde_json::{Value as Json, json};

const TOPIC: &str = "dbserver1.shop.items";
const TABLE: &str = "shop.items";

fn event(op: &str, id: i64, name: &str) -> String {
    let row = json!({"id": id, "name": name});
    let (before, after) = if op == "d" {
        (row, Json::Null)
    } else {
        (Json::Null, row)
    };
    let value = json!({"op": op, "before": before, "after": after, "source": {"ts_ms": 1_700_000_000_000i64}});
    json!({"key": {"id": id}, "value": value}).to_string()
}

/// Runs `floe <args>`; returns (exit code, stdout, stderr).
fn floe(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(floe_bin()).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn table_status_and_dlq_commands_agree_with_the_readers() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    // Commits every 10 records: several snapshots, data and delete files.
    let config = write_config(dir.path(), &catalog, TOPIC, TABLE, 10, "create = true");
    let mut lines = Vec::new();
    for id in 1..=30 {
        lines.push(event("c", id, "first"));
    }
    for id in 1..=15 {
        lines.push(event("u", id, "second"));
    }
    for id in 20..=24 {
        lines.push(event("d", id, "gone"));
    }
    let poison = [lines.len() as i64, lines.len() as i64 + 2];
    lines.push(
        "{\"key\": {\"id\": 99}, \"value\": {\"op\": \"c\", \"after\": \"not a row\"}}".to_string(),
    );
    lines.push(event("c", 31, "late"));
    lines.push("{\"key\": {\"id\": 98}, \"value\": {\"op\": \"c\", \"after\": 7}}".to_string());
    write_events(dir.path(), &lines);
    run_to_end(&config);
    let config = config.to_str().unwrap();

    let (code, out, err) = floe(&["table", "status", "--config", config, "--json"]);
    assert_eq!(code, 0, "{err}");
    let status: Json = serde_json::from_str(out.trim()).unwrap();
    let read = catalog.read(TABLE);
    let files = read["files"].as_array().unwrap();
    let of = |content: i64| files.iter().filter(move |f| f["content"] == json!(content));
    assert_eq!(status["table"], json!(TABLE));
    assert_eq!(status["data_files"], json!(of(0).count()));
    assert_eq!(status["position_delete_files"], json!(of(1).count()));
    let data_records: i64 = of(0).map(|f| f["records"].as_i64().unwrap()).sum();
    let deletes: i64 = of(1).map(|f| f["records"].as_i64().unwrap()).sum();
    assert_eq!(status["data_records"], json!(data_records));
    assert_eq!(status["position_deletes"], json!(deletes));
    assert_eq!(
        data_records - deletes,
        read["pyiceberg"].as_array().unwrap().len() as i64,
        "live rows are data rows less deleted positions"
    );
    assert_eq!(status["equality_delete_files"], json!(0));
    assert_eq!(status["snapshots"], json!(read["snapshots"]));
    assert_eq!(status["pipeline"], json!("test-cdc"));
    assert_eq!(
        status["offsets"],
        json!({TOPIC: {"0": lines.len()}}),
        "floe.offsets: the next line to read"
    );
    assert!(status["metadata_bytes"].as_u64().unwrap() > 0);

    let (code, text, err) = floe(&["table", "status", "--config", config, TABLE]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains(&format!("table:          {TABLE}")), "{text}");
    let (code, _, err) = floe(&["table", "status", "--config", config, "shop.missing"]);
    assert_eq!(code, 2);
    assert!(err.contains("shop.missing"), "{err}");

    let (code, list, err) = floe(&["dlq", "list", "--config", config]);
    assert_eq!(code, 0, "{err}");
    assert!(list.starts_with("2 dead letters"), "{list}");
    for offset in poison {
        assert!(list.contains(&format!("{TOPIC}/0@{offset}")), "{list}");
    }
    assert!(list.contains(&format!("{TABLE}  decode")), "{list}");

    let (code, show, err) = floe(&["dlq", "show", "--config", config, "--limit", "1"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        show.starts_with(&format!("{TOPIC}/0@{}", poison[0])),
        "{show}"
    );
    assert!(show.contains("not a row"), "the value is shown: {show}");
    assert!(show.contains("… 1 more"), "{show}");
    let (code, none, _) = floe(&["dlq", "list", "--config", config, "--stage", "write"]);
    assert_eq!(code, 0);
    assert!(none.starts_with("0 dead letters"), "{none}");
}
