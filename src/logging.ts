/**
 * The app's log: Fastify's logger (pino), set up in one place. Development (NODE_ENV=development,
 * the default) gets readable one-line messages through pino-pretty; production and everything
 * else one JSON object per line on stdout.
 *
 * What is never logged: the query string (the demo's /session/set/?key=K&value=V carries session
 * data in it), the Cookie and Set-Cookie headers (the session key), session data. Request lines
 * log the method and the path only; code that names a session logs at most an 8-character key
 * prefix (see the package's session-base.ts).
 */
import type { FastifyServerOptions } from "fastify";
import pretty from "pino-pretty";
import type { AppConfig } from "./config.js";

/** Where log lines go when not stdout (tests capture them). */
export interface LogDestination {
  write(line: string): void;
}

export type LoggerOptions = Exclude<FastifyServerOptions["logger"], boolean | undefined>;

/** The path of a request URL: everything before the query string. */
export function pathOnly(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

interface RequestLike {
  method?: string;
  url?: string;
  ip?: string;
  host?: string;
  headers?: { host?: string };
  socket?: { remoteAddress?: string; remotePort?: number };
}

/**
 * Fastify's request serializer without the query string. Works for a FastifyRequest (what
 * Fastify logs) and a raw IncomingMessage alike; headers are never included.
 */
export function serializeRequest(req: RequestLike): {
  method?: string;
  path?: string;
  host?: string;
  remoteAddress?: string;
  remotePort?: number;
} {
  return {
    method: req.method,
    path: pathOnly(req.url),
    host: req.host ?? req.headers?.host,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * Belt and braces: if anything ever logs headers, the session cookie still stays out. pino
 * replaces these values with "[Redacted]".
 */
export const REDACTED_PATHS = [
  "req.headers.cookie",
  "req.headers.authorization",
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  "headers.cookie",
  "headers.authorization",
  'headers["set-cookie"]',
  "*.headers.cookie",
  "*.headers.authorization",
  '*.headers["set-cookie"]',
];

interface PrettyRequest {
  method?: string;
  path?: string;
  remoteAddress?: string;
}

/**
 * One readable line per message, the request id first: "[req-2] incoming request: GET /counter/
 * from 127.0.0.1", "[req-2] request completed: 200 in 3.1 ms".
 */
function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const prefix = typeof log.reqId === "string" ? `[${log.reqId}] ` : "";
  const text = log[messageKey];
  // A message that is not a string prints as JSON (String() would make an object "[object Object]").
  const message =
    prefix + (text === undefined || text === null ? "" : typeof text === "string" ? text : JSON.stringify(text));
  const req = log.req as PrettyRequest | undefined;
  if (req && typeof req === "object" && req.method) {
    return `${message}: ${req.method} ${req.path ?? ""}${req.remoteAddress ? ` from ${req.remoteAddress}` : ""}`;
  }
  const res = log.res as { statusCode?: number } | undefined;
  if (res && typeof res === "object" && res.statusCode !== undefined) {
    const time = typeof log.responseTime === "number" ? ` in ${log.responseTime.toFixed(1)} ms` : "";
    return `${message}: ${res.statusCode}${time}`;
  }
  return message;
}

function prettyStream() {
  return pretty({
    // Synchronous: the lines written just before process.exit (shutdown) are not lost.
    sync: true,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname,reqId,req,res,responseTime",
    messageFormat: prettyMessage,
  });
}

/**
 * The logger options buildApp uses. `destination` sends JSON lines there instead of stdout
 * (whatever the format setting), for tests that read the log.
 */
export function loggerOptions(
  config: Pick<AppConfig, "logLevel" | "logFormat">,
  destination?: LogDestination,
): LoggerOptions {
  const options: LoggerOptions = {
    level: config.logLevel,
    serializers: { req: serializeRequest },
    redact: { paths: REDACTED_PATHS, censor: "[Redacted]" },
  };
  if (destination) options.stream = destination;
  else if (config.logFormat === "pretty") options.stream = prettyStream();
  return options;
}
