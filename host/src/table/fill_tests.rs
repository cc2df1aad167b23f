//! Filling partial rows against a real table (SQLite catalog, Parquet
//! files, read back with the iceberg crate's own reader): from the batch,
//! from the window, from the table's data files (after a restart, through
//! the rebuilt key index), and the keys that have no row.

use std::collections::{BTreeMap, HashMap};

use arrow_array::RecordBatch;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use futures::TryStreamExt;
use iceberg::table::Table;

use super::*;
use crate::change::{Change, ChangeBatch, ColumnType, Field, Image, Op, Position, Value};
use crate::commit::catalog::parse_table_ident;
use crate::commit::{CatalogConfig, Offsets, SqlCatalog};

const COLUMNS: [&str; 4] = ["id", "name", "doc", "blob"];

fn image(id: i64, name: Option<&str>, doc: Option<&str>, blob: Option<&[u8]>) -> Image {
    let mut image = Image::new();
    image.set("id", ColumnType::Long, Some(Value::Long(id)));
    for (column, value) in [("name", name), ("doc", doc)] {
        match value {
            Some(v) => image.set(column, ColumnType::String, Some(Value::String(v.into()))),
            None => image.mark_unchanged(column),
        }
    }
    match blob {
        Some(b) => image.set("blob", ColumnType::Binary, Some(Value::Binary(b.to_vec()))),
        None => image.mark_unchanged("blob"),
    }
    image
}

fn change(op: Op, after: Option<Image>, before: Option<Image>, offset: i64) -> Change {
    Change {
        op,
        table: "db.t".into(),
        key: vec!["id".into()],
        before,
        after,
        position: Position::new("topic", 0, offset),
        event_time: None,
    }
}

fn full(id: i64, n: &str, offset: i64) -> Change {
    let doc = format!("doc of {id} {n}");
    let blob = format!("blob {id}");
    let after = image(id, Some(n), Some(&doc), Some(blob.as_bytes()));
    change(Op::Insert, Some(after), None, offset)
}

async fn catalog(dir: &std::path::Path) -> SqlCatalog {
    SqlCatalog::connect(&CatalogConfig {
        name: "c".into(),
        uri: format!("sqlite://{}/c.db", dir.display()),
        warehouse: format!("{}/wh", dir.display()),
    })
    .await
    .unwrap()
}

