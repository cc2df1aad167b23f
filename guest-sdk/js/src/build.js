// Lays changes out as a WIT `change-batch`: the replaced changes of a
// transform, the changes of a decode. Pure JavaScript: Node can test it.

import { opCode } from './change.js';

const ABSENT = 0;
const NULL = 1;
const VALUE = 2;

/** The `images` of one side (`'before'` or `'after'`) of `changes`. */
function buildImages(changes, side) {
  const n = changes.length;
  const present = new Uint8Array(n);
  // (name, type) -> { name, type, cells: per-row {type, raw} or undefined }, in first-seen order.
  const columns = new Map();
  for (let r = 0; r < n; r++) {
    const image = changes[r][side];
    if (!image.present) continue;
    present[r] = 1;
    for (const [name, entry] of image.entries()) {
      const key = `${name}\u0000${entry.type}`;
      let column = columns.get(key);
      if (column === undefined) {
        column = { name, type: entry.type, cells: new Array(n) };
        columns.set(key, column);
      }
      column.cells[r] = entry;
    }
  }
  const out = [];
  for (const column of columns.values()) {
    const presence = new Uint8Array(n);
    const offsets = new Uint32Array(n + 1);
    let size = 0;
    for (let r = 0; r < n; r++) {
      const cell = column.cells[r];
      if (cell !== undefined && cell.raw !== null) size += cell.raw.length;
    }
    const data = new Uint8Array(size);
    let at = 0;
    for (let r = 0; r < n; r++) {
      const cell = column.cells[r];
      if (cell === undefined) {
        presence[r] = ABSENT;
      } else if (cell.raw === null) {
        presence[r] = NULL;
      } else {
        presence[r] = VALUE;
        data.set(cell.raw, at);
        at += cell.raw.length;
      }
      offsets[r + 1] = at;
    }
    out.push({ name: column.name, type: column.type.toWit(), presence, offsets, data });
  }
  return { present, columns: out };
}

/** The WIT `change-batch` of `changes` (Change objects), in order. */
export function buildBatch(changes) {
  const n = changes.length;
  const ops = new Uint8Array(n);
  const tables = [];
  const tableKeys = [];
  const tableIndex = new Uint32Array(n);
  const eventTime = new BigInt64Array(n);
  const eventTimeKnown = new Uint8Array(n);
  const tablePos = new Map();
  for (let r = 0; r < n; r++) {
    const change = changes[r];
    ops[r] = opCode(change.op);
    const table = change.table;
    let i = tablePos.get(table);
    if (i === undefined) {
      i = tables.length;
      tablePos.set(table, i);
      tables.push(table);
      tableKeys.push([...change.keyColumns]);
    } else if (tableKeys[i].length === 0 && change.keyColumns.length > 0) {
      tableKeys[i] = [...change.keyColumns];
    }
    tableIndex[r] = i;
    const time = change.eventTime;
    if (time !== null && time !== undefined) {
      eventTime[r] = BigInt(time);
      eventTimeKnown[r] = 1;
    }
  }
  return {
    ops, tables, tableKeys, tableIndex, eventTime, eventTimeKnown,
    before: buildImages(changes, 'before'),
    after: buildImages(changes, 'after'),
  };
}

/** An empty WIT `change-batch`. */
export function emptyBatch() {
  return buildBatch([]);
}
