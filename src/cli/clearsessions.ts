/**
 * `npm run clearsessions`: Django's clearsessions (docs/django-sessions.md#clearsessions) for the configured engine, with
 * what Django leaves out: a large table is purged in batches (each a short statement, so the
 * running app is never stalled), with progress and the number removed.
 */
import { EndedSessions } from "../auth/ended-sessions.js";
import { hasTable } from "../db/migrations.js";
import { openRuntime } from "../runtime.js";
import { ClearExpiredNotSupported } from "fastify-django-sessions";
import { command, CommandError, commandConfig, runCommand, type CommandIO } from "./command.js";

const HELP = `Usage: npm run clearsessions [-- --batch-size N]

Removes expired sessions from the store of SESSION_ENGINE:
  db, cached_db   rows whose expire_date has passed, N at a time (default 1000)
  file            expired files in SESSION_FILE_PATH
  cache           nothing: cache entries expire by themselves
  signed_cookies  nothing: the server stores no sessions

Run it regularly, e.g. daily from cron. Settings come from the environment or .env.`;

function parseArgs(args: string[]): { batchSize: number } | "help" {
  let batchSize = 1000;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") return "help";
    const inline = arg.startsWith("--batch-size=") ? arg.slice("--batch-size=".length) : undefined;
    if (arg === "--batch-size" || inline !== undefined) {
      const value = inline ?? args[++i];
      if (!value || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100_000) {
        throw new CommandError(
          `--batch-size needs a whole number from 1 to 100000, not ${JSON.stringify(value ?? "")}`,
          2,
        );
      }
      batchSize = Number(value);
    } else {
      throw new CommandError(`unknown argument ${JSON.stringify(arg)}. Run \`npm run clearsessions -- --help\`.`, 2);
    }
  }
  return { batchSize };
}

/** The command, in-process: arguments and streams in, exit status out. */
export const main = command(async (args: string[], io: CommandIO): Promise<number> => {
  const options = parseArgs(args);
  if (options === "help") {
    io.stdout.write(HELP + "\n");
    return 0;
  }
  const config = commandConfig(io);
  const setting = config.session.SESSION_ENGINE;
  const runtime = await openRuntime({ ...config, migrateOnStart: false });
  try {
    const { engine } = runtime;
    let removed: number | undefined;
    try {
      removed = await engine.clearExpired({
        batchSize: options.batchSize,
        onProgress: (total) => io.stdout.write(`  ${total} removed so far\n`),
      });
    } catch (error) {
      if (error instanceof ClearExpiredNotSupported) {
        throw new CommandError(`Session engine '${setting}' doesn't support clearing expired sessions.`);
      }
      throw error;
    }
    // The reasons kept for sessions ended by someone else, once no cookie can bring them back.
    const ended = new EndedSessions({
      db: runtime.database.db,
      dateValue: runtime.database.dateValue,
      lifetimeSeconds: config.session.SESSION_COOKIE_AGE,
    });
    // A database not yet migrated to the table (the command does not migrate) has none to clear.
    const endedRemoved = (await hasTable(runtime.database.db, "ended_sessions")) ? await ended.clearExpired() : 0;
    if (removed === undefined) {
      io.stdout.write(
        engine.clientSide
          ? `Nothing to clear: the ${engine.name} engine keeps sessions in the browser's cookie, the server stores none.\n`
          : `Nothing to clear: the ${engine.name} engine's entries expire by themselves.\n`,
      );
    } else {
      io.stdout.write(`Removed ${removed} expired session${removed === 1 ? "" : "s"} (${engine.name} engine).\n`);
    }
    if (endedRemoved > 0) {
      io.stdout.write(
        `Removed ${endedRemoved} expired record${endedRemoved === 1 ? "" : "s"} of sessions ended by someone else.\n`,
      );
    }
    return 0;
  } finally {
    await runtime.close();
  }
});

runCommand(import.meta.url, main);
