/** Python datetime.isoformat() / fromisoformat() for the UTC instants Django stores. */

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** `2026-11-22T01:30:21.662000+00:00`; the fraction is omitted when zero, as Python does. */
export function toIsoformat(epochMs: number): string {
  const date = new Date(epochMs);
  const base = date.toISOString().slice(0, 19);
  const ms = date.getUTCMilliseconds();
  const fraction = ms === 0 ? "" : "." + String(ms * 1000).padStart(6, "0");
  return `${base}${fraction}+00:00`;
}

/** Parses an ISO-8601 datetime to microseconds since the epoch; naive values are taken as UTC. */
export function parseIsoformat(text: string): number {
  const m = ISO.exec(text);
  if (!m) throw new RangeError(`Invalid isoformat string: ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s = "0", frac = "", tz] = m;
  const wholeMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(wholeMs)) throw new RangeError(`Invalid isoformat string: ${JSON.stringify(text)}`);
  let micros = wholeMs * 1000 + Number(frac.padEnd(6, "0"));
  if (tz && tz !== "Z") {
    const sign = tz.startsWith("-") ? -1 : 1;
    const digits = tz.slice(1).replace(":", "");
    const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
    micros -= sign * offsetMinutes * 60_000_000;
  }
  return micros;
}

let lastMs = Number.NaN;
let lastText = "";

/** Django's SQLite datetime text (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC): sorts as it compares. */
export function toSqliteDatetime(epochMs: number): string {
  // Every request asks for "now", many within the same millisecond.
  if (epochMs === lastMs) return lastText;
  const iso = new Date(epochMs).toISOString();
  lastMs = epochMs;
  return (lastText = `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`);
}

/** A datetime column as read back (SQLite's UTC text or PostgreSQL's Date), in epoch ms. */
export function datetimeColumnMs(value: string | Date): number {
  return value instanceof Date ? value.getTime() : parseIsoformat(value) / 1000;
}
