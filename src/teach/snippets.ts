/**
 * Django's code beside ours, one entry per demo route: the view as Django tutorials write it
 * (Python) and the route in this project (TypeScript, quoted from the file it names; a test
 * checks every quoted line is still there). Lines that touch the session are marked; a mark can
 * name a variant, so only the branch that ran is highlighted (set_expiry(0) against
 * set_expiry(None), say).
 */
import type { AppConfig } from "../config.js";
import { builtInEngineName } from "fastify-django-sessions";

/** A line of code; `session` lines are highlighted when the snippet ran, `when` narrows that to a variant. */
export type Line = string | { code: string; when?: string };

export interface Block {
  /** Where the code lives: a Django project's file, or this repository's (`src/...`). */
  file: string;
  lang: "python" | "typescript" | "dotenv";
  lines: Line[];
}

/** What a request carried, for choosing the variant that ran. */
export interface RequestFacts {
  query: Readonly<Record<string, unknown>>;
  body: Readonly<Record<string, unknown>>;
  status: number;
}

export interface Snippet {
  /** The route it shows: `METHOD /path/`, as Fastify names it. */
  route: string;
  title: string;
  django: Block[];
  ours: Block[];
  /** One or two sentences on what the lines do, or what differs from Django. */
  note?: string | ((config: AppConfig) => string);
  /** Which marked lines ran for this request; unmarked session lines run whatever it says. */
  variant?: (facts: RequestFacts) => string;
}

/** A session line (highlighted when the snippet ran), in the variant `when` only if given. */
const s = (code: string, when?: string): Line => (when === undefined ? { code } : { code, when });

/** The Django project kept in this repository (examples/django), whose lines the panels quote. */
const VIEWS = "examples/django/demo/views.py";
const SETTINGS = "examples/django/project/settings.py";

const text = (value: unknown): string => (typeof value === "string" ? value : "");

