/** Django's code beside ours: every quoted line of ours is still in the file it names. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadConfig } from "../../src/config.js";
import { PROJECT_ROOT } from "../processes.js";
import { PAGE_SNIPPETS, SNIPPETS, settingsSnippet, type Line } from "../../src/teach/snippets.js";

const codeOf = (line: Line) => (typeof line === "string" ? line : line.code);

describe("snippets", () => {
  test("each TypeScript line quoted is in the file it names, as written", () => {
    for (const snippet of SNIPPETS) {
      for (const block of snippet.ours.filter((b) => b.file.startsWith("src/"))) {
        const source = readFileSync(join(PROJECT_ROOT, block.file), "utf8").split("\n");
        for (const line of block.lines.map(codeOf)) {
          assert.ok(
            source.includes(line),
            `${snippet.route}: ${block.file} no longer has the line ${JSON.stringify(line)}`,
          );
        }
      }
    }
  });

  test("each Python line quoted is in the file it names in the Django project kept here (examples/django)", () => {
    let checked = 0;
    for (const snippet of SNIPPETS) {
      for (const block of snippet.django.filter((b) => b.lang === "python")) {
        // Django's own source is quoted abridged, and says so in its file label.
        if (block.file.startsWith("django/")) {
          assert.match(
            block.file,
            /abridged/,
            `${snippet.route}: ${block.file} is Django's own code, labelled abridged`,
          );
          continue;
        }
        assert.match(
          block.file,
          /^examples\/django\/.+\.py$/,
          `${snippet.route}: ${block.file} is a file of examples/django`,
        );
        const source = readFileSync(join(PROJECT_ROOT, block.file), "utf8").split("\n");
        for (const line of block.lines.map(codeOf)) {
          assert.ok(
            source.includes(line),
            `${snippet.route}: ${block.file} does not have the line ${JSON.stringify(line)}`,
          );
          checked++;
        }
      }
    }
    assert.ok(checked > 100, `${checked} Python lines checked`);
  });

  test("every page's snippets exist, and each one marks the lines that touch the session", () => {
    const routes = new Set(SNIPPETS.map((s) => s.route));
    for (const [page, names] of Object.entries(PAGE_SNIPPETS)) {
      for (const name of names) assert.ok(routes.has(name) || name === "GET /settings/", `${page} shows ${name}`);
    }
    for (const snippet of SNIPPETS) {
      for (const side of [snippet.django, snippet.ours]) {
        assert.ok(
          side.some((block) => block.lines.some((line) => typeof line !== "string")),
          `${snippet.route} marks a session line`,
        );
      }
    }
  });

  test("the variants a snippet names are the ones its lines use", () => {
    const expiry = SNIPPETS.find((s) => s.route === "POST /expiry/")!;
    const facts = (seconds: string) => ({ query: {}, body: { seconds }, status: 303 });
    assert.equal(expiry.variant!(facts("")), "none");
    assert.equal(expiry.variant!(facts("0")), "zero");
    assert.equal(expiry.variant!(facts("300")), "seconds");
    const used = new Set(
      expiry.django.flatMap((b) => b.lines).flatMap((l) => (typeof l === "string" || !l.when ? [] : [l.when])),
    );
    assert.deepEqual([...used].sort(), ["none", "seconds", "zero"]);
  });

  test("settings.py follows the configuration: Django's dotted engine name, the cache, the file path", () => {
    const cached = settingsSnippet(
      loadConfig({
        SECRET_KEY: "x".repeat(40),
        SESSION_ENGINE: "cached_db",
        CACHE_BACKEND: "redis",
        CACHE_KEY_PREFIX: "demo",
        SESSION_COOKIE_AGE: "300",
      }),
    );
    const python = cached.django[0]!.lines.map(codeOf).join("\n");
    assert.match(python, /^SESSION_ENGINE = "django\.contrib\.sessions\.backends\.cached_db"$/m);
    assert.match(python, /^SESSION_COOKIE_AGE = 300$/m);
    assert.match(python, /"BACKEND": "django\.core\.cache\.backends\.redis\.RedisCache"/);
    assert.match(python, /"KEY_PREFIX": "demo"/);
    assert.match(python, /DATABASES = /);
    assert.match(python, /^# Django's table is django_session; here it is "sessions" \(SESSION_DB_TABLE\)/m);
    const shared = settingsSnippet(
      loadConfig({ SECRET_KEY: "x".repeat(40), SESSION_ENGINE: "db", SESSION_DB_TABLE: "django_session" }),
    );
    assert.match(shared.django[0]!.lines.map(codeOf).join("\n"), /^# The table is Django's django_session, shared/m);
    assert.ok(shared.ours[0]!.lines.map(codeOf).includes("SESSION_DB_TABLE=django_session"));
    assert.doesNotMatch(python, /x{40}/, "never the secret");
    const file = settingsSnippet(
      loadConfig({
        SECRET_KEY: "x".repeat(40),
        SESSION_ENGINE: "django.contrib.sessions.backends.file",
        SESSION_FILE_PATH: "/tmp",
      }),
    );
    const filePy = file.django[0]!.lines.map(codeOf).join("\n");
    assert.match(filePy, /^SESSION_ENGINE = "django\.contrib\.sessions\.backends\.file"$/m);
    assert.match(filePy, /^SESSION_FILE_PATH = "\/tmp"/m);
    assert.doesNotMatch(filePy, /CACHES|DATABASES/);
  });
});
