/**
 * Django's session settings: the same names, the same defaults. Validated once, when the plugin
 * is registered, so a bad value stops the app at start with the setting's name in the message.
 */
import { z } from "zod";
import { ImproperlyConfigured } from "./errors.js";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HUNDRED_YEARS = 100 * 365 * 24 * 3600;
/** A table name SESSION_DB_TABLE accepts: the same table quoted or not, on SQLite and PostgreSQL (63 bytes at most). */
export const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
export const TABLE_NAME_RULE =
  "must be a table name: lower-case letters, digits and _, not starting with a digit, at most 63 characters";

export const sessionSettingsSchema = z
  .object({
    SESSION_ENGINE: z.string().min(1).default("db"),
    SESSION_COOKIE_NAME: z
      .string()
      .regex(TOKEN, "must be a cookie name (letters, digits and !#$%&'*+-.^_`|~)")
      .default("sessionid"),
    SESSION_COOKIE_AGE: z
      .number()
      .int("must be a whole number of seconds")
      .min(0, "must not be negative")
      .max(HUNDRED_YEARS, "must be at most 100 years")
      .default(1_209_600),
    SESSION_COOKIE_DOMAIN: z
      .string()
      .regex(/^\.?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i, "must be a domain name")
      .nullable()
      .default(null),
    SESSION_COOKIE_PATH: z
      .string()
      .regex(/^\/[\u0021-\u003a\u003c-\u007e]*$/, "must start with / and contain no ';', spaces or controls")
      .default("/"),
    SESSION_COOKIE_SECURE: z.boolean().default(false),
    SESSION_COOKIE_HTTPONLY: z.boolean().default(true),
    SESSION_COOKIE_SAMESITE: z
      .union([z.string().regex(/^(lax|strict|none)$/i, "must be Lax, Strict, None or false"), z.literal(false)])
      .default("Lax"),
    SESSION_EXPIRE_AT_BROWSER_CLOSE: z.boolean().default(false),
    SESSION_SAVE_EVERY_REQUEST: z.boolean().default(false),
    SECRET_KEY: z
      .string({
        error: (issue) =>
          issue.input === undefined ? "is required (Django's SECRET_KEY: a long random string)" : "must be a string",
      })
      .min(1, "must not be empty"),
    SECRET_KEY_FALLBACKS: z.array(z.string().min(1, "must not contain empty keys")).default([]),
    /** Which of the application's caches the cache and cached_db engines use. */
    SESSION_CACHE_ALIAS: z.string().min(1).default("default"),
    /**
     * Beyond Django (whose table is always django_session): the db and cached_db engines' table.
     * Lower-case, so it names the same table quoted or not, on SQLite and PostgreSQL alike.
     */
    SESSION_DB_TABLE: z.string().regex(TABLE_NAME, TABLE_NAME_RULE).default("sessions"),
    /** The file engine's directory; none means the OS temp directory. */
    SESSION_FILE_PATH: z.string().min(1).nullable().default(null),
    /** Beyond Django: save in-place changes to stored objects and arrays. false = Django's rule. */
    SESSION_DETECT_MUTATIONS: z.boolean().default(true),
    /** Beyond Django: seconds between in-process clearExpired runs; 0 leaves it to clearsessions. */
    SESSION_CLEANUP_INTERVAL: z
      .number()
      .int("must be a whole number of seconds")
      .min(0, "must not be negative")
      .max(HUNDRED_YEARS, "must be at most 100 years")
      .default(0),
    /**
     * Beyond Django: the most bytes one session may store (its encoded record, or the cookie for
     * signed_cookies); a save over it is refused with a 413 and stores nothing. 0: no limit (Django).
     */
    SESSION_MAX_BYTES: z
      .number()
      .int("must be a whole number of bytes")
      .min(0, "must not be negative (0 means no limit)")
      .max(1024 ** 3, "must be at most 1 GiB")
      .default(0),
  })
  .strict();

