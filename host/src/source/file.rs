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
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Polled, RawRecord, Source, SourceError};

/// A file source could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading {path}: {source}")]
pub struct FileSourceError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// Reads a file of Kafka records in batches, on the caller's thread.
pub struct FileReader {
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

impl FileReader {
    /// Opens `path` as partition 0 of `topic`, positioned at offset 0.
    pub fn open(path: &Path, topic: &str) -> Result<Self, FileSourceError> {
        let file = File::open(path).map_err(|source| FileSourceError {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(FileReader {
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

    /// The offset of the next record [`FileReader::next_batch`] returns.
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

/// How many batches the reading thread may read ahead.
const READ_AHEAD: usize = 2;

/// A file read to its end as a [`Source`], a few batches ahead of the
/// pipeline on a thread of its own: splitting the lines into records costs
/// as much as a third of decoding them. Nothing is read before the first
/// [`Source::reposition`], which says where the table stopped.
pub struct FileSource {
    path: PathBuf,
    topic: Arc<str>,
    batch: usize,
    batches: Option<Receiver<Result<Vec<RawRecord>, FileSourceError>>>,
}

impl FileSource {
    /// A source for `path` as partition 0 of `topic`, read in batches of up
    /// to `batch` records. Fails when the file cannot be opened.
    pub fn open(path: &Path, topic: &str, batch: usize) -> Result<Self, FileSourceError> {
        FileReader::open(path, topic)?;
        Ok(FileSource {
            path: path.to_path_buf(),
            topic: topic.into(),
            batch: batch.max(1),
            batches: None,
        })
    }
}

impl Source for FileSource {
    /// The next batch the reading thread has read (of the size given to
    /// [`FileSource::open`], whatever `max` says), waiting for it as long as
    /// reading takes; `finished` after the last.
    fn poll(&mut self, _max: usize, _wait: Duration) -> Result<Polled, SourceError> {
        let Some(batches) = &self.batches else {
            return Ok(Polled::default());
        };
        let mut polled = Polled::default();
        match batches.recv() {
            Ok(Ok(records)) => polled.records = records,
            Ok(Err(error)) => {
                self.batches = None;
                return Err(error.into());
            }
            Err(_) => polled.finished = true,
        }
        Ok(polled)
    }

    fn assignment(&self) -> Vec<(String, i32)> {
        vec![(self.topic.to_string(), 0)]
    }

    fn reposition(&mut self, starts: &[(String, i32, Option<i64>)]) -> Result<(), SourceError> {
        let start = starts
            .iter()
            .find(|(topic, partition, _)| **topic == *self.topic && *partition == 0)
            .and_then(|(_, _, start)| *start)
            .unwrap_or(0);
        // A reader already running is let go: its thread ends at its next send.
        self.batches = None;
        let mut reader = FileReader::open(&self.path, &self.topic)?;
        reader.seek(start)?;
        if start > 0 {
            tracing::info!(topic = %self.topic, offset = start, "resuming where the tables' snapshots say");
        }
        self.batches = Some(read_ahead(reader, self.batch).map_err(SourceError::Thread)?);
        Ok(())
    }

    fn commit_group(&mut self, _offsets: &[(String, i32, i64)]) {}

    fn close(&mut self) {
        self.batches = None;
    }
}

/// Reads `reader` to its end on a thread of its own, in batches of up to
/// `batch` records. The channel ends after the last batch or the first error.
fn read_ahead(
    mut reader: FileReader,
    batch: usize,
) -> std::io::Result<Receiver<Result<Vec<RawRecord>, FileSourceError>>> {
    let (batches, received) = sync_channel(READ_AHEAD);
    std::thread::Builder::new()
        .name("floe-read".into())
        .spawn(move || {
            loop {
                match reader.next_batch(batch) {
                    Ok(records) if records.is_empty() => return,
                    Ok(records) => {
                        if batches.send(Ok(records)).is_err() {
                            return;
                        }
                    }
                    Err(error) => {
                        let _ = batches.send(Err(error));
                        return;
                    }
                }
            }
        })?;
    Ok(received)
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
        let mut source = FileReader::open(&path, "t").unwrap();
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

        let mut resumed = FileReader::open(&path, "t").unwrap();
        resumed.seek(3).unwrap();
        assert_eq!(resumed.next_batch(10).unwrap()[0].offset, 3);
    }

    fn offsets(source: &mut FileSource) -> Vec<i64> {
        let mut offsets = Vec::new();
        loop {
            let polled = source.poll(2, Duration::ZERO).unwrap();
            offsets.extend(polled.records.iter().map(|r| r.offset));
            if polled.finished {
                return offsets;
            }
        }
    }

    #[test]
    fn a_file_source_reads_from_where_it_is_positioned_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let lines: String = (0..5)
            .map(|i| format!("{{\"key\": {i}, \"value\": null}}\n"))
            .collect();
        std::fs::write(&path, lines).unwrap();
        let mut source = FileSource::open(&path, "t", 2).unwrap();
        assert_eq!(source.assignment(), vec![("t".to_string(), 0)]);
        let unpositioned = source.poll(2, Duration::ZERO).unwrap();
        assert!(unpositioned.records.is_empty() && !unpositioned.finished);
        source.reposition(&[("t".into(), 0, Some(3))]).unwrap();
        assert_eq!(offsets(&mut source), [3, 4]);
        // After a dropped window the pipeline sends it back to the tables' offsets.
        source.reposition(&[("t".into(), 0, None)]).unwrap();
        assert_eq!(offsets(&mut source), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_missing_file_is_an_error_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let error = FileSource::open(&dir.path().join("none.jsonl"), "t", 10)
            .err()
            .unwrap();
        assert!(error.to_string().contains("none.jsonl"), "{error}");
    }
}
