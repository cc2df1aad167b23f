// Lays changes out as a WIT `change-batch`: the replaced changes of a
// transform, the changes of a decode. Pure JavaScript: Node can test it.

import { opCode } from './change.js';

const NULL = 1;
const VALUE = 2;

/** The `images` of one side (`'before'` or `'after'`) of `changes`. */
function buildImages(changes, side) {
  const n = changes.length;
  const present = new Uint8Array(n);
  // name -> (type -> column), each column { name, type, cells: per-row entry or undefined,
  // size }, and the columns in first-seen order. Types are canonical objects.
  const byName = new Map();
  const order = [];
  for (let r = 0; r < n; r++) {
    const image = changes[r][side];
    if (!image.present) continue;
    present[r] = 1;
    for (const [name, entry] of image.entryMap()) {
      let byType = byName.get(name);
      if (byType === undefined) {
        byType = new Map();
        byName.set(name, byType);
      }
      let column = byType.get(entry.type);
      if (column === undefined) {
        column = { name, type: entry.type, cells: new Array(n), size: 0 };
        byType.set(entry.type, column);
        order.push(column);
      }
      column.cells[r] = entry;
      if (entry.raw !== null) column.size += entry.raw.length;
    }
  }
  const out = new Array(order.length);
  for (let c = 0; c < order.length; c++) {
    const column = order[c];
    const { cells } = column;
    const presence = new Uint8Array(n);
    const offsets = new Uint32Array(n + 1);
    const data = new Uint8Array(column.size);
    let at = 0;
    for (let r = 0; r < n; r++) {
      const cell = cells[r];
      if (cell !== undefined) {
        if (cell.raw === null) {
          presence[r] = NULL;
        } else {
          presence[r] = VALUE;
          data.set(cell.raw, at);
          at += cell.raw.length;
        }
      }
      offsets[r + 1] = at;
    }
    out[c] = { name: column.name, type: column.type.toWit(), presence, offsets, data };
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
