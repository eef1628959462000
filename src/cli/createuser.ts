/**
 * `npm run createuser -- NAME [--staff] [--noinput]`: adds a user, in the way of Django's
 * createsuperuser. The password is asked twice (echo off on a terminal; two lines when stdin is
 * piped), or with --noinput taken from CREATEUSER_PASSWORD.
 */
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { hashPassword } from "../auth/passwords.js";
import { passwordProblems } from "../auth/password-rules.js";
import { openDatabase } from "../db/database.js";
import { migrateToLatest } from "../db/migrations.js";
import { command, CommandError, commandConfig, runCommand, type CommandIO } from "./command.js";

const HELP = `Usage: npm run createuser -- NAME [--staff] [--noinput]

Creates the user NAME (1-150 letters, digits and @.+-_). The password follows the
change-password form's rules: at least 8 characters, not all digits, not the username.

Options:
  --staff     make the user staff (is_staff 1)
  --noinput   do not prompt: the password is read from CREATEUSER_PASSWORD
  -h, --help  show this help

Without --noinput the password is asked twice at the terminal with echo off; when stdin is not
a terminal, the first two lines of stdin are the password and its confirmation.
Pending migrations are applied first. The database is DATABASE_URL (PostgreSQL) or
DATABASE_PATH (SQLite, default data/sessions.sqlite3), read from the environment or .env.`;

/** Django's UnicodeUsernameValidator (`^[\\w.@+-]+\\Z`) with the model's max_length of 150. */
const USERNAME = /^[\p{L}\p{N}_.@+-]{1,150}$/u;

interface Options {
  username: string;
  staff: boolean;
  noinput: boolean;
}

function parseArgs(args: string[]): Options | "help" {
  let username: string | undefined;
  let staff = false;
  let noinput = false;
  for (const arg of args) {
    if (arg === "--help" || arg === "-h") return "help";
    else if (arg === "--staff") staff = true;
    else if (arg === "--noinput" || arg === "--no-input") noinput = true;
    else if (arg.startsWith("-") && arg !== "-") {
      throw new CommandError(`unknown option ${JSON.stringify(arg)}. Run \`npm run createuser -- --help\`.`, 2);
    } else if (username !== undefined) {
      throw new CommandError(
        `unexpected argument ${JSON.stringify(arg)}: give one NAME. Run \`npm run createuser -- --help\`.`,
        2,
      );
    } else username = arg;
  }
  if (username === undefined) {
    throw new CommandError("missing NAME. Run `npm run createuser -- --help`.", 2);
  }
  return { username, staff, noinput };
}

/** Asks each prompt at the terminal with echo off; Ctrl-C aborts. */
function askHidden(io: CommandIO, prompts: string[]): Promise<string[]> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      if (!muted) io.stdout.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: io.stdin, output, terminal: true });
  return new Promise((resolve, reject) => {
    const answers: string[] = [];
    rl.on("SIGINT", () => {
      rl.close();
      io.stdout.write("\n");
      reject(new CommandError("aborted", 130));
    });
    const next = () => {
      const prompt = prompts[answers.length];
      if (prompt === undefined) {
        rl.close();
        resolve(answers);
        return;
      }
      io.stdout.write(prompt);
      muted = true;
      rl.question("", (answer) => {
        muted = false;
        io.stdout.write("\n");
        answers.push(answer);
        next();
      });
    };
    next();
  });
}

/** Reads the first `count` lines of a piped stdin. */
async function readLines(io: CommandIO, count: number): Promise<string[]> {
  const rl = createInterface({ input: io.stdin, terminal: false, crlfDelay: Infinity });
  const lines: string[] = [];
  try {
    for await (const line of rl) {
      lines.push(line);
      if (lines.length === count) break;
    }
  } finally {
    rl.close();
  }
  if (lines.length < count) {
    throw new CommandError(`expected the password and its confirmation on two lines of stdin, got ${lines.length}`);
  }
  return lines;
}

async function readPassword(io: CommandIO, noinput: boolean): Promise<string> {
  if (noinput) {
    const password = io.env.CREATEUSER_PASSWORD;
    if (password === undefined) {
      throw new CommandError("with --noinput, set CREATEUSER_PASSWORD to the password");
    }
    if (password === "") throw new CommandError("blank passwords aren't allowed (CREATEUSER_PASSWORD is empty)");
    return password;
  }
  const [password = "", again = ""] = io.stdin.isTTY
    ? await askHidden(io, ["Password: ", "Password (again): "])
    : await readLines(io, 2);
  if (password !== again) throw new CommandError("your passwords didn't match");
  if (password === "") throw new CommandError("blank passwords aren't allowed");
  return password;
}

function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: unknown }).code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || /UNIQUE constraint failed/i.test(error.message);
}

/** The command, in-process: arguments and streams in, exit status out. */
export const main = command(async (args: string[], io: CommandIO): Promise<number> => {
  const options = parseArgs(args);
  if (options === "help") {
    io.stdout.write(HELP + "\n");
    return 0;
  }
  // Django's AbstractBaseUser.normalize_username.
  const username = options.username.normalize("NFKC");
  if (!USERNAME.test(username)) {
    throw new CommandError(
      `invalid username ${JSON.stringify(options.username)}: use 1-150 letters, digits and @.+-_ only`,
    );
  }
  const config = commandConfig(io);
  const { db } = openDatabase(config);
  try {
    await migrateToLatest(db, { sessionTable: config.session.SESSION_DB_TABLE });
    const taken = await db.selectFrom("users").select("id").where("username", "=", username).executeTakeFirst();
    const takenError = new CommandError(`the username ${username} is already taken`);
    if (taken) throw takenError;
    const chosen = await readPassword(io, options.noinput);
    // The change-password form's rules: a user made here could not have chosen this password there.
    const problems = passwordProblems(chosen, username);
    if (problems.length > 0) throw new CommandError(`password refused: ${problems.join(" ")}`);
    const password = await hashPassword(chosen, config.passwordHasher);
    try {
      await db
        .insertInto("users")
        .values({ username, password, is_staff: options.staff ? 1 : 0, last_login: null })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw takenError;
      throw error;
    }
    io.stdout.write(`Created user ${username}${options.staff ? " (staff)" : ""}\n`);
    return 0;
  } finally {
    await db.destroy();
  }
});

runCommand(import.meta.url, main);
