// Column types of floe's WIT contract (`variant column-type`), as immutable
// objects that compare by identity: `STRING === parseType("string")`.
//
// Pure JavaScript: no import of the component's bindings, so Node can test it.

/** The cases of the WIT variant `column-type`, in order (their tags). */
export const KINDS = Object.freeze([
  'boolean', 'int', 'long', 'float', 'double', 'decimal', 'date', 'time',
  'timestamp', 'timestamptz', 'string', 'uuid', 'binary',
]);

// Fixed byte width of each kind's encoding; 0 for variable width.
const WIDTHS = Object.freeze({
  boolean: 1, int: 4, long: 8, float: 4, double: 8, decimal: 16, date: 4, time: 8,
  timestamp: 8, timestamptz: 8, string: 0, uuid: 16, binary: 0,
});

/**
 * An Iceberg primitive column type. Use the constants (`STRING`, `LONG`, …)
 * and `decimal(p, s)`; never construct one directly.
 */
export class ColumnType {
  constructor(kind, precision = 0, scale = 0) {
    /** The WIT variant tag: `'string'`, `'decimal'`, … */
    this.kind = kind;
    /** Decimal precision (1..=38), else 0. */
    this.precision = precision;
    /** Decimal scale (0..=precision), else 0. */
    this.scale = scale;
    /** Byte width of a value's encoding; 0 for string and binary. */
    this.width = WIDTHS[kind];
    Object.freeze(this);
  }

  /** `decimal(10, 2)`, `string`, …: the form `parseType` reads. */
  toString() {
    return this.kind === 'decimal' ? `decimal(${this.precision}, ${this.scale})` : this.kind;
  }

  /** The WIT form the component's bindings take. */
  toWit() {
    return this.kind === 'decimal'
      ? { tag: 'decimal', val: { precision: this.precision, scale: this.scale } }
      : { tag: this.kind };
  }
}

const SIMPLE = Object.fromEntries(
  KINDS.filter((k) => k !== 'decimal').map((k) => [k, new ColumnType(k)]),
);
const DECIMALS = new Map();

export const BOOLEAN = SIMPLE.boolean;
export const INT = SIMPLE.int;
export const LONG = SIMPLE.long;
export const FLOAT = SIMPLE.float;
export const DOUBLE = SIMPLE.double;
export const DATE = SIMPLE.date;
export const TIME = SIMPLE.time;
export const TIMESTAMP = SIMPLE.timestamp;
export const TIMESTAMPTZ = SIMPLE.timestamptz;
export const STRING = SIMPLE.string;
export const UUID = SIMPLE.uuid;
export const BINARY = SIMPLE.binary;

/** The decimal type of `precision` (1..=38) and `scale` (0..=precision). */
export function decimal(precision, scale) {
  if (!Number.isInteger(precision) || !Number.isInteger(scale)
      || precision < 1 || precision > 38 || scale < 0 || scale > precision) {
    throw new RangeError(`decimal(${precision}, ${scale}): precision must be 1..=38 and scale 0..=precision`);
  }
  const key = precision * 64 + scale;
  let t = DECIMALS.get(key);
  if (t === undefined) {
    t = new ColumnType('decimal', precision, scale);
    DECIMALS.set(key, t);
  }
  return t;
}

/** The type of a WIT `column-type` value (`{tag, val}`). */
export function fromWit(wit) {
  if (wit.tag === 'decimal') return decimal(wit.val.precision, wit.val.scale);
  const t = SIMPLE[wit.tag];
  if (t === undefined) throw new TypeError(`unknown column type tag ${wit.tag}`);
  return t;
}

/** Reads `string`, `long`, `decimal(10, 2)`, … (any case, spaces allowed). */
export function parseType(text) {
  const s = String(text).trim().toLowerCase();
  const m = /^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(s);
  if (m) return decimal(Number(m[1]), Number(m[2]));
  const t = SIMPLE[s];
  if (t === undefined) throw new TypeError(`unknown column type \`${text}\``);
  return t;
}
