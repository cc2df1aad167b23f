//! `floe run` over Debezium events without a schema block whose timestamps
//! count microseconds, some within three years of 1970 (issue #10): `auto`
//! reads those as milliseconds, 1,000 times too far from 1970, and says so
//! in a warning and the summary; `numeric_time_columns` sets the unit and
//! PyIceberg and DuckDB then read every value back exactly.

mod iceberg_common;
mod pipeline_common;

use std::path::Path;

use iceberg_common::TestCatalog;
use pipeline_common::{run_to_end, sorted, write_config, write_events};
use serde_json::{Value as Json, json};

const TOPIC: &str = "dbserver1.shop.events";
const TABLE: &str = "shop.events";

/// `created_at` of rows 1–6, in microseconds, and whether it is in the
/// ambiguous band (`|v| < 253,402,300,800,000`).
const CREATED_AT: [(i64, bool); 6] = [
    (1, true),                      // 1970-01-01T00:00:00.000001
    (49_944_000_123_456, true),     // 1971-08-02T01:20:00.123456
    (1_700_000_000_123_456, false), // 2023-11-14T22:13:20.123456
    (94_694_400_000_000, true),     // 1973-01-01
    (-31_536_000_000_000, true),    // 1969-01-01
    (1_000_000_000_000_000, false), // 2001-09-09T01:46:40
];

/// Inserts rows 1–6 without a schema block, and runs `floe run` into a
/// table it creates with `created_at` a timestamp; `extra` adds table keys.
/// Returns floe's stderr and the rows as PyIceberg and DuckDB read them.
fn run(dir: &Path, extra: &str) -> (String, Json) {
    let catalog = TestCatalog::new(dir);
    let lines: Vec<String> = (1i64..)
        .zip(CREATED_AT)
        .map(|(id, (created_at, _))| {
            let value = json!({
                "op": "c",
                "before": null,
                "after": {"id": id, "created_at": created_at},
                "source": {"ts_ms": 1_700_000_000_000i64},
            });
            json!({"key": {"id": id}, "value": value}).to_string()
        })
        .collect();
    write_events(dir, &lines);
    let config = write_config(
        dir,
        &catalog,
        TOPIC,
        TABLE,
        1000,
        &format!("create = true\ntypes = {{ created_at = \"timestamp\" }}\n{extra}"),
    );
    let stderr = run_to_end(&config);
    (stderr, catalog.read(TABLE))
}

/// `created_at` of each row, by id, as `reader` read it.
fn created_at(read: &Json, reader: &str) -> Vec<i64> {
    sorted(&read[reader])
        .iter()
        .map(|row| row["created_at"].as_i64().expect("a timestamp"))
        .collect()
}

#[test]
fn microseconds_near_1970_read_back_exactly_when_the_column_says_micros() {
    let dir = tempfile::tempdir().unwrap();
    let (stderr, read) = run(
        dir.path(),
        "numeric_time_columns = { created_at = \"micros\" }",
    );
    let written: Vec<i64> = CREATED_AT.iter().map(|(v, _)| *v).collect();
    assert_eq!(created_at(&read, "pyiceberg"), written, "PyIceberg");
    assert_eq!(created_at(&read, "duckdb"), written, "DuckDB");
    assert!(!stderr.contains("has no unit"), "nothing guessed: {stderr}");
    assert!(
        !stderr.contains("guessed unit"),
        "nothing counted: {stderr}"
    );
}

#[test]
fn auto_guesses_them_as_milliseconds_and_counts_and_logs_the_guesses() {
    let dir = tempfile::tempdir().unwrap();
    let (stderr, read) = run(dir.path(), "");
    // What `auto` makes of them: below 10^14 milliseconds, above microseconds.
    let guessed: Vec<i64> = CREATED_AT
        .iter()
        .map(|&(v, _)| {
            if v.abs() < 100_000_000_000_000 {
                v * 1000
            } else {
                v
            }
        })
        .collect();
    assert_eq!(created_at(&read, "pyiceberg"), guessed);
    let in_band = CREATED_AT.iter().filter(|(_, in_band)| *in_band).count();
    assert!(
        stderr.contains(&format!(
            "{in_band} integer timestamps read in a guessed unit"
        )),
        "the summary counts the guesses: {stderr}"
    );
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("has no unit"))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning per column: {stderr}");
    let warning = warnings[0];
    for wanted in [
        "WARN",
        "`created_at`: integer timestamp 1 has no unit",
        "read as millis (1970-01-01T00:00:00.001+00:00)",
        "as micros it is 1970-01-01T00:00:00.000001+00:00",
        "numeric_time_columns = { created_at = \"micros\" }",
        "table=\"shop.events\"",
    ] {
        assert!(warning.contains(wanted), "`{wanted}` in: {warning}");
    }
}
