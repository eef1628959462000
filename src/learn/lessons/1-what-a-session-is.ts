/** Lesson 1: what a session is, the request cycle, and how it is switched on. */
import type { Lesson } from "../lesson.js";

export const lesson = {
  slug: "what-a-session-is",
  number: 1,
  title: "What a session is",
  summary:
    "Data the server keeps for each visitor, found again through a random key in a cookie: how a request finds it, when the cookie is first sent, and how it is switched on.",
  sections: [
    {
      heading: "A drawer on the server, a ticket in the browser",
      paragraphs: [
        "HTTP has no memory: each request arrives on its own, and nothing in it says that the same person sent the one before. A session gives every visitor a small store of their own on the server, a dictionary of JSON values that the pages read and write.",
        "The browser does not get that data. It gets a ticket: a long random key, sent in a cookie called `sessionid`. Each later request brings the ticket back, and the server uses it to find the visitor's data again. The key means nothing by itself and cannot be guessed, so holding it is what makes the data yours.",
        "With the default `db` engine the data is a row in a table, one row per key. Set a value, then open the JSON page: the key shown there is the cookie's value, and the data beside it came from that row.",
      ],
      tryIt: [
        { href: "/session/set/?key=color&value=blue", label: "Store color = blue" },
        { href: "/session/", label: "Your session as JSON" },
      ],
    },
    {
      heading: "One request after another",
      paragraphs: [
        "A first visit brings no cookie, so there is no key and nothing to look up: the session starts empty. Reading it costs nothing and stores nothing, so a page that only reads sends no cookie back.",
        "The first write changes that. When the response goes out, the framework makes a new key (32 lowercase letters and digits), stores the data under it, and sends it in a `Set-Cookie` header. From then on the browser sends `sessionid=<key>` with every request, the framework finds the row by that key when the page first touches the session, and saves it again only when something changed.",
        'A response whose page looked at the session also says `Vary: Cookie`, so that no shared cache hands one visitor\'s page to another. Watch all of this in the "What just happened" panel beside each demo page.',
      ],
      code: {
        django: `def counter(request):
    visits = request.session.get("visits", 0) + 1
    request.session["visits"] = visits
    return render(request, "counter.html", {"visits": visits})`,
        ours: `app.get("/counter/", (request, reply) => {
  const visits = request.session.get("visits", 0) + 1;
  request.session.set("visits", visits);
  return reply.view("counter.ejs", { visits });
});`,
      },
      tryIt: [
        { href: "/counter/", label: "The visit counter" },
        { href: "/session/get/?key=color", label: "A page that only reads" },
      ],
    },
    {
      heading: "A cookie that holds a key, or one that holds the data",
      paragraphs: [
        "Most engines keep the data on the server (a database row, a cache entry, a file) and put only the key in the cookie. One engine, `signed_cookies`, turns this around: the cookie carries the whole session, signed with `SECRET_KEY`, and the server keeps nothing.",
        "Signed is not secret. The visitor can decode that cookie and read every value in it; what the signature stops is a changed value being accepted. Such a cookie also travels with every request and a browser keeps only about 4 KB of it. Lesson 3 compares the engines; the settings page says which one this demo runs.",
      ],
      tryIt: [{ href: "/settings/", label: "The engine in use" }],
    },
    {
      heading: "Switching it on",
      paragraphs: [
        "In Django, sessions come from the app `django.contrib.sessions` in `INSTALLED_APPS` and `SessionMiddleware` in `MIDDLEWARE`; both are in a new project already. `manage.py migrate` then creates the table, `django_session`.",
        "Here one Fastify plugin does the middleware's job: register `sessions` with an engine built from the settings, and every route gets `request.session`. The table comes from the package's migration, which this demo runs with `npm run migrate` (and `npm start` runs it too). Its default name is `sessions`, not `django_session`; set `SESSION_DB_TABLE=django_session` to share Django's table.",
      ],
      code: {
        django: `# settings.py
INSTALLED_APPS = [..., "django.contrib.sessions"]
MIDDLEWARE = [..., "django.contrib.sessions.middleware.SessionMiddleware"]

# then, once:
#   python manage.py migrate`,
        ours: `import { createSessionEngine, sessions, sessionSettingsFromEnv } from "fastify-django-sessions";

const engine = await createSessionEngine(sessionSettingsFromEnv(process.env), { db, sqlite });
await app.register(sessions, { engine });

// then, once:
//   npm run migrate`,
      },
      tryIt: [{ href: "/settings/", label: "Every session setting's value" }],
    },
    {
      heading: "What sessions are for, and what they are not",
      paragraphs: [
        "Logging in is the best known use, since the login is remembered as a user id in the session, but it is one use among many. An anonymous visitor's cart, a visit counter, a message shown once after a redirect, a half-finished form: anything small that belongs to one browser's visit.",
        "They are not for what is the same for everyone. Style sheets and images are files the server sends to any browser, so this demo's static files skip the session entirely. Changes to the database's tables are migrations, run once by whoever deploys, not something a visitor's session carries. And data that must last, or be shared between people, belongs in your own tables: a session ends when it expires, is flushed or its browser loses the cookie.",
      ],
      tryIt: [
        { href: "/cart/", label: "An anonymous cart" },
        { href: "/login/", label: "Log in" },
      ],
    },
  ],
  quiz: [
    {
      id: "what-1",
      level: 1,
      prompt: "With the default `db` engine, where is the data you store in `request.session` kept?",
      choices: [
        {
          id: "a",
          text: "In the `sessionid` cookie, so the browser sends it back with each request.",
          whyPicked:
            "Cookies are what the browser sends, so it seems natural that the data rides in one. With `db` the cookie carries only the key; the data stays on the server.",
        },
        { id: "b", text: "In a row on the server, found by the random key the cookie carries." },
        {
          id: "c",
          text: "In the server's memory, for as long as the process runs.",
          whyPicked:
            'An in-memory store is the simplest picture of "on the server". The `db` engine writes a table row, which survives a restart.',
        },
        {
          id: "d",
          text: "In the browser's local storage, read by the page's JavaScript.",
          whyPicked:
            "Client-side storage is common in single-page apps. Sessions are a server feature: no JavaScript is involved.",
        },
      ],
      answer: "b",
      solution: [
        "The `db` engine is the default: it stores each session as a row of the sessions table.",
        "The row's primary key is the session key, a 32-character random string.",
        "The browser gets only that key, in the `sessionid` cookie; the data never leaves the server.",
      ],
      hint: "Compare the cookie's value with what the JSON page shows.",
      checkedBy: "db-cookie-holds-key",
    },
    {
      id: "what-2",
      level: 1,
      prompt: "What is the session cookie called unless you change `SESSION_COOKIE_NAME`?",
      choices: [
        {
          id: "a",
          text: "`session`",
          whyPicked: "Many frameworks use that name. Django's default, and ours, is longer.",
        },
        {
          id: "b",
          text: "`csrftoken`",
          whyPicked: "It is the other cookie a Django site sets; it carries the CSRF secret, not the session key.",
        },
        { id: "c", text: "`sessionid`" },
        {
          id: "d",
          text: "`connect.sid`",
          whyPicked: "That is express-session's default, which Node developers often see first.",
        },
      ],
      answer: "c",
      solution: [
        "`SESSION_COOKIE_NAME` defaults to `sessionid` in Django.",
        "This framework keeps Django's default, so a Django app and this one can share the cookie.",
      ],
      hint: 'It is the name the "Your session" panel shows for the cookie your browser sent.',
      checkedBy: "cookie-name",
    },
    {
      id: "what-3",
      level: 1,
      prompt: "A visitor who never logs in adds two items to the cart. Do they have a session?",
      choices: [
        {
          id: "a",
          text: "No: sessions start at login, so the cart has to live in a cookie of its own.",
          whyPicked:
            "Sessions are mostly explained through login. But any write starts one, for anyone who has a browser.",
        },
        {
          id: "b",
          text: "Yes, but it is kept only in the server's memory until they log in.",
          whyPicked: "It sounds like a sensible saving. An anonymous session is stored exactly like a logged-in one.",
        },
        {
          id: "c",
          text: "Only if the site sets `SESSION_SAVE_EVERY_REQUEST`.",
          whyPicked:
            "That setting is about saving unchanged sessions again; it never starts an empty one and is off by default.",
        },
        { id: "d", text: "Yes: the first write to the session made one, login or not." },
      ],
      answer: "d",
      solution: [
        "Adding to the cart writes the `cart` key into `request.session`.",
        "The first write to an empty session makes a key, stores the row and sends the cookie.",
        "Nothing in that depends on a login: logging in later keeps the data under a new key.",
      ],
      hint: "What does adding an item do to `request.session`?",
      checkedBy: "anonymous-session",
    },
    {
      id: "what-4",
      level: 2,
      prompt:
        'A visitor with no cookie at all opens a page whose handler only calls `request.session.get("color")`. What does the response carry?',
      code: `app.get("/colour/", (request) => ({ color: request.session.get("color") ?? null }));`,
      choices: [
        {
          id: "a",
          text: "A `Set-Cookie: sessionid=...` with a new key, so the next visit finds the same session.",
          whyPicked:
            "Handing out a key on the first visit sounds helpful. But there is nothing to store yet, so no key is made and no cookie sent.",
        },
        { id: "b", text: "No session cookie, and nothing is stored." },
        {
          id: "c",
          text: "A session cookie with an empty value.",
          whyPicked:
            "An empty cookie is what a flush sends to delete one that exists. This browser has none to delete.",
        },
        {
          id: "d",
          text: "An error: the session has to be written before it can be read.",
          whyPicked:
            "Some stores complain about missing records. Reading an empty session is normal and gives the default.",
        },
      ],
      answer: "b",
      solution: [
        "No cookie means no key, so the session starts empty without touching the store.",
        "`get` reads; it does not mark the session modified.",
        "At the response an unmodified, empty session is not saved, so no key is made and no `Set-Cookie` goes out.",
      ],
      hint: "A key is made when there is something to store.",
      checkedBy: "read-only-no-cookie",
    },
    {
      id: "what-5",
      level: 2,
      prompt: "The first write sends a new key in `Set-Cookie`. What does that key look like?",
      choices: [
        {
          id: "a",
          text: "A number counting up from 1, the row's id.",
          whyPicked:
            "Tables usually number their rows. A counting key could be guessed, and guessing a key would give away someone's session.",
        },
        {
          id: "b",
          text: "A UUID such as `3f2b6c1e-...`.",
          whyPicked: "UUIDs are a common random id. Django's keys use their own alphabet and length.",
        },
        { id: "c", text: "32 characters, each a lowercase letter or a digit, chosen at random." },
        {
          id: "d",
          text: "The visitor's data, signed so it cannot be changed.",
          whyPicked: "That is the `signed_cookies` engine. With `db`, the cookie is only the key.",
        },
      ],
      answer: "c",
      solution: [
        "Django draws new keys from `a`-`z` and `0`-`9` with a secure random generator, 32 of them.",
        "This framework does the same, so its keys fit Django's `session_key` column.",
        "36 possible characters in 32 places is far too many to guess.",
      ],
      hint: "Look at the key the JSON page shows after you store a value.",
      checkedBy: "key-shape",
    },
    {
      id: "what-6",
      level: 2,
      prompt:
        "Django's `manage.py migrate` creates the table `django_session`. What does this framework's migration call it by default?",
      choices: [
        { id: "a", text: "`sessions`" },
        {
          id: "b",
          text: "`django_session`, the same as Django.",
          whyPicked:
            "The framework copies Django closely, and the table's columns are indeed Django's. Only the default name differs; `SESSION_DB_TABLE=django_session` makes it the same.",
        },
        {
          id: "c",
          text: "It creates none: the session lives in the cookie.",
          whyPicked: "True of `signed_cookies` only; the default `db` engine needs a table.",
        },
        {
          id: "d",
          text: "`session_locks`",
          whyPicked:
            "The migration does create that table too, for the route lock's leases. The data is in the other one.",
        },
      ],
      answer: "a",
      solution: [
        "The migration makes the sessions table with Django's columns: `session_key`, `session_data`, `expire_date`.",
        "Its name comes from `SESSION_DB_TABLE`, whose default is `sessions`.",
        "Set `SESSION_DB_TABLE=django_session` to use the table Django made, and share sessions with it.",
      ],
      hint: "The settings page shows `SESSION_DB_TABLE`.",
      checkedBy: "table-name",
    },
    {
      id: "what-7",
      level: 2,
      prompt: "Which of these is not a job for the session?",
      choices: [
        {
          id: "a",
          text: "Remembering an anonymous visitor's cart.",
          whyPicked: "It is a classic session job: small, per browser, no login needed.",
        },
        {
          id: "b",
          text: "Showing a message once on the page after a redirect.",
          whyPicked: "A session key read with `pop` does exactly that; the cart's checkout does it.",
        },
        { id: "c", text: "Serving the site's style sheet and adding a column to a table." },
        {
          id: "d",
          text: "Remembering who logged in.",
          whyPicked: "That is the best known session job: the user's id is kept in the session.",
        },
      ],
      answer: "c",
      solution: [
        "A session holds small data that belongs to one browser's visit.",
        "A style sheet is the same file for everyone: static files skip the session.",
        "A new column is a migration, applied once when deploying; no visitor's session is involved.",
      ],
      hint: "Which one is the same for every visitor?",
    },
    {
      id: "what-8",
      level: 3,
      prompt:
        "The browser already has a session with `color` in it. It opens a page that only reads `color`. What happens?",
      choices: [
        {
          id: "a",
          text: "The row is read by its key, and the response carries no new `Set-Cookie`.",
        },
        {
          id: "b",
          text: "The row is read and written back, and `Set-Cookie` sends the key again to keep it fresh.",
          whyPicked:
            "That is `SESSION_SAVE_EVERY_REQUEST`'s behaviour, which is off by default: an unchanged session is not saved.",
        },
        {
          id: "c",
          text: "The whole session comes from the cookie, so the store is not read.",
          whyPicked: "Only with `signed_cookies`. With `db` the cookie has the key, and the data has to be looked up.",
        },
        {
          id: "d",
          text: "A new key is made, since every response must rotate it.",
          whyPicked: "Keys do change at login (`cycleKey`) and after a flush, not on ordinary requests.",
        },
      ],
      answer: "a",
      solution: [
        "The request carries `sessionid=<key>`, so the first read looks up that key's row.",
        "Reading does not modify the session.",
        "An unmodified session is not saved, and its cookie is not sent again (with the default settings).",
      ],
      hint: "Which of these happens only when something changed?",
      checkedBy: "unmodified-no-resend",
    },
    {
      id: "what-9",
      level: 3,
      prompt:
        "A browser sends `sessionid=` with a well-formed key that no session has (made up, or from a deleted row), and the page then stores a value. Which key does the data end up under?",
      choices: [
        {
          id: "a",
          text: "The key the browser sent: the framework creates the row under it.",
          whyPicked:
            "Reusing the key looks harmless. It would let someone plant a key in a victim's browser and later use the session it names (session fixation).",
        },
        {
          id: "b",
          text: "None: the data is dropped until the browser deletes its cookie.",
          whyPicked: "It would lock out a browser with an old cookie. The framework starts it a fresh session.",
        },
        {
          id: "c",
          text: "None: the request fails with 400 because the key is unknown.",
          whyPicked:
            "An unknown key is routine (expired sessions, cleared tables), so it is simply treated as no session.",
        },
        { id: "d", text: "A new key the framework makes, sent back in `Set-Cookie`." },
      ],
      answer: "d",
      solution: [
        "Looking up the key finds no row, so the session starts empty and forgets the key.",
        "The write marks it modified; saving an empty-keyed session makes a new random key.",
        "The response's `Set-Cookie` replaces the browser's cookie with that new key.",
      ],
      hint: "Only the server hands out keys.",
      checkedBy: "unknown-key-replaced",
    },
    {
      id: "what-10",
      level: 3,
      prompt:
        'With `SESSION_ENGINE=signed_cookies`, a page stores `plan = "gold"`. What can the visitor do with the cookie they get?',
      choices: [
        { id: "a", text: "Read `gold` by decoding the cookie, but not change it without the server noticing." },
        {
          id: "b",
          text: "Read `gold` and change it to `platinum`; the server accepts the change.",
          whyPicked:
            "Readable data feels editable. A changed value breaks the signature, and the server ignores the cookie.",
        },
        {
          id: "c",
          text: "Nothing: the value is encrypted with `SECRET_KEY`.",
          whyPicked:
            '"Signed with the secret key" is easily read as "encrypted". A signature protects, it does not hide.',
        },
        {
          id: "d",
          text: "Only see a random key, as with the `db` engine.",
          whyPicked: "That is how the other engines work. With this one the data itself is in the cookie.",
        },
      ],
      answer: "a",
      solution: [
        "The cookie's value is the session's JSON (compressed when that is shorter) in base64, a timestamp and a signature.",
        "Anyone can decode base64 and read the JSON.",
        "Changing it would need a new signature, which takes `SECRET_KEY`; a bad signature makes the session empty.",
      ],
      hint: "A signature is not a lock on the contents.",
      checkedBy: "signed-cookie-readable",
    },
  ],
} satisfies Lesson;
