/**
 * One request and response as the session saw them, in words: the session cookie the browser
 * sent, the Set-Cookie lines for it the response really carries, Vary, whether the store was
 * read or written and Django's rule for it, and what changed about the cookie (a new key, a
 * deleted cookie, a cookie that ends with the browser).
 */
import type { SessionExchange } from "fastify-django-sessions";

export interface ExchangeStep {
  method: string;
  url: string;
  status: number;
  /** The redirect's target, when the response is one. */
  location: string | null;
  /** The session cookie's value as the framework read it (the last of duplicates); null: none sent. */
  cookieSent: string | null;
  /** The response's Set-Cookie lines for the session cookie, exactly as sent. */
  setCookies: string[];
  /** Whether the session added Cookie to Vary, and the Vary header as sent. */
  varyAdded: boolean;
  vary: string | null;
  read: boolean;
  written: boolean;
  reason: string;
  /** What to notice about the cookie, each a sentence. */
  notes: string[];
  /** The cookie's value the browser holds after this response; null: none. */
  cookieAfter: string | null;
  /** The Django snippet's variant that ran (see snippets.ts), when the route has one. */
  route: string | null;
  variant: string | null;
}

export interface ParsedSetCookie {
  name: string;
  value: string;
  attributes: Map<string, string>;
}

/** Set-Cookie `line` taken apart: name, value (quotes kept off), attributes by lower-case name. */
export function parseSetCookie(line: string): ParsedSetCookie {
  const [pair = "", ...rest] = line.split(";");
  const eq = pair.indexOf("=");
  const raw = eq < 0 ? "" : pair.slice(eq + 1).trim();
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const at = part.indexOf("=");
    const name = (at < 0 ? part : part.slice(0, at)).trim().toLowerCase();
    if (name) attributes.set(name, at < 0 ? "" : part.slice(at + 1).trim());
  }
  return {
    name: (eq < 0 ? pair : pair.slice(0, eq)).trim(),
    value: raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw,
    attributes,
  };
}

/** The Set-Cookie lines of `header` (string, list or absent) that set `cookieName`. */
export function setCookiesFor(header: unknown, cookieName: string): string[] {
  const lines = (Array.isArray(header) ? header : header === undefined || header === null ? [] : [header]).map(String);
  return lines.filter((line) => parseSetCookie(line).name === cookieName);
}

const shortKey = (value: string) => `${value.slice(0, 8)}…`;

/**
 * What to notice about this response's session cookie. `clientSide`: the cookie is the session
 * itself (signed_cookies), so its value changes with every save and "key" means nothing.
 */
export function cookieNotes(
  cookieSent: string | null,
  setCookies: readonly string[],
  clientSide: boolean,
): { notes: string[]; cookieAfter: string | null } {
  const last = setCookies.at(-1);
  if (last === undefined) {
    return {
      notes: [
        cookieSent === null
          ? "No session cookie either way: the browser still has none."
          : "No Set-Cookie for the session: the browser keeps the cookie it has, expiry and all.",
      ],
      cookieAfter: cookieSent,
    };
  }
  const cookie = parseSetCookie(last);
  const maxAge = cookie.attributes.get("max-age");
  if (maxAge === "0") {
    return {
      notes: [
        "Max-Age=0 and an Expires date in 1970: this is the deletion cookie, so the browser forgets the session cookie (after flush(), logout(), or a key the store does not know).",
      ],
      cookieAfter: null,
    };
  }
  const notes: string[] = [];
  if (clientSide) {
    notes.push("On signed_cookies the cookie's value is the session itself, signed: every save sends a new value.");
  } else if (cookieSent === null || cookieSent === "") {
    notes.push(`A new key, ${shortKey(cookie.value)}: the session's first save, so the browser gets its key now.`);
  } else if (cookieSent !== cookie.value) {
    notes.push(
      `The key changed from ${shortKey(cookieSent)} to ${shortKey(cookie.value)}: the data now lives under a new key and the old one names nothing. ` +
        "cycle_key() does this, and login() calls it, so a key planted before login is useless.",
    );
  } else {
    notes.push(
      "The same key as the browser sent: the session was saved again and its cookie re-sent with a fresh expiry.",
    );
  }
  if (maxAge === undefined && !cookie.attributes.has("expires")) {
    notes.push(
      "No Expires and no Max-Age: a browser-session cookie, which ends when the browser closes (set_expiry(0), or SESSION_EXPIRE_AT_BROWSER_CLOSE).",
    );
  } else if (maxAge !== undefined) {
    notes.push(`Max-Age=${maxAge}: the browser keeps it ${maxAge} seconds from now (get_expiry_age()).`);
  }
  return { notes, cookieAfter: cookie.value };
}

export interface StepInput {
  method: string;
  url: string;
  status: number;
  location: string | null;
  cookieSent: string | null;
  setCookieHeader: unknown;
  varyHeader: unknown;
  exchange: SessionExchange | undefined;
  cookieName: string;
  clientSide: boolean;
  route: string | null;
  variant: string | null;
}

/** The step a response was: `exchange` is sessionExchange(request), read after the plugin's onSend. */
export function describeStep(input: StepInput): ExchangeStep {
  const setCookies = setCookiesFor(input.setCookieHeader, input.cookieName);
  const { notes, cookieAfter } = cookieNotes(input.cookieSent, setCookies, input.clientSide);
  const vary =
    input.varyHeader === undefined || input.varyHeader === null
      ? null
      : [input.varyHeader].flat().map(String).join(", ");
  return {
    method: input.method,
    url: input.url,
    status: input.status,
    location: input.location,
    cookieSent: input.cookieSent,
    setCookies,
    varyAdded: input.exchange?.vary ?? false,
    vary,
    read: input.exchange?.read ?? false,
    written: input.exchange?.written ?? false,
    reason: input.exchange?.reason ?? "The session framework did not see this response.",
    notes,
    cookieAfter,
    route: input.route,
    variant: input.variant,
  };
}
