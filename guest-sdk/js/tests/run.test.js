// The batch loops of run.js with a fake host: outcomes, replaced changes laid
// out as a WIT batch, rejections, counters, decoding.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Change } from '../src/change.js';
import { buildBatch } from '../src/build.js';
import { decode, encode } from '../src/codec.js';
import {
  Counters, Drop, Keep, Reject, Route, decoderExports, transformerExports,
} from '../src/run.js';
import { LONG, STRING, decimal } from '../src/types.js';

function fakeHost() {
  const counters = new Map();
  return { counters, counterAdd: (name, d) => counters.set(name, (counters.get(name) ?? 0n) + d) };
}

// A WIT batch of n customers: update changes with before and after images.
function customers(n) {
  const changes = [];
  for (let i = 0; i < n; i++) {
    const c = Change.create(i % 2 ? 'update' : 'insert', 'shop.customers', { keyColumns: ['id'], eventTime: 1000n * BigInt(i) });
    if (i % 2) c.before.set('id', BigInt(i), LONG).set('email', `old${i}@x`, STRING);
    c.after.set('id', BigInt(i), LONG).set('email', `c${i}@x`, STRING).set('balance', `${i}.50`, decimal(10, 2));
    changes.push(c);
  }
  return buildBatch(changes);
}

class Rules {
  constructor(config) {
    if (!config.has('domain')) throw new Error('missing required config key `domain`');
    this.domain = config.get('domain');
  }

  transform(change) {
    const id = Number(change.after.get('id'));
    if (id === 0) return Drop;
    if (id === 1) return new Route('shop.vip');
    if (id === 2) return new Reject('id 2 is refused');
    if (id === 3) throw new Error('boom');
    if (id === 4) {
      change.after.set('email', `c4@${this.domain}`);
      change.after.rename('balance', 'amount');
      change.before.present = false;
      return new Route('shop.moved');
    }
    if (id === 5) {
      change.after.remove('balance');
      change.op = 'read';
    }
    return id === 6 ? 'nonsense' : Keep;
  }
}

test('a transformer batch: drop, route, reject, throw, replace, keep', async () => {
  const host = fakeHost();
  const { lifecycle, transform } = transformerExports(Rules, new Counters(host));
  assert.throws(() => lifecycle.init([]), (e) => e === 'missing required config key `domain`');
  lifecycle.init([['domain', 'example.org']]);
  const out = await transform.transform(customers(8));
  assert.deepEqual([...out.outcomes], [1, 3, 4, 4, 2, 2, 4, 0]);
  assert.deepEqual(out.routes, ['shop.vip']);
  assert.deepEqual(out.rejected, [
    { row: 2, reason: 'id 2 is refused' },
    { row: 3, reason: 'boom' },
    { row: 6, reason: 'transform returned nonsense; expected Keep, Drop, a Route or a Reject' },
  ]);
  const r = out.replaced;
  assert.deepEqual([...r.ops], [0, 3], 'insert kept, update turned read');
  assert.deepEqual(r.tables, ['shop.moved', 'shop.customers']);
  assert.deepEqual([...r.tableIndex], [0, 1]);
  assert.deepEqual([...r.before.present], [0, 1], 'row 4 (an insert) has no before image; row 5 keeps its own');
  const cols = Object.fromEntries(r.after.columns.map((c) => [c.name, c]));
  assert.deepEqual(Object.keys(cols), ['id', 'email', 'amount']);
  const email = cols.email;
  assert.equal(decode(STRING, email.data.subarray(email.offsets[0], email.offsets[1])), 'c4@example.org');
  assert.deepEqual([...cols.amount.presence], [2, 0], 'renamed in row 4 only; removed in row 5');
});

test('counters are summed per batch', async () => {
  const host = fakeHost();
  const counters = new Counters(host);
  class Count {
    async transform() { counters.add('seen'); counters.add('twice', 2); }
  }
  const { lifecycle, transform } = transformerExports(Count, counters);
  lifecycle.init([]);
  await transform.transform(customers(5));
  assert.equal(host.counters.get('seen'), 5n);
  assert.equal(host.counters.get('twice'), 10n);
  assert.throws(() => counters.add('x', -1), RangeError);
});

function recordBatch(values) {
  const enc = new TextEncoder();
  const bytes = values.map((v) => (v === null ? new Uint8Array(0) : enc.encode(v)));
  const offsets = [0];
  for (const b of bytes) offsets.push(offsets[offsets.length - 1] + b.length);
  const data = new Uint8Array(offsets[offsets.length - 1]);
  bytes.forEach((b, i) => data.set(b, offsets[i]));
  const n = values.length;
  const none = { present: new Uint8Array(0), offsets: Uint32Array.of(0), data: new Uint8Array(0) };
  return {
    topics: ['t'], topicIndex: new Uint32Array(n), partitions: new Int32Array(n),
    offsets: BigInt64Array.from(values.map((_, i) => BigInt(10 + i))),
    timestamps: new BigInt64Array(n), timestampKnown: new Uint8Array(n),
    keys: { present: new Uint8Array(n), offsets: new Uint32Array(n + 1), data: new Uint8Array(0) },
    values: { present: Uint8Array.from(values.map((v) => (v === null ? 0 : 1))), offsets: Uint32Array.from(offsets), data },
    headerStart: new Uint32Array(n + 1), headerNames: none, headerValues: none,
  };
}

class Rows {
  decode(record) {
    const msg = record.valueJson();
    if (msg === null) return undefined;
    if (!Array.isArray(msg.rows)) throw new Error('no rows');
    return msg.rows.map((id) => {
      const c = Change.create('insert', 'db.rows', { keyColumns: ['id'] });
      c.after.set('id', id, LONG);
      return c;
    });
  }
}

test('a decoder batch: several changes per record, tombstones, rejections', async () => {
  const { lifecycle, decode: exp } = decoderExports(Rows, new Counters(fakeHost()));
  lifecycle.init([]);
  const out = await exp.decode(recordBatch(['{"rows":[1,2]}', null, '{"rows":3}', 'not json', '{"rows":[4]}', '{"rows":[1.5]}']));
  assert.deepEqual([...out.sourceRow], [0, 0, 4]);
  assert.deepEqual(out.rejected.map((r) => r.row), [2, 3, 5]);
  assert.equal(out.rejected[0].reason, 'no rows');
  assert.match(out.rejected[2].reason, /not a long/);
  const id = out.changes.after.columns[0];
  assert.deepEqual([2, 1].map((_, i) => decode(LONG, id.data.subarray(8 * i, 8 * i + 8))), [1n, 2n]);
  assert.equal(id.data.length, 24);
  assert.deepEqual(encode(LONG, 4n), id.data.subarray(16, 24));
});
