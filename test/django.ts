/**
 * A Python that can import Django, for the tests that check against the real one: $DJANGO_PYTHON,
 * else python3 on the PATH, else /usr/bin/python3 (Debian's python3-django when another python3,
 * a pyenv shim say, comes first on the PATH). Tests skip with NO_DJANGO's reason without one.
 */
import { spawnSync } from "node:child_process";

function canImportDjango(python: string): string | null {
  const run = spawnSync(python, ["-c", "import django; print(django.get_version())"], {
    encoding: "utf8",
    timeout: 20_000,
  });
  return run.status === 0 ? run.stdout.trim() : null;
}

const candidates = process.env.DJANGO_PYTHON ? [process.env.DJANGO_PYTHON] : ["python3", "/usr/bin/python3"];
let found: { python: string; version: string } | undefined;
for (const python of candidates) {
  const version = canImportDjango(python);
  if (version !== null) {
    found = { python, version };
    break;
  }
}

/** The command that runs a Python with Django, or null. */
export const DJANGO_PYTHON: string | null = found?.python ?? null;
/** Django's version there (e.g. "3.2.25"), or null. */
export const DJANGO_VERSION: string | null = found?.version ?? null;
export const NO_DJANGO: false | string = found
  ? false
  : `no Python here can import Django (tried ${candidates.join(", ")}; apt-get install python3-django, or set DJANGO_PYTHON)`;
