// canal-js: decodes Alibaba Canal's flat JSON messages
// (https://github.com/alibaba/canal, `canal.mq.flatMessage = true`) into
// changes — the JavaScript twin of `canal` (plugins/canal): one change per
// row of `data`, in order, typed from `mysqlType`.
//
// Config:
//   table   the table name template (default `{database}.{table}`);
//           `{database}`, `{table}` and `{topic}` are replaced

import { Change, Decoder, counterAdd, exportDecoder } from '../../guest-sdk/js/src/index.js';
import { fromMysql, fromSqlType, latin1 } from './types.js';

/** The counter of DDL messages (`isDdl: true`), which carry no row. */
const DDL_COUNTER = 'canal_ddl_messages';
/** The counter of messages of any other non-row `type` (e.g. `QUERY`, `GTID`). */
const SKIPPED_COUNTER = 'canal_skipped_messages';

const OPS = { INSERT: 'insert', UPDATE: 'update', DELETE: 'delete' };

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function text(msg, field) {
  const v = msg[field];
  if (typeof v !== 'string') throw new Error(`missing string field \`${field}\``);
  return v;
}

/** The array of row objects `field` (`data` or `old`); undefined when absent or null. */
function rowObjects(msg, field) {
  const v = msg[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every(isObject)) throw new Error(`\`${field}\` must be an array of objects`);
  return v;
}

function objectField(msg, field) {
  const v = msg[field];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new Error(`\`${field}\` must be an object`);
  return v;
}

/** Writes one row's columns into `image`, typed from the message's column types. */
function writeRow(image, row, mysqlTypes, sqlTypes) {
  for (const [name, value] of Object.entries(row)) {
    try {
      let kind;
      if (mysqlTypes && typeof mysqlTypes[name] === 'string') kind = fromMysql(mysqlTypes[name]);
      else if (sqlTypes && Number.isInteger(sqlTypes[name])) kind = fromSqlType(sqlTypes[name]);
      else throw new Error('no mysqlType or sqlType for the column');
      if (value === null) {
        image.setNull(name, kind.type);
      } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        const s = String(value);
        if (kind.bytes) image.setRaw(name, latin1(s), kind.type);
        else image.setText(name, s, kind.type);
      } else {
        throw new Error('a value must be text, a number, a boolean or null');
      }
    } catch (e) {
      throw new Error(`column \`${name}\`: ${e.message}`);
    }
  }
}

class Canal extends Decoder {
  constructor(config) {
    super(config);
    this.template = config.getOr('table', '{database}.{table}').trim();
    if (this.template.length === 0) throw new Error('config key `table`: the table template is empty');
  }

  decode(record) {
    if (record.value === null) return []; // a tombstone carries no change
    let msg;
    try {
      msg = record.valueJson();
    } catch (e) {
      throw new Error(`invalid JSON: ${e.message}`);
    }
    if (!isObject(msg)) throw new Error('a Canal flat message is a JSON object');
    if (msg.isDdl === true) {
      counterAdd(DDL_COUNTER);
      return [];
    }
    const kind = text(msg, 'type');
    const op = OPS[kind];
    if (op === undefined) {
      counterAdd(SKIPPED_COUNTER);
      return [];
    }
    const table = this.template
      .replaceAll('{database}', text(msg, 'database'))
      .replaceAll('{table}', text(msg, 'table'))
      .replaceAll('{topic}', record.topic);
    const data = rowObjects(msg, 'data');
    if (data === undefined) throw new Error(`a \`${kind}\` message needs an array \`data\``);
    const old = rowObjects(msg, 'old');
    if (op === 'update' && old !== undefined && old.length !== data.length) {
      throw new Error(`\`old\` has ${old.length} rows and \`data\` ${data.length}`);
    }
    const mysqlTypes = objectField(msg, 'mysqlType');
    const sqlTypes = objectField(msg, 'sqlType');
    let eventTime = null;
    if (msg.es !== undefined && msg.es !== null) {
      if (!Number.isSafeInteger(msg.es)) throw new Error(`field \`es\` must be epoch milliseconds, got ${JSON.stringify(msg.es)}`);
      eventTime = BigInt(msg.es) * 1000n;
    }
    const keyColumns = Array.isArray(msg.pkNames) ? msg.pkNames.filter((k) => typeof k === 'string') : [];

    return data.map((row, i) => {
      const change = Change.create(op, table, { keyColumns, eventTime });
      try {
        if (op === 'update') {
          writeRow(change.before, row, mysqlTypes, sqlTypes);
          if (old !== undefined) writeRow(change.before, old[i], mysqlTypes, sqlTypes);
          writeRow(change.after, row, mysqlTypes, sqlTypes);
        } else if (op === 'delete') {
          writeRow(change.before, row, mysqlTypes, sqlTypes);
        } else {
          writeRow(change.after, row, mysqlTypes, sqlTypes);
        }
      } catch (e) {
        throw new Error(`row ${i}: ${e.message}`);
      }
      return change;
    });
  }
}

export const { lifecycle, decode } = exportDecoder(Canal);
