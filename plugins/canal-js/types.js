// Column types from Canal's `mysqlType` (or, failing that, the JDBC
// `sqlType` number), as plugins/canal/src/types.rs reads them.

import {
  BINARY, BOOLEAN, DATE, DOUBLE, FLOAT, INT, LONG, STRING, TIME, TIMESTAMP, decimal,
} from '../../guest-sdk/js/src/index.js';

/**
 * `{type, bytes}` of a column declared in MySQL as `declared` (e.g.
 * `bigint(20) unsigned`, `decimal(10,2)`): `bytes` is true for the binary
 * types, whose values Canal writes as ISO-8859-1 text, one character per byte.
 */
export function fromMysql(declared) {
  const lower = declared.trim().toLowerCase();
  const end = lower.search(/[( ]/);
  const base = end < 0 ? lower : lower.slice(0, end);
  const rest = end < 0 ? '' : lower.slice(end);
  const args = rest.startsWith('(') && rest.includes(')') ? rest.slice(1, rest.indexOf(')')) : undefined;
  const unsigned = rest.includes('unsigned');
  switch (base) {
    case 'tinyint': case 'smallint': case 'mediumint': case 'year': return { type: INT };
    case 'int': case 'integer': return { type: unsigned ? LONG : INT };
    case 'bigint': return { type: unsigned ? decimal(20, 0) : LONG };
    case 'bit': return { type: LONG };
    case 'decimal': case 'numeric': case 'dec': case 'fixed': return { type: decimalOf(args, declared) };
    case 'float': return { type: FLOAT };
    case 'double': case 'real': return { type: DOUBLE };
    case 'bool': case 'boolean': return { type: BOOLEAN };
    case 'char': case 'varchar': case 'tinytext': case 'text': case 'mediumtext': case 'longtext':
    case 'enum': case 'set': case 'json': return { type: STRING };
    case 'date': return { type: DATE };
    case 'time': return { type: TIME };
    case 'datetime': case 'timestamp': return { type: TIMESTAMP };
    case 'binary': case 'varbinary': case 'tinyblob': case 'blob': case 'mediumblob': case 'longblob':
      return { type: BINARY, bytes: true };
    default: throw new Error(`unknown MySQL type \`${declared}\``);
  }
}

/** `decimal(p,s)`, `decimal(p)` (scale 0) or `decimal` (MySQL's 10,0). */
function decimalOf(args, declared) {
  const bad = () => new Error(`MySQL type \`${declared}\`: not a decimal Iceberg can hold`);
  let precision = 10;
  let scale = 0;
  if (args !== undefined) {
    const [p, s] = args.split(',');
    if (!/^\s*\d+\s*$/.test(p) || (s !== undefined && !/^\s*\d+\s*$/.test(s))) throw bad();
    precision = Number(p);
    scale = s === undefined ? 0 : Number(s);
  }
  if (precision < 1 || precision > 38 || scale > precision) throw bad();
  return decimal(precision, scale);
}

/** `{type, bytes}` of a column from its JDBC type number, for one without a `mysqlType`. */
export function fromSqlType(code) {
  switch (code) {
    case -6: case 5: case 4: return { type: INT };
    case -7: case -5: return { type: LONG };
    case 7: return { type: FLOAT };
    case 6: case 8: return { type: DOUBLE };
    case 16: return { type: BOOLEAN };
    case 1: case 12: case -1: case -15: case -9: case -16: case 2005: case 2011: return { type: STRING };
    case 91: return { type: DATE };
    case 92: return { type: TIME };
    case 93: return { type: TIMESTAMP };
    case -2: case -3: case -4: case 2004: return { type: BINARY, bytes: true };
    case 2: case 3: throw new Error('a DECIMAL column (sqlType 3) needs its mysqlType for precision and scale');
    default: throw new Error(`unknown sqlType ${code}`);
  }
}

/** The bytes of ISO-8859-1 text, one character per byte. */
export function latin1(text) {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new Error('binary text holds a character beyond ISO-8859-1');
    out[i] = c;
  }
  return out;
}
