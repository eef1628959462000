/** What every command shares: the configuration as the app reads it, one-line errors, exit codes. */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
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

/** Where a command reads and writes: the process's own streams and environment, or a test's. */
export interface CommandIO {
  stdout: { write(chunk: string | Uint8Array): unknown };
  stderr: { write(chunk: string | Uint8Array): unknown };
  /** Read by createuser for the password; `isTTY` picks the prompt with echo off. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
}

/** A command's entry: its arguments and (by default) the process's streams in, its exit status out. */
export type CommandMain = (args: string[], io?: Partial<CommandIO>) => Promise<number>;

/**
 * Wraps a command's body so that it returns its exit status instead of exiting: any error is one
 * `error: ...` line on stderr and status 1 (a CommandError's own code). Tests call the result
 * in-process; `runCommand` gives it the real process.
 */
export function command(body: (args: string[], io: CommandIO) => Promise<number>): CommandMain {
  return async (args, io = {}) => {
    const full: CommandIO = {
      stdout: io.stdout ?? process.stdout,
      stderr: io.stderr ?? process.stderr,
      stdin: io.stdin ?? process.stdin,
      env: io.env ?? process.env,
    };
    try {
      return await body(args, full);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      full.stderr.write(`error: ${message.split("\n")[0]}\n`);
      return error instanceof CommandError ? error.code : 1;
    }
  };
}

/** The app's configuration from the command's environment (a bad value is one line, exit 1). */
export function commandConfig(io: Pick<CommandIO, "env">): AppConfig {
  return loadConfig(io.env);
}

/** Whether the module at `moduleUrl` is the script node was started with (not imported by a test). */
function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/**
 * When `moduleUrl` is the script being run (`tsx src/cli/x.ts`): reads .env into the
 * environment, runs `main` on the process's arguments and exits with its status.
 */
export function runCommand(moduleUrl: string, main: CommandMain): void {
  if (!isEntryPoint(moduleUrl)) return;
  dotenv.config({ quiet: true });
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
