//! A file standing for one Kafka partition: floe's batch mode.
//!
//! One record per line, `{"key": <json|null>, "value": <json|null>}` (the form
//! of the Debezium fixtures); the key and value are handed on as their JSON
//! text, `null` as a Kafka null. Line `n`, counted from 0, is offset `n` of
//! partition 0. A line that is not such an object is handed on whole as the
//! value, so that the decoder rejects it (to the dead-letter queue) with its
//! position instead of the source failing.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::RawRecord;

/// A file source could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading {path}: {source}")]
pub struct FileSourceError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// Reads a file of Kafka records in batches.
pub struct FileSource {
    path: PathBuf,
    topic: Arc<str>,
    reader: BufReader<File>,
    next_offset: i64,
    line: Vec<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    #[serde(borrow)]
    key: Option<&'a RawValue>,
    #[serde(borrow)]
    value: Option<&'a RawValue>,
}

impl FileSource {
    /// Opens `path` as partition 0 of `topic`, positioned at offset 0.
    pub fn open(path: &Path, topic: &str) -> Result<Self, FileSourceError> {
        let file = File::open(path).map_err(|source| FileSourceError {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(FileSource {
            path: path.to_path_buf(),
            topic: topic.into(),
            reader: BufReader::with_capacity(1 << 20, file),
            next_offset: 0,
            line: Vec::new(),
        })
    }

    /// The topic the file stands for.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The offset of the next record [`FileSource::next_batch`] returns.
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// Skips forward to `offset` (a restart resumes where the table stopped).
    pub fn seek(&mut self, offset: i64) -> Result<(), FileSourceError> {
        while self.next_offset < offset {
            if !self.read_line()? {
                break;
            }
            self.next_offset += 1;
        }
        Ok(())
    }

    /// Up to `max` records; an empty batch at the end of the file.
    pub fn next_batch(&mut self, max: usize) -> Result<Vec<RawRecord>, FileSourceError> {
        let mut batch = Vec::with_capacity(max.min(4096));
        while batch.len() < max && self.read_line()? {
            batch.push(self.record());
            self.next_offset += 1;
        }
        Ok(batch)
    }

    /// Reads the next line into `self.line` without its newline; false at the end.
    fn read_line(&mut self) -> Result<bool, FileSourceError> {
        self.line.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.line)
            .map_err(|source| FileSourceError {
                path: self.path.clone(),
                source,
            })?;
        if read == 0 {
            return Ok(false);
        }
        while self.line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            self.line.pop();
        }
        Ok(true)
    }

    fn record(&self) -> RawRecord {
        let text = |raw: Option<&RawValue>| {
            raw.map(|r| r.get())
                .filter(|t| *t != "null")
                .map(|t| t.as_bytes().to_vec())
        };
        let (key, value) = match serde_json::from_slice::<Line<'_>>(&self.line) {
            Ok(line) => (text(line.key), text(line.value)),
            Err(_) => (None, Some(self.line.clone())),
        };
        RawRecord {
            topic: self.topic.clone(),
            partition: 0,
            offset: self.next_offset,
            timestamp: None,
            key,
            value,
            headers: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_records_numbered_from_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(
            &path,
            "{\"key\": {\"id\": 1}, \"value\": {\"op\": \"c\"}}\n{\"key\": null, \"value\": null}\nnot json\n\n{\"value\": {\"op\": \"d\"}}",
        )
        .unwrap();
        let mut source = FileSource::open(&path, "t").unwrap();
        let batch = source.next_batch(2).unwrap();
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[0].key.as_deref(), Some(&b"{\"id\": 1}"[..]));
        assert_eq!(batch[0].value.as_deref(), Some(&b"{\"op\": \"c\"}"[..]));
        assert_eq!(
            (batch[1].key.as_ref(), batch[1].value.as_ref()),
            (None, None),
            "a tombstone"
        );
        let rest = source.next_batch(10).unwrap();
        assert_eq!(
            rest.iter().map(|r| r.offset).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        assert_eq!(
            rest[0].value.as_deref(),
            Some(&b"not json"[..]),
            "handed on for the decoder to reject"
        );
        assert_eq!(rest[1].value.as_deref(), Some(&b""[..]));
        assert_eq!(
            rest[2].value.as_deref(),
            Some(&b"{\"op\": \"d\"}"[..]),
            "the last line needs no newline"
        );
        assert!(source.next_batch(10).unwrap().is_empty());

        let mut resumed = FileSource::open(&path, "t").unwrap();
        resumed.seek(3).unwrap();
        assert_eq!(resumed.next_batch(10).unwrap()[0].offset, 3);
    }
}
