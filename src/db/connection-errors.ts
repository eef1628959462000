/**
 * Which errors mean "PostgreSQL cannot be reached right now" (down, restarting, starting up, the
 * connection cut) rather than a bug or bad data: those are answered with a 503 and the app keeps
 * running; the pool drops the broken connection and opens a new one once the server is back.
 */

/** SQLSTATEs of a server that is going away, coming back or full (class 08 is matched whole). */
const UNAVAILABLE_SQLSTATES = new Set([
  "57P01", // admin_shutdown: "terminating connection due to administrator command" (fast/immediate stop)
  "57P02", // crash_shutdown: another backend crashed
  "57P03", // cannot_connect_now: "the database system is starting up" / "is shutting down"
  "57P05", // idle_session_timeout
  "53300", // too_many_connections
]);

/** Node's socket errors on connecting or while connected. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/** node-postgres's own messages for a connection that died, never came, or was already broken. */
const PG_MESSAGES = [
  /^Connection terminated/, // "... unexpectedly", "... due to connection timeout"
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
];

/** Whether `error` (or what it wraps) says the database cannot be reached right now. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 4) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code) || SOCKET_CODES.has(code)) return true;
    // A Unix socket that is not there: the server is not running (only for a connect, not a file).
    if (code === "ENOENT" && (error as { syscall?: unknown }).syscall === "connect") return true;
  }
  if (PG_MESSAGES.some((pattern) => pattern.test(error.message))) return true;
  // pg reports a refused connection to a host with several addresses as an AggregateError.
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.every((inner) => isDatabaseUnavailable(inner, depth + 1));
  }
  return error.cause !== undefined && isDatabaseUnavailable(error.cause, depth + 1);
}

/** The SQLSTATE or socket code and the first line of the message, for a log line. */
export function connectionErrorFields(error: unknown): { code?: string; reason: string } {
  let inner = error;
  if (inner instanceof AggregateError && !inner.message && inner.errors.length > 0) inner = inner.errors[0];
  const code = (inner as { code?: unknown } | null)?.code;
  const text = inner instanceof Error ? inner.message || inner.name : String(inner);
  const reason = text.split("\n")[0]!.trim().slice(0, 200) || "unknown error";
  return typeof code === "string" ? { code, reason } : { reason };
}
