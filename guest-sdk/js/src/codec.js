// Values and their byte encodings in a WIT `column` (little-endian; see the
// WIT doc on `record column`), and the typing of text.
//
//   type           bytes                                 JavaScript value
//   boolean        1 (0 or 1)                            boolean
//   int            4, signed                             number
//   long           8, signed                             BigInt
//   float          4, IEEE 754                           number
//   double         8, IEEE 754                           number
//   decimal(p, s)  16, two's-complement unscaled value   string, e.g. "-12.50"
//   date           4, days since 1970-01-01              string "YYYY-MM-DD"
//   time           8, microseconds since midnight        string "HH:MM:SS[.ffffff]"
//   timestamp      8, microseconds since the epoch       string "YYYY-MM-DDTHH:MM:SS[.ffffff]"
//   timestamptz    8, microseconds since the epoch, UTC  the same, ending in "Z"
//   string         UTF-8                                 string
//   uuid           16, RFC 4122 order                    string, hyphenated lowercase
//   binary         as is                                 Uint8Array
//
// Decoding is lossless. Encoding takes those values, and also: a BigInt
// (unscaled) for a decimal, a number of days for a date, a BigInt of
// microseconds for time and timestamps, a JS `Date` for timestamps.
//
// Pure JavaScript: Node can test it.

import * as text from './text.js';

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function view(bytes) {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function fixed(width, write) {
  const out = new Uint8Array(width);
  write(new DataView(out.buffer));
  return out;
}

function micros(type, value) {
  if (typeof value === 'bigint') return value;
  if (value instanceof Date && type.kind !== 'time') return BigInt(value.getTime()) * 1000n;
  if (typeof value === 'string') {
    if (type.kind === 'time') {
      const t = text.parseTime(value);
      if (t !== undefined) return t;
    } else {
      const t = text.parseTimestamp(value);
      if (t !== undefined) return t[0];
    }
  }
  throw new TypeError(`${JSON.stringify(String(value))} is not a ${type}`);
}

/** The bytes of `value` as a value of `type` (see the table above). Throws a TypeError or RangeError. */
export function encode(type, value) {
  switch (type.kind) {
    case 'boolean':
      if (typeof value !== 'boolean') throw new TypeError(`${value} is not a boolean`);
      return Uint8Array.of(value ? 1 : 0);
    case 'int':
      if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
        throw new RangeError(`${value} is not an int (32-bit)`);
      }
      return fixed(4, (v) => v.setInt32(0, value, true));
    case 'long': {
      const n = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value) : undefined;
      if (n === undefined || BigInt.asIntN(64, n) !== n) throw new RangeError(`${value} is not a long (64-bit)`);
      return fixed(8, (v) => v.setBigInt64(0, n, true));
    }
    case 'float':
      if (typeof value !== 'number') throw new TypeError(`${value} is not a float`);
      return fixed(4, (v) => v.setFloat32(0, value, true));
    case 'double':
      if (typeof value !== 'number') throw new TypeError(`${value} is not a double`);
      return fixed(8, (v) => v.setFloat64(0, value, true));
    case 'decimal': {
      const unscaled = typeof value === 'bigint' ? value : text.parseDecimal(String(value), type.precision, type.scale);
      if (unscaled === undefined || (unscaled < 0n ? -unscaled : unscaled) >= 10n ** BigInt(type.precision)) {
        throw new RangeError(`${value} is not a ${type}`);
      }
      return fixed(16, (v) => {
        v.setBigUint64(0, BigInt.asUintN(64, unscaled), true);
        v.setBigInt64(8, BigInt.asIntN(64, unscaled >> 64n), true);
      });
    }
    case 'date': {
      const days = typeof value === 'number' ? value : text.parseDate(String(value));
      if (!Number.isInteger(days)) throw new TypeError(`${value} is not a date`);
      return fixed(4, (v) => v.setInt32(0, days, true));
    }
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const m = micros(type, value);
      return fixed(8, (v) => v.setBigInt64(0, m, true));
    }
    case 'string':
      if (typeof value !== 'string') throw new TypeError(`${value} is not a string`);
      return utf8.encode(value);
    case 'uuid': {
      const u = value instanceof Uint8Array ? value : text.parseUuid(String(value));
      if (u === undefined || u.length !== 16) throw new TypeError(`${value} is not a uuid`);
      return u;
    }
    case 'binary':
      if (!(value instanceof Uint8Array)) throw new TypeError('a binary value is a Uint8Array');
      return value;
    default:
      throw new TypeError(`unknown column type ${type}`);
  }
}

