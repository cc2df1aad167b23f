//! Shared helpers for floe's end-to-end tests: where the built plugins and
//! the binary are, fixture changes, and realistic generated changes; the
//! CDC event generator and its oracle ([`cdc`]), the pipeline configuration
//! builder ([`config`]), the readers of what floe wrote ([`reader`]) and
//! the SeaweedFS server of the REST catalog and S3 tests ([`seaweed`]).
//!
//! The tests expect `scripts/test.sh` (or `scripts/build-plugins.sh` and
//! `cargo build --release -p floe`) to have built the plugins into
//! `target/plugins/` and the binary into `target/release/floe`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod cdc;
pub mod config;
pub mod reader;
pub mod seaweed;

use floe::change::json::change_from_json;
use floe::change::{Change, ColumnType, Field, Image, Op, Position, Value};
use floe::plugin::{PluginEngine, PluginRegistry};
use serde_json::Value as Json;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The Debezium fixtures: `$FLOE_FIXTURES`, else `../shared/fixtures/debezium` beside the workspace.
pub fn fixtures_dir() -> PathBuf {
    std::env::var_os("FLOE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/fixtures/debezium"))
}

/// A built example plugin, `target/plugins/<name>.wasm`.
pub fn plugin_path(name: &str) -> PathBuf {
    built(
        workspace_root()
            .join("target/plugins")
            .join(format!("{name}.wasm")),
    )
}

/// A built test guest, `target/plugins/test-guests/<name>.wasm`.
pub fn test_guest_path(name: &str) -> PathBuf {
    built(
        workspace_root()
            .join("target/plugins/test-guests")
            .join(format!("{name}.wasm")),
    )
}

fn built(path: PathBuf) -> PathBuf {
    assert!(
        path.is_file(),
        "{} is missing: run scripts/build-plugins.sh and scripts/build-python-plugins.sh first",
        path.display()
    );
    path
}

