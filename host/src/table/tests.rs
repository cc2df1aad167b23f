//! Writer tests inside the crate: equality deletes written by another engine,
//! schema creation and evolution, per-change errors.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use iceberg::spec::{DataContentType, NestedField, PrimitiveType, Schema, Type};
use iceberg::writer::file_writer::{FileWriter, FileWriterBuilder, ParquetWriterBuilder};
use parquet::file::properties::WriterProperties;

use super::*;
use crate::change::{Change, ColumnType, Field, Image, Op, Position, Value};
use crate::commit::catalog::parse_table_ident;
use crate::commit::{CatalogConfig, Offsets, RowDelta, SqlCatalog, commit_row_delta};

fn row(id: i64, extra: &[(&str, ColumnType, Option<Value>)]) -> Image {
    let mut image = Image::from_fields([Field {
        name: "id".into(),
        ty: ColumnType::Long,
        value: Some(Value::Long(id)),
    }]);
    for (name, ty, value) in extra {
        image.set(*name, *ty, value.clone());
    }
    image
}

fn insert(image: Image, offset: i64) -> Change {
    Change {
        op: Op::Insert,
        table: "db.t".into(),
        key: vec!["id".into()],
        before: None,
        after: Some(image),
        position: Position::new("topic", 0, offset),
        event_time: None,
    }
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

#[tokio::test]
async fn equality_deletes_of_other_writers_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog(dir.path()).await;
    let ident = parse_table_ident("db.t").unwrap();
    let mut options = TableOptions::new("p");
    options.create = true;
    let mut writer = TableWriter::open(catalog.clone(), ident.clone(), options.clone())
        .await
        .unwrap();
    let name = |s: &str| [("name", ColumnType::String, Some(Value::String(s.into())))];
    let changes: Vec<_> = (1..=5).map(|id| insert(row(id, &name("a")), id)).collect();
    assert!(writer.apply(changes).is_empty());
    writer
        .commit(&Offsets::new(), &BTreeMap::new())
        .await
        .unwrap();

    // Another engine deletes ids 2 and 4 with an equality delete file.
    let table = catalog.load_table(&ident).await.unwrap();
    let schema = Arc::new(
        Schema::builder()
            .with_fields(vec![Arc::new(NestedField::required(
                1,
                "id",
                Type::Primitive(PrimitiveType::Long),
            ))])
            .build()
            .unwrap(),
    );
    let path = format!("{}/data/eq-deletes.parquet", table.metadata.location());
    let arrow = Arc::new(iceberg::arrow::schema_to_arrow_schema(&schema).unwrap());
    let ids: ArrayRef = Arc::new(Int64Array::from(vec![2, 4]));
    let batch = RecordBatch::try_new(arrow, vec![ids]).unwrap();
    let mut parquet = ParquetWriterBuilder::new(WriterProperties::default(), schema)
        .build(catalog.file_io().new_output(&path).unwrap())
        .await
        .unwrap();
    parquet.write(&batch).await.unwrap();
    let mut builder = parquet.close().await.unwrap().pop().unwrap();
    builder
        .content(DataContentType::EqualityDeletes)
        .equality_ids(Some(vec![1]))
        .partition_spec_id(0);
    let delta = RowDelta {
        delete_files: BTreeMap::from([(0, vec![builder.build().unwrap()])]),
        pipeline: "other".into(),
        ..RowDelta::default()
    };
    commit_row_delta(&catalog.clone().into(), &table, delta)
        .await
        .unwrap();

    let mut writer = TableWriter::open(catalog.clone(), ident.clone(), options)
        .await
        .unwrap();
    assert_eq!(writer.index_len(), 3);
    assert_eq!(writer.rebuild_stats().rows_deleted, 2);
    assert_eq!(writer.offsets().get("topic", 0), Some(6));
    // Re-inserting an equality-deleted key is an insert; 3 is an update.
    let changes = vec![insert(row(2, &name("b")), 6), insert(row(3, &name("b")), 7)];
    assert!(writer.apply(changes).is_empty());
    let report = writer
        .commit(&Offsets::new(), &BTreeMap::new())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.inserted, report.updated), (1, 1), "{report:?}");
    assert_eq!(writer.index_len(), 4);
}

#[tokio::test]
async fn creation_evolution_and_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog(dir.path()).await;
    let ident = parse_table_ident("db.t").unwrap();
    let mut options = TableOptions::new("p");
    // Without `create`, a missing table is an error.
    assert!(
        TableWriter::open(catalog.clone(), ident.clone(), options.clone())
            .await
            .is_err()
    );
    options.create = true;
    options.partition = vec!["bucket(4, id)".into()];
    let mut writer = TableWriter::open(catalog.clone(), ident.clone(), options.clone())
        .await
        .unwrap();
    let qty = |v: Value, ty| [("qty", ty, Some(v))];
    let changes = vec![
        insert(row(1, &qty(Value::Int(1), ColumnType::Int)), 0),
        // A string into the int column: rejected, the rest goes on.
        insert(
            row(2, &qty(Value::String("x".into()), ColumnType::String)),
            1,
        ),
        // Missing key.
        insert(
            Image::from_fields([Field {
                name: "qty".into(),
                ty: ColumnType::Int,
                value: Some(Value::Int(3)),
            }]),
            2,
        ),
        // Widening int → long and a new column.
        insert(
            row(
                4,
                &[
                    ("qty", ColumnType::Long, Some(Value::Long(1 << 40))),
                    ("note", ColumnType::String, Some(Value::String("n".into()))),
                ],
            ),
            3,
        ),
    ];
    let rejected = writer.apply(changes);
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!(rejected[0].change.position.offset, 1);
    assert!(matches!(rejected[0].error, ChangeError::Schema(_)));
    assert!(matches!(rejected[1].error, ChangeError::Schema(_)));
    let report = writer
        .commit(&Offsets::new(), &BTreeMap::new())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.inserted, 2);
    let table = catalog.load_table(&ident).await.unwrap();
    let schema = table.metadata.current_schema();
    assert_eq!(
        *schema.field_by_name("qty").unwrap().field_type,
        Type::Primitive(PrimitiveType::Long)
    );
    assert!(schema.field_by_name("note").is_some());
    assert!(schema.field_by_name("id").unwrap().required);
    assert_eq!(
        schema.identifier_field_ids().collect::<Vec<_>>(),
        vec![schema.field_id_by_name("id").unwrap()]
    );
    assert_eq!(table.metadata.default_partition_spec().fields().len(), 1);
    // Every offset applied, rejected ones included, is in the summary.
    assert_eq!(writer.offsets().get("topic", 0), Some(4));
    let summary = &table.metadata.current_snapshot().unwrap().summary();
    assert_eq!(
        summary.additional_properties["floe.offsets"],
        r#"{"topic":{"0":4}}"#
    );
    assert_eq!(summary.additional_properties["added-records"], "2");
    // Nothing buffered and no offset moved: nothing to commit.
    assert!(
        writer
            .commit(&Offsets::new(), &BTreeMap::new())
            .await
            .unwrap()
            .is_none()
    );
    // Offsets alone (records that produced no change) still commit.
    let mut consumed = Offsets::new();
    consumed.set("topic", 0, 9);
    let report = writer
        .commit(&consumed, &BTreeMap::new())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.rows_written, 0);
    assert_eq!(writer.offsets().get("topic", 0), Some(9));
}
