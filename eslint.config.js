// ESLint over every TypeScript and JavaScript file of the project, with typescript-eslint's
// type-checked rules: a promise nobody awaits or handles (no-floating-promises) or one passed
// where a callback's result is ignored (no-misused-promises) is an error. Formatting is
// Prettier's job (npm run format), so eslint-config-prettier turns off the rules it owns.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "packages/*/dist/",
      ".build/",
      "public/",
      "data/",
      "e2e/.output/",
      "test-results/",
      "playwright-report/",
      "bench/profiles/",
      "scratch/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The project's tsconfig for .ts files (the .js/.mjs scripts are linted without types, below).
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          // node:test runs and reports what test()/describe() return; awaiting them would change nothing.
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["test", "describe", "it", "suite"] },
          ],
        },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      // Off: the engine, cache and plugin contracts are promise-returning, and an `async` method
      // that awaits nothing still turns a throw into a rejection, which callers rely on.
      "@typescript-eslint/require-await": "off",
      // `_name` marks a parameter a signature needs but the body does not use.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
    },
  },
  {
    // Plain Node scripts: JavaScript without type annotations, where the type-aware rules would
    // only report every value as `any`. typescript-eslint's documented disableTypeChecked turns
    // those rules (and the type information) off for them; the syntax-only recommended rules stay on.
    files: ["**/*.js", "**/*.mjs"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      // Node globals the scripts use (no-undef needs them named; Node provides them all).
      globals: {
        process: "readonly",
        console: "readonly",
        URL: "readonly",
        fetch: "readonly",
        AbortSignal: "readonly",
        setTimeout: "readonly",
      },
    },
  },
  prettier,
);
