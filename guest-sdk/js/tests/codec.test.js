// The SDK's pure modules under Node: value encodings, text forms, and the
// batch loops with a fake host. `npm test` (node --test) runs it.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { decode, encode, parseText } from '../src/codec.js';
import {
  BINARY, BOOLEAN, DATE, DOUBLE, FLOAT, INT, LONG, STRING, TIME, TIMESTAMP, TIMESTAMPTZ, UUID,
  decimal, fromWit, parseType,
} from '../src/types.js';

const hex = (bytes) => Buffer.from(bytes).toString('hex');

test('every type round-trips through its encoding', () => {
  const cases = [
    [BOOLEAN, true, '01'],
    [INT, -2, 'feffffff'],
    [LONG, 1004n, 'ec03000000000000'],
    [FLOAT, 1.5, '0000c03f'],
    [DOUBLE, -0.25, '000000000000d0bf'],
    [decimal(10, 2), '-12.50', '1efbffffffffffffffffffffffffffff'],
    [DATE, '2024-02-29', hex(Uint8Array.of(0x46, 0x4d, 0, 0))],
    [TIME, '12:34:56.789000', hex(new Uint8Array(new BigInt64Array([45296789000n]).buffer))],
    [TIMESTAMP, '2024-01-31T10:00:00.500000', hex(new Uint8Array(new BigInt64Array([1706695200500000n]).buffer))],
    [TIMESTAMPTZ, '1969-12-31T23:59:59Z', hex(new Uint8Array(new BigInt64Array([-1000000n]).buffer))],
    [STRING, 'é', 'c3a9'],
    [UUID, '123e4567-e89b-12d3-a456-426614174000', '123e4567e89b12d3a456426614174000'],
    [BINARY, Uint8Array.of(0, 255), '00ff'],
  ];
  for (const [type, value, bytes] of cases) {
    const encoded = encode(type, value);
    assert.equal(hex(encoded), bytes, `${type}`);
    assert.deepEqual(decode(type, encoded), value, `${type}`);
  }
});

test('decimals are exact at 38 digits and refuse what does not fit', () => {
  const d = decimal(38, 0);
  const max = '99999999999999999999999999999999999999';
  assert.equal(decode(d, encode(d, max)), max);
  assert.equal(decode(d, encode(d, `-${max}`)), `-${max}`);
  assert.throws(() => encode(decimal(4, 2), '100.00'), RangeError);
  assert.equal(decode(decimal(5, 2), parseText(decimal(5, 2), '1.005')), '1.01', 'half away from zero');
  assert.equal(decode(decimal(5, 2), parseText(decimal(5, 2), '-1.004')), '-1.00');
});

test('text is typed as floe-contract types it', () => {
  assert.equal(decode(TIMESTAMP, parseText(TIMESTAMP, '1970-01-01 01:00:00+01:00')), '1970-01-01T00:00:00');
  assert.equal(decode(TIMESTAMP, parseText(TIMESTAMP, '2019-09-20 09:39:28')), '2019-09-20T09:39:28');
  assert.equal(decode(DATE, parseText(DATE, '1969-12-31')), '1969-12-31');
  assert.equal(decode(BOOLEAN, parseText(BOOLEAN, 'Yes')), true);
  assert.equal(decode(INT, parseText(INT, ' 42 ')), 42);
  assert.equal(decode(DOUBLE, parseText(DOUBLE, '1e3')), 1000);
  assert.throws(() => parseText(INT, '2147483648'), /not a valid int/);
  assert.throws(() => parseText(DATE, '2023-02-29'), /not a valid date/);
  assert.throws(() => parseText(LONG, '1.5'), /not a valid long/);
});

test('types parse, print and convert to WIT', () => {
  assert.equal(parseType('Decimal(10, 2)'), decimal(10, 2));
  assert.equal(parseType('string'), STRING);
  assert.equal(fromWit({ tag: 'decimal', val: { precision: 10, scale: 2 } }), decimal(10, 2));
  assert.deepEqual(decimal(10, 2).toWit(), { tag: 'decimal', val: { precision: 10, scale: 2 } });
  assert.equal(String(TIMESTAMPTZ), 'timestamptz');
  assert.throws(() => decimal(39, 0), RangeError);
  assert.throws(() => parseType('geometry'), /unknown column type/);
});
