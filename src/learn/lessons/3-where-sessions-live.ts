/** Lesson 3: the five engines, what each keeps where, and what each can lose. */
import type { Lesson } from "../lesson.js";

export const lesson = {
  slug: "where-sessions-live",
  number: 3,
  title: "Where sessions live",
  summary:
    "SESSION_ENGINE picks where the data is kept: a database table, a cache, both, files, or the cookie itself. " +
    "Each choice has something it can lose, and a moment when it loses it.",
  sections: [
    {
      heading: "One setting, five places",
      paragraphs: [
        "Your views never change with the engine: `get`, `set` and `flush` read and write the same way everywhere. " +
          "What `SESSION_ENGINE` changes is where the data sits between requests, and so what survives a restart, " +
          "a full cache, or a second server.",
        "Django names the engines by module path (`django.contrib.sessions.backends.db`); this framework accepts " +
          "those paths and the short names `db`, `cache`, `cached_db`, `file` and `signed_cookies`. Unset, the " +
          "engine is `db` in both.",
      ],
      code: {
        django: `# settings.py
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"`,
        ours: `// .env, read with sessionSettingsFromEnv
SESSION_ENGINE=cached_db
// or: createSessionEngine({ SECRET_KEY, SESSION_ENGINE: "cached_db" }, { db, caches })`,
      },
      tryIt: [{ href: "/settings/", label: "See which engine this demo runs" }],
    },
    {
      heading: "db: a row per session (the default)",
      paragraphs: [
        "Each session is one row: the key, the signed data and the moment it expires. Django's table is " +
          "`django_session`; here it is `sessions` unless `SESSION_DB_TABLE` says otherwise, with the same columns, " +
          "so a Django app can share it.",
        "A row survives restarts and is seen by every server that uses the same database. The cost is a query on " +
          "each request that touches the session. Expired rows are never read, but they stay in the table until a " +
          "cleanup removes them (Django's `clearsessions`; here `npm run clearsessions` or `SESSION_CLEANUP_INTERVAL`).",
      ],
      tryIt: [
        { href: "/counter/", label: "Count a few visits, then look at the stored record below the demo" },
        { href: "/session/", label: "Your session as JSON" },
      ],
    },
    {
      heading: "cache: fast, and forgetful",
      paragraphs: [
        "The `cache` engine keeps each session only in a cache (Redis, or the in-process cache), with the session's " +
          "expiry as the entry's lifetime. Reads are quick and nothing needs cleaning up.",
        "A cache is allowed to forget. When it is full it evicts the least recently used entries, and an in-process " +
          "cache loses everything when the server restarts; either way the visitor's session is simply gone, which " +
          "looks to them like being logged out. The in-process cache is also private to one process, so a second " +
          "server would not see the session. Django's documentation says the same: use the cache engine only with " +
          "a shared, lasting cache such as Redis or Memcached.",
        "One difference: when Redis is unreachable, Django quietly treats every session as missing, while this " +
          "framework answers 503 and recovers when Redis is back.",
      ],
    },
    {
      heading: "cached_db: the database, with a cache in front",
      paragraphs: [
        "`cached_db` writes every save to the database and to the cache (write-through). Reads try the cache first " +
          "and fall back to the row. An evicted or lost cache entry therefore costs one query, not the session.",
        "This is the engine the tutorials usually recommend for production: reads mostly as fast as the cache, " +
          "data as durable as the database. Plain `db` is the simple, safe default when one query per request is " +
          "affordable.",
      ],
      code: {
        django: `SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                      "LOCATION": "redis://127.0.0.1:6379"}}`,
        ours: `const caches = { default: new RedisCache({ url: "redis://127.0.0.1:6379" }) };
const engine = await createSessionEngine({ SECRET_KEY, SESSION_ENGINE: "cached_db" }, { db, caches });`,
      },
    },
    {
      heading: "file: a file per session",
      paragraphs: [
        "The `file` engine writes each session to its own file in `SESSION_FILE_PATH` (the system's temporary " +
          "directory if unset), named after the cookie and the key. The directory must exist and be writable: Django " +
          "complains when it first opens a session, this framework refuses to start and names the path.",
        "Files survive restarts, but only servers that share the directory share the sessions, and a temporary " +
          "directory may be emptied by the system. Expired files stay until a cleanup removes them.",
      ],
    },
    {
      heading: "signed_cookies: the data in the browser",
      paragraphs: [
        "With `signed_cookies` there is no server-side record at all: the cookie's value is the session data itself, " +
          "compressed when that helps and signed with `SECRET_KEY`. The signature stops the visitor from changing " +
          "it (a changed cookie reads as an empty session), but does not hide it: the first part of the value is " +
          "the JSON in base64 (zlib-compressed first when that is shorter), which anyone holding the cookie can " +
          "decode.",
        "Browsers keep about 4 KB per cookie. Django sends a larger cookie anyway and the browser drops it, so the " +
          "session silently vanishes; this framework refuses the save with a 500 (`SessionCookieTooLarge`) and " +
          "sends nothing, so the problem shows.",
        "Nothing on the server can end such a session. Logging out deletes the browser's cookie, but a copy taken " +
          "earlier keeps working until `SESSION_COOKIE_AGE` has passed since it was signed (or `SECRET_KEY` changes).",
      ],
      tryIt: [{ href: "/settings/", label: "The settings page says what the engine in use promises" }],
    },
  ],
  quiz: [
    {
      id: "where-1",
      level: 1,
      prompt: "An app sets `SECRET_KEY` and no `SESSION_ENGINE`. Where do its sessions live?",
      choices: [
        {
          id: "a",
          text: "In the cookie (`signed_cookies`)",
          whyPicked:
            "Many Node session libraries keep data in the cookie by default; Django's default, kept here, is a table.",
        },
        {
          id: "b",
          text: "In memory (`cache` on the in-process cache)",
          whyPicked: "Memory stores are the default of some libraries, but they lose every session at a restart.",
        },
        { id: "c", text: "In a database table (`db`)" },
        {
          id: "d",
          text: "Nowhere: the app refuses to start without an engine",
          whyPicked: "Only `SECRET_KEY` is required; every other setting has Django's default.",
        },
      ],
      answer: "c",
      solution: [
        "Unset settings take Django's defaults.",
        "Django's default `SESSION_ENGINE` is `django.contrib.sessions.backends.db`, here `db`.",
        "So each session is a row in the sessions table.",
      ],
      hint: "Which engine did Django choose as its default?",
      checkedBy: "where-default-engine",
    },
    {
      id: "where-2",
      level: 1,
      prompt:
        'On `signed_cookies`, a visitor\'s session holds `{"color":"blue"}`. They copy the cookie\'s value and ' +
        "base64-decode the part before the first colon. What do they see?",
      choices: [
        {
          id: "a",
          text: "Random bytes: the data is encrypted with `SECRET_KEY`",
          whyPicked: "`SECRET_KEY` signs the value (proves it unchanged); it does not encrypt it.",
        },
        { id: "b", text: '`{"color":"blue"}`' },
        {
          id: "c",
          text: "A 32-character key pointing at a row",
          whyPicked:
            "That is what the cookie holds on the server-side engines. On this one there is no row: the cookie is the data.",
        },
        {
          id: "d",
          text: "The signature",
          whyPicked: "The signature is the last part of the value, after the last colon; the first part is the data.",
        },
      ],
      answer: "b",
      solution: [
        "The value has three parts separated by colons: the data, a timestamp, and the signature.",
        "The data is JSON in URL-safe base64 (compressed first only when that makes it shorter, marked by a leading dot).",
        'Decoding it gives the JSON back: `{"color":"blue"}`. Signed means tamper-evident, not secret.',
      ],
      hint: "Signing and encrypting are different things.",
      checkedBy: "where-cookie-readable",
    },
    {
      id: "where-3",
      level: 1,
      prompt:
        "An app uses the `cache` engine on the in-process cache. A visitor fills a cart, then the server restarts. " +
        "What does the visitor's next request find?",
      choices: [
        { id: "a", text: "An empty session: the cart is gone" },
        {
          id: "b",
          text: "The cart: the key in their cookie finds it again",
          whyPicked:
            "The key is still in the browser, but what it pointed at lived in the process's memory, which the restart cleared.",
        },
        {
          id: "c",
          text: "The cart, reloaded from the database",
          whyPicked: "That is `cached_db`. The `cache` engine writes nothing to a database.",
        },
        {
          id: "d",
          text: "A 400 error, because the key is unknown",
          whyPicked: "An unknown key is not an error: the session just reads as empty (and the cookie is deleted).",
        },
      ],
      answer: "a",
      solution: [
        "The `cache` engine keeps the session only in the cache.",
        "An in-process cache lives in the server's memory, which a restart empties.",
        "The cookie's key now matches nothing, so the session reads as empty, as if the visitor had never come.",
      ],
      hint: "Where exactly was the cart, and did that place survive the restart?",
      checkedBy: "where-cache-restart",
    },
    {
      id: "where-4",
      level: 2,
      prompt:
        "The same restart, on `cached_db` with the in-process cache and a database table. What does the next request find?",
      choices: [
        {
          id: "a",
          text: "An empty session: the cache was emptied",
          whyPicked: "The cache was emptied, but `cached_db` also wrote every save to the database.",
        },
        {
          id: "b",
          text: "The cart, but only if the restart took less than the cache's lifetime",
          whyPicked:
            "The in-process cache does not outlive its process however short the restart; the row is what survives.",
        },
        {
          id: "c",
          text: "An error until the cache is warm again",
          whyPicked: "A cache miss is normal for `cached_db`: it falls back to the row and refills the cache.",
        },
        { id: "d", text: "The cart, read from the database" },
      ],
      answer: "d",
      solution: [
        "`cached_db` writes each save to the database and to the cache.",
        "After the restart the cache has nothing, so the read falls back to the row.",
        "The row has the cart, so the visitor sees it (and the cache is filled again on the way).",
      ],
      hint: "Write-through means every save goes to two places.",
      checkedBy: "where-cached-db-survives",
    },
    {
      id: "where-5",
      level: 2,
      prompt:
        "An app is configured with `SESSION_ENGINE=file` and `SESSION_FILE_PATH=/no/such/dir`. When does this framework complain?",
      choices: [
        {
          id: "a",
          text: "At the first request that saves a session, with a 500",
          whyPicked:
            "Django complains only when a session is first opened; this framework checks while building the engine, before serving.",
        },
        { id: "b", text: "At start: building the engine throws `ImproperlyConfigured` naming the path" },
        {
          id: "c",
          text: "Never: it creates the directory",
          whyPicked:
            "Neither framework creates the directory; a typo would otherwise scatter sessions somewhere unexpected.",
        },
        {
          id: "d",
          text: "Never: it falls back to the temporary directory",
          whyPicked: "The temporary directory is used only when the setting is unset, not when it is wrong.",
        },
      ],
      answer: "b",
      solution: [
        "The `file` engine needs a directory that exists and that it can write to.",
        "`createSessionEngine` checks this (by writing and removing a probe file) before the app serves anything.",
        "A missing or read-only directory throws `ImproperlyConfigured` naming `SESSION_FILE_PATH` and the path, so the app stops at start.",
      ],
      hint: "This framework prefers failing before the first visitor arrives.",
      checkedBy: "where-file-path-missing",
    },
    {
      id: "where-6",
      level: 2,
      prompt:
        'On `signed_cookies`, a visitor decodes their cookie, changes `"visits":3` to `"visits":999`, encodes it ' +
        "again and sends it back with the old signature. What does the next page read for `visits`?",
      choices: [
        { id: "a", text: "Nothing: the cookie fails its signature and the session reads as empty" },
        {
          id: "b",
          text: "3: the server remembers the real value",
          whyPicked: "On `signed_cookies` the server keeps nothing to fall back on.",
        },
        {
          id: "c",
          text: "999",
          whyPicked:
            "The visitor can read the data, but changing it breaks the signature, which is checked on every read.",
        },
        {
          id: "d",
          text: "A 400 error page",
          whyPicked: "A bad signature is treated as no session at all, not as an error; it is logged as suspicious.",
        },
      ],
      answer: "a",
      solution: [
        "The signature covers the data and the timestamp; any change makes it fail to verify.",
        "A cookie that fails is treated as an empty session (and logged as suspicious).",
        "So `visits` is missing: the read gets its default. The server had no copy of the real value to fall back on.",
      ],
      hint: "What does the signature protect, and what is left when it fails?",
      checkedBy: "where-cookie-tampered",
    },
    {
      id: "where-7",
      level: 2,
      prompt: "Which engine do the tutorials usually recommend for a production site that has Redis or Memcached?",
      choices: [
        {
          id: "a",
          text: "`cache`, because it is the fastest",
          whyPicked: "Fastest, but a full or restarted cache logs people out; speed alone is not enough for sessions.",
        },
        {
          id: "b",
          text: "`signed_cookies`, because it needs no server storage",
          whyPicked:
            "It needs no store, but the data is readable, limited to about 4 KB, and a logout cannot revoke a copied cookie.",
        },
        { id: "c", text: "`cached_db`: cache-speed reads, with the database keeping every session" },
        {
          id: "d",
          text: "`file`, because files survive restarts",
          whyPicked:
            "Files survive, but several servers must share the directory, and there is no speed gain over a database.",
        },
      ],
      answer: "c",
      solution: [
        "A production engine should not lose sessions and should be shared by every server.",
        "`cached_db` keeps each session in the database (durable, shared) and serves most reads from the cache (fast).",
        "`cache` alone loses sessions on eviction or restart; `signed_cookies` cannot revoke them; plain `db` is fine when a query per request is affordable.",
      ],
      hint: "Which one is both fast and unable to lose a session when the cache forgets?",
    },
    {
      id: "where-8",
      level: 3,
      prompt:
        "The `cache` engine runs on an in-process cache limited to 2 entries (`new MemoryCache({ maxEntries: 2 })`). " +
        "Visitors A, B and C each store a value, in that order. What does A's next request find?",
      choices: [
        {
          id: "a",
          text: "A's value: sessions are kept until they expire",
          whyPicked: "On a cache, expiry is only the longest an entry may stay. A full cache makes room before that.",
        },
        { id: "b", text: "An empty session: C's entry pushed A's out" },
        {
          id: "c",
          text: "C's save fails, because the cache is full",
          whyPicked: "A cache never refuses a write for lack of room; it evicts something instead.",
        },
        {
          id: "d",
          text: "An empty session for C, the newest, since it did not fit",
          whyPicked: "It is the least recently used entry that goes, not the newest.",
        },
      ],
      answer: "b",
      solution: [
        "The cache holds at most two entries and evicts the least recently used one to make room.",
        "After A and B, it is full. C's save evicts A's entry, the one used longest ago.",
        "A's key now finds nothing, so A's session reads as empty: A looks logged out though nothing expired.",
      ],
      hint: "What does a full cache do when one more entry arrives?",
      checkedBy: "where-cache-eviction",
    },
    {
      id: "where-9",
      level: 3,
      prompt:
        "On `signed_cookies`, a handler stores a 6 KB string of random characters and returns 200. What does this framework send?",
      choices: [
        {
          id: "a",
          text: "A 200 with the large cookie; the browser may drop it",
          whyPicked:
            "That is what Django does, and the session then vanishes silently. This framework checks the size before sending.",
        },
        {
          id: "b",
          text: "A 200 with the cookie compressed under 4 KB",
          whyPicked: "Compression helps repetitive text, but random characters hardly compress.",
        },
        {
          id: "c",
          text: "A 200, the data moved to the database",
          whyPicked: "No engine switches storage by itself; `signed_cookies` has nowhere else to put it.",
        },
        { id: "d", text: "A 500 (`SessionCookieTooLarge`) and no session cookie" },
      ],
      answer: "d",
      solution: [
        "The whole session must fit in the cookie, and browsers keep about 4096 bytes per cookie.",
        "Random characters barely compress, so the signed value is well over that.",
        "Django would send it anyway and the browser would drop it; this framework refuses with `SessionCookieTooLarge`, a 500 with no cookie, and logs it.",
      ],
      hint: "Compare the size with the browsers' limit, and remember this framework would rather fail loudly.",
      checkedBy: "where-cookie-too-large",
    },
    {
      id: "where-10",
      level: 3,
      prompt:
        "On `signed_cookies`, an attacker copies a logged-in visitor's cookie. The visitor then logs out (a `flush()`). " +
        "The attacker sends the copied cookie. What does the server read?",
      choices: [
        {
          id: "a",
          text: "An empty session: logout ended it",
          whyPicked:
            "Logout told the visitor's browser to delete its cookie, but the server keeps no record it could delete or mark.",
        },
        {
          id: "b",
          text: "A 400, because the session was deleted",
          whyPicked: "Only server-side engines have a record whose deletion can be noticed.",
        },
        { id: "c", text: "The logged-in session, as before the logout" },
        {
          id: "d",
          text: "An empty session, because the signature is reused",
          whyPicked: "Nothing records which signatures were used; a valid signature verifies every time.",
        },
      ],
      answer: "c",
      solution: [
        "On `signed_cookies` the cookie is the whole session; the server stores nothing.",
        "`flush()` can only tell the visitor's browser to delete its copy.",
        "The attacker's copy still carries a valid signature, so it reads as the logged-in session until `SESSION_COOKIE_AGE` has passed since it was signed or `SECRET_KEY` changes. A server-side engine would delete the record and the copy would find nothing.",
      ],
      hint: "What on the server could remember that this cookie was logged out?",
      checkedBy: "where-cookie-replay",
    },
  ],
} satisfies Lesson;
