// {{name}}: a floe decoder.
//
// As generated, it reads each record value as a JSON object such as
// {"id": 1, "name": "alice"} and makes an insert of it into the table named
// by the config key `table` (default `demo.people`), keyed by `id`;
// {"id": 1, "deleted": true} is a delete. Replace `decode` with your format.

import { Change, Decoder, LONG, STRING, exportDecoder } from './floe-guest/index.js';

class Plugin extends Decoder {
  constructor(config) {
    super(config);
    this.table = config.getOr('table', 'demo.people').trim();
  }

  // The changes of one record; a throw sends the record to the dead-letter
  // queue with its message.
  decode(record) {
    if (record.value === null) return []; // a tombstone carries no change
    let row;
    try {
      row = record.valueJson();
    } catch (e) {
      throw new Error(`invalid JSON: ${e.message}`);
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new Error('a record value must be a JSON object');
    }
    if (!Number.isSafeInteger(row.id)) throw new Error('missing integer field `id`');
    const keyColumns = ['id'];
    if (row.deleted === true) {
      const change = Change.create('delete', this.table, { keyColumns });
      change.before.set('id', BigInt(row.id), LONG);
      return change;
    }
    const change = Change.create('insert', this.table, { keyColumns });
    change.after.set('id', BigInt(row.id), LONG);
    for (const [name, value] of Object.entries(row)) {
      if (typeof value === 'string') change.after.set(name, value, STRING);
      else if (value === null && name !== 'id') change.after.setNull(name, STRING);
    }
    return change;
  }
}

export const { lifecycle, decode } = exportDecoder(Plugin);
