// mask-js: masks columns by hashing or redacting them — the JavaScript twin
// of `mask` (plugins/mask), byte for byte.
//
// Config:
//   columns      comma-separated column names (required)
//   mode         "hash" (default) or "redact"
//   salt         required for hash: a value becomes the lowercase hex of
//                SHA-256(salt UTF-8 ‖ the value's bytes in the WIT column
//                encoding); the column becomes a string
//   replacement  redact: what string values become (default "***"); values of
//                other types become NULL (type kept)
//
// NULL stays NULL, a column missing from an image stays missing; both the
// before and the after image are masked.

import {
  STRING, Transformer, exportTransformer, log,
} from '../../guest-sdk/js/src/index.js';

const utf8 = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * The UTF-8 bytes of the lowercase hex SHA-256 of `salt ‖ value`: the
 * engine's native digest (an interpreted SHA-256 costs ~300 µs a value here).
 */
async function hashHex(salt, value) {
  const input = new Uint8Array(salt.length + value.length);
  input.set(salt, 0);
  input.set(value, salt.length);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input));
  let hex = '';
  for (const b of digest) hex += HEX[b];
  return utf8.encode(hex);
}

class Mask extends Transformer {
  constructor(config) {
    super(config);
    // Each name once: a column listed twice is masked once.
    this.columns = [...new Set(config.list('columns'))];
    if (this.columns.length === 0) {
      throw new Error('missing required config key `columns` (comma-separated column names)');
    }
    this.mode = config.getOr('mode', 'hash').trim();
    if (this.mode === 'hash') {
      if (!config.has('salt')) throw new Error('mode `hash` needs a salt: missing required config key `salt`');
      this.salt = utf8.encode(config.get('salt'));
    } else if (this.mode === 'redact') {
      this.replacement = utf8.encode(config.getOr('replacement', '***'));
    } else {
      throw new Error(`config key \`mode\`: unknown mode \`${this.mode}\` (expected \`hash\` or \`redact\`)`);
    }
    log.info(`mask-js: ${this.mode} ${this.columns.join(', ')}`);
  }

  async transform(change) {
    for (const image of [change.before, change.after]) {
      if (!image.present) continue;
      for (const name of this.columns) {
        const entry = image.lookup(name);
        if (entry === undefined || entry.raw === null) continue; // absent stays absent, NULL stays NULL
        if (this.mode === 'hash') {
          image.setRaw(name, await hashHex(this.salt, entry.raw), STRING);
        } else if (entry.type === STRING) {
          image.setRaw(name, this.replacement);
        } else {
          image.setNull(name);
        }
      }
    }
  }
}

export const { lifecycle, transform } = exportTransformer(Mask);
