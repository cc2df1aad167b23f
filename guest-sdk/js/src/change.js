// Changes and their row images, over floe's columnar `change-batch`.
//
// An image read from a batch stays in the batch's columns until it is
// changed; the first change copies its entries into a map (name -> type and
// bytes). Pure JavaScript: Node can test it.

import { decode, encode, parseText } from './codec.js';
import { fromWit } from './types.js';

/** The op codes of the WIT enum `op`, by index. */
export const OPS = Object.freeze(['insert', 'update', 'delete', 'read', 'truncate']);
const OP_CODES = Object.freeze(Object.fromEntries(OPS.map((op, i) => [op, i])));

/** The code of an op name; throws a TypeError for anything else. */
export function opCode(op) {
  const code = OP_CODES[op];
  if (code === undefined) throw new TypeError(`unknown op \`${op}\` (expected one of ${OPS.join(', ')})`);
  return code;
}

const ABSENT = 0;
const NULL = 1;

/** One side (before or after) of a batch: its columns, read lazily. */
export class Side {
  constructor(images) {
    this.present = images.present;
    this.columns = images.columns.map((c) => ({
      name: c.name, type: fromWit(c.type), presence: c.presence, offsets: c.offsets, data: c.data,
    }));
    this.byName = new Map();
    this.columns.forEach((c, i) => {
      const list = this.byName.get(c.name);
      if (list) list.push(i); else this.byName.set(c.name, [i]);
    });
  }

  /** `{type, raw}` of column `name` in row `row` (`raw` null for NULL), or undefined. */
  entry(name, row) {
    const list = this.byName.get(name);
    if (list === undefined) return undefined;
    for (const i of list) {
      const c = this.columns[i];
      const p = c.presence[row];
      if (p !== ABSENT) {
        return { type: c.type, raw: p === NULL ? null : c.data.subarray(c.offsets[row], c.offsets[row + 1]) };
      }
    }
    return undefined;
  }

  /** Every entry of row `row`, in column order. */
  entries(row) {
    const out = new Map();
    for (const c of this.columns) {
      const p = c.presence[row];
      if (p !== ABSENT && !out.has(c.name)) {
        out.set(c.name, { type: c.type, raw: p === NULL ? null : c.data.subarray(c.offsets[row], c.offsets[row + 1]) });
      }
    }
    return out;
  }
}

/**
 * A row image: the before or the after image of one change, column by column.
 *
 * Read with `get(name)` (the value, `null` for SQL NULL, `undefined` when the
 * column is not in the image), `raw`, `typeOf`, `has`, `keys`, `toObject`;
 * change with `set`, `setRaw`, `setText`, `setNull`, `remove`, `rename`.
 */
export class Image {
  constructor(change, side, row) {
    this._change = change;
    this._side = side;
    this._row = row;
    this._present = side === null ? false : side.present[row] !== 0;
    this._entries = side === null ? new Map() : null;
  }

  /** Whether the change has this image (an insert has no before image). */
  get present() { return this._present; }

  set present(value) {
    this._own();
    this._present = Boolean(value);
    if (!this._present) this._entries.clear();
  }

  _lookup(name) {
    if (this._entries !== null) return this._entries.get(name);
    return this._present ? this._side.entry(name, this._row) : undefined;
  }

  _own() {
    if (this._entries === null) {
      this._entries = this._present ? this._side.entries(this._row) : new Map();
    }
    this._change._modified = true;
  }

  /** `{type, raw}` of a column (`raw` is null for NULL), or undefined when absent. */
  lookup(name) { return this._lookup(name); }

  /** Whether the image has the column (NULL included). */
  has(name) { return this._lookup(name) !== undefined; }

  /** The column's value (see codec.js for the JS types), `null` for NULL, `undefined` when absent. */
  get(name) {
    const e = this._lookup(name);
    if (e === undefined) return undefined;
    return e.raw === null ? null : decode(e.type, e.raw);
  }

  /** The column's encoded bytes, `null` for NULL, `undefined` when absent. */
  raw(name) {
    const e = this._lookup(name);
    return e === undefined ? undefined : e.raw;
  }

  /** The column's type, or undefined when absent. */
  typeOf(name) {
    const e = this._lookup(name);
    return e === undefined ? undefined : e.type;
  }

  /** Whether the column holds SQL NULL. */
  isNull(name) {
    const e = this._lookup(name);
    return e !== undefined && e.raw === null;
  }

  /** The column names, in order. */
  keys() {
    if (this._entries !== null) return [...this._entries.keys()];
    return this._present ? [...this._side.entries(this._row).keys()] : [];
  }

  /** The columns as a map name -> `{type, raw}`, in order (not to be changed). */
  entryMap() {
    if (this._entries !== null) return this._entries;
    return this._present ? this._side.entries(this._row) : new Map();
  }

  /** `[name, {type, raw}]` of every column, in order. */
  entries() {
    if (this._entries !== null) return [...this._entries.entries()];
    return this._present ? [...this._side.entries(this._row).entries()] : [];
  }