export const SNIPPETS: readonly Snippet[] = [
  {
    route: "GET /",
    title: "The middleware that gives every request its session",
    django: [
      {
        file: SETTINGS,
        lang: "python",
        lines: [
          "INSTALLED_APPS = [",
          '    "django.contrib.auth",',
          '    "django.contrib.contenttypes",',
          s('    "django.contrib.sessions",'),
          '    "demo",',
          "]",
          "MIDDLEWARE = [",
          '    "django.middleware.security.SecurityMiddleware",',
          s('    "django.contrib.sessions.middleware.SessionMiddleware",'),
          '    "django.middleware.common.CommonMiddleware",',
          '    "django.middleware.csrf.CsrfViewMiddleware",',
          '    "django.contrib.auth.middleware.AuthenticationMiddleware",',
          "]",
        ],
      },
    ],
    ours: [{ file: "src/app.ts", lang: "typescript", lines: [s("  await app.register(sessions, { engine });")] }],
    note: "SessionMiddleware opens request.session before the view and decides the Set-Cookie after it; the plugin does the same in Fastify's hooks (onSend for the response side).",
  },
  {
    route: "GET /session/set/",
    title: "Store a value: request.session[key] = value",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "def set_value(request):",
          '    key = request.GET.get("key")',
          '    value = request.GET.get("value", "")',
          "    if key:",
          s("        request.session[key] = value", "set"),
          '    return render(request, "session_set.html", {"key": key, "value": value})',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/session.ts",
        lang: "typescript",
        lines: [
          '      const { key, value = "" } = request.query;',
          s("      if (key) request.session.set(key, value);", "set"),
          '      return renderPage(request, reply, "session-set.ejs", {',
        ],
      },
    ],
    variant: ({ query }) => (text(query.key) === "" ? "form" : "set"),
    note: "Assigning marks the session modified, so the response saves it and sends the cookie (a new key on the first save).",
  },
  {
    route: "GET /session/get/",
    title: "Read a value: request.session.get(key)",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "def get_value(request):",
          '    key = request.GET.get("key", "")',
          s("    found = key in request.session"),
          s("    value = request.session.get(key)  # None when it is not set"),
          '    return render(request, "session_get.html", {"key": key, "found": found, "value": value})',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/session.ts",
        lang: "typescript",
        lines: [
          '      const key = request.query.key ?? "";',
          s('      const found = key !== "" && request.session.has(key);'),
          '      return renderPage(request, reply, "session-get.ejs", {',
          s("        value: found ? request.session.get(key) : undefined,"),
        ],
      },
    ],
    note: "Reading marks the session accessed, not modified: nothing is written and no Set-Cookie is sent, but the response gets Vary: Cookie.",
  },
  {
    route: "POST /session/delete/",
    title: "Delete a value: del request.session[key]",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "@require_POST",
          "def delete_value(request):",
          '    key = request.POST["key"]',
          "    if key in request.session:",
          s("        del request.session[key]  # a missing key would raise KeyError"),
          '    return redirect(f"/session/get/?key={key}")',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/session.ts",
        lang: "typescript",
        lines: [
          "      const { key } = request.body;",
          s("      request.session.pop(key, null);"),
          "      return reply.redirect(`/session/get/?key=${encodeURIComponent(key)}`, 303);",
        ],
      },
    ],
  },
  {
    route: "POST /session/flush/",
    title: "End the session: request.session.flush()",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "@require_POST",
          "def flush(request):",
          s("    request.session.flush()"),
          '    return redirect("/session/set/")',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/session.ts",
        lang: "typescript",
        lines: [
          '  app.post("/session/flush/", async (request, reply) => {',
          s("    await request.session.flush();"),
          '    return reply.redirect("/session/set/", 303);',
        ],
      },
    ],
    note: "flush() deletes the stored record and drops the key; the response deletes the cookie (Max-Age=0), and the next write starts a session under a new key.",
  },
  {
    route: "GET /counter/",
    title: "A visit counter",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "def counter(request):",
          s('    visits = request.session.get("visits", 0) + 1'),
          s('    request.session["visits"] = visits'),
          '    return render(request, "counter.html", {"visits": visits})',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/counter.ts",
        lang: "typescript",
        lines: [
          '  app.get("/counter/", { config: oneAtATime }, (request, reply) => {',
          s('    const visits = request.session.get("visits", 0) + 1;'),
          s('    request.session.set("visits", visits);'),
          '    return renderPage(request, reply, "counter.ejs", { title: "Visit counter", visits, clientSide });',
        ],
      },
    ],
  },
  {
    route: "POST /counter/reset/",
    title: "Reset the counter",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "@require_POST",
          "def reset(request):",
          s('    request.session.pop("visits", None)'),
          '    return redirect("counter")',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/counter.ts",
        lang: "typescript",
        lines: [
          '  app.post("/counter/reset/", { config: oneAtATime }, (request, reply) => {',
          s('    const visits = request.session.pop("visits", null);'),
          '    return reply.redirect("/counter/", 303);',
        ],
      },
    ],
  },
  {
    route: "GET /cart/",
    title: "Show the cart, and a message once",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "def cart(request):",
          s('    flash = request.session.pop("flash", None)  # read once, then gone'),
          s('    cart = request.session.get("cart", [])'),
          '    return render(request, "cart.html", {"cart": cart, "flash": flash})',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/cart.ts",
        lang: "typescript",
        lines: [
          s('    const flash = request.session.pop("flash", null);'),
          s('    const cart = request.session.get("cart", []);'),
          '    return renderPage(request, reply, "cart.ejs", { title: "Shopping cart", cart, flash, clientSide });',
        ],
      },
    ],
  },
  {
    route: "POST /cart/add/",
    title: "Add: a new list, assigned back",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "@require_POST",
          "def add(request):",
          s('    cart = request.session.get("cart", [])'),
          s('    request.session["cart"] = cart + [request.POST["item"]]  # assignment: modified'),
          '    return redirect("cart")',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/cart.ts",
        lang: "typescript",
        lines: [
          s('    const cart = request.session.get("cart", []);'),
          "    const item = request.body.item.trim();",
          s('    request.session.set("cart", [...cart, item]);'),
          '    return reply.redirect("/cart/", 303);',
        ],
      },
    ],
  },
  {
    route: "POST /cart/add-inplace/",
    title: "Add in place: the pitfall",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "@require_POST",
          "def add_in_place(request):",
          s('    cart = request.session.setdefault("cart", [])'),
          s('    cart.append(request.POST["item"])  # changes the stored list: Django does not notice'),
          s("    request.session.modified = True  # without this line the item is silently lost"),
          '    return redirect("cart")',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/cart.ts",
        lang: "typescript",
        lines: [
          s('    const cart = request.session.setdefault("cart", []);'),
          "    const item = request.body.item.trim();",
          s("    cart.push(item);"),
          '    return reply.redirect("/cart/", 303);',
        ],
      },
    ],
    note: (config) =>
      config.session.SESSION_DETECT_MUTATIONS
        ? "Django saves only when a key is assigned or deleted; append() changes a list inside the session, so it needs request.session.modified = True. Here SESSION_DETECT_MUTATIONS is on: the plugin sees the push and saves it without that line."
        : "Django saves only when a key is assigned or deleted; append() changes a list inside the session, so it needs request.session.modified = True. SESSION_DETECT_MUTATIONS is off here, Django's rule: this push is not saved (the item is lost).",
  },
  {
    route: "POST /cart/remove/",
    title: "Remove an item",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "@require_POST",
          "def remove(request):",
          s('    cart = list(request.session.get("cart", []))  # a copy, so the assignment is the change'),
          '    if request.POST["item"] in cart:',
          '        cart.remove(request.POST["item"])',
          s('        request.session["cart"] = cart'),
          '    return redirect("cart")',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/cart.ts",
        lang: "typescript",
        lines: [
          s('    const cart = request.session.get("cart", []);'),
          "    const item = request.body.item.trim();",
          "    const index = cart.indexOf(item);",
          s('    if (index >= 0) request.session.set("cart", cart.toSpliced(index, 1));'),
        ],
      },
    ],
  },
  {
    route: "POST /cart/checkout/",
    title: "Check out, and leave a message for the next page",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "@require_POST",
          "def checkout(request):",
          s('    cart = request.session.pop("cart", [])'),
          s('    request.session["flash"] = f"Thank you! You checked out {len(cart)} items."'),
          '    return redirect("cart")',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/cart.ts",
        lang: "typescript",
        lines: [
          s('    const cart = request.session.pop("cart", []);'),
          s("    request.session.set("),
          '      "flash",',
        ],
      },
    ],
  },
  {
    route: "GET /expiry/",
    title: "Ask when the session ends",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "def expiry(request):",
          '    return render(request, "expiry.html", {',
          s('        "age": request.session.get_expiry_age(),  # seconds'),
          s('        "date": request.session.get_expiry_date(),'),
          s('        "browser_close": request.session.get_expire_at_browser_close(),'),
          "    })",
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/expiry.ts",
        lang: "typescript",
        lines: [
          "    const session = request.session;",
          s("      expiryAge: session.getExpiryAge(),"),
          s("      expiryDate: session.getExpiryDate().toISOString(),"),
          s("      browserClose: session.getExpireAtBrowserClose(),"),
        ],
      },
    ],
    note: "After set_expiry(0), get_expiry_age() still answers SESSION_COOKIE_AGE: that is how long the stored record lives; only the cookie loses its Expires and Max-Age and ends with the browser.",
  },
  {
    route: "POST /expiry/",
    title: "Change when the session ends: set_expiry()",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "@require_POST",
          "def set_expiry(request):",
          '    seconds = request.POST["seconds"]',
          '    if seconds == "":',
          s("        request.session.set_expiry(None)  # back to SESSION_COOKIE_AGE", "none"),
          '    elif seconds == "0":',
          s("        request.session.set_expiry(0)  # the cookie ends when the browser closes", "zero"),
          "    else:",
          s("        request.session.set_expiry(int(seconds))  # set_expiry(300): 300 s without a save", "seconds"),
          '    return redirect("expiry")',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/expiry.ts",
        lang: "typescript",
        lines: [
          "      const { seconds } = request.body;",
          '      const value = seconds === "" ? null : Number(seconds);',
          "      const session = request.session;",
          s("      session.setExpiry(value);"),
          '      return reply.redirect("/expiry/", 303);',
        ],
      },
    ],
    variant: ({ body }) => (text(body.seconds) === "" ? "none" : text(body.seconds) === "0" ? "zero" : "seconds"),
  },
  {
    route: "POST /login/",
    title: "Log in: login() cycles the key",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "from django.contrib.auth import authenticate, login",
          "",
          "def login_view(request):",
          '    if request.method != "POST":',
          '        return render(request, "login.html", {"next": request.GET.get("next", "/account/")})',
          '    user = authenticate(request, username=request.POST["username"], password=request.POST["password"])',
          "    if user is None:",
          '        return render(request, "login.html", {"error": "Wrong username or password."}, status=400)',
          s("    login(request, user)", "ok"),
          '    return redirect(request.POST.get("next", "/account/"))',
        ],
      },
      {
        file: "django/contrib/auth/__init__.py: login(), abridged",
        lang: "python",
        lines: [
          "    if SESSION_KEY in request.session:",
          "        if _get_user_session_key(request) != user.pk or not same_hash:",
          s("            request.session.flush()  # another user's session: start empty", "ok"),
          "    else:",
          s("        request.session.cycle_key()  # the same data under a new key", "ok"),
          s("    request.session[SESSION_KEY] = user._meta.pk.value_to_string(user)", "ok"),
          s("    request.session[BACKEND_SESSION_KEY] = backend", "ok"),
          s("    request.session[HASH_SESSION_KEY] = session_auth_hash", "ok"),
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/auth.ts",
        lang: "typescript",
        lines: [
          "      const user = await users.byUsername(username);",
          "      const valid = await verifyPassword(password, user?.password ?? unknownUserHash);",
          s("      await request.login(user);", "ok"),
          "      return reply.redirect(safeNext(next), 303);",
        ],
      },
      {
        file: "src/auth/session-auth.ts",
        lang: "typescript",
        lines: [
          "  if (session.has(SESSION_USER_ID)) {",
          s("      await session.flush();", "ok"),
          "  } else {",
          s("    await session.cycleKey();", "ok"),
          s("  session.set(SESSION_USER_ID, String(user.id));", "ok"),
          s("  session.set(SESSION_USER_BACKEND, MODEL_BACKEND);", "ok"),
          s("  session.set(SESSION_USER_HASH, hash);", "ok"),
        ],
      },
    ],
    variant: ({ status }) => (status < 400 ? "ok" : "failed"),
    note: "cycle_key() moves the data to a new key and deletes the old record, so a key someone planted in your browser before you logged in names nothing afterwards. Watch the Set-Cookie after logging in: a different key, and the cart still there.",
  },
  {
    route: "POST /logout/",
    title: "Log out: logout() flushes",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "from django.contrib.auth import logout",
          "",
          "@require_POST",
          "def logout_view(request):",
          s("    logout(request)  # request.session.flush()"),
          '    return redirect("/")',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/auth.ts",
        lang: "typescript",
        lines: [
          '  app.post("/logout/", async (request, reply) => {',
          s("    await request.logout();"),
          '    return reply.redirect("/", 303);',
        ],
      },
    ],
  },
  {
    route: "GET /account/",
    title: "A page for logged-in users",
    django: [
      {
        file: VIEWS,
        lang: "python",
        lines: [
          "from django.contrib.auth.decorators import login_required",
          "",
          s('@login_required  # request.user comes from request.session["_auth_user_id"]'),
          "def account(request):",
          '    return render(request, "account.html", {"user": request.user})',
        ],
      },
    ],
    ours: [
      {
        file: "src/routes/auth.ts",
        lang: "typescript",
        lines: [
          '  app.get("/account/", async (request, reply) => {',
          s("    const user = await request.getUser();"),
          "    if (!user) return toLogin(reply);",
        ],
      },
    ],
    note: "Every request checks the stored _auth_user_hash against the user's password: change the password and every other session is logged out at its next request.",
  },
];

