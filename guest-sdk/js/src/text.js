// Text forms of dates, times, timestamps, decimals, uuids and booleans, as
// floe-contract reads and writes them (contract/src/text.rs, decimal.rs), so
// that a JS plugin types text exactly as a Rust one does.
//
// Pure JavaScript: Node can test it.

const MICROS_PER_SECOND = 1000000n;
const MICROS_PER_DAY = 86400n * MICROS_PER_SECOND;

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
export function daysFromCivil(year, month, day) {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** `[year, month, day]` of a number of days since 1970-01-01. */
export function civilFromDays(days) {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const pad = (n, w) => String(n).padStart(w, '0');

/** `YYYY-MM-DD` of days since 1970-01-01 (`+12345-…` beyond year 9999). */
export function formatDate(days) {
  const [y, m, d] = civilFromDays(days);
  const year = y >= 0 && y <= 9999 ? pad(y, 4) : (y < 0 ? `-${-y}` : `+${y}`);
  return `${year}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** `HH:MM:SS[.ffffff]` of microseconds since midnight (a BigInt). */
export function formatTime(micros) {
  const t = ((micros % MICROS_PER_DAY) + MICROS_PER_DAY) % MICROS_PER_DAY;
  const secs = Number(t / MICROS_PER_SECOND);
  const frac = Number(t % MICROS_PER_SECOND);
  const hms = `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}`;
  return frac === 0 ? hms : `${hms}.${pad(frac, 6)}`;
}

/** ISO 8601 of microseconds since the epoch (a BigInt); `Z` when `utc`. */
export function formatTimestamp(micros, utc) {
  let days = micros / MICROS_PER_DAY;
  if (micros % MICROS_PER_DAY < 0n) days -= 1n;
  return `${formatDate(Number(days))}T${formatTime(micros - days * MICROS_PER_DAY)}${utc ? 'Z' : ''}`;
}

const digits = (s, n) => (s !== undefined && s.length === n && /^[0-9]+$/.test(s) ? Number(s) : undefined);

function daysInMonth(year, month) {
  if ([1, 3, 5, 7, 8, 10, 12].includes(month)) return 31;
  if ([4, 6, 9, 11].includes(month)) return 30;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** Days since 1970-01-01 of `YYYY-MM-DD`, or `undefined`. */
export function parseDate(text) {
  let s = text.trim();
  let neg = false;
  if (s.startsWith('-')) { neg = true; s = s.slice(1); } else if (s.startsWith('+')) s = s.slice(1);
  const parts = s.split('-');
  if (parts.length !== 3 || parts[0].length < 4 || !/^[0-9]+$/.test(parts[0])) return undefined;
  const year = neg ? -Number(parts[0]) : Number(parts[0]);
  const month = digits(parts[1], 2);
  const day = digits(parts[2], 2);
  if (month === undefined || day === undefined || month < 1 || month > 12
      || day < 1 || day > daysInMonth(year, month)) return undefined;
  const days = daysFromCivil(year, month, day);
  return days >= -2147483648 && days <= 2147483647 ? days : undefined;
}

/** Microseconds since midnight (BigInt) of `HH:MM[:SS[.fraction]]`, or `undefined`. */
export function parseTime(text) {
  const s = text.trim();
  const dot = s.indexOf('.');
  const hms = dot < 0 ? s : s.slice(0, dot);
  const frac = dot < 0 ? undefined : s.slice(dot + 1);
  const parts = hms.split(':');
  if (parts.length < 2 || parts.length > 3) return undefined;
  const h = digits(parts[0], 2);
  const m = digits(parts[1], 2);
  let sec = 0;
  if (parts.length === 3) sec = digits(parts[2], 2);
  else if (frac !== undefined) return undefined;
  if (h === undefined || m === undefined || sec === undefined || h > 23 || m > 59 || sec > 60) return undefined;
  let micros = 0n;
  if (frac !== undefined) {
    if (frac.length === 0 || frac.length > 9 || !/^[0-9]+$/.test(frac)) return undefined;
    micros = BigInt(frac.padEnd(6, '0').slice(0, 6));
  }
  return BigInt((h * 60 + m) * 60 + Math.min(sec, 59)) * MICROS_PER_SECOND + micros;
}

/**
 * `[micros, zoned]` of an ISO 8601 timestamp
 * `YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|±HH[:MM]]`, or `undefined`.
 * With an offset, `micros` is the UTC instant.
 */
export function parseTimestamp(text) {
  const s = text.trim();
  if (s.length < 10) return undefined;
  let dateEnd = s.length;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (c === 'T' || c === 't' || c === ' ') { dateEnd = i; break; }
  }
  const days = parseDate(s.slice(0, dateEnd));
  if (days === undefined) return undefined;
  let rest = dateEnd < s.length ? s.slice(dateEnd + 1) : '';
  let offset = 0n;
  let zoned = false;
  if (rest.endsWith('Z') || rest.endsWith('z')) {
    rest = rest.slice(0, -1);
    zoned = true;
  } else {
    const pos = Math.max(rest.lastIndexOf('+'), rest.lastIndexOf('-'));
    if (pos >= 0) {
      const sign = rest[pos] === '-' ? -1n : 1n;
      const zone = rest.slice(pos + 1);
      let zh; let zm;
      if (zone.includes(':')) [zh, zm] = zone.split(':').map((p) => digits(p, 2));
      else if (zone.length === 4) [zh, zm] = [digits(zone.slice(0, 2), 2), digits(zone.slice(2), 2)];
      else [zh, zm] = [digits(zone, 2), 0];
      if (zh === undefined || zm === undefined || zh > 18 || zm > 59) return undefined;
      offset = sign * BigInt(zh * 3600 + zm * 60) * MICROS_PER_SECOND;
      rest = rest.slice(0, pos);
      zoned = true;
    }
  }
  let time = 0n;
  if (rest.length === 0) {
    if (dateEnd < s.length && !zoned) return undefined;
  } else {
    time = parseTime(rest);
    if (time === undefined) return undefined;
  }
  return [BigInt(days) * MICROS_PER_DAY + time - offset, zoned];
}

/**
 * The unscaled value (BigInt) of a decimal in plain notation at `scale`,
 * rounded half away from zero; `undefined` when it is not one or does not fit
 * `precision` digits.
 */
export function parseDecimal(text, precision, scale) {
  const s = text.trim();
  let neg = false;
  let body = s;
  if (s.startsWith('-')) { neg = true; body = s.slice(1); } else if (s.startsWith('+')) body = s.slice(1);
  const dot = body.indexOf('.');
  const int = dot < 0 ? body : body.slice(0, dot);
  const frac = dot < 0 ? '' : body.slice(dot + 1);
  if ((int === '' && frac === '') || !/^[0-9]*$/.test(int) || !/^[0-9]*$/.test(frac)) return undefined;
  let unscaled = BigInt((int + frac.padEnd(scale, '0').slice(0, scale)) || '0');
  if (frac.length > scale && frac.charCodeAt(scale) >= 53 /* '5' */) unscaled += 1n;
  if (unscaled >= 10n ** BigInt(precision)) return undefined;
  return neg ? -unscaled : unscaled;
}

/** The text of an unscaled decimal at `scale` digits after the point. */
export function formatDecimal(unscaled, scale) {
  const neg = unscaled < 0n;
  const digitsText = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const int = digitsText.slice(0, digitsText.length - scale);
  const frac = digitsText.slice(digitsText.length - scale);
  return `${neg ? '-' : ''}${int}${scale > 0 ? `.${frac}` : ''}`;
}

/** `true`/`false` of `true`, `t`, `yes`, `y`, `1`, `on` and their opposites (any case), or `undefined`. */
export function parseBool(text) {
  const s = text.trim().toLowerCase();
  if (['true', 't', 'yes', 'y', '1', 'on'].includes(s)) return true;
  if (['false', 'f', 'no', 'n', '0', 'off'].includes(s)) return false;
  return undefined;
}

/** The 16 bytes of a uuid, hyphenated or 32 hex digits, optionally in braces; or `undefined`. */
export function parseUuid(text) {
  let s = text.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  if (s.length === 36 && [8, 13, 18, 23].some((i) => s[i] !== '-')) return undefined;
  if (s.length !== 32 && s.length !== 36) return undefined;
  const hex = s.replaceAll('-', '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The hyphenated lowercase text of 16 uuid bytes. */
export function formatUuid(bytes) {
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += bytes[i].toString(16).padStart(2, '0');
  }
  return s;
}
