/** Reading the session cookie as Django does, and writing Django's set and delete cookies. */
import { stringifySetCookie, type SetCookie } from "cookie";
import type { SessionSettings } from "./settings.js";

function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  // One pass, as Python's _unquote: an escaped backslash is not the start of an octal escape.
  return value
    .slice(1, -1)
    .replace(/\\(?:([0-3][0-7][0-7])|(.))/g, (_, octal: string | undefined, ch: string | undefined) =>
      octal === undefined ? ch! : String.fromCharCode(parseInt(octal, 8)),
    );
}

/**
 * Django's parse_cookie for one name: split on ";", trim, last occurrence wins, quoted values
 * unquoted. Returns undefined when the request has no cookie of that name.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined || !header.includes(name)) return undefined;
  let found: string | undefined;
  for (const chunk of header.split(";")) {
    const eq = chunk.indexOf("=");
    if (eq < 0) continue;
    if (chunk.slice(0, eq).trim() === name) found = unquote(chunk.slice(eq + 1).trim());
  }
  return found;
}

/** Django writes SameSite as configured (`lax` stays `lax`); the cookie package would recase it. */
function withSameSite(cookie: string, settings: SessionSettings): string {
  const value = settings.SESSION_COOKIE_SAMESITE;
  return value === false ? cookie : `${cookie}; SameSite=${value}`;
}

// Keys and signed values are already cookie-safe; encoding would turn ':' into '%3A'.
const verbatim = { encode: (value: string) => value };

/**
 * The cookie Django sets after a save. `maxAge` is undefined for a cookie that ends with the
 * browser; otherwise Max-Age is its integer part and Expires is now + maxAge.
 */
export function sessionCookie(
  settings: SessionSettings,
  value: string,
  maxAge: number | undefined,
  nowMs: number,
): string {
  const cookie: SetCookie = {
    name: settings.SESSION_COOKIE_NAME,
    value,
    path: settings.SESSION_COOKIE_PATH,
    domain: settings.SESSION_COOKIE_DOMAIN ?? undefined,
    secure: settings.SESSION_COOKIE_SECURE,
    httpOnly: settings.SESSION_COOKIE_HTTPONLY,
  };
  if (maxAge !== undefined) {
    cookie.maxAge = Math.trunc(maxAge);
    cookie.expires = new Date(nowMs + maxAge * 1000);
  }
  return withSameSite(stringifySetCookie(cookie, verbatim), settings);
}

/**
 * Django's delete cookie: an empty value written as `""`, Max-Age=0, the epoch as Expires, never
 * HttpOnly, and Secure only where browsers require it (a __Secure-/__Host- name or SameSite=None).
 */
export function deleteSessionCookie(settings: SessionSettings): string {
  const name = settings.SESSION_COOKIE_NAME;
  const sameSite = settings.SESSION_COOKIE_SAMESITE;
  const secure =
    name.startsWith("__Secure-") ||
    name.startsWith("__Host-") ||
    (sameSite !== false && sameSite.toLowerCase() === "none");
  const cookie = stringifySetCookie(
    {
      name,
      value: '""',
      maxAge: 0,
      expires: new Date(0),
      path: settings.SESSION_COOKIE_PATH,
      domain: settings.SESSION_COOKIE_DOMAIN ?? undefined,
      secure,
    },
    verbatim,
  );
  return withSameSite(cookie, settings);
}