/** Which snippets each page shows (the page's own route first); the route that led here is added. */
export const PAGE_SNIPPETS: Readonly<Record<string, readonly string[]>> = {
  "GET /": ["GET /"],
  "GET /session/set/": ["GET /session/set/", "POST /session/flush/"],
  "GET /session/get/": ["GET /session/get/", "POST /session/delete/", "POST /session/flush/"],
  "GET /counter/": ["GET /counter/", "POST /counter/reset/"],
  "GET /cart/": [
    "GET /cart/",
    "POST /cart/add/",
    "POST /cart/add-inplace/",
    "POST /cart/remove/",
    "POST /cart/checkout/",
  ],
  "GET /expiry/": ["GET /expiry/", "POST /expiry/"],
  "GET /login/": ["POST /login/", "POST /logout/"],
  "POST /login/": ["POST /login/", "POST /logout/"],
  "GET /account/": ["GET /account/", "POST /login/", "POST /logout/"],
  "GET /settings/": ["GET /settings/"],
};

const py = (value: string | number | boolean | null): string =>
  value === null
    ? "None"
    : typeof value === "boolean"
      ? value
        ? "True"
        : "False"
      : typeof value === "number"
        ? String(value)
        : JSON.stringify(value);

/** The settings page's snippet: settings.py for the configuration this server runs, and our .env. */
export function settingsSnippet(config: AppConfig): Snippet {
  const session = config.session;
  const name = builtInEngineName(session.SESSION_ENGINE);
  const dotted = name === null ? session.SESSION_ENGINE : `django.contrib.sessions.backends.${name}`;
  const usesCache = name === "cache" || name === "cached_db";
  const usesDb = name === "db" || name === "cached_db";
  const django: Line[] = [
    "# settings.py",
    s(`SESSION_ENGINE = ${py(dotted)}`),
    `SESSION_COOKIE_NAME = ${py(session.SESSION_COOKIE_NAME)}`,
    `SESSION_COOKIE_AGE = ${session.SESSION_COOKIE_AGE}${session.SESSION_COOKIE_AGE === 1_209_600 ? "  # two weeks" : ""}`,
    `SESSION_COOKIE_DOMAIN = ${py(session.SESSION_COOKIE_DOMAIN)}`,
    `SESSION_COOKIE_PATH = ${py(session.SESSION_COOKIE_PATH)}`,
    `SESSION_COOKIE_SECURE = ${py(session.SESSION_COOKIE_SECURE)}`,
    `SESSION_COOKIE_HTTPONLY = ${py(session.SESSION_COOKIE_HTTPONLY)}`,
    `SESSION_COOKIE_SAMESITE = ${py(session.SESSION_COOKIE_SAMESITE)}`,
    `SESSION_EXPIRE_AT_BROWSER_CLOSE = ${py(session.SESSION_EXPIRE_AT_BROWSER_CLOSE)}`,
    `SESSION_SAVE_EVERY_REQUEST = ${py(session.SESSION_SAVE_EVERY_REQUEST)}`,
    'SESSION_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"',
    'SECRET_KEY = os.environ["SECRET_KEY"]  # the same key on both sides, or neither reads the other\'s sessions',
  ];
  if (usesCache) {
    const backend =
      config.cache.backend === "redis"
        ? "django.core.cache.backends.redis.RedisCache"
        : "django.core.cache.backends.locmem.LocMemCache";
    django.push(
      `SESSION_CACHE_ALIAS = ${py(session.SESSION_CACHE_ALIAS)}`,
      "CACHES = {",
      `    ${py(session.SESSION_CACHE_ALIAS)}: {`,
      `        "BACKEND": ${py(backend)},`,
      ...(config.cache.backend === "redis" ? ['        "LOCATION": os.environ["REDIS_URL"],'] : []),
      ...(config.cache.keyPrefix ? [`        "KEY_PREFIX": ${py(config.cache.keyPrefix)},`] : []),
      "    }",
      "}",
    );
  }
  if (name === "file")
    django.push(`SESSION_FILE_PATH = ${py(session.SESSION_FILE_PATH)}  # None: the OS temp directory`);
  if (usesDb) {
    django.push(
      config.databaseUrl
        ? 'DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}  # PostgreSQL'
        : `DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ${py(config.databasePath)}}}`,
      session.SESSION_DB_TABLE === "django_session"
        ? "# The table is Django's django_session, shared with this app (docs/django-interop.md)."
        : `# Django's table is django_session; here it is ${py(session.SESSION_DB_TABLE)} (SESSION_DB_TABLE), with the same columns.`,
    );
  }
  const env: Line[] = [
    s(`SESSION_ENGINE=${session.SESSION_ENGINE}`),
    `SESSION_COOKIE_AGE=${session.SESSION_COOKIE_AGE}`,
    `SESSION_EXPIRE_AT_BROWSER_CLOSE=${session.SESSION_EXPIRE_AT_BROWSER_CLOSE}`,
    `SESSION_SAVE_EVERY_REQUEST=${session.SESSION_SAVE_EVERY_REQUEST}`,
    ...(usesCache ? [`CACHE_BACKEND=${config.cache.backend}`] : []),
    ...(usesDb ? [`SESSION_DB_TABLE=${session.SESSION_DB_TABLE}`] : []),
    ...(name === "file" && session.SESSION_FILE_PATH ? [`SESSION_FILE_PATH=${session.SESSION_FILE_PATH}`] : []),
    "SECRET_KEY=...",
  ];
  return {
    route: "GET /settings/",
    title: "These settings in Django's settings.py",
    django: [{ file: "settings.py", lang: "python", lines: django }],
    ours: [
      { file: ".env", lang: "dotenv", lines: env },
      { file: "src/app.ts", lang: "typescript", lines: [s("  await app.register(sessions, { engine });")] },
    ],
    note: `Django names engines by module path: ${dotted}. This app takes the short name (${name ?? session.SESSION_ENGINE}) or the same dotted path.`,
  };
}