/// The `floe` binary: `$FLOE_BIN`, else `target/release/floe`.
pub fn floe_bin() -> PathBuf {
    let path = std::env::var_os("FLOE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/release/floe"));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --release -p floe` first",
        path.display()
    );
    path
}

/// A TCP port on 127.0.0.1 that nothing listens on now (for floe's
/// `[metrics] listen`).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The whole HTTP/1.1 response (status line, headers and body) to
/// `GET path` on 127.0.0.1:`port`, as floe's metrics server sends it.
pub fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: floe\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

/// A plugin engine whose artifact cache is shared by all tests
/// (`target/floe-test-cache`), so each component compiles once per machine.
pub fn engine() -> PluginEngine {
    PluginEngine::new(workspace_root().join("target/floe-test-cache")).expect("plugin engine")
}

/// A registry over a fresh directory holding `plugins` as `(name, source file)`.
pub fn registry_with(plugins: &[(&str, PathBuf)]) -> (tempfile::TempDir, Arc<PluginRegistry>) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, source) in plugins {
        std::fs::copy(source, dir.path().join(format!("{name}.wasm"))).expect("copy plugin");
    }
    let registry = PluginRegistry::open(engine(), dir.path()).expect("registry");
    (dir, registry)
}

/// The Debezium envelope of a fixture file: its `value`'s payload (or the
/// file itself when it is a bare value).
pub fn fixture_envelope(file: &str) -> Json {
    let path = fixtures_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Json =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value = if doc.get("value").is_some() && doc.get("op").is_none() {
        doc["value"].clone()
    } else {
        doc
    };
    value.get("payload").cloned().unwrap_or(value)
}

/// The change a fixture's Debezium envelope describes, bound for `table`,
/// with types inferred from the JSON (integers → long, text → string).
pub fn fixture_change(file: &str, table: &str, key: &[&str], offset: i64) -> Change {
    let envelope = fixture_envelope(file);
    let op = match envelope["op"].as_str() {
        Some("c") => "insert",
        Some("u") => "update",
        Some("d") => "delete",
        Some("r") => "read",
        Some("t") => "truncate",
        other => panic!("{file}: op {other:?}"),
    };
    let doc = serde_json::json!({
        "op": op, "table": table, "key": key,
        "before": envelope.get("before").cloned().unwrap_or(Json::Null),
        "after": envelope.get("after").cloned().unwrap_or(Json::Null),
    });
    change_from_json(&doc, Position::new(format!("dbserver1.{table}"), 0, offset))
        .expect("fixture change")
}

/// A generated customer row of 10 columns with realistic widths: `id`,
/// names, email, phone, region, a decimal balance, a timestamptz, a boolean
/// and a double score.
pub fn customer(id: i64) -> Image {
    let regions = ["eu", "us", "apac", "latam"];
    let first = ["Anne", "Sally", "George", "Edward", "Mary-Jane", "Jürgen"][id as usize % 6];
    let last = [
        "Kretchmar",
        "Thomas",
        "Bailey",
        "Walker",
        "O'Neil",
        "Müller",
    ][id as usize % 7 % 6];
    let fields = [
        ("id", ColumnType::Long, Some(Value::Long(id))),
        (
            "first_name",
            ColumnType::String,
            Some(Value::String(first.to_string())),
        ),
        (
            "last_name",
            ColumnType::String,
            Some(Value::String(last.to_string())),
        ),
        (
            "email",
            ColumnType::String,
            Some(Value::String(format!(
                "{}.{}{id}@example.org",
                first.to_lowercase(),
                last.to_lowercase()
            ))),
        ),
        (
            "phone",
            ColumnType::String,
            if id % 5 == 0 {
                None
            } else {
                Some(Value::String(format!(
                    "+1-555-{:04}-{:03}",
                    id % 10_000,
                    id % 997
                )))
            },
        ),
        (
            "region",
            ColumnType::String,
            Some(Value::String(
                regions[id as usize % regions.len()].to_string(),
            )),
        ),
        (
            "balance",
            ColumnType::Decimal {
                precision: 12,
                scale: 2,
            },
            Some(Value::Decimal(i128::from(id * 137 % 100_000 - 20_000))),
        ),
        (
            "created_at",
            ColumnType::Timestamptz,
            Some(Value::Timestamptz(1_700_000_000_000_000 + id * 1_000_003)),
        ),
        (
            "active",
            ColumnType::Boolean,
            Some(Value::Boolean(id % 3 != 0)),
        ),
        (
            "score",
            ColumnType::Double,
            Some(Value::Double(id as f64 / 7.0)),
        ),
    ];
    Image::from_fields(fields.into_iter().map(|(name, ty, value)| Field {
        name: name.into(),
        ty,
        value,
    }))
}

/// Customer changes for ids `ids`: updates (before and after), with every
/// seventh a delete and every eleventh an insert.
pub fn customer_changes(ids: impl IntoIterator<Item = i64>) -> Vec<Change> {
    ids.into_iter()
        .enumerate()
        .map(|(offset, id)| {
            let op = if id % 7 == 0 {
                Op::Delete
            } else if id % 11 == 0 {
                Op::Insert
            } else {
                Op::Update
            };
            let mut before = customer(id);
            before.set(
                "email",
                ColumnType::String,
                Some(Value::String(format!("old{id}@example.org"))),
            );
            Change {
                op,
                table: "inventory.customers".into(),
                key: vec!["id".into()],
                before: (op != Op::Insert).then_some(before),
                after: (op != Op::Delete).then(|| customer(id)),
                position: Position::new("dbserver1.inventory.customers", 0, offset as i64),
                event_time: Some(1_700_000_000_000_000 + id),
            }
        })
        .collect()
}

/// The id column of a change's row image.
pub fn id_of(change: &Change) -> i64 {
    match change
        .row_image()
        .and_then(|i| i.get("id").or_else(|| i.get("ID")))
    {
        Some(Value::Long(id)) => *id,
        Some(Value::Int(id)) => i64::from(*id),
        other => panic!("change has no integer id: {other:?}"),
    }
}
