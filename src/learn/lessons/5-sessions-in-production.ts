import type { Lesson } from "../lesson.js";

export const lesson = {
  slug: "sessions-in-production",
  number: 5,
  title: "Running sessions in production",
  summary:
    "What a live site has to look after: clearing expired sessions, reading the sessions table, writing an engine of your own, and what happens when two requests of one session arrive at once.",
  sections: [
    {
      heading: "Expired sessions pile up",
      paragraphs: [
        "An expired session is never handed out again, but on most engines its record stays where it is: only a request that brings its key back could notice it, and its visitor usually never returns. So a busy site's store grows by every visitor who did not log out.",
        "Django leaves the cleanup to a command, `clearsessions`, that you run on a schedule (daily from cron is usual). Here the same job is `await engine.clearExpired()`, which the demo runs as `npm run clearsessions`. It deletes in small batches so a big purge does not hold the table for long.",
        "Which engines need it: `db` and `cached_db` (rows in the table; the cache's copies expire by themselves) and `file` (one file per session). `cache` has nothing to do, since the cache forgets an entry when its time-to-live runs out. `signed_cookies` has nothing to clear because the server keeps nothing, which also means an old copied cookie cannot be cleaned away: it stays valid until its age runs out.",
        "Beyond Django, `SESSION_CLEANUP_INTERVAL` (in seconds) lets the server itself run the cleanup now and then, for sites without a scheduler.",
      ],
      code: {
        django: "# crontab: every night at 03:15\n15 3 * * *  cd /srv/site && python manage.py clearsessions",
        ours: "# crontab: every night at 03:15\n15 3 * * *  cd /srv/site && npm run --silent clearsessions\n\n// or in code, in batches:\nconst removed = await engine.clearExpired({ batchSize: 1000 });",
      },
      tryIt: [{ href: "/settings/", label: "Which engine this server runs, and what it promises" }],
    },
    {
      heading: "Reading the sessions table",
      paragraphs: [
        "The `db` engine keeps one row per session with three columns, Django's own: `session_key` (the cookie's value, the primary key), `session_data` (the data) and `expire_date` (when the row stops counting; indexed, so the cleanup can find expired rows fast). Django names the table `django_session`; here it is `sessions` unless `SESSION_DB_TABLE` says otherwise.",
        "`session_data` is not plain JSON. It is the JSON, base64-encoded (and compressed first when that makes it shorter, marked by a leading `.`), then a timestamp, then an HMAC signature made with `SECRET_KEY`, joined by colons. Anyone who can read the table can decode the data: it is signed, not encrypted. What they cannot do is change it without the `SECRET_KEY`: data whose signature does not match reads as an empty session, and a warning is logged.",
        "To see a session decoded, Django has `get_decoded()` on the row. Here you open it as a request would, `engine.open(key)`, and read it; the demo's `npm run sessions -- show KEY` and the staff page `/admin/sessions/` do that for you, and every demo page shows its own row taken apart.",
      ],
      code: {
        django:
          'from django.contrib.sessions.models import Session\n\nrow = Session.objects.get(session_key=key)\nrow.expire_date\nrow.get_decoded()  # {"cart": ["book"]}',
        ours: 'const session = engine.open(key);\nawait session.load();\nsession.getExpiryDate();\nObject.fromEntries(session.items()); // { cart: ["book"] }',
      },
      tryIt: [
        { href: "/session/set/", label: "Store a value, then read the stored record below the page" },
        { href: "/admin/sessions/", label: "Every stored session, decoded (staff only)" },
        { href: "/session/", label: "Your own session as JSON" },
      ],
    },
    {
      heading: "Ending a session from the server",
      paragraphs: [
        "On an engine that keeps records, deleting a session's record logs its visitor out at their next request: their cookie then points at nothing. That is how the demo's account page signs you out of your other browsers, and how staff can end a session.",
        "On `signed_cookies` there is no record to delete. The only server-side lever is changing `SECRET_KEY`, which ends every session at once.",
      ],
      tryIt: [
        { href: "/account/", label: "Sign out everywhere else (log in first)" },
        { href: "/admin/sessions/", label: "End a session as staff" },
      ],
    },
    {
      heading: "Writing your own engine",
      paragraphs: [
        "Django's engines are classes named `SessionStore` that extend `SessionBase` and fill in a handful of methods: load, exists, create, save, delete, and the class method `clear_expired` for the cleanup command. `SESSION_ENGINE` names the module.",
        "Here it is the same idea. A module exports a `SessionStore` class built on `SessionBase` and fills in `loadRecord`, `exists`, `save` and `deleteRecord` (the base class provides `create`, the dict API and the expiry rules), plus a static `clearExpired`; `SESSION_ENGINE` is then the module's path. An engine that needs things from your app (a connection pool, say) exports a `createEngine` factory built with `defineEngine` instead.",
        "Leave `clearExpired` out and the cleanup command refuses, as Django's does: the engine does not support clearing expired sessions. For a store that expires entries itself, give one that does nothing.",
        "To check your engine keeps the same promises as the built-in ones, run the package's conformance suite on it: `describeSessionEngine` from `fastify-django-sessions/conformance` registers the tests (reading back, expiry, key cycling, flush, concurrent saves) with node:test.",
        "Below, the same small Redis engine both ways. Each save writes the whole session, so two requests saving at once keep only the last one's changes: the built-in `cache` engine on Redis merges them with a script, and says so with `mergesSaves`.",
      ],
      code: {
        django:
          '# myproject/redis_sessions.py; SESSION_ENGINE = "myproject.redis_sessions"\nimport redis\nfrom django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError\n\nr = redis.Redis()\n\n\nclass SessionStore(SessionBase):\n    def load(self):\n        text = r.get(f"session:{self.session_key}")\n        if text is None:\n            self._session_key = None\n            return {}\n        return self.decode(text.decode())\n\n    def exists(self, session_key):\n        return r.exists(f"session:{session_key}") > 0\n\n    def create(self):\n        while True:\n            self._session_key = self._get_new_session_key()\n            try:\n                self.save(must_create=True)\n            except CreateError:\n                continue\n            self.modified = True\n            return\n\n    def save(self, must_create=False):\n        if self.session_key is None:\n            return self.create()\n        data = self._get_session(no_load=must_create)\n        if self.session_key is None:  # the record expired meanwhile\n            raise UpdateError\n        age = self.get_expiry_age()\n        if age <= 0:\n            return self.delete()\n        stored = r.set(f"session:{self.session_key}", self.encode(data),\n                       ex=age, nx=must_create, xx=not must_create)\n        if not stored:\n            raise CreateError if must_create else UpdateError\n\n    def delete(self, session_key=None):\n        session_key = session_key or self.session_key\n        if session_key is not None:\n            r.delete(f"session:{session_key}")\n\n    @classmethod\n    def clear_expired(cls):\n        pass  # Redis drops expired keys by itself',
        ours: '// my-redis-engine.ts; SESSION_ENGINE=./my-redis-engine.ts\nimport { Redis } from "ioredis";\nimport { CreateError, MISSING_RECORD, SessionBase, UpdateError, type LoadedRecord } from "fastify-django-sessions";\n\nconst redis = new Redis();\n\nexport class SessionStore extends SessionBase {\n  protected async loadRecord(): Promise<LoadedRecord> {\n    const text = await redis.get(`session:${this.sessionKey}`);\n    return text === null ? MISSING_RECORD : { data: this.decode(text), stored: text };\n  }\n\n  async exists(key: string) {\n    return (await redis.exists(`session:${key}`)) > 0;\n  }\n\n  async save(mustCreate = false) {\n    if (this.sessionKey === null) return this.create();\n    if (!mustCreate) await this.load();\n    // The whole session (UpdateError if the record expired meanwhile).\n    const write = mustCreate ? this.newRecord() : this.ownRecord();\n    const key = `session:${write.key}`;\n    if (write.ageSeconds <= 0) {\n      await redis.del(key);\n    } else {\n      const stored = mustCreate\n        ? await redis.set(key, write.text, "EX", write.ageSeconds, "NX")\n        : await redis.set(key, write.text, "EX", write.ageSeconds, "XX");\n      if (stored === null) throw mustCreate ? new CreateError(write.key) : new UpdateError(write.key);\n    }\n    this.recordWritten(write);\n  }\n\n  async deleteRecord(key = this.sessionKey) {\n    if (key) await redis.del(`session:${key}`);\n  }\n\n  static async clearExpired() {\n    return undefined; // Redis drops expired keys by itself\n  }\n}',
      },
    },
    {
      heading: "Two requests of one session at once",
      paragraphs: [
        "A page that fires several `fetch()` calls, two open tabs, a double click: requests of the same session often overlap. Each one reads the session at its start and saves at its end.",
        "In Django every save writes the whole dictionary, so the request that finishes last overwrites the others, including keys it never touched: one tab sets `theme`, the other sets `lang`, and one of the two is lost.",
        "Here a save writes only what this request changed, applied on top of the record as it is at that moment. Two requests that change different keys both keep their change, on every engine that keeps records.",
        "That cannot help when both change the same key from what they read: a counter read as 5 by both and written back as 6 by both ends at 6, not 7 (for that key the later save wins). Such a read-modify-write route asks for a lock with `config: { session: { lock: true } }`: requests of one session on that route then run one after the other, even across processes that share the store, and one that waits too long gets a 503. The demo's counter and cart routes do this.",
        "`signed_cookies` can neither merge nor lock: every response carries a whole session, and the browser keeps whichever cookie arrives last.",
      ],
      code: {
        django:
          'def counter(request):\n    # two at once: both read 5, both write 6\n    request.session["visits"] = request.session.get("visits", 0) + 1\n    return HttpResponse(request.session["visits"])',
        ours: 'app.post("/counter/", { config: { session: { lock: true } } }, async (request) => {\n  // one request of a session at a time on this route: 5, 6, 7\n  const visits = request.session.get("visits", 0) + 1;\n  request.session.set("visits", visits);\n  return { visits };\n});',
      },
      tryIt: [
        { href: "/counter/", label: "The locked counter (reload it in two tabs at once)" },
        { href: "/cart/", label: "The cart: two tabs adding at once keep both items" },
      ],
    },
  ],
  quiz: [
    {
      id: "prod-1",
      level: 1,
      prompt:
        "Which engines keep expired sessions in their store until something removes them, so they need the cleanup (`clearsessions`, `engine.clearExpired()`) on a schedule?",
      choices: [
        { id: "a", text: "`db`, `cached_db` and `file`" },
        {
          id: "b",
          text: "All five, `signed_cookies` included",
          whyPicked:
            "The cleanup exists for every engine, but on `cache` and `signed_cookies` it has nothing to do: the cache forgets entries by itself and the cookie engine stores nothing.",
        },
        {
          id: "c",
          text: "Only `cache`",
          whyPicked: "It is the other way round: a cache drops an entry when its time-to-live runs out, with no help.",
        },
        {
          id: "d",
          text: "None: an expired session is deleted the next time someone asks for it",
          whyPicked:
            "An expired session is not handed out, but its visitor usually never asks again, so on most engines the record just stays.",
        },
      ],
      answer: "a",
      solution: [
        "`db` and `cached_db` keep a table row per session; an expired row stays until deleted (the cached copy expires by itself).",
        "`file` keeps a file per session, which also stays.",
        "`cache` entries carry a time-to-live and vanish on their own; `signed_cookies` keeps nothing on the server.",
      ],
      hint: "Which stores can forget things on their own, and which keep nothing at all?",
      checkedBy: "prod-which-engines-need-clearing",
    },
    {
      id: "prod-2",
      level: 1,
      prompt: "Which columns does the `db` engine's sessions table have?",
      choices: [
        {
          id: "a",
          text: "`id`, `user_id`, `data`, `created_at`",
          whyPicked:
            "Many apps design a sessions table like that. This one is Django's, so a Django app can share it: no user column, no creation time.",
        },
        {
          id: "b",
          text: "`session_key`, `data` (JSON), `last_seen`",
          whyPicked:
            "The data column is signed text, not JSON, and the table records when the session expires, not when it was last seen.",
        },
        {
          id: "c",
          text: "`key`, `value`, `ttl`",
          whyPicked:
            "That is how a cache thinks of an entry; the table keeps an absolute expiry date, not a time-to-live.",
        },
        { id: "d", text: "`session_key`, `session_data`, `expire_date`" },
      ],
      answer: "d",
      solution: [
        "The table is Django's `django_session` layout (named `sessions` here by default).",
        "`session_key` is the primary key, `session_data` the signed data, `expire_date` the indexed expiry.",
        "Who the user is lives inside the data (`_auth_user_id` in Django), not in a column.",
      ],
      hint: "Django's names all start with `session_` except one.",
      checkedBy: "prod-table-columns",
    },
    {
      id: "prod-3",
      level: 2,
      prompt: "Someone with read access to the database looks at a row's `session_data`. What can they do with it?",
      choices: [
        {
          id: "a",
          text: "Nothing: it is encrypted with `SECRET_KEY`",
          whyPicked:
            "`SECRET_KEY` signs the data; it does not hide it. The payload is only base64 (and maybe compressed).",
        },
        {
          id: "b",
          text: "Read and edit it freely: it is plain JSON",
          whyPicked: "It is encoded JSON with a signature; an edit without `SECRET_KEY` breaks the signature.",
        },
        {
          id: "c",
          text: "Read it (it is base64 JSON with a timestamp and a signature), but not change it without the change being detected",
        },
        {
          id: "d",
          text: "Nothing: only the session key is stored there; the data lives in the cookie",
          whyPicked:
            "That describes `signed_cookies` the other way round. With `db` the cookie holds the key and the row holds the data.",
        },
      ],
      answer: "c",
      solution: [
        "`session_data` is `payload:timestamp:signature`; the payload is the JSON in URL-safe base64 (compressed first, with a leading `.`, when shorter).",
        "Decoding base64 needs no secret, so the data is readable by anyone who can read the table: keep secrets out of sessions, or protect the table.",
        "The signature is an HMAC under `SECRET_KEY`; changed data no longer matches it, and the session then reads as empty with a warning in the log.",
      ],
      hint: "Signing and encrypting are different things.",
      checkedBy: "prod-session-data-signed",
    },
    {
      id: "prod-4",
      level: 2,
      prompt: "On the `db` engine, which rows does `engine.clearExpired()` delete?",
      choices: [
        {
          id: "a",
          text: "Every row: it logs everyone out",
          whyPicked: "That would be a disaster to run from cron; it only removes sessions that can no longer be used.",
        },
        { id: "b", text: "Rows whose `expire_date` has passed" },
        {
          id: "c",
          text: "Rows not read for `SESSION_COOKIE_AGE` seconds",
          whyPicked:
            "The table does not record reads. Expiry is set when a session is saved, and that stored date is all the cleanup looks at.",
        },
        {
          id: "d",
          text: "Rows of visitors who logged out",
          whyPicked: "A logout (`flush()`) deletes its row at once; there is nothing left for the cleanup.",
        },
      ],
      answer: "b",
      solution: [
        "Each save writes `expire_date` = the moment the session ends (now + its age, or its fixed date).",
        "The cleanup deletes the rows whose `expire_date` is in the past, in batches, using the index on that column.",
        "Sessions that can still be used are untouched, however long ago they were last read.",
      ],
      hint: "Only one column says whether a session is still good.",
      checkedBy: "prod-clear-expired-only-expired",
    },
    {
      id: "prod-5",
      level: 2,
      prompt:
        "In Django an operator reads one session with `Session.objects.get(session_key=key).get_decoded()`. What is the equivalent here?",
      choices: [
        {
          id: "a",
          text: "`const s = engine.open(key); await s.load();` then `s.items()`",
        },
        {
          id: "b",
          text: "`JSON.parse(row.session_data)`",
          whyPicked: "`session_data` is base64 plus a timestamp and a signature, so `JSON.parse` throws on it.",
        },
        {
          id: "c",
          text: "Nothing: only Django can read the data",
          whyPicked: "The format is Django's, and this framework reads and writes it byte for byte.",
        },
        {
          id: "d",
          text: '`Buffer.from(row.session_data, "base64").toString()`',
          whyPicked:
            "The whole value is not base64: only the part before the first colon is, and it may be compressed. Decoding it by hand also skips the signature check.",
        },
      ],
      answer: "a",
      solution: [
        "`engine.open(key)` is Django's `SessionStore(key)`: a session object, nothing read yet.",
        "`await s.load()` reads the record, verifies its signature and decodes it.",
        "The dict API then works as in a request (`items()`, `get()`, `getExpiryDate()`); tampered data reads as empty, as `get_decoded()` returns `{}`.",
      ],
      hint: "Open it the way a request would.",
      checkedBy: "prod-open-decodes",
    },
    {
      id: "prod-6",
      level: 2,
      prompt:
        "Your custom engine's `SessionStore` class has no static `clearExpired`. What does `engine.clearExpired()` (and so `npm run clearsessions`) do?",
      choices: [
        {
          id: "a",
          text: "Nothing, quietly",
          whyPicked:
            "A silent no-op would let expired sessions pile up unnoticed; the cleanup says it cannot do the job instead.",
        },
        {
          id: "b",
          text: "It opens every session and deletes the expired ones",
          whyPicked: "The framework cannot list an unknown store's sessions, so it has no way to walk them.",
        },
        {
          id: "c",
          text: "It throws `ClearExpiredNotSupported`; the command says the engine doesn't support clearing expired sessions",
        },
        {
          id: "d",
          text: "It deletes every session",
          whyPicked: "Nothing in the framework deletes sessions that might still be in use.",
        },
      ],
      answer: "c",
      solution: [
        "Only the engine knows how to find its expired records, so the cleanup is the engine's `clearExpired`.",
        "Without one, the call fails with `ClearExpiredNotSupported`, as Django's base class raises `NotImplementedError`.",
        "The command turns that into Django's message and exits with status 1. A store that expires entries itself gives a `clearExpired` that does nothing.",
      ],
      hint: "Django's base class raises rather than guess.",
      checkedBy: "prod-custom-engine-without-clear",
    },
    {
      id: "prod-7",
      level: 2,
      prompt: "You wrote a custom engine. How do you check it keeps the promises the built-in engines keep?",
      choices: [
        {
          id: "a",
          text: "Extending `SessionBase` is enough: the base class guarantees the rest",
          whyPicked:
            "The base class gives the dict API and expiry rules, but reading, writing and deleting records are yours, and that is where bugs hide.",
        },
        {
          id: "b",
          text: "Run Django's session test suite against it",
          whyPicked: "Django's tests drive Python classes; they cannot call a TypeScript engine.",
        },
        {
          id: "c",
          text: "Run `describeSessionEngine` from `fastify-django-sessions/conformance` under node:test, with a setup that builds the engine",
        },
        {
          id: "d",
          text: "Point the demo at it and click through the pages",
          whyPicked:
            "Useful, but it will not set up races, clock jumps or deleted records; the conformance suite does.",
        },
      ],
      answer: "c",
      solution: [
        "The package ships the contract every built-in engine passes as node:test tests.",
        "`describeSessionEngine(name, setup, options)` registers them; the setup builds your engine with the test clock and hooks it is given.",
        "Options skip what the engine does not offer (listing, an own clock for TTLs), and the report says why each skip happened.",
      ],
      hint: "The built-in engines are tested by one shared suite.",
    },
    {
      id: "prod-8",
      level: 3,
      prompt:
        "Two requests of one session run at the same time on routes without a lock. Request A sets `theme`, request B sets `lang`; B saves after A. What does the stored session hold afterwards?",
      choices: [
        {
          id: "a",
          text: "Only `lang`: B saved the whole session as it read it, overwriting A's save",
          whyPicked:
            "That is Django (and express-session): last write wins. Here each save applies only its own changes.",
        },
        {
          id: "b",
          text: "Neither: the conflict empties the session",
          whyPicked: "Conflicts on different keys are not conflicts here; both changes are kept.",
        },
        {
          id: "c",
          text: "Only `theme`: the first save wins and B's is refused",
          whyPicked: "Nothing is refused; a save that finds the record changed merges into it.",
        },
        { id: "d", text: "Both `theme` and `lang`" },
      ],
      answer: "d",
      solution: [
        "Each request records which keys it set or deleted.",
        "At save time the engine reads the record as it is then (with A's `theme`) and applies B's changes (`lang`) on top.",
        "So both survive. In Django B would write back the dictionary it read at its start, without `theme`.",
      ],
      hint: "What does a save write here: the whole session, or only the changes?",
      checkedBy: "prod-merge-different-keys",
    },
    {
      id: "prod-9",
      level: 3,
      prompt:
        "`visits` is 5. Two requests of the session run at once on a route without a lock; both read `visits`, both set it to what they read plus one. What is stored afterwards?",
      code: 'const visits = request.session.get("visits", 0) + 1;\nrequest.session.set("visits", visits);',
      choices: [
        {
          id: "a",
          text: "7: the saves merge",
          whyPicked: "Merging keeps changes to different keys; here both changed the same key to the same 6.",
        },
        {
          id: "b",
          text: "The second save fails with an error",
          whyPicked: "There is no conflict detection on one key; the later value is simply written.",
        },
        { id: "c", text: "6: for the same key the later save wins" },
        {
          id: "d",
          text: "5: conflicting writes are dropped",
          whyPicked: "Both writes land; they just write the same 6.",
        },
      ],
      answer: "c",
      solution: [
        "Both requests read 5 before either saved.",
        "Both set `visits` to 6; each save applies its change to `visits`, so the record ends at 6.",
        "One visit is lost. The cure is the route lock, which makes the second request read only after the first has saved.",
      ],
      hint: "Merging helps when the changes are to different keys.",
      checkedBy: "prod-same-key-later-wins",
    },
    {
      id: "prod-10",
      level: 3,
      prompt:
        "The same counter route now has `config: { session: { lock: true } }`, and its handler awaits a slow call between reading and writing `visits`. Two requests of one session arrive together with `visits` at 5. What happens?",
      choices: [
        {
          id: "a",
          text: "The second waits until the first has saved, then reads 6 and stores 7",
        },
        {
          id: "b",
          text: "Both run at once and store 6: the lock only protects the database",
          whyPicked: "The lock is per session and per route: requests of one session on that route run one at a time.",
        },
        {
          id: "c",
          text: "The second is refused at once with a 409",
          whyPicked:
            "It waits (up to `waitSeconds`, 10 by default) rather than failing; only a wait that runs out gets a 503.",
        },
        {
          id: "d",
          text: "Stores 7, but only on Redis; on SQLite the lock does nothing",
          whyPicked:
            "Every engine that keeps records has a lock: in the database on `db`, in Redis on `cache`, lock files on `file`.",
        },
      ],
      answer: "a",
      solution: [
        "The first request takes the session's lock before its handler runs.",
        "The second asks for the same lock and waits; the first reads 5, saves 6 and releases it once its response is done.",
        "The second then reads 6 and saves 7. Every visit counts.",
      ],
      hint: "A lock turns 'at once' into 'one after the other'.",
      checkedBy: "prod-route-lock-serialises",
    },
  ],
} satisfies Lesson;
