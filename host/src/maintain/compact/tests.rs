//! Compaction against a real SQLite catalog and real Parquet files: the
//! key index remapped after a compaction is the index rebuilt from the
//! compacted table, and the writer goes on from it.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::change::{Change, ColumnType, Field, Image, Op, Position, Value};
use crate::commit::catalog::parse_table_ident;
use crate::commit::{CatalogConfig, Offsets, SqlCatalog};
use crate::maintain::Maintainer;
use crate::table::index::KeyIndex;
use crate::table::rebuild::{key_field_ids, rebuild_index};
use crate::table::{TableOptions, TableWriter};

fn change(op: Op, id: i64, name: &str, offset: i64) -> Change {
    let image = Image::from_fields([
        Field {
            name: "id".into(),
            ty: ColumnType::Long,
            value: Some(Value::Long(id)),
        },
        Field {
            name: "name".into(),
            ty: ColumnType::String,
            value: Some(Value::String(name.into())),
        },
        Field {
            name: "region".into(),
            ty: ColumnType::String,
            value: Some(Value::String(["eu", "us"][id as usize % 2].into())),
        },
    ]);
    let (before, after) = match op {
        Op::Delete => (Some(image), None),
        _ => (None, Some(image)),
    };
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

/// Applies `changes` to the writer and to `live`, the keys an oracle has.
fn apply(writer: &mut TableWriter, live: &mut BTreeSet<i64>, changes: Vec<Change>) {
    for c in &changes {
        let image = c.after.as_ref().or(c.before.as_ref()).unwrap();
        let Some(Value::Long(id)) = image.get("id") else {
            unreachable!()
        };
        match c.op {
            Op::Delete => live.remove(id),
            _ => live.insert(*id),
        };
    }
    assert!(writer.apply(changes).is_empty());
}

/// Every (key, data file, position) of an index.
fn entries(index: &KeyIndex) -> BTreeSet<(u64, u64, String, u32)> {
    index
        .entries()
        .map(|(key, path, pos)| (key.0[0], key.0[1], path.to_string(), pos))
        .collect()
}

#[tokio::test]
async fn the_remapped_index_is_the_index_rebuilt_from_the_compacted_table() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = SqlCatalog::connect(&CatalogConfig {
        name: "c".into(),
        uri: format!("sqlite://{}/c.db", dir.path().display()),
        warehouse: format!("{}/wh", dir.path().display()),
    })
    .await
    .unwrap();
    let ident = parse_table_ident("db.t").unwrap();
    let mut options = TableOptions::new("p");
    options.create = true;
    // An identity partition: the reader fills its column from the
    // partition, which the rewrite must write back as it was.
    options.partition = vec!["region".into()];
    // Small target files, so that a partition's rows land in several.
    options
        .properties
        .insert("write.target-file-size-bytes".into(), "2000".into());
    let mut writer = TableWriter::open(catalog.clone(), ident.clone(), options)
        .await
        .unwrap();
    let mut offset = 0;
    let mut live: BTreeSet<i64> = BTreeSet::new();
    for round in 0..12i64 {
        let mut changes: Vec<Change> = (0..40)
            .map(|i| {
                let id = (round * 7 + i * 3) % 97;
                change(Op::Insert, id, &format!("{round}"), offset)
            })
            .collect();
        if round % 3 == 2 {
            changes.push(change(Op::Delete, (round * 5) % 97, "", offset));
        }
        apply(&mut writer, &mut live, changes);
        offset += 1;
        let mut consumed = Offsets::new();
        consumed.set("topic", 0, offset);
        writer.commit(&consumed, &BTreeMap::new()).await.unwrap();
    }
    let before = writer.table().unwrap().clone();
    let before_snapshot = plan::read_snapshot(catalog.file_io(), "db.t", &before.metadata)
        .await
        .unwrap();
    assert!(before_snapshot.data.len() >= 20 && !before_snapshot.deletes.is_empty());

    let compacted = Maintainer::new(catalog.clone(), "p")
        .compact_now(&before, 1)
        .await
        .unwrap()
        .expect("small files are due");
    assert_eq!(compacted.rows_written as usize, live.len());
    assert!(
        compacted.data_files_added >= 2,
        "the target size cuts files"
    );
    let after = &compacted.table;
    let summary = &after.metadata.current_snapshot().unwrap().summary();
    assert_eq!(summary.operation, iceberg::spec::Operation::Replace);
    assert_eq!(
        summary.additional_properties.get("floe.offsets"),
        before
            .metadata
            .current_snapshot()
            .unwrap()
            .summary()
            .additional_properties
            .get("floe.offsets"),
        "the offsets are carried forward unchanged"
    );
    let after_snapshot = plan::read_snapshot(catalog.file_io(), "db.t", &after.metadata)
        .await
        .unwrap();
    assert!(
        after_snapshot.deletes.is_empty(),
        "every delete went with its file"
    );
    assert!(after_snapshot.data.len() < before_snapshot.data.len());

    writer.compacted(after.clone(), compacted.parent, &compacted.moves);
    let key_ids = key_field_ids(after.metadata.current_schema(), &["id".into()]).unwrap();
    let rebuilt = rebuild_index(catalog.file_io(), &after.metadata, &key_ids, "db.t")
        .await
        .unwrap();
    assert!(rebuilt.duplicates.is_empty());
    assert_eq!(
        entries(writer.index().unwrap()),
        entries(&rebuilt.index),
        "remapped index == rebuilt index"
    );
    assert_eq!(writer.index_len(), live.len());

    // The writer goes on from the remapped index: updates and deletes of
    // rewritten rows hit their new places.
    let changes = vec![
        change(Op::Insert, 3, "again", offset),
        change(Op::Delete, 6, "", offset),
        change(Op::Insert, 200, "new", offset),
    ];
    apply(&mut writer, &mut live, changes);
    offset += 1;
    let mut consumed = Offsets::new();
    consumed.set("topic", 0, offset);
    let report = writer
        .commit(&consumed, &BTreeMap::new())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        report.conflicts, 0,
        "the compacted table was the writer's base"
    );
    let table = writer.table().unwrap();
    let rebuilt = rebuild_index(catalog.file_io(), &table.metadata, &key_ids, "db.t")
        .await
        .unwrap();
    assert!(rebuilt.duplicates.is_empty(), "no row left behind twice");
    assert_eq!(rebuilt.index.len(), live.len());
    assert_eq!(entries(writer.index().unwrap()), entries(&rebuilt.index));
}
