//! `floe run` on the edges of schemaless input and of size, as a new user
//! meets them on day one:
//!
//! - schemaless Debezium (`schemas.enable=false`) into a table `create`
//!   makes in the same run: NULLs fit the columns the first values typed,
//!   with and without a restart, and a column first seen as NULL is typed
//!   by its first value, not made a string;
//! - a change with 20,000 columns goes to the dead-letter queue, naming
//!   `max_new_columns`, while the pipeline goes on and the table keeps its
//!   columns; a 2,000-column change under a raised limit is taken;
//! - a 30 MB value, 200,000-deep JSON nesting, and 10,000 changes of one key
//!   in one window each take time in proportion to their size.
//!
//! Every table is read back by PyIceberg and DuckDB.

mod iceberg_common;
mod pipeline_common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use iceberg_common::TestCatalog;
use pipeline_common::{dead_letters, run_to_end, sorted, write_config, write_events};
use serde_json::{Value as Json, json};

const TOPIC: &str = "dbserver1.shop.things";
const TABLE: &str = "shop.things";

/// A schemaless Debezium change event line of the file source.
fn event(op: &str, id: i64, after: Option<&Json>) -> String {
    let value = json!({
        "op": op,
        "before": null,
        "after": after,
        "source": {"ts_ms": 1_700_000_000_000i64},
        "ts_ms": 1_700_000_000_000i64,
    });
    json!({"key": {"id": id}, "value": value}).to_string()
}

/// The rows PyIceberg and DuckDB read, after asserting they agree.
fn read_rows(catalog: &TestCatalog) -> Vec<Json> {
    let read = catalog.read(TABLE);
    let pyiceberg = sorted(&read["pyiceberg"]);
    assert_eq!(
        pyiceberg,
        sorted(&read["duckdb"]),
        "PyIceberg and DuckDB agree"
    );
    pyiceberg
}

/// The table's columns and their types, as PyIceberg reports them.
fn columns(catalog: &TestCatalog) -> Vec<(String, String)> {
    let out = catalog.python(&format!(
        "import json\nt = catalog.load_table({TABLE:?})\n\
         print(json.dumps([[f.name, str(f.field_type)] for f in t.schema().fields]))"
    ));
    serde_json::from_str(out.trim()).unwrap()
}

/// The rows of `oracle` as the readers print them: every column of
/// `columns`, NULL where the row has no value.
fn expected(oracle: &BTreeMap<i64, Json>, columns: &[&str]) -> Vec<Json> {
    oracle
        .values()
        .map(|row| {
            let full: serde_json::Map<String, Json> = columns
                .iter()
                .map(|c| (c.to_string(), row.get(*c).cloned().unwrap_or(Json::Null)))
                .collect();
            Json::Object(full)
        })
        .collect()
}

/// Row `id` of the NULL workload: `active` and `score` are NULL in every
/// third row, `note` is NULL in the first 12 rows and text after, `never`
/// is always NULL.
fn nullable_row(id: i64) -> Json {
    json!({
        "id": id,
        "active": if id % 3 == 0 { Json::Null } else { json!(id % 2 == 0) },
        "score": if id % 3 == 1 { Json::Null } else { json!(id as f64 + 0.5) },
        "note": if id <= 12 { Json::Null } else { json!(format!("note {id}")) },
        "never": null,
    })
}

