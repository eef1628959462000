/**
 * `npm run sessions -- list | show KEY | delete KEY`: what is in the session store, one session
 * decoded (Django's Session.get_decoded()), and ending one (which logs that visitor out).
 */
import { CannotList, KEY_PREFIX_LENGTH, SessionNotFound, StoredSessions } from "../admin/stored-sessions.js";
import { UserSessions } from "../auth/user-sessions.js";
import { EndedSessions } from "../auth/ended-sessions.js";
import { Users } from "../auth/users.js";
import type { AppConfig } from "../config.js";
import { openRuntime, type Runtime } from "../runtime.js";
import { builtInEngineName, engineNeeds } from "fastify-django-sessions";
import { command, CommandError, commandConfig, runCommand, type CommandIO } from "./command.js";

const HELP = `Usage: npm run sessions -- <command>

Commands:
  list [--limit N]   the first N sessions in the store (default 50) and how many there are:
                     key prefix, user, expiry (UTC) and size; latest expiry first on db and
                     cached_db, by key on cache and file (only those N are read)
  show KEY           one session decoded; KEY is the whole key or at least its first ${KEY_PREFIX_LENGTH} characters
  delete KEY         ends that session: its record is deleted, so its visitor is logged out

The store is SESSION_ENGINE's, configured as for the app (environment or .env).`;

type Command = { name: "help" } | { name: "list"; limit: number } | { name: "show" | "delete"; key: string };

function parseArgs(args: string[]): Command {
  const [name, ...rest] = args;
  const usage = (message: string) => new CommandError(`${message}. Run \`npm run sessions -- --help\`.`, 2);
  if (name === undefined || name === "--help" || name === "-h" || name === "help") return { name: "help" };
  if (name === "list") {
    if (rest.length === 0) return { name, limit: 50 };
    const value = rest[0] === "--limit" ? rest[1] : rest[0]?.startsWith("--limit=") ? rest[0].slice(8) : undefined;
    if (rest.length > (rest[0] === "--limit" ? 2 : 1) || value === undefined)
      throw usage(`unexpected arguments ${JSON.stringify(rest.join(" "))}`);
    if (!/^\d+$/.test(value) || Number(value) < 1)
      throw usage(`--limit needs a whole number above 0, not ${JSON.stringify(value)}`);
    return { name, limit: Number(value) };
  }
  if (name === "show" || name === "delete") {
    if (rest.length !== 1) throw usage(`${name} needs one KEY`);
    return { name, key: rest[0]! };
  }
  throw usage(`unknown command ${JSON.stringify(name)}`);
}

const when = (date: Date | null) => (date ? date.toISOString().replace("T", " ").slice(0, 19) : "unknown");

/** The in-process cache lives in the server's memory: another process cannot see it. */
function inProcessCache(config: AppConfig): boolean {
  return engineNeeds(config.session.SESSION_ENGINE).cache && config.cache.backend === "locmem";
}

async function list(io: CommandIO, stored: StoredSessions, limit: number): Promise<void> {
  const { sessions, total } = await stored.list({ limit });
  if (total === 0) {
    io.stdout.write("No sessions.\n");
    return;
  }
  const rows = sessions.map((s) => [
    `${s.keyPrefix}…`,
    s.userId === null ? "anonymous" : (s.username ?? `#${s.userId} (no such user)`),
    when(s.expiresAt),
    `${s.size} B`,
    s.tampered ? "TAMPERED: data does not verify" : "",
  ]);
  const header = ["KEY", "USER", "EXPIRES (UTC)", "SIZE", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) {
    io.stdout.write(
      row
        .map((cell, i) => (i === 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd() + "\n",
    );
  }
  io.stdout.write(`${sessions.length} of ${total} session${total === 1 ? "" : "s"} shown.\n`);
}

async function show(io: CommandIO, stored: StoredSessions, key: string): Promise<void> {
  const found = await stored.find(key);
  const id = found.data?._auth_user_id;
  // The id as stored: a string or number as is, anything else as JSON (not "[object Object]").
  const shownId = typeof id === "object" ? JSON.stringify(id) : String(id);
  const user =
    found.username ?? (found.data && "_auth_user_id" in found.data ? `#${shownId} (no such user)` : "anonymous");
  io.stdout.write(
    `key:      ${found.key}\nuser:     ${user}\nexpires:  ${when(found.expiresAt)} UTC\nsize:     ${found.size} bytes\n`,
  );
  if (found.data === null) {
    io.stdout.write(
      "data:     TAMPERED: the stored data does not verify (changed outside the app, or signed with another SECRET_KEY).\n",
    );
  } else {
    io.stdout.write(`data:\n${JSON.stringify(found.data, null, 2)}\n`);
  }
}

/** The command, in-process: arguments and streams in, exit status out. */
export const main = command(async (args: string[], io: CommandIO): Promise<number> => {
  const command = parseArgs(args);
  if (command.name === "help") {
    io.stdout.write(HELP + "\n");
    return 0;
  }
  const config = commandConfig(io);
  if (inProcessCache(config) && builtInEngineName(config.session.SESSION_ENGINE) === "cache") {
    throw new CommandError(
      "the cache engine here keeps sessions in the server's own memory (CACHE_BACKEND=locmem), which this command cannot see: use /admin/sessions/, or CACHE_BACKEND=redis.",
    );
  }
  let runtime: Runtime | undefined;
  try {
    runtime = await openRuntime({ ...config, migrateOnStart: false });
    const { engine, database } = runtime;
    const users = new Users(database.db, database.dateValue);
    const userSessions = new UserSessions({
      db: database.db,
      engine,
      secrets: config.session,
      dateValue: database.dateValue,
    });
    const ended = new EndedSessions({
      db: database.db,
      dateValue: database.dateValue,
      lifetimeSeconds: config.session.SESSION_COOKIE_AGE,
    });
    const stored = new StoredSessions(engine, users, userSessions, ended);
    if (command.name === "list") await list(io, stored, command.limit);
    else if (command.name === "show") await show(io, stored, command.key);
    else {
      const ended = await stored.end(command.key);
      io.stdout.write(`Deleted session ${ended.key.slice(0, KEY_PREFIX_LENGTH)}…: its visitor is logged out.\n`);
      if (inProcessCache(config)) {
        io.stdout.write(
          "Note: a running server's in-process cache may still hold it until the entry expires (use /admin/sessions/ or Redis).\n",
        );
      }
    }
    return 0;
  } catch (error) {
    if (error instanceof CannotList || error instanceof SessionNotFound) throw new CommandError(error.message);
    throw error;
  } finally {
    await runtime?.close();
  }
});

runCommand(import.meta.url, main);
