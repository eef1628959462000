/** `npm run migrate [-- up | status | down]`: kysely's Migrator over migrations/. */
import { openDatabase } from "../db/database.js";
import { asError, createMigrator, migrateToLatest } from "../db/migrations.js";
import { command, CommandError, commandConfig, runCommand, type CommandIO } from "./command.js";

const HELP = `Usage: npm run migrate [-- <command>]

Commands:
  up       apply every pending migration (the default)
  status   list applied and pending migrations
  down     undo the most recently applied migration

The database is DATABASE_URL (PostgreSQL) or DATABASE_PATH (SQLite, default
data/sessions.sqlite3), read from the environment or .env. A new database's sessions
table is named by SESSION_DB_TABLE (default sessions; django_session is Django's, left
as it is when Django made it already).`;

/** The command, in-process: arguments and streams in, exit status out. */
export const main = command(async (args: string[], io: CommandIO): Promise<number> => {
  const command = args[0] ?? "up";
  if (command === "--help" || command === "-h" || command === "help") {
    io.stdout.write(HELP + "\n");
    return 0;
  }
  if (!["up", "latest", "status", "down"].includes(command) || args.length > 1) {
    throw new CommandError(`unknown command ${JSON.stringify(args.join(" "))}. Run \`npm run migrate -- --help\`.`, 2);
  }
  const config = commandConfig(io);
  const { db, location } = openDatabase(config);
  const options = { sessionTable: config.session.SESSION_DB_TABLE };
  try {
    const migrator = await createMigrator(db, options);
    if (command === "status") {
      const migrations = await migrator.getMigrations();
      io.stdout.write(`Migrations for ${location}:\n`);
      for (const m of migrations) {
        const when = m.executedAt ? `applied ${m.executedAt.toISOString()}` : "pending";
        io.stdout.write(`  [${m.executedAt ? "x" : " "}] ${m.name}  (${when})\n`);
      }
      if (migrations.length === 0) io.stdout.write("  no migrations found\n");
      return 0;
    }
    if (command === "down") {
      const { error, results = [] } = await migrator.migrateDown();
      if (error) throw asError(error);
      if (results.length === 0) io.stdout.write("Nothing to undo: no migration is applied.\n");
      for (const r of results) io.stdout.write(`Undid ${r.migrationName}\n`);
      return 0;
    }
    const { results = [] } = await migrateToLatest(db, options);
    if (results.length === 0) io.stdout.write(`No pending migrations for ${location}.\n`);
    for (const r of results) io.stdout.write(`Applied ${r.migrationName}\n`);
    return 0;
  } finally {
    await db.destroy();
  }
});

runCommand(import.meta.url, main);