#[test]
fn schemaless_nulls_fit_a_table_created_in_the_same_run_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    // Commits every 5 records, so the table is created while later batches
    // are already decoded, and evolves (`note`) in a later window.
    let config = write_config(dir.path(), &catalog, TOPIC, TABLE, 5, "create = true");
    let mut oracle = BTreeMap::new();
    let mut lines = Vec::new();
    for id in 1..=40 {
        let row = nullable_row(id);
        lines.push(event("c", id, Some(&row)));
        oracle.insert(id, row);
    }
    // Updates that set values back to NULL.
    for id in [2, 4, 20, 22] {
        let mut row = nullable_row(id);
        row["active"] = Json::Null;
        row["score"] = Json::Null;
        row["note"] = Json::Null;
        lines.push(event("u", id, Some(&row)));
        oracle.insert(id, row);
    }
    write_events(dir.path(), &lines);
    run_to_end(&config);
    let check = |oracle: &BTreeMap<i64, Json>, read: &[&str], context: &str| {
        assert_eq!(
            dead_letters(dir.path()),
            vec![],
            "{context}: nothing goes to the DLQ"
        );
        let table_columns = columns(&catalog);
        let names: Vec<&str> = table_columns.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            !names.contains(&"never"),
            "{context}: a column only ever NULL is not added: {table_columns:?}"
        );
        for (column, ty) in [
            ("active", "boolean"),
            ("score", "double"),
            ("note", "string"),
        ] {
            assert!(
                table_columns.contains(&(column.to_string(), ty.to_string())),
                "{context}: `{column}` is {ty}: {table_columns:?}"
            );
        }
        let rows = read_rows(&catalog);
        assert_eq!(
            rows,
            expected(oracle, read),
            "{context}: the table holds every row, NULLs included"
        );
    };
    check(
        &oracle,
        &["id", "active", "score", "note"],
        "the run that created the table",
    );

    // A restart: more NULLs and values, a column first seen as NULL and
    // typed by a later value (`late`, a boolean, not a string).
    for id in 41..=60 {
        let mut row = nullable_row(id);
        row["late"] = if id < 50 {
            Json::Null
        } else {
            json!(id % 2 == 1)
        };
        lines.push(event("c", id, Some(&row)));
        row.as_object_mut().unwrap().remove("never");
        oracle.insert(id, row);
    }
    write_events(dir.path(), &lines);
    run_to_end(&config);
    check(
        &oracle,
        &["id", "active", "score", "note", "late"],
        "after a restart",
    );
    let table_columns = columns(&catalog);
    assert!(
        table_columns.contains(&("late".to_string(), "boolean".to_string())),
        "a column first seen as NULL takes its first value's type: {table_columns:?}"
    );
}

/// A normal row of the wide-change workload.
fn narrow_row(id: i64) -> Json {
    json!({"id": id, "name": format!("thing {id}")})
}

/// A row with `extra` more columns than a normal one.
fn wide_row(id: i64, extra: usize) -> Json {
    let mut row = narrow_row(id);
    for c in 0..extra {
        row[format!("wide_{c:05}")] = json!(c);
    }
    row
}

/// Runs `floe run` to the end and returns how long it took.
fn timed_run(config: &Path) -> Duration {
    let started = Instant::now();
    run_to_end(config);
    started.elapsed()
}

#[test]
fn a_change_with_20000_columns_goes_to_the_dlq_and_the_pipeline_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let config = write_config(dir.path(), &catalog, TOPIC, TABLE, 1000, "create = true");
    let mut oracle = BTreeMap::new();
    let mut lines = Vec::new();
    for id in 1..=50 {
        lines.push(event("c", id, Some(&narrow_row(id))));
        oracle.insert(id, narrow_row(id));
    }
    let wide_offset = lines.len() as i64;
    lines.push(event("c", 1_000, Some(&wide_row(1_000, 20_000))));
    for id in 51..=100 {
        lines.push(event("c", id, Some(&narrow_row(id))));
        oracle.insert(id, narrow_row(id));
    }
    write_events(dir.path(), &lines);
    let narrow_only = {
        let narrow_dir = tempfile::tempdir().unwrap();
        let narrow_catalog = TestCatalog::new(narrow_dir.path());
        let narrow_config = write_config(
            narrow_dir.path(),
            &narrow_catalog,
            TOPIC,
            TABLE,
            1000,
            "create = true",
        );
        let narrow_lines: Vec<String> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i as i64 != wide_offset)
            .map(|(_, l)| l.clone())
            .collect();
        write_events(narrow_dir.path(), &narrow_lines);
        timed_run(&narrow_config)
    };
    let took = timed_run(&config);
    println!(
        "20,000-column change among 100 others: floe run took {took:?} (without it: {narrow_only:?})"
    );
    assert!(
        took < narrow_only + Duration::from_secs(5),
        "the wide change must not stall the pipeline: {took:?} against {narrow_only:?} without it"
    );
    let letters = dead_letters(dir.path());
    assert_eq!(
        letters.len(),
        1,
        "only the wide change is refused: {letters:?}"
    );
    let (offset, stage, reason) = &letters[0];
    assert_eq!(*offset, wide_offset);
    assert_eq!(stage, "write");
    assert!(
        reason.contains("max_new_columns") && reason.contains("200"),
        "the reason names the limit: {reason}"
    );
    let table_columns = columns(&catalog);
    assert_eq!(
        table_columns
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        vec!["id", "name"],
        "the table keeps its columns"
    );
    assert_eq!(read_rows(&catalog), expected(&oracle, &["id", "name"]));

    // The same limit, enforced where the change is one of several columns
    // a window adds: 150 columns fit, 60 more in the same window do not.
    let mut more = lines.clone();
    more.push(event("c", 2_000, Some(&wide_row(2_000, 150))));
    let over_offset = more.len() as i64;
    let mut over = narrow_row(2_001);
    for c in 0..60 {
        over[format!("late_{c:02}")] = json!(c);
    }
    more.push(event("c", 2_001, Some(&over)));
    write_events(dir.path(), &more);
    run_to_end(&config);
    let letters = dead_letters(dir.path());
    let refused: Vec<i64> = letters.iter().map(|(o, _, _)| *o).collect();
    assert_eq!(refused, vec![wide_offset, over_offset], "{letters:?}");
    assert!(letters[1].2.contains("50 left"), "{}", letters[1].2);
    assert_eq!(
        columns(&catalog).len(),
        2 + 150,
        "the 150 columns were added, the 60 not"
    );
}

