// {{name}}: a floe transformer.
//
// As generated, it upper-cases the string column named by the config key
// `column` (default `name`) in the after image of every change. Replace
// `transform` with your own logic.

import { Keep, Transformer, exportTransformer } from './floe-guest/index.js';

class Plugin extends Transformer {
  constructor(config) {
    super(config);
    // Throw to refuse the configuration (floe reports the message).
    this.column = config.getOr('column', 'name').trim();
    if (this.column.length === 0) throw new Error('config key `column` is empty');
  }

  // Return Keep (with any modifications), Drop, new Route(table) or new Reject(reason).
  transform(change) {
    const value = change.after.get(this.column);
    if (typeof value === 'string') change.after.set(this.column, value.toUpperCase());
    return Keep;
  }
}

export const { lifecycle, transform } = exportTransformer(Plugin);