export type SessionSettings = z.output<typeof sessionSettingsSchema>;
export type SessionSettingsInput = z.input<typeof sessionSettingsSchema>;
export const SESSION_SETTING_NAMES = Object.keys(sessionSettingsSchema.shape) as (keyof SessionSettings)[];

function describe(issue: z.core.$ZodIssue): string {
  const name = issue.path.join(".") || "settings";
  return `${name} ${issue.message}`;
}

/** Applies defaults and validates; throws ImproperlyConfigured naming every bad setting. */
export function resolveSessionSettings(input: SessionSettingsInput): SessionSettings {
  const result = sessionSettingsSchema.safeParse(input);
  if (!result.success) {
    throw new ImproperlyConfigured("Invalid session settings: " + result.error.issues.map(describe).join("; "));
  }
  return result.data;
}

type Env = Record<string, string | undefined>;

const BOOLEAN_SETTINGS = [
  "SESSION_COOKIE_SECURE",
  "SESSION_COOKIE_HTTPONLY",
  "SESSION_EXPIRE_AT_BROWSER_CLOSE",
  "SESSION_SAVE_EVERY_REQUEST",
  "SESSION_DETECT_MUTATIONS",
] as const;

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/**
 * Reads the session settings from environment strings: booleans as true/false (1/0, yes/no),
 * numbers as integers, SECRET_KEY_FALLBACKS comma-separated, an empty DOMAIN as none and an
 * empty or "false" SAMESITE as no attribute. Unset variables keep Django's defaults.
 */
export function sessionSettingsFromEnv(env: Env): SessionSettingsInput {
  const problems: string[] = [];
  const input: Record<string, unknown> = {};
  const raw = (name: string) => {
    const value = env[name];
    return value === undefined ? undefined : value.trim();
  };

  for (const name of [
    "SESSION_ENGINE",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_PATH",
    "SECRET_KEY",
    "SESSION_CACHE_ALIAS",
    "SESSION_DB_TABLE",
  ]) {
    const value = raw(name);
    if (value !== undefined) input[name] = value;
  }
  for (const name of BOOLEAN_SETTINGS) {
    const value = raw(name)?.toLowerCase();
    if (value === undefined || value === "") continue;
    if (TRUE.has(value)) input[name] = true;
    else if (FALSE.has(value)) input[name] = false;
    else problems.push(`${name} must be true or false (got ${JSON.stringify(env[name])})`);
  }
  for (const [name, unit] of [
    ["SESSION_COOKIE_AGE", "seconds"],
    ["SESSION_CLEANUP_INTERVAL", "seconds"],
    ["SESSION_MAX_BYTES", "bytes"],
  ] as const) {
    const value = raw(name);
    if (value === undefined || value === "") continue;
    if (/^-?\d+$/.test(value)) input[name] = Number(value);
    else problems.push(`${name} must be a whole number of ${unit} (got ${JSON.stringify(value)})`);
  }
  const filePath = raw("SESSION_FILE_PATH");
  if (filePath !== undefined) input.SESSION_FILE_PATH = filePath === "" ? null : filePath;
  const domain = raw("SESSION_COOKIE_DOMAIN");
  if (domain !== undefined) input.SESSION_COOKIE_DOMAIN = domain === "" ? null : domain;
  const sameSite = raw("SESSION_COOKIE_SAMESITE");
  if (sameSite !== undefined) {
    input.SESSION_COOKIE_SAMESITE = sameSite === "" || sameSite.toLowerCase() === "false" ? false : sameSite;
  }
  const fallbacks = raw("SECRET_KEY_FALLBACKS");
  if (fallbacks !== undefined) {
    input.SECRET_KEY_FALLBACKS = fallbacks === "" ? [] : fallbacks.split(",").map((k) => k.trim());
  }
  if (problems.length > 0) {
    throw new ImproperlyConfigured("Invalid session settings: " + problems.join("; "));
  }
  return input as SessionSettingsInput;
}
