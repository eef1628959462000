/** What every command shares: the configuration as the app reads it, one-line errors, exit codes. */
import dotenv from "dotenv";
import { loadConfig, type AppConfig } from "../config.js";

/** An error whose message is shown as the one line; `code` is the exit status (2: usage). */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

/** The app's configuration from the environment and .env (a bad value is one line, exit 1). */
export function commandConfig(): AppConfig {
  dotenv.config({ quiet: true });
  return loadConfig();
}

/** Runs `main` and exits with its status; any error is one `error: ...` line on stderr. */
export function runCommand(main: (args: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`error: ${message.split("\n")[0]}\n`);
      process.exit(error instanceof CommandError ? error.code : 1);
    },
  );
}