  /** `{name: value}` of every column. */
  toObject() {
    const out = {};
    for (const [name, e] of this.entries()) out[name] = e.raw === null ? null : decode(e.type, e.raw);
    return out;
  }

  _type(name, type) {
    const t = type ?? this.typeOf(name);
    if (t === undefined) throw new TypeError(`column \`${name}\` is new: give its type`);
    return t;
  }

  /** Sets a column to `value` of `type` (default: the column's current type). Makes the image present. */
  set(name, value, type) {
    if (value === null || value === undefined) return this.setNull(name, type);
    const t = this._type(name, type);
    return this.setRaw(name, encode(t, value), t);
  }

  /** Sets a column from its text form (as Rust's `ColumnType::parse_value` reads it). */
  setText(name, text, type) {
    const t = this._type(name, type);
    return this.setRaw(name, parseText(t, text), t);
  }

  /** Sets a column to already-encoded bytes of `type` (default: the current type). */
  setRaw(name, raw, type) {
    const t = this._type(name, type);
    if (t.width !== 0 && raw.length !== t.width) {
      throw new RangeError(`a ${t} value is ${t.width} bytes, not ${raw.length}`);
    }
    this._own();
    this._present = true;
    this._entries.set(name, { type: t, raw });
    return this;
  }

  /** Sets a column to SQL NULL, of `type` (default: the current type). */
  setNull(name, type) {
    const t = this._type(name, type);
    this._own();
    this._present = true;
    this._entries.set(name, { type: t, raw: null });
    return this;
  }

  /** Removes a column; whether it was there. */
  remove(name) {
    if (!this.has(name)) return false;
    this._own();
    this._entries.delete(name);
    return true;
  }

  /** Renames a column in place (its position kept); whether it was there. */
  rename(oldName, newName) {
    if (!this.has(oldName) || oldName === newName) return this.has(oldName);
    this._own();
    const renamed = new Map();
    for (const [name, e] of this._entries) {
      if (name === newName) continue;
      renamed.set(name === oldName ? newName : name, e);
    }
    this._entries = renamed;
    return true;
  }
}

/**
 * One change: its op, target table, key columns, event time and two images.
 * `Change.create(op, table)` makes a new one (for decoders).
 */
export class Change {
  constructor(batch, row) {
    this._batch = batch;
    this._row = row;
    this._meta = null;
    this._modified = false;
    this._before = batch === null ? new Image(this, null, 0) : new Image(this, batch.before, row);
    this._after = batch === null ? new Image(this, null, 0) : new Image(this, batch.after, row);
  }

  /** A new change of `op` (`'insert'`, `'update'`, `'delete'`, `'read'`, `'truncate'`) to `table`. */
  static create(op, table, { keyColumns = [], eventTime = null } = {}) {
    const change = new Change(null, 0);
    opCode(op);
    change._meta = { op, table: String(table), keyColumns: [...keyColumns], eventTime };
    change._modified = true;
    return change;
  }

  _get(field) {
    if (this._meta !== null) return this._meta[field];
    const b = this._batch.wit;
    const r = this._row;
    switch (field) {
      case 'op': return OPS[b.ops[r]];
      case 'table': return b.tables[b.tableIndex[r]];
      case 'keyColumns': return b.tableKeys[b.tableIndex[r]] ?? [];
      default: return b.eventTimeKnown[r] ? b.eventTime[r] : null;
    }
  }

  _set(field, value) {
    if (this._meta === null) {
      this._meta = {
        op: this._get('op'), table: this._get('table'),
        keyColumns: [...this._get('keyColumns')], eventTime: this._get('eventTime'),
      };
    }
    this._meta[field] = value;
    this._modified = true;
  }

  /** `'insert'`, `'update'`, `'delete'`, `'read'` (a snapshot read: an upsert) or `'truncate'`. */
  get op() { return this._get('op'); }

  set op(value) { opCode(value); this._set('op', value); }

  /** The target table. */
  get table() { return this._get('table'); }

  set table(value) { this._set('table', String(value)); }

  /** The key columns of the target table (empty when unknown). */
  get keyColumns() { return this._get('keyColumns'); }

  set keyColumns(names) { this._set('keyColumns', [...names]); }

  /** Event time in microseconds since the epoch (a BigInt), or null when the source did not say. */
  get eventTime() { return this._get('eventTime'); }

  set eventTime(value) { this._set('eventTime', value === null ? null : BigInt(value)); }

  /** The before image. */
  get before() { return this._before; }

  /** The after image. */
  get after() { return this._after; }

  /** The key values, from the after image (the before image for deletes). */
  get key() {
    const image = this.op === 'delete' || !this._after.present ? this._before : this._after;
    return this.keyColumns.map((name) => image.get(name));
  }

  /** Whether anything of the change was changed. */
  get modified() { return this._modified; }
}

/** A batch of changes as the transform export receives it. */
export class Batch {
  constructor(wit) {
    this.wit = wit;
    this.length = wit.ops.length;
    this.before = new Side(wit.before);
    this.after = new Side(wit.after);
  }

  /** The change of row `row`. */
  change(row) { return new Change(this, row); }
}
