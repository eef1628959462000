// The README and docs/ link to files and to headings of other pages: each relative link must
// point at a file that exists, and a link with #anchor at a heading of that Markdown file.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { PROJECT_ROOT } from "./processes.js";

const PAGES = [
  "README.md",
  "packages/fastify-django-sessions/README.md",
  ...readdirSync(path.join(PROJECT_ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

/** GitHub's anchor for a heading: lower-case, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));
}

/** Markdown links outside code blocks: [text](target). */
function links(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

for (const page of PAGES) {
  test(`${page}: every relative link resolves`, () => {
    const file = path.join(PROJECT_ROOT, page);
    const problems: string[] = [];
    for (const link of links(readFileSync(file, "utf8"))) {
      if (/^[a-z]+:/i.test(link)) continue;
      const [target = "", hash] = link.split("#");
      const resolved = target === "" ? file : path.resolve(path.dirname(file), target);
      if (!existsSync(resolved)) problems.push(`${link}: no such file`);
      else if (hash !== undefined && resolved.endsWith(".md") && !anchorsOf(resolved).has(hash)) {
        problems.push(`${link}: no such heading`);
      }
    }
    assert.deepEqual(problems, []);
  });
}
