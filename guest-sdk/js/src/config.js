// A plugin's configuration: the key/values of its table's `config`.
// Pure JavaScript: Node can test it.

/** The configuration given to a plugin's constructor. */
export class Config {
  /** From the `[key, value]` pairs the host sends to `init`. */
  constructor(pairs) {
    this._map = new Map(pairs);
  }

  /** The value of `key`, or undefined. */
  get(key) { return this._map.get(key); }

  /** The value of `key`, or `fallback` when it is not set. */
  getOr(key, fallback) { return this._map.has(key) ? this._map.get(key) : fallback; }

  /** The value of `key`; throws `missing required config key` when it is not set. */
  require(key) {
    if (!this._map.has(key)) throw new Error(`missing required config key \`${key}\``);
    return this._map.get(key);
  }

  /** The comma-separated list under `key`, trimmed, empty entries skipped. */
  list(key) {
    const v = this._map.get(key);
    return v === undefined ? [] : v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  }

  /** Whether `key` is set. */
  has(key) { return this._map.has(key); }

  /** Every `[key, value]`. */
  entries() { return [...this._map.entries()]; }
}
