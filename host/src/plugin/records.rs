//! Raw Kafka records into the contract's flat record batch, the input of a
//! decoder plugin: one copy per buffer, however many records.

use crate::source::RawRecord;

use super::bindings as wit;

/// Lays optional byte strings out flat.
#[derive(Default)]
struct ByteStringsBuilder {
    present: Vec<u8>,
    offsets: Vec<u32>,
    data: Vec<u8>,
}

impl ByteStringsBuilder {
    fn push(&mut self, bytes: Option<&[u8]>) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.present.push(u8::from(bytes.is_some()));
        self.data.extend_from_slice(bytes.unwrap_or_default());
        self.offsets.push(self.data.len() as u32);
    }

    fn finish(mut self) -> wit::ByteStrings {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        wit::ByteStrings {
            present: self.present,
            offsets: self.offsets,
            data: self.data,
        }
    }
}

/// Encodes raw Kafka records as a record batch, one row per record.
pub fn encode_records(records: &[RawRecord]) -> wit::RecordBatch {
    let mut topics: Vec<String> = Vec::new();
    let mut topic_index = Vec::with_capacity(records.len());
    let mut keys = ByteStringsBuilder::default();
    let mut values = ByteStringsBuilder::default();
    let mut header_names = ByteStringsBuilder::default();
    let mut header_values = ByteStringsBuilder::default();
    let mut header_start = Vec::with_capacity(records.len() + 1);
    header_start.push(0u32);
    for record in records {
        let index = match topics.iter().rposition(|t| **t == *record.topic) {
            Some(i) => i,
            None => {
                topics.push(record.topic.to_string());
                topics.len() - 1
            }
        };
        topic_index.push(index as u32);
        keys.push(record.key.as_deref());
        values.push(record.value.as_deref());
        for header in &record.headers {
            header_names.push(Some(header.name.as_bytes()));
            header_values.push(header.value.as_deref());
        }
        header_start.push(header_start.last().copied().unwrap_or(0) + record.headers.len() as u32);
    }
    wit::RecordBatch {
        topics,
        topic_index,
        partitions: records.iter().map(|r| r.partition).collect(),
        offsets: records.iter().map(|r| r.offset).collect(),
        timestamps: records.iter().map(|r| r.timestamp.unwrap_or(0)).collect(),
        timestamp_known: records
            .iter()
            .map(|r| u8::from(r.timestamp.is_some()))
            .collect(),
        keys: keys.finish(),
        values: values.finish(),
        header_start,
        header_names: header_names.finish(),
        header_values: header_values.finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_laid_flat() {
        let record = |offset, key: Option<&[u8]>, value: Option<&[u8]>, headers: usize| RawRecord {
            topic: "t".into(),
            partition: 1,
            offset,
            timestamp: None,
            key: key.map(<[u8]>::to_vec),
            value: value.map(<[u8]>::to_vec),
            headers: (0..headers)
                .map(|i| crate::source::Header {
                    name: format!("h{i}"),
                    value: Some(vec![i as u8]),
                })
                .collect(),
        };
        let batch = encode_records(&[
            record(5, Some(b"k"), Some(b"vv"), 2),
            record(6, None, None, 0),
            record(7, None, Some(b"w"), 1),
        ]);
        assert_eq!(batch.keys.present, vec![1, 0, 0]);
        assert_eq!(batch.timestamp_known, vec![0, 0, 0]);
        assert_eq!(batch.values.offsets, vec![0, 2, 2, 3]);
        assert_eq!(batch.header_start, vec![0, 2, 2, 3]);
        assert_eq!(batch.header_names.data, b"h0h1h0");
        assert_eq!(batch.offsets, vec![5, 6, 7]);
    }
}
