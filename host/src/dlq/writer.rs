//! Writing dead letters to Parquet.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, Int32Builder, Int64Builder, ListBuilder, StringBuilder, StructBuilder,
    TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::change::Position;
use crate::source::Header;

/// Where in the pipeline a record was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DlqStage {
    /// The record could not be decoded into changes.
    Decode,
    /// A transformer plugin rejected the change, or failed on it.
    Transform,
    /// The table could not take the change (type mismatch, …).
    Write,
}

impl DlqStage {
    /// The stage's name in the `stage` column and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            DlqStage::Decode => "decode",
            DlqStage::Transform => "transform",
            DlqStage::Write => "write",
        }
    }
}

/// One rejected record: the original Kafka record and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The record's position.
    pub position: Position,
    /// The record's timestamp, in milliseconds since the epoch.
    pub timestamp: Option<i64>,
    /// The original key bytes.
    pub key: Option<Vec<u8>>,
    /// The original value bytes.
    pub value: Option<Vec<u8>>,
    /// The original headers.
    pub headers: Vec<Header>,
    /// The table the record was bound for.
    pub table: String,
    /// Where it was rejected.
    pub stage: DlqStage,
    /// Why, in one line.
    pub reason: String,
}

/// A DLQ file could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("{action} dead letters {path}: {source}")]
pub struct DlqError {
    /// `writing` or `reading`.
    pub action: &'static str,
    /// The file or folder.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: DlqFileError,
}

/// What failed with a DLQ file.
#[derive(Debug, thiserror::Error)]
pub enum DlqFileError {
    /// The file system.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Writing or reading Parquet.
    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Building or reading the Arrow columns.
    #[error(transparent)]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The file is not one floe wrote (a column is missing or of another type).
    #[error("not a DLQ file: {0}")]
    NotDlq(String),
}

/// Writes dead letters under one folder.
#[derive(Debug, Clone)]
pub struct DlqWriter {
    dir: PathBuf,
}

impl DlqWriter {
    /// A writer into `dir` (created when the first file is written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DlqWriter { dir: dir.into() }
    }

    /// The DLQ folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file for a window of `table` that starts at `first_offset` of `topic`/`partition`.
    pub fn file_for(&self, table: &str, topic: &str, partition: i32, first_offset: i64) -> PathBuf {
        self.dir
            .join(sanitize(table))
            .join(sanitize(topic))
            .join(format!("{partition}-{first_offset:020}.parquet"))
    }

    /// Writes the dead letters of one commit window of `table` on one
    /// partition, replacing the file of an earlier attempt at the same window.
    pub fn write_window(
        &self,
        table: &str,
        topic: &str,
        partition: i32,
        first_offset: i64,
        letters: &[DeadLetter],
    ) -> Result<PathBuf, DlqError> {
        let path = self.file_for(table, topic, partition, first_offset);
        let written = (|| -> Result<(), DlqFileError> {
            let batch = to_batch(letters)?;
            let folder = path.parent().expect("a DLQ file has a folder");
            fs::create_dir_all(folder)?;
            let tmp = path.with_extension(format!("parquet.tmp{}", std::process::id()));
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .build();
            let mut writer =
                ArrowWriter::try_new(File::create(&tmp)?, batch.schema(), Some(props))?;
            writer.write(&batch)?;
            writer.into_inner()?.sync_all()?;
            fs::rename(&tmp, &path)?;
            Ok(())
        })();
        written.map_err(|source| DlqError {
            action: "writing",
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }
}

/// A name made safe as one path component.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn header_fields() -> Fields {
    Fields::from(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("value", DataType::Binary, true),
    ])
}

/// The Arrow schema of DLQ files.
fn schema() -> Schema {
    Schema::new(vec![
        Field::new("topic", DataType::Utf8, false),
        Field::new("partition", DataType::Int32, false),
        Field::new("offset", DataType::Int64, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("key", DataType::Binary, true),
        Field::new("value", DataType::Binary, true),
        Field::new(
            "headers",
            DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(header_fields()),
                true,
            ))),
            false,
        ),
        Field::new("table", DataType::Utf8, false),
        Field::new("stage", DataType::Utf8, false),
        Field::new("_dlq_reason", DataType::Utf8, false),
    ])
}

