// The batch loops behind the WIT exports: a plugin class's per-change
// `transform` and per-record `decode`, over whole batches. The host's
// imports come in as an object, so Node can test this module with a fake.

import { Batch, Change } from './change.js';
import { buildBatch, emptyBatch } from './build.js';
import { Config } from './config.js';
import { records } from './record.js';

/** Keeps a change (with its modifications, if any). */
export const Keep = Object.freeze({ outcome: 'keep' });
/** Drops a change silently (filtered out). */
export const Drop = Object.freeze({ outcome: 'drop' });

/** Sends a change to another table: `return new Route('orders_eu')`. */
export class Route {
  constructor(table) {
    /** The target table. */
    this.table = String(table);
  }
}

/** Sends a change to the dead-letter queue: `return new Reject('no id')`. */
export class Reject {
  constructor(reason) {
    /** Why, as the DLQ shows it. */
    this.reason = String(reason);
  }
}

const KEEP = 0;
const DROP = 1;
const REPLACE = 2;
const ROUTE = 3;
const REJECT = 4;

/** The message of anything thrown. */
export function message(e) {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** Counters summed over a batch and sent to the host once per batch. */
export class Counters {
  constructor(host) {
    this._host = host;
    this._pending = null;
  }

  /** Adds `delta` (default 1) to the counter `name`. */
  add(name, delta = 1) {
    if (!(Number.isInteger(delta) || typeof delta === 'bigint') || delta < 0) {
      throw new RangeError('counters only go up');
    }
    const d = BigInt(delta);
    if (this._pending === null) this._host.counterAdd(name, d);
    else this._pending.set(name, (this._pending.get(name) ?? 0n) + d);
  }

  /** Starts buffering additions (at the start of a batch). */
  begin() {
    this._pending = new Map();
  }

  /** Sends the buffered additions, one host call per counter (at the end of a batch). */
  end() {
    const pending = this._pending;
    this._pending = null;
    if (pending !== null) {
      for (const [name, d] of pending) if (d > 0n) this._host.counterAdd(name, d);
    }
  }
}

/**
 * The plugin instance of `cls` and the `lifecycle` export that (re)builds it
 * from `init`'s pairs; a throw in the constructor refuses the configuration
 * with its message. `instance()` throws until an `init` succeeded.
 */
function pluginLifecycle(cls) {
  let plugin = null;
  return {
    lifecycle: {
      init(pairs) {
        plugin = null;
        try {
          plugin = new cls(new Config(pairs));
        } catch (e) {
          throw message(e); // the WIT result's error: a string
        }
      },
    },
    instance() {
      if (plugin === null) throw 'floe-guest: called before a successful init';
      return plugin;
    },
  };
}

/** The `lifecycle` and `transform` exports of transformer class `cls`. */
export function transformerExports(cls, counters) {
  if (typeof cls !== 'function' || typeof cls.prototype.transform !== 'function') {
    throw new TypeError('exportTransformer takes a class with a transform(change) method');
  }
  const { lifecycle, instance } = pluginLifecycle(cls);
  return {
    lifecycle,
    transform: {
      // Async so that a plugin's transform may be: ComponentizeJS runs the
      // guest's event loop until the returned promise settles.
      async transform(wit) {
        const plugin = instance();
        const batch = new Batch(wit);
        const outcomes = new Uint8Array(batch.length);
        const replaced = [];
        const routes = [];
        const rejected = [];
        counters.begin();
        try {
          for (let i = 0; i < batch.length; i++) {
            const change = batch.change(i);
            let result;
            try {
              result = plugin.transform(change);
              // An async transform (e.g. one that awaits crypto.subtle): awaited per change.
              if (result instanceof Promise) result = await result;
            } catch (e) {
              outcomes[i] = REJECT;
              rejected.push({ row: i, reason: message(e) });
              continue;
            }
            if (result === undefined || result === Keep) {
              if (change.modified) {
                outcomes[i] = REPLACE;
                replaced.push(change);
              }
            } else if (result === Drop) {
              outcomes[i] = DROP;
            } else if (result instanceof Route) {
              if (change.modified) {
                change.table = result.table;
                outcomes[i] = REPLACE;
                replaced.push(change);
              } else {
                outcomes[i] = ROUTE;
                routes.push(result.table);
              }
            } else if (result instanceof Reject) {
              outcomes[i] = REJECT;
              rejected.push({ row: i, reason: result.reason });
            } else {
              outcomes[i] = REJECT;
              rejected.push({ row: i, reason: `transform returned ${String(result)}; expected Keep, Drop, a Route or a Reject` });
            }
          }
        } finally {
          counters.end();
        }
        return {
          outcomes,
          replaced: replaced.length > 0 ? buildBatch(replaced) : emptyBatch(),
          routes,
          rejected,
        };
      },
    },
  };
}

/** The `lifecycle` and `decode` exports of decoder class `cls`. */
export function decoderExports(cls, counters) {
  if (typeof cls !== 'function' || typeof cls.prototype.decode !== 'function') {
    throw new TypeError('exportDecoder takes a class with a decode(record) method');
  }
  const { lifecycle, instance } = pluginLifecycle(cls);
  return {
    lifecycle,
    decode: {
      async decode(wit) {
        const plugin = instance();
        const all = [];
        const sourceRow = [];
        const rejected = [];
        counters.begin();
        try {
          for (const [row, record] of records(wit).entries()) {
            let out;
            try {
              out = plugin.decode(record);
              if (out instanceof Promise) out = await out;
              if (out === undefined || out === null) out = [];
              else if (out instanceof Change) out = [out];
              else if (!Array.isArray(out) || !out.every((c) => c instanceof Change)) {
                throw new TypeError('decode must return a Change, an array of Changes, or nothing');
              }
              // Checked before anything is kept: a bad change rejects its whole record.
              buildBatch(out);
            } catch (e) {
              rejected.push({ row, reason: message(e) });
              continue;
            }
            for (const change of out) {
              all.push(change);
              sourceRow.push(row);
            }
          }
        } finally {
          counters.end();
        }
        return { sourceRow: Uint32Array.from(sourceRow), changes: buildBatch(all), rejected };
      },
    },
  };
}