#[test]
fn a_2000_column_change_is_taken_under_a_raised_limit() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let config = write_config(
        dir.path(),
        &catalog,
        TOPIC,
        TABLE,
        1000,
        "create = true\nmax_new_columns = 5000",
    );
    let mut lines: Vec<String> = (1..=10)
        .map(|id| event("c", id, Some(&narrow_row(id))))
        .collect();
    lines.push(event("c", 11, Some(&wide_row(11, 2_000))));
    write_events(dir.path(), &lines);
    let took = timed_run(&config);
    println!("2,000-column change admitted: floe run took {took:?}");
    assert_eq!(dead_letters(dir.path()), vec![]);
    let table_columns = columns(&catalog);
    assert_eq!(table_columns.len(), 2 + 2_000);
    let rows = read_rows(&catalog);
    assert_eq!(rows.len(), 11);
    assert_eq!(rows[10]["wide_01999"], json!(1_999));
    assert_eq!(rows[0]["wide_01999"], Json::Null);
}

#[test]
fn a_30_mb_value_deep_nesting_and_10000_changes_of_one_key_each_go_through() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let config = write_config(dir.path(), &catalog, TOPIC, TABLE, 100_000, "create = true");
    let big = "x".repeat(30 * 1024 * 1024);
    let depth = 200_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let mut lines = vec![
        event("c", 1, Some(&json!({"id": 1, "name": big}))),
        // The nested value as a raw JSON member, built as text: serde_json
        // would refuse to build it as a value.
        event("c", 2, Some(&json!({"id": 2, "name": "deep"}))).replace(
            "\"name\":\"deep\"",
            &format!("\"name\":\"deep\",\"payload\":{deep}"),
        ),
    ];
    for n in 0..10_000 {
        lines.push(event(
            "u",
            3,
            Some(&json!({"id": 3, "name": format!("version {n}")})),
        ));
    }
    write_events(dir.path(), &lines);
    let took = timed_run(&config);
    println!(
        "30 MB value, {depth}-deep nesting, 10,000 changes of one key: floe run took {took:?}"
    );
    let letters = dead_letters(dir.path());
    let rows = read_rows(&catalog);
    let by_id: BTreeMap<i64, &Json> = rows
        .iter()
        .map(|r| (r["id"].as_i64().unwrap(), r))
        .collect();
    assert_eq!(
        by_id[&1]["name"].as_str().map(str::len),
        Some(30 * 1024 * 1024),
        "the 30 MB value is whole"
    );
    assert_eq!(
        by_id[&3]["name"],
        json!("version 9999"),
        "the last of 10,000 changes of a key wins"
    );
    // The deep value is either kept whole as JSON text or refused with a
    // reason; it never crashes or stalls the run.
    match by_id.get(&2) {
        Some(row) => assert_eq!(row["payload"].as_str().map(str::len), Some(2 * depth)),
        None => assert_eq!(
            letters.len(),
            1,
            "the deep record is in the DLQ: {letters:?}"
        ),
    }
    assert!(letters.len() <= 1, "{letters:?}");
}
