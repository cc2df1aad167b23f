// floe-guest for JavaScript: write floe plugins as a class with a per-change
// (transformer) or per-record (decoder) method; this SDK runs the batch loop
// inside the WebAssembly guest, over floe's columnar WIT contract.
//
//   import { Transformer, exportTransformer, STRING } from '../../guest-sdk/js/src/index.js';
//
//   class Upper extends Transformer {
//     constructor(config) { super(config); this.column = config.require('column'); }
//     transform(change) {
//       const v = change.after.get(this.column);
//       if (typeof v === 'string') change.after.set(this.column, v.toUpperCase());
//     }
//   }
//   export const { lifecycle, transform } = exportTransformer(Upper);
//
// Build with `componentize-js --wit wit --world-name transformer -o upper.wasm app.js`
// (see guest-sdk/js/README.md).

import * as host from 'floe:plugin/host@0.1.0';
import { Counters, Keep, decoderExports, transformerExports } from './run.js';

export { Change, Image } from './change.js';
export { Config } from './config.js';
export { Record } from './record.js';
export { Drop, Keep, Reject, Route } from './run.js';
export {
  BINARY, BOOLEAN, ColumnType, DATE, DOUBLE, FLOAT, INT, LONG, STRING, TIME, TIMESTAMP,
  TIMESTAMPTZ, UUID, decimal, parseType,
} from './types.js';
export { decode, encode, parseText } from './codec.js';

const counters = new Counters(host);

/** Writes a line to floe's log, tagged with the plugin's name and version. */
export const log = Object.freeze({
  trace: (m) => host.log('trace', String(m)),
  debug: (m) => host.log('debug', String(m)),
  info: (m) => host.log('info', String(m)),
  warn: (m) => host.log('warn', String(m)),
  error: (m) => host.log('error', String(m)),
});

/** Adds `delta` (default 1) to the plugin counter `name`, exported by floe as a metric. */
export function counterAdd(name, delta = 1) {
  counters.add(name, delta);
}

/** The value of one key of the plugin's configuration, or undefined. */
export function configGet(key) {
  return host.configGet(key) ?? undefined;
}

/** Base class of a transformer: override `transform(change)`. */
export class Transformer {
  /** Takes the configuration (a `Config`); throw to refuse it. */
  constructor(config) {
    this.config = config;
  }

  /**
   * What becomes of `change`: `Keep` (or nothing; modifications are kept),
   * `Drop`, `new Route(table)` or `new Reject(reason)`. A throw rejects the
   * change with its message.
   */
  transform(change) { return Keep; } // eslint-disable-line no-unused-vars
}

/** Base class of a decoder: override `decode(record)`. */
export class Decoder {
  /** Takes the configuration (a `Config`); throw to refuse it. */
  constructor(config) {
    this.config = config;
  }

  /**
   * The changes of one record (`Change.create(op, table)`), as an array, one
   * Change, or nothing (a record that carries no row). A throw sends the
   * record to the dead-letter queue with its message.
   */
  decode(record) { return []; } // eslint-disable-line no-unused-vars
}

/** The WIT exports of transformer class `cls`: `export const { lifecycle, transform } = exportTransformer(C)`. */
export function exportTransformer(cls) {
  return transformerExports(cls, counters);
}

/** The WIT exports of decoder class `cls`: `export const { lifecycle, decode } = exportDecoder(C)`. */
export function exportDecoder(cls) {
  return decoderExports(cls, counters);
}
