//! `floe demo`, the README's first command, as a user runs it: it ends by
//! itself, says what it did, and the tables it prints are the tables
//! PyIceberg reads, with the example plugins' work done on every row (test
//! accounts filtered out, e-mail addresses hashed, APAC customers routed to
//! their own table) and the one broken record in the dead-letter queue.

mod iceberg_common;
mod pipeline_common;

use std::process::Command;

use floe::commit::CatalogConfig;
use floe_tests::{floe_bin, workspace_root};
use iceberg_common::TestCatalog;
use serde_json::Value as Json;

/// The rows count `floe demo` printed for `table` (`<table>: <n> rows`).
fn printed_count(stdout: &str, table: &str) -> usize {
    let prefix = format!("{table}: ");
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&prefix) && l.ends_with(" rows"))
        .unwrap_or_else(|| panic!("no row count for {table} in:\n{stdout}"));
    line[prefix.len()..line.len() - " rows".len()]
        .parse()
        .unwrap()
}

fn column<'a>(rows: &'a [Json], name: &str) -> Vec<&'a str> {
    rows.iter().map(|r| r[name].as_str().unwrap()).collect()
}

fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[test]
fn floe_demo_fills_three_tables_that_pyiceberg_reads_as_the_demo_reports() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("floe-demo");
    let output = Command::new(floe_bin())
        .arg("demo")
        .arg("--dir")
        .arg(&demo)
        .arg("--plugins")
        .arg(workspace_root().join("target/plugins"))
        .output()
        .expect("floe demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "floe demo failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(" records read, 1 to the dead-letter queue"),
        "{stdout}"
    );

    let catalog = TestCatalog {
        config: CatalogConfig {
            name: "floe".into(),
            uri: format!("sqlite://{}/catalog.db", demo.display()),
            warehouse: format!("{}/warehouse", demo.display()),
        },
    };
    let mut tables = Vec::new();
    for table in [
        "inventory.customers",
        "inventory.customers_apac",
        "inventory.orders",
    ] {
        let read = catalog.read(table);
        let rows = pipeline_common::sorted(&read["pyiceberg"]);
        assert!(!rows.is_empty(), "{table} has rows");
        assert_eq!(
            pipeline_common::sorted(&read["duckdb"]),
            rows,
            "{table}: DuckDB reads what PyIceberg reads"
        );
        assert_eq!(
            rows.len(),
            printed_count(&stdout, table),
            "{table}: the demo prints the count PyIceberg reads"
        );
        let mut ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        ids.dedup();
        assert_eq!(ids.len(), rows.len(), "{table}: one row per key");
        tables.push(rows);
    }
    let (everywhere_else, apac) = (&tables[0], &tables[1]);
    assert!(
        column(everywhere_else, "region")
            .iter()
            .all(|r| *r != "apac")
    );
    assert!(column(apac, "region").iter().all(|r| *r == "apac"));
    for rows in [everywhere_else, apac] {
        assert!(column(rows, "first_name").iter().all(|n| *n != "test"));
        assert!(
            column(rows, "email").iter().all(|e| is_sha256_hex(e)),
            "every e-mail address is hashed"
        );
    }

    let dead: Vec<(String, String)> =
        serde_json::from_value(pipeline_common::dlq_columns(&demo, &["topic", "stage"])).unwrap();
    assert_eq!(
        dead,
        [(
            "dbserver1.inventory.customers".to_string(),
            "decode".to_string()
        )]
    );
}
