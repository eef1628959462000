// The package README's samples cannot rot: each ```ts block is a file under readme-examples/
// that the TypeScript compiler checks here (as an app of its own, since its SessionTypes would
// clash with the demo's), the "Coming from @fastify/session" pair answers the same requests the
// way the README says. (test/docs.test.ts checks the README's links.)
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import ts from "typescript";

// Compiled runs live under .build/; the README and the samples' sources are in the package itself.
const PACKAGE_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)).replace(`${path.sep}.build${path.sep}`, path.sep),
  "..",
);
const README = path.join(PACKAGE_DIR, "README.md");
const EXAMPLES = path.join(PACKAGE_DIR, "test", "readme-examples");

interface Sample {
  file: string;
  code: string;
  line: number;
}

/** Every ```ts block with the `<!-- example: FILE -->` line above it naming its file. */
function samples(markdown: string): Sample[] {
  const found: Sample[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```ts") continue;
    // Prettier puts a blank line between the marker and the block.
    const above = lines.slice(0, i).findLast((line) => line.trim() !== "");
    const marker = /^<!-- example: (\S+) -->$/.exec(above ?? "");
    assert.ok(marker, `README.md line ${i + 1}: a \`\`\`ts block without an <!-- example: FILE --> line above it`);
    const end = lines.indexOf("```", i + 1);
    assert.ok(end > i, `README.md line ${i + 1}: the block is not closed`);
    found.push({ file: marker[1]!, code: lines.slice(i + 1, end).join("\n") + "\n", line: i + 1 });
  }
  return found;
}

function typeErrors(project: string): string[] {
  const configPath = path.join(project, "tsconfig.json");
  const read = ts.readConfigFile(configPath, (file) => ts.sys.readFile(file));
  assert.equal(read.error, undefined, `${configPath} does not parse`);
  const config: unknown = read.config;
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, project);
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  return ts.getPreEmitDiagnostics(program).map((d) =>
    ts.formatDiagnostic(d, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => project,
      getNewLine: () => "\n",
    }),
  );
}

test("every ts block in the README is a sample file, verbatim", () => {
  const found = samples(readFileSync(README, "utf8"));
  assert.ok(found.length >= 5, `only ${found.length} samples found`);
  for (const sample of found) {
    const file = path.join(PACKAGE_DIR, sample.file);
    assert.ok(
      file.startsWith(EXAMPLES + path.sep),
      `README.md line ${sample.line}: ${sample.file} is not under test/readme-examples/`,
    );
    assert.ok(existsSync(file), `README.md line ${sample.line}: ${sample.file} does not exist`);
    assert.equal(sample.code, readFileSync(file, "utf8"), `README.md line ${sample.line} differs from ${sample.file}`);
  }
});

test("the samples type-check, this package's and @fastify/session's each as an app of its own", () => {
  assert.deepEqual(typeErrors(EXAMPLES), []);
  assert.deepEqual(typeErrors(path.join(EXAMPLES, "fastify-session")), []);
});

type Build = () => Promise<FastifyInstance>;

/** The sample's buildApp, imported by path so its declarations stay out of this program. */
async function sampleApp(relative: string): Promise<FastifyInstance> {
  const compiled = import.meta.url.endsWith(".js");
  const file = path.join(EXAMPLES, relative + (compiled ? ".js" : ".ts"));
  const url = compiled ? new URL(`readme-examples/${relative}.js`, import.meta.url) : pathToFileURL(file);
  const { buildApp } = (await import(url.href)) as { buildApp: Build };
  return buildApp();
}

function sessionCookie(response: LightMyRequestResponse): string | undefined {
  const header = response.headers["set-cookie"];
  const cookies = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return cookies.map((c) => c.split(";")[0]!).find((c) => /^sessionid=/i.test(c));
}

/** The same visit on either app: add to the cart, read it, log in, log out. */
async function visit(app: FastifyInstance) {
  const cookieOf = (response: LightMyRequestResponse, before: string) => sessionCookie(response) ?? before;
  const add = await app.inject({ method: "POST", url: "/cart", payload: { item: "apple" } });
  const first = sessionCookie(add);
  assert.ok(first, "the first write sets a session cookie");
  const read = await app.inject({ url: "/cart", headers: { cookie: first } });
  const login = await app.inject({ method: "POST", url: "/login", payload: { userId: 7 }, headers: { cookie: first } });
  const afterLogin = cookieOf(login, first);
  const cartAfterLogin = await app.inject({ url: "/cart", headers: { cookie: afterLogin } });
  const logout = await app.inject({ method: "POST", url: "/logout", headers: { cookie: afterLogin } });
  const afterLogout = await app.inject({ url: "/cart", headers: { cookie: afterLogin } });
  return {
    read: read.json<{ cart: string[] }>().cart,
    newKeyAtLogin: afterLogin !== first,
    oldKeyAfterLogin: (await app.inject({ url: "/cart", headers: { cookie: first } })).json<{ cart: string[] }>().cart,
    cartAfterLogin: cartAfterLogin.json<{ cart: string[] }>().cart,
    logout: logout.statusCode,
    afterLogout: afterLogout.json<{ cart: string[] }>().cart,
  };
}

test("Coming from @fastify/session: both apps answer the same visit the same way", async () => {
  const ours = await sampleApp("routes");
  const theirs = await sampleApp("fastify-session/routes");
  try {
    const expected = {
      read: ["apple"],
      newKeyAtLogin: true,
      oldKeyAfterLogin: [],
      cartAfterLogin: ["apple"],
      logout: 200,
      afterLogout: [],
    };
    assert.deepEqual(await visit(ours), expected);
    assert.deepEqual(await visit(theirs), expected);
  } finally {
    await ours.close();
    await theirs.close();
  }
});