/// The table's rows as text, by id.
async fn rows(catalog: &SqlCatalog, writer: &TableWriter) -> BTreeMap<String, Vec<String>> {
    let loaded = writer.table().unwrap();
    let table = Table::builder()
        .metadata(loaded.metadata.clone())
        .metadata_location(loaded.metadata_location.clone())
        .identifier(loaded.ident.clone())
        .file_io(catalog.file_io().clone())
        .readonly(true)
        .runtime(iceberg::Runtime::current())
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = table
        .scan()
        .select(COLUMNS)
        .build()
        .unwrap()
        .to_arrow()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let options = FormatOptions::default().with_null("null");
    let mut out = BTreeMap::new();
    for batch in &batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = formatters
                .iter()
                .map(|f| f.value(row).to_string())
                .collect();
            out.insert(cells[0].clone(), cells[1..].to_vec());
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn partial_rows_take_the_rows_current_state_or_go_to_the_dlq() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog(dir.path()).await;
    let ident = parse_table_ident("db.t").unwrap();
    let mut options = TableOptions::new("p");
    options.create = true;
    let mut writer = TableWriter::open(catalog.clone(), ident.clone(), options.clone())
        .await
        .unwrap();
    // Two commits: rows 1–4 live in two data files.
    for (ids, offset) in [([1, 2], 0), ([3, 4], 2)] {
        let changes: Vec<Change> = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| full(id, "a", offset + i as i64))
            .collect();
        assert!(writer.apply(changes).is_empty());
        writer
            .commit(&Offsets::new(), &BTreeMap::new())
            .await
            .unwrap();
    }
    // A restart: the live rows are found through the rebuilt key index.
    let mut writer = TableWriter::open(catalog.clone(), ident.clone(), options)
        .await
        .unwrap();

    let mut absent = Image::new();
    absent.set("id", ColumnType::Long, Some(Value::Long(3)));
    absent.set("name", ColumnType::String, Some(Value::String("c".into())));
    absent.set_absent_unchanged(true);
    let id_only = |id| {
        Image::from_fields([Field {
            name: "id".into(),
            ty: ColumnType::Long,
            value: Some(Value::Long(id)),
        }])
    };
    let mut no_key = image(5, Some("k"), None, None);
    no_key.remove("id");
    let batch = vec![
        // 1: doc and blob from the table's first data file.
        change(Op::Update, Some(image(1, Some("b"), None, None)), None, 10),
        // 3: everything it did not send, from the second data file.
        change(Op::Update, Some(absent), None, 11),
        // 10: inserted, then partially updated in the same batch, twice.
        full(10, "x", 12),
        change(
            Op::Update,
            Some(image(10, Some("y"), None, Some(b"new"))),
            None,
            13,
        ),
        change(Op::Update, Some(image(10, Some("z"), None, None)), None, 14),
        // 2: deleted, then a partial update: no row to fill from.
        change(Op::Delete, None, Some(id_only(2)), 15),
        change(Op::Update, Some(image(2, Some("q"), None, None)), None, 16),
        // 99: never seen.
        change(Op::Update, Some(image(99, Some("q"), None, None)), None, 17),
        // No key: no row can be found for it.
        change(Op::Update, Some(no_key), None, 18),
    ];
    let filled = writer.fill(ChangeBatch::from(batch)).await;
    assert_eq!((filled.from_pending, filled.from_table), (2, 2));
    let rejected: HashMap<i64, String> = filled
        .rejected
        .iter()
        .map(|r| (r.change.position.offset, r.error.to_string()))
        .collect();
    assert_eq!(rejected.len(), 3, "{rejected:?}");
    assert_eq!(rejected[&18], "key column `id` is missing or NULL");
    for offset in [16, 17] {
        assert!(
            rejected[&offset].contains("no row in the table or the commit window")
                && rejected[&offset].contains("`doc`"),
            "{}",
            rejected[&offset]
        );
    }
    assert!(filled.batch.partial_rows().is_empty(), "full rows only");
    assert_eq!(filled.batch.len(), 6);
    assert!(writer.apply(filled.batch).is_empty());

    // A later batch: 10's pending row is in the window now.
    let later = vec![change(
        Op::Update,
        Some(image(10, None, Some("d10"), None)),
        None,
        20,
    )];
    let filled = writer.fill(ChangeBatch::from(later)).await;
    assert_eq!((filled.from_pending, filled.from_table), (1, 0));
    assert!(writer.apply(filled.batch).is_empty());
    writer
        .commit(&Offsets::new(), &BTreeMap::new())
        .await
        .unwrap();

    let rows = rows(&catalog, &writer).await;
    let row =
        |name: &str, doc: &str, blob: &[u8]| vec![name.to_string(), doc.to_string(), hex(blob)];
    let expected = BTreeMap::from([
        ("1".to_string(), row("b", "doc of 1 a", b"blob 1")),
        ("3".to_string(), row("c", "doc of 3 a", b"blob 3")),
        ("4".to_string(), row("a", "doc of 4 a", b"blob 4")),
        ("10".to_string(), row("z", "d10", b"new")),
    ]);
    assert_eq!(rows, expected);
}

#[tokio::test]
async fn a_batch_of_full_rows_is_given_back_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog(dir.path()).await;
    let ident = parse_table_ident("db.t").unwrap();
    let mut options = TableOptions::new("p");
    options.create = true;
    let writer = TableWriter::open(catalog, ident, options).await.unwrap();
    let batch = ChangeBatch::from(vec![full(1, "a", 0), full(2, "b", 1)]);
    let filled = writer.fill(batch.clone()).await;
    assert_eq!(filled.batch, batch);
    assert_eq!((filled.from_pending, filled.from_table), (0, 0));
    assert!(filled.rejected.is_empty());
}
