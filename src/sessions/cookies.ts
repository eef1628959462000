/** Reading the session cookie as Django does, and writing Django's set and delete cookies. */
import { stringifySetCookie, type SetCookie } from "cookie";
import type { SessionSettings } from "./settings.js";

function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  return value
    .slice(1, -1)
    .replace(/\\([0-3][0-7][0-7])/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
    .replace(/\\(.)/g, "$1");
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

type SameSite = SetCookie["sameSite"];

function sameSite(settings: SessionSettings): SameSite {
  const value = settings.SESSION_COOKIE_SAMESITE;
  return value === false ? undefined : (value.toLowerCase() as SameSite);
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
    sameSite: sameSite(settings),
  };
  if (maxAge !== undefined) {
    cookie.maxAge = Math.trunc(maxAge);
    cookie.expires = new Date(nowMs + maxAge * 1000);
  }
  return stringifySetCookie(cookie, verbatim);
}

/**
 * Django's delete cookie: empty value, Max-Age=0, the epoch as Expires, never HttpOnly, and
 * Secure only where browsers require it (a __Secure-/__Host- name or SameSite=None).
 */
export function deleteSessionCookie(settings: SessionSettings): string {
  const name = settings.SESSION_COOKIE_NAME;
  const site = sameSite(settings);
  return stringifySetCookie(
    {
      name,
      value: "",
      maxAge: 0,
      expires: new Date(0),
      path: settings.SESSION_COOKIE_PATH,
      domain: settings.SESSION_COOKIE_DOMAIN ?? undefined,
      sameSite: site,
      secure: name.startsWith("__Secure-") || name.startsWith("__Host-") || site === "none",
    },
    verbatim,
  );
}
