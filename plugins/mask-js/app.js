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
import { sha256Hex } from './sha256.js';

const utf8 = new TextEncoder();

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

  transform(change) {
    for (const image of [change.before, change.after]) {
      if (!image.present) continue;
      for (const name of this.columns) {
        const entry = image.lookup(name);
        if (entry === undefined || entry.raw === null) continue; // absent stays absent, NULL stays NULL
        if (this.mode === 'hash') {
          image.setRaw(name, utf8.encode(sha256Hex(this.salt, entry.raw)), STRING);
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
