/**
 * The app's configuration: the environment (and .env), validated once at start. A bad value
 * stops the app with one line naming the variable.
 */
import { z } from "zod";
import type { PasswordHasherName } from "./auth/passwords.js";
import {
  ImproperlyConfigured,
  resolveSessionSettings,
  sessionSettingsFromEnv,
  type SessionSettings,
} from "fastify-django-sessions";

/** Used only outside production when SECRET_KEY is unset, so the demo runs with no setup. */
export const DEVELOPMENT_SECRET_KEY = "django-insecure-demo-key-change-me-in-production";

const appSchema = z.object({
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_PATH: z.string().min(1).default("data/sessions.sqlite3"),
  MIGRATE_ON_START: z
    .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
    .default("true")
    .transform((v) => v === "true" || v === "1" || v === "yes"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL (leave it unset for SQLite)")
    .optional(),
  CACHE_BACKEND: z
    .enum(
      [
        "locmem",
        "redis",
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.redis.RedisCache",
      ],
      {
        message: "must be locmem or redis",
      },
    )
    .default("locmem")
    .transform((v) => (v.endsWith("RedisCache") || v === "redis" ? "redis" : "locmem")),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// URL")
    .default("redis://127.0.0.1:6379"),
  CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).default(10_000),
  CACHE_KEY_PREFIX: z.string().default(""),
  TRUST_PROXY: z
    .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
    .default("false")
    .transform((v) => v === "true" || v === "1" || v === "yes"),
  PASSWORD_HASHER: z
    .enum(["scrypt", "fast"], { message: "must be scrypt or fast (fast is for tests only)" })
    .default("scrypt"),
  LOGIN_ATTEMPTS_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  NODE_ENV: z.string().default("development"),
});

export interface AppConfig {
  host: string;
  port: number;
  databasePath: string;
  /** PostgreSQL instead of SQLite when set. */
  databaseUrl: string | null;
  cache: { backend: "locmem" | "redis"; redisUrl: string; maxEntries: number; keyPrefix: string };
  migrateOnStart: boolean;
  /** Honour X-Forwarded-Proto/-For: only behind a proxy you control. */
  trustProxy: boolean;
  /** Login attempts allowed per client address and per username each minute. */
  loginAttemptsPerMinute: number;
  /** How new password hashes are made: Django's scrypt, or "fast" for test servers (src/auth/passwords.ts). */
  passwordHasher: PasswordHasherName;
  logLevel: z.output<typeof appSchema>["LOG_LEVEL"];
  /** Human-readable lines when NODE_ENV=development (the default), one JSON object per line otherwise. */
  logFormat: "pretty" | "json";
  production: boolean;
  /** True when SECRET_KEY was not set and the development key is in use. */
  usingDevelopmentSecret: boolean;
  session: SessionSettings;
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): AppConfig {
  const blank = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v.trim());
  const parsed = appSchema.safeParse({
    HOST: blank(env.HOST),
    PORT: blank(env.PORT),
    DATABASE_PATH: blank(env.DATABASE_PATH),
    DATABASE_URL: blank(env.DATABASE_URL),
    CACHE_BACKEND: blank(env.CACHE_BACKEND),
    REDIS_URL: blank(env.REDIS_URL),
    CACHE_MAX_ENTRIES: blank(env.CACHE_MAX_ENTRIES),
    CACHE_KEY_PREFIX: env.CACHE_KEY_PREFIX,
    TRUST_PROXY: blank(env.TRUST_PROXY)?.toLowerCase(),
    LOGIN_ATTEMPTS_PER_MINUTE: blank(env.LOGIN_ATTEMPTS_PER_MINUTE),
    PASSWORD_HASHER: blank(env.PASSWORD_HASHER),
    MIGRATE_ON_START: blank(env.MIGRATE_ON_START)?.toLowerCase(),
    LOG_LEVEL: blank(env.LOG_LEVEL),
    NODE_ENV: blank(env.NODE_ENV),
  });
  if (!parsed.success) {
    throw new ImproperlyConfigured(
      "Invalid configuration: " + parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; "),
    );
  }
  const app = parsed.data;
  const production = app.NODE_ENV === "production";
  const usingDevelopmentSecret = !blank(env.SECRET_KEY) && !production;
  if (production && app.PASSWORD_HASHER === "fast") {
    throw new ImproperlyConfigured("PASSWORD_HASHER=fast is for tests only and is refused when NODE_ENV=production.");
  }
  if (production) {
    const secret = blank(env.SECRET_KEY);
    if (!secret || secret === DEVELOPMENT_SECRET_KEY || secret.startsWith("django-insecure") || secret.length < 32) {
      throw new ImproperlyConfigured(
        "SECRET_KEY must be set to a real secret of at least 32 characters when NODE_ENV=production " +
          "(the development key is refused). Generate one with: node -e \"console.log(require('crypto').randomBytes(48).toString('base64url'))\"",
      );
    }
  }
  const session = resolveSessionSettings({
    ...sessionSettingsFromEnv(env),
    ...(usingDevelopmentSecret ? { SECRET_KEY: DEVELOPMENT_SECRET_KEY } : {}),
  });
  return {
    host: app.HOST,
    port: app.PORT,
    databasePath: app.DATABASE_PATH,
    databaseUrl: app.DATABASE_URL ?? null,
    cache: {
      backend: app.CACHE_BACKEND,
      redisUrl: app.REDIS_URL,
      maxEntries: app.CACHE_MAX_ENTRIES,
      keyPrefix: app.CACHE_KEY_PREFIX,
    },
    migrateOnStart: app.MIGRATE_ON_START,
    trustProxy: app.TRUST_PROXY,
    loginAttemptsPerMinute: app.LOGIN_ATTEMPTS_PER_MINUTE,
    passwordHasher: app.PASSWORD_HASHER,
    logLevel: app.LOG_LEVEL,
    logFormat: app.NODE_ENV === "development" ? "pretty" : "json",
    production,
    usingDevelopmentSecret,
    session,
  };
}
