/** `npm run migrate [-- up | status | down]`: kysely's Migrator over migrations/. */
import dotenv from "dotenv";
import { loadConfig } from "../config.js";
import { openSqlite } from "../db/database.js";
import { createMigrator, migrateToLatest } from "../db/migrations.js";

const HELP = `Usage: npm run migrate [-- <command>]

Commands:
  up       apply every pending migration (the default)
  status   list applied and pending migrations
  down     undo the most recently applied migration

The database is DATABASE_PATH (default data/sessions.sqlite3), read from the environment or .env.`;

async function main(args: string[]): Promise<number> {
  const command = args[0] ?? "up";
  if (command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(HELP + "\n");
    return 0;
  }
  if (!["up", "latest", "status", "down"].includes(command) || args.length > 1) {
    process.stderr.write(`error: unknown command ${JSON.stringify(args.join(" "))}. Run \`npm run migrate -- --help\`.\n`);
    return 2;
  }
  dotenv.config({ quiet: true });
  const config = loadConfig();
  const { db, location } = openSqlite(config.databasePath);
  try {
    const migrator = await createMigrator(db);
    if (command === "status") {
      const migrations = await migrator.getMigrations();
      process.stdout.write(`Migrations for ${location}:\n`);
      for (const m of migrations) {
        const when = m.executedAt ? `applied ${m.executedAt.toISOString()}` : "pending";
        process.stdout.write(`  [${m.executedAt ? "x" : " "}] ${m.name}  (${when})\n`);
      }
      if (migrations.length === 0) process.stdout.write("  no migrations found\n");
      return 0;
    }
    if (command === "down") {
      const { error, results = [] } = await migrator.migrateDown();
      if (error) throw error;
      if (results.length === 0) process.stdout.write("Nothing to undo: no migration is applied.\n");
      for (const r of results) process.stdout.write(`Undid ${r.migrationName}\n`);
      return 0;
    }
    const { results = [] } = await migrateToLatest(db);
    if (results.length === 0) process.stdout.write(`No pending migrations for ${location}.\n`);
    for (const r of results) process.stdout.write(`Applied ${r.migrationName}\n`);
    return 0;
  } finally {
    await db.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
