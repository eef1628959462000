import type { Lesson } from "../lesson.js";

export const lesson = {
  slug: "lifetime-and-security",
  number: 4,
  title: "Lifetime and security",
  summary:
    "How long a session lives, how one session can choose its own lifetime, and what keeps someone else from using it: the cookie's flags, a new key at login, flush() at logout and CSRF tokens.",
  sections: [
    {
      heading: "How long a session lives",
      paragraphs: [
        "Every save stamps two lifetimes at once: the `Max-Age` of the cookie the browser keeps, and the expiry of the record the store keeps. Both come from `SESSION_COOKIE_AGE`, a number of seconds. Left alone it is 1209600: fourteen days.",
        "The clock restarts only when the session is saved. A request that changes something saves it, so an active visitor keeps pushing the end back; a visitor who only reads pages does not, because reading is not a save.",
        "When the time is up the browser drops its cookie, and the store no longer hands the record out even if the row is still there. From then on the visitor starts with an empty session.",
      ],
      code: {
        django: "# settings.py\nSESSION_COOKIE_AGE = 60 * 60 * 24 * 14  # the default: two weeks, in seconds",
        ours: "const engine = await createSessionEngine(\n  { SECRET_KEY, SESSION_COOKIE_AGE: 60 * 60 * 24 * 14 }, // seconds, as in Django\n  { db, sqlite },\n);",
      },
      tryIt: [
        { href: "/expiry/", label: "See your session's expiry age and date" },
        { href: "/settings/", label: "See SESSION_COOKIE_AGE as this server runs it" },
      ],
    },
    {
      heading: "Cookies that end with the browser",
      paragraphs: [
        "A cookie sent without `Max-Age` or `Expires` lives only as long as the browser is open. `SESSION_EXPIRE_AT_BROWSER_CLOSE = true` makes every session cookie like that.",
        "The server never learns that a browser was closed, so the record still carries an expiry of `SESSION_COOKIE_AGE`. Only the cookie changes. (Browsers that restore tabs on start-up may also restore such cookies: this is a hint to the browser, not a promise.)",
      ],
      tryIt: [{ href: "/settings/", label: "Is SESSION_EXPIRE_AT_BROWSER_CLOSE on here?" }],
    },
    {
      heading: "One session's own lifetime: setExpiry()",
      paragraphs: [
        "`request.session.setExpiry(value)` overrides the global rule for this one session. The choice is kept in the session's data (under the framework's private key `_session_expiry`), so it holds on later requests too.",
        "A number of seconds, say `setExpiry(900)`, means: end the session after 900 seconds without a save. Each save restarts that count, like `SESSION_COOKIE_AGE` but shorter or longer.",
        "A `Date` means a fixed moment. It does not move, however busy the visitor is.",
        "`0` does NOT mean now. It means: send a cookie without `Max-Age`, one that ends when the browser closes. To end a session at once, use `flush()` (a negative number also does it).",
        "`null` removes the session's own choice and puts it back under the global settings.",
      ],
      code: {
        django:
          "request.session.set_expiry(900)          # 15 minutes without a save\nrequest.session.set_expiry(datetime(2030, 1, 1, tzinfo=UTC))  # a fixed moment\nrequest.session.set_expiry(0)            # until the browser closes\nrequest.session.set_expiry(None)         # back to the global policy",
        ours: 'request.session.setExpiry(900); // 15 minutes without a save\nrequest.session.setExpiry(new Date("2030-01-01T00:00:00Z")); // a fixed moment\nrequest.session.setExpiry(0); // until the browser closes\nrequest.session.setExpiry(null); // back to the global policy',
      },
      tryIt: [{ href: "/expiry/", label: "Call setExpiry() with a number, 0 or nothing" }],
    },
    {
      heading: "Reading the lifetime back",
      paragraphs: [
        "`getExpiryAge()` answers in seconds how long the session would last if it were saved now; `getExpiryDate()` gives the moment as a `Date`; `getExpireAtBrowserClose()` says whether the cookie will end with the browser.",
        "After `setExpiry(0)`, `getExpiryAge()` still answers `SESSION_COOKIE_AGE` (1209600 by default), not 0: that is the lifetime the record gets. Only the cookie is a browser-session one, and `getExpireAtBrowserClose()` is the call that tells you so.",
        "With a fixed `Date`, the age counts down between requests and is rounded down to whole seconds, as Django rounds it.",
      ],
      code: {
        django:
          "request.session.get_expiry_age()            # seconds\nrequest.session.get_expiry_date()           # a datetime\nrequest.session.get_expire_at_browser_close()  # True / False",
        ours: "request.session.getExpiryAge(); // seconds\nrequest.session.getExpiryDate(); // a Date\nrequest.session.getExpireAtBrowserClose(); // true / false",
      },
      tryIt: [{ href: "/expiry/", label: "Set 0, then read the age back" }],
    },
    {
      heading: "Saving on every request",
      paragraphs: [
        "With `SESSION_SAVE_EVERY_REQUEST = true`, every response for a session that exists (it has a key or some data) saves it and sends its cookie again, even if nothing changed. Every visit then restarts the countdown: the session ends after a stretch of inactivity, not a stretch of not writing.",
        "The price is a write to the store on every such request. An empty session is still never created by it.",
      ],
      tryIt: [
        { href: "/counter/", label: "A page that writes on every visit" },
        { href: "/session/get/", label: "A page that only reads" },
      ],
    },
    {
      heading: "The cookie's flags",
      paragraphs: [
        "Whoever holds the session key is that visitor, so the cookie deserves care. Three flags on `Set-Cookie` each close one door.",
        "`HttpOnly` (on by default): the page's JavaScript cannot see the cookie in `document.cookie`, so a script injected into the page (XSS) cannot copy the key and send it away.",
        "`Secure` (off by default, because a development server is usually plain HTTP): the browser sends the cookie only over HTTPS, so nobody listening on the network sees it. Turn `SESSION_COOKIE_SECURE` on in production.",
        "`SameSite=Lax` (the default): requests that another site starts in the background, such as a form it posts to you or an image it loads from you, go without the cookie; following a link to your site still carries it. `Strict` withholds it even then; `None` always sends it (and needs `Secure`).",
      ],
      code: {
        django:
          'SESSION_COOKIE_HTTPONLY = True   # the default\nSESSION_COOKIE_SECURE = True     # default False: set it behind HTTPS\nSESSION_COOKIE_SAMESITE = "Lax"  # the default',
        ours: 'await createSessionEngine(\n  { SECRET_KEY, SESSION_COOKIE_SECURE: true }, // HttpOnly true and SameSite "Lax" are the defaults\n  { db, sqlite },\n);',
      },
      tryIt: [
        { href: "/session/set/", label: "Set a value and read the Set-Cookie line" },
        { href: "/settings/", label: "The cookie settings in effect" },
      ],
    },
    {
      heading: "A new key at login",
      paragraphs: [
        "Session fixation: an attacker gets a session key of their own, makes your browser use it (a planted cookie, for instance), and waits for you to log in. If the key stayed the same, the attacker's copy would now be logged in as you.",
        "The cure is to change the key the moment the visitor's privileges change. `await request.session.cycleKey()` moves the data to a brand-new key and deletes the record under the old one, so the planted key leads nowhere. The data itself (a cart, say) is kept.",
        "Django's `login()` calls `cycle_key()` for you (or `flush()`, when the session belonged to another user). This framework has no login of its own: your login route calls `cycleKey()` before storing the user, as the demo's does.",
      ],
      code: {
        django:
          "from django.contrib.auth import login\n\ndef login_view(request):\n    ...\n    login(request, user)  # cycles the key itself",
        ours: 'app.post("/login/", async (request) => {\n  // ... check the password ...\n  await request.session.cycleKey(); // new key, same data, old record deleted\n  request.session.set("userId", user.id);\n});',
      },
      tryIt: [
        { href: "/login/", label: "Log in and watch the key change" },
        { href: "/account/", label: "Your logged-in sessions" },
      ],
    },
    {
      heading: "Logging out: flush(), not clear()",
      paragraphs: [
        "`clear()` only empties the data. The key stays, the emptied session is saved under it, and the browser keeps its cookie: anyone holding that key holds the (now empty) session, and whatever you store next lands there too.",
        "`await request.session.flush()` empties the data, deletes the record and drops the key; the response tells the browser to delete its cookie. A copy of the old key taken earlier is now worthless. Django's `logout()` is a flush; here a logout route calls `flush()` itself.",
      ],
      code: {
        django:
          "from django.contrib.auth import logout\n\ndef logout_view(request):\n    logout(request)  # session.flush()",
        ours: 'app.post("/logout/", async (request) => {\n  await request.session.flush(); // data, record and cookie gone\n});',
      },
      tryIt: [{ href: "/login/", label: "Log in, then log out and watch the delete cookie" }],
    },
    {
      heading: "CSRF tokens",
      paragraphs: [
        "The browser attaches the session cookie to requests on its own. So a page on another site could make your browser post a form to this one, and the post would arrive carrying your session: cross-site request forgery.",
        "A CSRF token defeats it: the server hands each page's forms a secret value that another site cannot read, and refuses a state-changing request that does not bring it back. `SameSite=Lax` already stops most such posts in current browsers; the token is the guarantee that does not depend on the browser.",
        "In Django the CSRF middleware does this (apart from the sessions app) and `login()` replaces the token. This framework does not include CSRF protection: the demo uses `@fastify/csrf-protection`, puts a hidden `_csrf` field in every form, answers a post without a valid one with a 403, and drops the old token at login.",
      ],
      tryIt: [{ href: "/session/set/", label: "A form with its hidden CSRF field" }],
    },
  ],
  quiz: [
    {
      id: "life-1",
      level: 1,
      prompt: "With no setting changed, how long does a session last after its last save?",
      choices: [
        {
          id: "a",
          text: "One day (86400 seconds)",
          whyPicked: "A day is a common guess for a login. The default is much longer: two weeks.",
        },
        {
          id: "b",
          text: "Two weeks, written as 1209600 milliseconds",
          whyPicked:
            "JavaScript session libraries usually count `maxAge` in milliseconds. `SESSION_COOKIE_AGE` is in seconds, as in Django: 1209600 ms would be 20 minutes.",
        },
        {
          id: "c",
          text: "Until the browser closes",
          whyPicked:
            "That is what `SESSION_EXPIRE_AT_BROWSER_CLOSE = true` or `setExpiry(0)` gives. Both are off unless you ask.",
        },
        {
          id: "d",
          text: "Two weeks (`SESSION_COOKIE_AGE` = 1209600 seconds)",
        },
      ],
      answer: "d",
      solution: [
        "The lifetime comes from `SESSION_COOKIE_AGE`.",
        "Its default is 1209600, and it counts seconds.",
        "1209600 / 86400 = 14 days: two weeks, for both the cookie's `Max-Age` and the record.",
      ],
      hint: "The setting is Django's, and Django counts in seconds.",
      checkedBy: "life-cookie-age-default",
    },
    {
      id: "life-2",
      level: 1,
      prompt: "With the default settings, which flags does the session cookie carry?",
      choices: [
        {
          id: "a",
          text: "HttpOnly, Secure and SameSite=Strict",
          whyPicked:
            "The safest set sounds like a sensible default, but `Secure` would break the cookie on a plain-HTTP development server, and Strict would log visitors out when they follow a link in.",
        },
        {
          id: "b",
          text: "None of them",
          whyPicked: "Old frameworks sent bare cookies. Here `HttpOnly` and `SameSite=Lax` are on from the start.",
        },
        { id: "c", text: "HttpOnly and SameSite=Lax, not Secure" },
        {
          id: "d",
          text: "Secure and SameSite=Lax, not HttpOnly",
          whyPicked:
            "Secure sounds like the obvious default and HttpOnly like an extra. It is the other way round: HttpOnly is on from the start, Secure waits until you serve HTTPS.",
        },
      ],
      answer: "c",
      solution: [
        "`SESSION_COOKIE_HTTPONLY` defaults to true: the flag is there.",
        "`SESSION_COOKIE_SAMESITE` defaults to `Lax`: `SameSite=Lax` is there.",
        "`SESSION_COOKIE_SECURE` defaults to false, since development is usually plain HTTP: no `Secure` until you turn it on.",
      ],
      hint: "One of the three would break a local http:// server if it were on by default.",
      checkedBy: "life-cookie-flags-default",
    },
    {
      id: "life-3",
      level: 1,
      prompt:
        "A script injected into one of your pages tries to read `document.cookie` and send the session key to its author. Which flag stops it?",
      choices: [
        { id: "a", text: "HttpOnly" },
        {
          id: "b",
          text: "Secure",
          whyPicked:
            "Secure is about the network: the cookie goes only over HTTPS. A script running inside the page is already past that point.",
        },
        {
          id: "c",
          text: "SameSite=Lax",
          whyPicked:
            "SameSite decides which requests carry the cookie. The script is not sending a request with the cookie; it is reading it.",
        },
        {
          id: "d",
          text: "None: any script on the page can read every cookie",
          whyPicked: "True for cookies without HttpOnly, which is exactly what the flag is for.",
        },
      ],
      answer: "a",
      solution: [
        "The attack reads the cookie from JavaScript.",
        "`HttpOnly` hides a cookie from `document.cookie`: the browser still sends it, but scripts cannot see it.",
        "So the script finds no session key to steal (it can still act within the page, which is why XSS must be fixed too).",
      ],
      hint: "Which flag is about who can read the cookie, not where it is sent?",
    },
    {
      id: "life-4",
      level: 2,
      prompt:
        "A route calls `request.session.setExpiry(0)` and stores a value. What does the response's `Set-Cookie` look like?",
      choices: [
        {
          id: "a",
          text: "`Max-Age=0`: the browser deletes the cookie now",
          whyPicked:
            "Zero reads like 'no time left'. Here it means 'until the browser closes'; `flush()` is how to end a session now.",
        },
        {
          id: "b",
          text: "No cookie at all",
          whyPicked:
            "The session was changed, so it is saved and its cookie is sent; only the lifetime attributes are left out.",
        },
        {
          id: "c",
          text: "`Max-Age=1209600`, as usual",
          whyPicked:
            "1209600 is what `getExpiryAge()` reports after `setExpiry(0)`, but the cookie itself is sent without a lifetime.",
        },
        { id: "d", text: "No `Max-Age` and no `Expires`: the cookie ends when the browser closes" },
      ],
      answer: "d",
      solution: [
        "`setExpiry(0)` stores 0 as the session's own expiry.",
        "`getExpireAtBrowserClose()` is then true, so the cookie is written without `Max-Age` and `Expires`.",
        "A cookie without them is a browser-session cookie: it goes when the browser closes.",
      ],
      hint: "0 is a special value, and it is not 'now'.",
      checkedBy: "life-set-expiry-zero-cookie",
    },
    {
      id: "life-5",
      level: 2,
      prompt:
        "Right after `request.session.setExpiry(0)`, with default settings, what does `request.session.getExpiryAge()` return?",
      code: "request.session.setExpiry(0);\nrequest.session.getExpiryAge(); // ?",
      choices: [
        {
          id: "a",
          text: "0",
          whyPicked:
            "It echoes what was set, you might think. But 0 is not an age: it asks for a browser-session cookie.",
        },
        { id: "b", text: "1209600" },
        {
          id: "c",
          text: "null, because the browser decides",
          whyPicked:
            "The browser decides when the cookie goes, but the record still needs an expiry, and that is what the age reports.",
        },
        {
          id: "d",
          text: "It throws until the session is saved",
          whyPicked:
            "The expiry methods work at any time during the request; they compute from the data and the clock.",
        },
      ],
      answer: "b",
      solution: [
        "For a stored expiry of 0 (or none), `getExpiryAge()` falls back to `SESSION_COOKIE_AGE`.",
        "The default is 1209600 seconds.",
        "That is the lifetime the stored record gets: the server cannot see the browser close, so it keeps the record the usual two weeks. `getExpireAtBrowserClose()` is the call that returns true.",
      ],
      hint: "Which lifetime does the server give the record when the cookie has none?",
      checkedBy: "life-expiry-age-after-zero",
    },
    {
      id: "life-6",
      level: 2,
      prompt: "What does a CSRF token protect against?",
      choices: [
        {
          id: "a",
          text: "Someone on the network reading the session cookie",
          whyPicked: "That is the job of HTTPS and the `Secure` flag.",
        },
        {
          id: "b",
          text: "A script in the page reading the session cookie",
          whyPicked: "That is the job of `HttpOnly`.",
        },
        {
          id: "c",
          text: "Another site making the visitor's browser send a request to yours, with the session cookie attached",
        },
        {
          id: "d",
          text: "An attacker guessing a session key",
          whyPicked:
            "Keys are 32 random characters from a secure generator; guessing is not the risk a CSRF token addresses.",
        },
      ],
      answer: "c",
      solution: [
        "The browser attaches cookies to requests by itself, whichever page started them.",
        "So a form on another site could post to yours and arrive with the visitor's session.",
        "The token is a secret only your own pages contain; a request without it is refused (the demo answers 403).",
      ],
      hint: "Think about what the browser does without asking: attaching cookies.",
    },
    {
      id: "life-7",
      level: 2,
      prompt:
        "A visitor has a cart in their session and logs in. The login route calls `await request.session.cycleKey()`. Afterwards:",
      choices: [
        {
          id: "a",
          text: "The session has a new key and the cart is gone",
          whyPicked:
            "That is `regenerate()` in express-session, or `flush()` here. `cycleKey()` moves the data to the new key.",
        },
        {
          id: "b",
          text: "Same key; the session is only marked as logged in",
          whyPicked: "Keeping the key is exactly what session fixation exploits.",
        },
        { id: "c", text: "A new key holds the cart, and the record under the old key is deleted" },
        {
          id: "d",
          text: "A new key holds the cart, and the old key still works for other tabs",
          whyPicked: "If the old key kept working, a planted key would still be logged in: the old record is deleted.",
        },
      ],
      answer: "c",
      solution: [
        "`cycleKey()` reads the current data and creates a record under a fresh random key with that data.",
        "It then deletes the record under the old key (in a request, once the response has succeeded).",
        "So the visitor keeps the cart, and a key someone planted before the login leads to nothing.",
      ],
      hint: "The point is to make an old key useless without annoying the visitor.",
      checkedBy: "life-cycle-key",
    },
    {
      id: "life-8",
      level: 2,
      prompt:
        "A logout route calls `request.session.clear()` instead of `await request.session.flush()`. What does the browser get in the response?",
      code: 'app.post("/logout/", async (request) => {\n  request.session.clear();\n  return "bye";\n});',
      choices: [
        { id: "a", text: "A cookie with the same key as before; the empty data is saved under it" },
        {
          id: "b",
          text: "A delete cookie, as with `flush()`",
          whyPicked: "The cookie is deleted only when the session ends up with no key; `clear()` keeps the key.",
        },
        {
          id: "c",
          text: "A cookie with a new key",
          whyPicked: "Only `cycleKey()`, `flush()` followed by a write, or a session without a key gets a new key.",
        },
        {
          id: "d",
          text: "No Set-Cookie: an empty session is not saved",
          whyPicked: "A session with a key is not 'empty' even with no data; it was modified, so it is saved.",
        },
      ],
      answer: "a",
      solution: [
        "`clear()` empties the data and marks the session modified, but keeps its key.",
        "A modified session that still has a key is saved, and its cookie sent again, with the same key.",
        "So whoever holds that key still holds the session. `flush()` drops the key and deletes the record, and the browser is told to delete the cookie.",
      ],
      hint: "What happens to the key in each of the two calls?",
      checkedBy: "life-clear-keeps-key",
    },
    {
      id: "life-9",
      level: 3,
      prompt:
        "`SESSION_SAVE_EVERY_REQUEST` is false. At 10:00 a request calls `setExpiry(600)`. The visitor then opens pages that only read the session at 10:05 and at 10:09, and comes back at 10:12. What do they find?",
      choices: [
        {
          id: "a",
          text: "Their session: each visit restarted the ten minutes, so it lasts until 10:19",
          whyPicked:
            "That is what `SESSION_SAVE_EVERY_REQUEST = true` gives. Without it, only a save restarts the count, and reading does not save.",
        },
        { id: "b", text: "An empty session: it ended at 10:10" },
        {
          id: "c",
          text: "Their session: a number in `setExpiry` only affects the cookie",
          whyPicked: "The record's expiry is computed from the same number: 600 seconds after the save.",
        },
        {
          id: "d",
          text: "Their session, until two weeks after 10:00",
          whyPicked: "`setExpiry(600)` replaces `SESSION_COOKIE_AGE` for this session.",
        },
      ],
      answer: "b",
      solution: [
        "The 10:00 request saved the session, with an expiry of 600 seconds from then: 10:10.",
        "The 10:05 and 10:09 requests read but changed nothing, so nothing was saved and the expiry stayed at 10:10.",
        "At 10:12 the record has expired and the visitor gets an empty session. With `SESSION_SAVE_EVERY_REQUEST = true` each visit would have saved and the session would last until 10:19.",
      ],
      hint: "When is the expiry recomputed?",
      checkedBy: "life-reading-not-activity",
    },
    {
      id: "life-10",
      level: 3,
      prompt:
        "At noon a route calls `request.session.setExpiry(new Date(Date.now() + 3600 * 1000))`. At 12:30 another request changes the cart (so the session is saved again). When does the session end?",
      choices: [
        { id: "a", text: "At 13:00, whatever happens in between" },
        {
          id: "b",
          text: "At 13:30: an hour after the last save",
          whyPicked:
            "That is how a number of seconds behaves. A `Date` is stored as a fixed moment and does not slide.",
        },
        {
          id: "c",
          text: "Two weeks after 12:30",
          whyPicked:
            "The session's own expiry stays in its data across saves; `SESSION_COOKIE_AGE` applies only without one.",
        },
        {
          id: "d",
          text: "When the browser closes",
          whyPicked: "Only `0` (or the global setting with no own expiry) gives a browser-session cookie.",
        },
      ],
      answer: "a",
      solution: [
        "A `Date` is stored in the session as that instant (an ISO-8601 string), not as a duration.",
        "The 12:30 save computes the expiry from the stored instant: still 13:00; `getExpiryAge()` then says 1800.",
        "So activity does not extend it: at 13:00 the session is over.",
      ],
      hint: "A number is a duration; a `Date` is a moment.",
      checkedBy: "life-set-expiry-date-fixed",
    },
  ],
} satisfies Lesson;