fn to_batch(letters: &[DeadLetter]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let mut topic = StringBuilder::new();
    let mut partition = Int32Builder::new();
    let mut offset = Int64Builder::new();
    let mut timestamp = TimestampMillisecondBuilder::new().with_timezone("UTC");
    let mut key = BinaryBuilder::new();
    let mut value = BinaryBuilder::new();
    let header_struct = StructBuilder::new(
        header_fields(),
        vec![
            Box::new(StringBuilder::new()),
            Box::new(BinaryBuilder::new()),
        ],
    );
    let mut headers = ListBuilder::new(header_struct).with_field(Arc::new(Field::new(
        "item",
        DataType::Struct(header_fields()),
        true,
    )));
    let mut table = StringBuilder::new();
    let mut stage = StringBuilder::new();
    let mut reason = StringBuilder::new();
    for letter in letters {
        topic.append_value(&*letter.position.topic);
        partition.append_value(letter.position.partition);
        offset.append_value(letter.position.offset);
        timestamp.append_option(letter.timestamp);
        key.append_option(letter.key.as_deref());
        value.append_option(letter.value.as_deref());
        let entries = headers.values();
        for header in &letter.headers {
            entries
                .field_builder::<StringBuilder>(0)
                .expect("name builder")
                .append_value(&header.name);
            entries
                .field_builder::<BinaryBuilder>(1)
                .expect("value builder")
                .append_option(header.value.as_deref());
            entries.append(true);
        }
        headers.append(true);
        table.append_value(&letter.table);
        stage.append_value(letter.stage.as_str());
        reason.append_value(&letter.reason);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(topic.finish()),
        Arc::new(partition.finish()),
        Arc::new(offset.finish()),
        Arc::new(timestamp.finish()),
        Arc::new(key.finish()),
        Arc::new(value.finish()),
        Arc::new(headers.finish()),
        Arc::new(table.finish()),
        Arc::new(stage.finish()),
        Arc::new(reason.finish()),
    ];
    RecordBatch::try_new(Arc::new(schema()), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, BinaryArray, Int64Array, ListArray, StringArray};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn letter(offset: i64, reason: &str) -> DeadLetter {
        DeadLetter {
            position: Position::new("dbserver1.inventory.customers", 2, offset),
            timestamp: Some(1_700_000_000_000),
            key: Some(b"{\"id\":1}".to_vec()),
            value: (offset % 2 == 0).then(|| b"{not json".to_vec()),
            headers: vec![Header {
                name: "trace".into(),
                value: Some(b"abc".to_vec()),
            }],
            table: "inventory.customers".into(),
            stage: DlqStage::Decode,
            reason: reason.into(),
        }
    }

    fn read(path: &Path) -> RecordBatch {
        let file = File::open(path).unwrap();
        let mut reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        reader.next().unwrap().unwrap()
    }

    #[test]
    fn a_window_is_one_file_and_a_replay_rewrites_it() {
        let dir = tempfile::tempdir().unwrap();
        let dlq = DlqWriter::new(dir.path());
        let path = dlq
            .write_window(
                "inventory.customers",
                "dbserver1.inventory.customers",
                2,
                100,
                &[letter(104, "invalid JSON")],
            )
            .unwrap();
        assert!(path.ends_with(
            "inventory.customers/dbserver1.inventory.customers/2-00000000000000000100.parquet"
        ));
        let again = dlq
            .write_window(
                "inventory.customers",
                "dbserver1.inventory.customers",
                2,
                100,
                &[letter(104, "invalid JSON"), letter(107, "no op")],
            )
            .unwrap();
        assert_eq!(path, again);
        let files: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(files.len(), 1, "no second file, no temporary left behind");

        let batch = read(&path);
        assert_eq!(batch.num_rows(), 2);
        let offsets = batch
            .column_by_name("offset")
            .unwrap()
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert_eq!(offsets.values(), &[104, 107]);
        let reasons = batch
            .column_by_name("_dlq_reason")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(reasons.value(1), "no op");
        let values = batch
            .column_by_name("value")
            .unwrap()
            .as_any()
            .downcast_ref::<BinaryArray>()
            .unwrap();
        assert_eq!(values.value(0), b"{not json");
        assert!(values.is_null(1));
        let headers = batch
            .column_by_name("headers")
            .unwrap()
            .as_any()
            .downcast_ref::<ListArray>()
            .unwrap();
        assert_eq!(headers.value(0).len(), 1);
        let stage = batch
            .column_by_name("stage")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(stage.value(0), "decode");
    }
}
