/**
 * A command's `main()` run in this process, with the environment and stdin a child process would
 * get and the same { status, stdout, stderr } back: no `tsx` start-up per call. The child-process
 * tests that remain are those where the entry point itself (exit status, .env) is the subject.
 */
import { Readable } from "node:stream";
import type { CommandMain } from "../../src/cli/command.js";

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

export async function runInProcess(
  main: CommandMain,
  args: string[],
  env: Record<string, string | undefined>,
  input = "",
): Promise<CommandResult> {
  let stdout = "";
  let stderr = "";
  const status = await main(args, {
    env,
    stdin: Readable.from([input]),
    stdout: { write: (chunk: string | Uint8Array) => (stdout += Buffer.from(chunk).toString()) },
    stderr: { write: (chunk: string | Uint8Array) => (stderr += Buffer.from(chunk).toString()) },
  });
  return { status, stdout, stderr };
}
