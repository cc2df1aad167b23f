// Raw Kafka records, as the decode export receives them (a WIT `record-batch`).
// Pure JavaScript: Node can test it.

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bytesAt(strings, i) {
  if (!strings.present[i]) return null;
  return strings.data.subarray(strings.offsets[i], strings.offsets[i + 1]);
}

/** One Kafka record: topic, partition, offset, timestamp, key, value and headers. */
export class Record {
  constructor(batch, row) {
    /** The topic. */
    this.topic = batch.topics[batch.topicIndex[row]];
    /** The partition. */
    this.partition = batch.partitions[row];
    /** The offset (a BigInt). */
    this.offset = batch.offsets[row];
    /** Milliseconds since the epoch (a BigInt), or null when the record has none. */
    this.timestamp = batch.timestampKnown[row] ? batch.timestamps[row] : null;
    /** The key bytes, or null. */
    this.key = bytesAt(batch.keys, row);
    /** The value bytes, or null for a tombstone. */
    this.value = bytesAt(batch.values, row);
    this._batch = batch;
    this._row = row;
  }

  /** `[{name, value}]` of the record's headers (`value` bytes or null). */
  get headers() {
    const b = this._batch;
    const out = [];
    for (let h = b.headerStart[this._row]; h < b.headerStart[this._row + 1]; h++) {
      out.push({ name: utf8.decode(bytesAt(b.headerNames, h)), value: bytesAt(b.headerValues, h) });
    }
    return out;
  }

  /** The value as UTF-8 text, or null for a tombstone; throws on invalid UTF-8. */
  valueText() { return this.value === null ? null : utf8.decode(this.value); }

  /** The value parsed as JSON, or null for a tombstone; throws on invalid JSON. */
  valueJson() {
    const text = this.valueText();
    return text === null ? null : JSON.parse(text);
  }

  /** The key as UTF-8 text, or null. */
  keyText() { return this.key === null ? null : utf8.decode(this.key); }
}

/** The records of a WIT `record-batch`. */
export function records(batch) {
  const out = new Array(batch.offsets.length);
  for (let i = 0; i < out.length; i++) out[i] = new Record(batch, i);
  return out;
}
