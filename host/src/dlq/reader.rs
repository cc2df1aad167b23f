//! Reading the dead-letter queue back, as `floe dlq list` and `floe dlq
//! show` do: every letter of every DLQ file under a folder.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{DlqError, DlqFileError};

/// One dead letter as read back from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLetter {
    /// The record's topic.
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// Its timestamp, in milliseconds since the epoch.
    pub timestamp: Option<i64>,
    /// Its key bytes.
    pub key: Option<Vec<u8>>,
    /// Its value bytes.
    pub value: Option<Vec<u8>>,
    /// The table it was bound for.
    pub table: String,
    /// Where it was rejected: `decode`, `transform` or `write`.
    pub stage: String,
    /// Why.
    pub reason: String,
    /// The file it is in.
    pub file: PathBuf,
}

/// Every dead letter under `dir`, ordered by table, topic, partition and
/// offset. A missing folder holds none.
pub fn read_dead_letters(dir: &Path) -> Result<Vec<StoredLetter>, DlqError> {
    let mut files = Vec::new();
    collect_files(dir, &mut files).map_err(|e| DlqError {
        action: "reading",
        path: dir.to_path_buf(),
        source: e.into(),
    })?;
    let mut letters = Vec::new();
    for file in files {
        read_file(&file, &mut letters).map_err(|source| DlqError {
            action: "reading",
            path: file.clone(),
            source,
        })?;
    }
    letters.sort_by(|a, b| {
        (&a.table, &a.topic, a.partition, a.offset).cmp(&(
            &b.table,
            &b.topic,
            b.partition,
            b.offset,
        ))
    });
    Ok(letters)
}

/// The `.parquet` files under `dir` (not the temporary files of a write in
/// progress).
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    Ok(())
}

fn read_file(path: &Path, out: &mut Vec<StoredLetter>) -> Result<(), DlqFileError> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path)?)?.build()?;
    for batch in reader {
        letters_of(&batch?, path, out)?;
    }
    Ok(())
}

fn letters_of(
    batch: &RecordBatch,
    path: &Path,
    out: &mut Vec<StoredLetter>,
) -> Result<(), DlqFileError> {
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .ok_or_else(|| DlqFileError::NotDlq(format!("no column `{name}`")))
    };
    let text = |name: &str| {
        column(name).and_then(|c| {
            c.as_string_opt::<i32>()
                .ok_or_else(|| DlqFileError::NotDlq(format!("`{name}` is not text")))
        })
    };
    let bytes = |name: &str| {
        column(name).and_then(|c| {
            c.as_binary_opt::<i32>()
                .ok_or_else(|| DlqFileError::NotDlq(format!("`{name}` is not binary")))
        })
    };
    let (topic, table, stage, reason) = (
        text("topic")?,
        text("table")?,
        text("stage")?,
        text("_dlq_reason")?,
    );
    let (key, value) = (bytes("key")?, bytes("value")?);
    let partition = column("partition")?
        .as_primitive_opt::<Int32Type>()
        .ok_or_else(|| DlqFileError::NotDlq("`partition` is not an int".into()))?;
    let offset = column("offset")?
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| DlqFileError::NotDlq("`offset` is not a long".into()))?;
    let timestamp = column("timestamp")?
        .as_primitive_opt::<TimestampMillisecondType>()
        .ok_or_else(|| DlqFileError::NotDlq("`timestamp` is not a timestamp".into()))?;
    for row in 0..batch.num_rows() {
        let binary =
            |a: &arrow_array::BinaryArray| (!a.is_null(row)).then(|| a.value(row).to_vec());
        out.push(StoredLetter {
            topic: topic.value(row).to_string(),
            partition: partition.value(row),
            offset: offset.value(row),
            timestamp: (!timestamp.is_null(row)).then(|| timestamp.value(row)),
            key: binary(key),
            value: binary(value),
            table: table.value(row).to_string(),
            stage: stage.value(row).to_string(),
            reason: reason.value(row).to_string(),
            file: path.to_path_buf(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::Position;
    use crate::dlq::{DeadLetter, DlqStage, DlqWriter};

    fn letter(offset: i64, reason: &str) -> DeadLetter {
        DeadLetter {
            position: Position::new("db.t", 2, offset),
            timestamp: Some(1_700_000_000_000),
            key: Some(b"{\"id\":1}".to_vec()),
            value: None,
            headers: Vec::new(),
            table: "inv.t".into(),
            stage: DlqStage::Write,
            reason: reason.into(),
        }
    }

    #[test]
    fn letters_read_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let writer = DlqWriter::new(dir.path());
        writer
            .write_window("inv.t", "db.t", 2, 10, &[letter(12, "b"), letter(10, "a")])
            .unwrap();
        writer
            .write_window("inv.t", "db.t", 2, 5, &[letter(7, "c")])
            .unwrap();
        let read = read_dead_letters(dir.path()).unwrap();
        let seen: Vec<(i64, &str)> = read.iter().map(|l| (l.offset, l.reason.as_str())).collect();
        assert_eq!(seen, [(7, "c"), (10, "a"), (12, "b")]);
        assert_eq!(read[0].key.as_deref(), Some(&b"{\"id\":1}"[..]));
        assert_eq!(read[0].value, None);
        assert_eq!((read[0].partition, read[0].stage.as_str()), (2, "write"));
        assert_eq!(read[0].timestamp, Some(1_700_000_000_000));
        assert!(
            read_dead_letters(&dir.path().join("none"))
                .unwrap()
                .is_empty()
        );
    }
}
