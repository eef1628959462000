// Reading the session cookie like Django's parse_cookie and writing Django's set and delete cookies
// (docs/django-sessions.md#reading-the-cookie and #the-cookies-it-writes).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { deleteSessionCookie, readCookie, sessionCookie } from "../src/cookies.js";
import type { SessionSettingsInput } from "../src/index.js";
import { testSettings } from "../../../test/helpers.js";

// A fixed instant: a two-week cookie set now expires=Sun, 06 Dec 2026 01:29:51 GMT.
const NOW = Date.UTC(2026, 10, 22, 1, 29, 51);

interface ParsedSetCookie {
  name: string;
  value: string;
  /** Attribute names lowercased; flags map to true. */
  attributes: Record<string, string | true>;
}

function parseSetCookie(header: string): ParsedSetCookie {
  const [pair, ...rest] = header.split(/;\s*/);
  assert.ok(pair !== undefined);
  const eq = pair.indexOf("=");
  assert.ok(eq > 0, `no name=value in ${header}`);
  const attributes: Record<string, string | true> = {};
  for (const part of rest) {
    const i = part.indexOf("=");
    const name = (i < 0 ? part : part.slice(0, i)).toLowerCase();
    assert.ok(!(name in attributes), `duplicate attribute ${name} in ${header}`);
    attributes[name] = i < 0 ? true : part.slice(i + 1);
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

function settings(overrides: Partial<SessionSettingsInput> = {}) {
  return testSettings(overrides);
}

describe("readCookie (Django's parse_cookie)", () => {
  test("absent header or absent cookie -> undefined", () => {
    assert.equal(readCookie(undefined, "sessionid"), undefined);
    assert.equal(readCookie("", "sessionid"), undefined);
    assert.equal(readCookie("csrftoken=abc; other=1", "sessionid"), undefined);
  });

  test("finds the cookie among others", () => {
    assert.equal(readCookie("sessionid=abc", "sessionid"), "abc");
    assert.equal(readCookie("a=1; sessionid=abc; b=2", "sessionid"), "abc");
    assert.equal(readCookie("a=1;sessionid=abc;b=2", "sessionid"), "abc");
  });

  test("the last occurrence wins", () => {
    assert.equal(readCookie("sessionid=first; sessionid=second", "sessionid"), "second");
    assert.equal(readCookie("sessionid=first; x=1; sessionid=second; y=2", "sessionid"), "second");
  });

  test("names and values are trimmed", () => {
    assert.equal(readCookie("  sessionid  =  abc  ; b=1", "sessionid"), "abc");
    assert.equal(readCookie("a=1;\tsessionid=abc\t", "sessionid"), "abc");
  });

  test("a present but empty value is returned as an empty string, not undefined", () => {
    assert.equal(readCookie("sessionid=", "sessionid"), "");
    assert.equal(readCookie("sessionid=; a=1", "sessionid"), "");
    assert.equal(readCookie('sessionid=""', "sessionid"), "");
  });

  test("the value is everything after the first '='", () => {
    assert.equal(readCookie("sessionid=a=b==", "sessionid"), "a=b==");
  });

  test("quoted values are unquoted (Python's http.cookies._unquote)", () => {
    assert.equal(readCookie('sessionid="abc"', "sessionid"), "abc");
    assert.equal(readCookie('sessionid="a\\"b"', "sessionid"), 'a"b');
    assert.equal(readCookie('sessionid="a\\\\b"', "sessionid"), "a\\b");
    assert.equal(readCookie('sessionid="\\101\\073"', "sessionid"), "A;");
    assert.equal(readCookie('sessionid="abc', "sessionid"), '"abc', "a lone quote is kept");
    assert.equal(readCookie('sessionid=abc"', "sessionid"), 'abc"');
  });

  test("an escaped backslash followed by digits is not an octal escape", () => {
    // Python: http.cookies._unquote('"a\\\\101"') == 'a\\101' (one left-to-right pass).
    assert.equal(readCookie('sessionid="a\\\\101"', "sessionid"), "a\\101");
  });

  test("a name that is a prefix or suffix of another cookie's name is not confused", () => {
    assert.equal(readCookie("sessionid2=x", "sessionid"), undefined);
    assert.equal(readCookie("xsessionid=y", "sessionid"), undefined);
    assert.equal(readCookie("sessionidx=1; xsessionid=2; sessionid=3; sessionid_old=4", "sessionid"), "3");
    assert.equal(readCookie("sessionid=abc", "session"), undefined);
    assert.equal(readCookie("a=sessionid", "sessionid"), undefined);
  });

  test("a chunk without '=' is not the cookie", () => {
    assert.equal(readCookie("sessionid; a=1", "sessionid"), undefined);
  });

  test("names are case-sensitive", () => {
    assert.equal(readCookie("SessionId=abc", "sessionid"), undefined);
  });
});

describe("sessionCookie: Django's set cookie", () => {
  test("defaults: exactly expires, HttpOnly, Max-Age, Path=/ and SameSite=Lax", () => {
    const cookie = parseSetCookie(sessionCookie(settings(), "l2kcbppvdtrrjc32itz1xshzoke9rg2y", 1209600, NOW));
    assert.equal(cookie.name, "sessionid");
    assert.equal(cookie.value, "l2kcbppvdtrrjc32itz1xshzoke9rg2y");
    assert.deepEqual(cookie.attributes, {
      expires: "Sun, 06 Dec 2026 01:29:51 GMT",
      httponly: true,
      "max-age": "1209600",
      path: "/",
      samesite: "Lax",
    });
  });

  test("Expires is now + Max-Age", () => {
    const cookie = parseSetCookie(sessionCookie(settings(), "k".repeat(32), 300, NOW));
    assert.equal(cookie.attributes["max-age"], "300");
    assert.equal(cookie.attributes.expires, new Date(NOW + 300_000).toUTCString());
    assert.equal(cookie.attributes.expires, "Sun, 22 Nov 2026 01:34:51 GMT");
  });

  test("Max-Age is the integer part; Expires uses the exact age, truncated to the second", () => {
    const cookie = parseSetCookie(sessionCookie(settings(), "k".repeat(32), 29.9, NOW));
    assert.equal(cookie.attributes["max-age"], "29");
    assert.equal(cookie.attributes.expires, "Sun, 22 Nov 2026 01:30:20 GMT");
  });

  test("a negative age is emitted as-is, with an Expires in the past", () => {
    const cookie = parseSetCookie(sessionCookie(settings(), "k".repeat(32), -10, NOW));
    assert.equal(cookie.attributes["max-age"], "-10");
    assert.equal(cookie.attributes.expires, "Sun, 22 Nov 2026 01:29:41 GMT");
  });

  test("an age of 0 gives Max-Age=0 and Expires=now", () => {
    const cookie = parseSetCookie(sessionCookie(settings(), "k".repeat(32), 0, NOW));
    assert.equal(cookie.attributes["max-age"], "0");
    assert.equal(cookie.attributes.expires, "Sun, 22 Nov 2026 01:29:51 GMT");
  });

  test("a browser-close cookie has neither Max-Age nor Expires", () => {
    const cookie = parseSetCookie(sessionCookie(settings(), "k".repeat(32), undefined, NOW));
    assert.deepEqual(cookie.attributes, { httponly: true, path: "/", samesite: "Lax" });
  });

  test("every attribute away from its default: Domain, Path, SameSite=None, Secure, no HttpOnly, browser-close", () => {
    const s = settings({
      SESSION_COOKIE_NAME: "sid",
      SESSION_COOKIE_DOMAIN: ".example.com",
      SESSION_COOKIE_SECURE: true,
      SESSION_COOKIE_SAMESITE: "None",
      SESSION_COOKIE_HTTPONLY: false,
    });
    const cookie = parseSetCookie(sessionCookie(s, "abcdefgh12345678", undefined, NOW));
    assert.equal(cookie.name, "sid");
    assert.equal(cookie.value, "abcdefgh12345678");
    assert.deepEqual(cookie.attributes, { domain: ".example.com", path: "/", samesite: "None", secure: true });
  });

  test("custom path, Strict, no SameSite when false", () => {
    const strict = parseSetCookie(
      sessionCookie(
        settings({ SESSION_COOKIE_PATH: "/app/", SESSION_COOKIE_SAMESITE: "Strict" }),
        "k".repeat(32),
        5,
        NOW,
      ),
    );
    assert.equal(strict.attributes.path, "/app/");
    assert.equal(strict.attributes.samesite, "Strict");
    const none = parseSetCookie(sessionCookie(settings({ SESSION_COOKIE_SAMESITE: false }), "k".repeat(32), 5, NOW));
    assert.equal("samesite" in none.attributes, false);
    assert.equal("secure" in none.attributes, false);
  });

  test("SameSite is emitted as written in the setting", () => {
    const cookie = parseSetCookie(
      sessionCookie(settings({ SESSION_COOKIE_SAMESITE: "strict" }), "k".repeat(32), 5, NOW),
    );
    assert.equal(cookie.attributes.samesite, "strict");
  });

  test("a signed-cookie value is written verbatim (':' and '.' not encoded)", () => {
    const value = ".eJyrVkrKTFeyUkoaBYMKKNUCANIQnA0:1xUwys:Uj_u7P9gEAybrNlmbNI8aE1cvy4FZaXYBbLt6cyjp4o";
    const header = sessionCookie(settings(), value, 60, NOW);
    assert.ok(header.startsWith(`sessionid=${value};`), header);
  });
});

describe("deleteSessionCookie: Django's delete cookie", () => {
  test("defaults: exactly expires=epoch, Max-Age=0, Path=/ and SameSite=Lax; no HttpOnly", () => {
    const cookie = parseSetCookie(deleteSessionCookie(settings()));
    assert.equal(cookie.name, "sessionid");
    assert.deepEqual(cookie.attributes, {
      expires: "Thu, 01 Jan 1970 00:00:00 GMT",
      "max-age": "0",
      path: "/",
      samesite: "Lax",
    });
  });

  test('the value is empty, serialised as two double quotes (sessionid="")', () => {
    const cookie = parseSetCookie(deleteSessionCookie(settings()));
    assert.equal(cookie.value, '""');
  });

  test("Domain and Path from the settings", () => {
    const cookie = parseSetCookie(
      deleteSessionCookie(settings({ SESSION_COOKIE_DOMAIN: ".example.local", SESSION_COOKIE_PATH: "/example/" })),
    );
    assert.deepEqual(cookie.attributes, {
      domain: ".example.local",
      expires: "Thu, 01 Jan 1970 00:00:00 GMT",
      "max-age": "0",
      path: "/example/",
      samesite: "Lax",
    });
  });

  test("SESSION_COOKIE_SECURE and SESSION_COOKIE_HTTPONLY are ignored", () => {
    const cookie = parseSetCookie(
      deleteSessionCookie(settings({ SESSION_COOKIE_SECURE: true, SESSION_COOKIE_HTTPONLY: true })),
    );
    assert.equal("secure" in cookie.attributes, false);
    assert.equal("httponly" in cookie.attributes, false);
  });

  test("Secure for SameSite=None (any case)", () => {
    for (const sameSite of ["None", "none", "NONE"]) {
      const cookie = parseSetCookie(deleteSessionCookie(settings({ SESSION_COOKIE_SAMESITE: sameSite })));
      assert.equal(cookie.attributes.secure, true, sameSite);
      assert.equal(String(cookie.attributes.samesite).toLowerCase(), "none");
    }
  });

  test("another name and every attribute away from its default: sid, Domain, SameSite=None, Secure", () => {
    const cookie = parseSetCookie(
      deleteSessionCookie(
        settings({
          SESSION_COOKIE_NAME: "sid",
          SESSION_COOKIE_DOMAIN: ".example.com",
          SESSION_COOKIE_SAMESITE: "None",
          SESSION_COOKIE_HTTPONLY: false,
        }),
      ),
    );
    assert.equal(cookie.name, "sid");
    assert.deepEqual(cookie.attributes, {
      domain: ".example.com",
      expires: "Thu, 01 Jan 1970 00:00:00 GMT",
      "max-age": "0",
      path: "/",
      samesite: "None",
      secure: true,
    });
  });

  test("Secure for __Secure- and __Host- names, even with SameSite=Lax or no SameSite", () => {
    for (const name of ["__Secure-sessionid", "__Host-sessionid"]) {
      const lax = parseSetCookie(deleteSessionCookie(settings({ SESSION_COOKIE_NAME: name })));
      assert.equal(lax.name, name);
      assert.equal(lax.attributes.secure, true, name);
      const noSite = parseSetCookie(
        deleteSessionCookie(settings({ SESSION_COOKIE_NAME: name, SESSION_COOKIE_SAMESITE: false })),
      );
      assert.equal(noSite.attributes.secure, true, name);
      assert.equal("samesite" in noSite.attributes, false);
    }
  });

  test("no Secure for other names with Lax/Strict/no SameSite", () => {
    for (const sameSite of ["Lax", "Strict", false] as const) {
      const cookie = parseSetCookie(
        deleteSessionCookie(settings({ SESSION_COOKIE_NAME: "Secure-sid", SESSION_COOKIE_SAMESITE: sameSite })),
      );
      assert.equal("secure" in cookie.attributes, false, String(sameSite));
    }
  });

  test("SameSite is emitted as written in the setting", () => {
    const cookie = parseSetCookie(deleteSessionCookie(settings({ SESSION_COOKIE_SAMESITE: "strict" })));
    assert.equal(cookie.attributes.samesite, "strict");
  });
});