/** The value of `type` that `bytes` encode (see the table above). */
export function decode(type, bytes) {
  const v = view(bytes);
  switch (type.kind) {
    case 'boolean': return bytes[0] !== 0;
    case 'int': return v.getInt32(0, true);
    case 'long': return v.getBigInt64(0, true);
    case 'float': return v.getFloat32(0, true);
    case 'double': return v.getFloat64(0, true);
    case 'decimal': {
      const unscaled = (v.getBigInt64(8, true) << 64n) | v.getBigUint64(0, true);
      return text.formatDecimal(unscaled, type.scale);
    }
    case 'date': return text.formatDate(v.getInt32(0, true));
    case 'time': return text.formatTime(v.getBigInt64(0, true));
    case 'timestamp': return text.formatTimestamp(v.getBigInt64(0, true), false);
    case 'timestamptz': return text.formatTimestamp(v.getBigInt64(0, true), true);
    case 'string': return utf8Strict.decode(bytes);
    case 'uuid': return text.formatUuid(bytes);
    case 'binary': return bytes;
    default: throw new TypeError(`unknown column type ${type}`);
  }
}

/**
 * The bytes of the value of `type` written as `input` (text), as
 * floe-contract's `ColumnType::parse_value` reads it: integers and floats,
 * decimals in plain notation (rounded half away from zero to the scale),
 * booleans (`true`, `1`, `yes`, …), ISO 8601 dates, times and timestamps (a
 * `timestamp` with an offset is converted to UTC), uuids, strings as they
 * are and binary as the text's UTF-8 bytes. Throws a TypeError naming the text.
 */
export function parseText(type, input) {
  const t = input.trim();
  const bad = () => new TypeError(`\`${input}\` is not a valid ${type}`);
  switch (type.kind) {
    case 'boolean': {
      const b = text.parseBool(t);
      if (b === undefined) throw bad();
      return encode(type, b);
    }
    case 'int':
    case 'long': {
      if (!/^[+-]?[0-9]+$/.test(t)) throw bad();
      const n = BigInt(t);
      if (type.kind === 'int' ? BigInt.asIntN(32, n) !== n : BigInt.asIntN(64, n) !== n) throw bad();
      return type.kind === 'int' ? encode(type, Number(n)) : encode(type, n);
    }
    case 'float':
    case 'double': {
      if (!/^[+-]?(inf|infinity|nan|([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?)$/i.test(t)) throw bad();
      const lower = t.toLowerCase().replace(/^\+/, '');
      const n = lower.endsWith('nan') ? NaN : lower.includes('inf') ? (lower.startsWith('-') ? -Infinity : Infinity) : Number(t);
      return encode(type, n);
    }
    case 'decimal': {
      const unscaled = text.parseDecimal(t, type.precision, type.scale);
      if (unscaled === undefined) throw bad();
      return encode(type, unscaled);
    }
    case 'date': {
      const days = text.parseDate(t);
      if (days === undefined) throw bad();
      return encode(type, days);
    }
    case 'time': {
      const m = text.parseTime(t);
      if (m === undefined) throw bad();
      return encode(type, m);
    }
    case 'timestamp':
    case 'timestamptz': {
      const ts = text.parseTimestamp(t);
      if (ts === undefined) throw bad();
      return encode(type, ts[0]);
    }
    case 'string': return utf8.encode(input);
    case 'uuid': {
      const u = text.parseUuid(t);
      if (u === undefined) throw bad();
      return u;
    }
    case 'binary': return utf8.encode(input);
    default: throw bad();
  }
}
