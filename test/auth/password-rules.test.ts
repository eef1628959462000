/** The shared password rules, and the change-password form's checks built on them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MIN_PASSWORD_LENGTH, passwordProblems } from "../../src/auth/password-rules.js";
import { passwordChangeErrors } from "../../src/routes/auth.js";

const TOO_SHORT = "This password is too short. It must contain at least 8 characters.";
const NUMERIC = "This password is entirely numeric.";
const SIMILAR = "The password is too similar to the username.";

test("passwordProblems: length, digits only, the username", () => {
  assert.equal(MIN_PASSWORD_LENGTH, 8);
  assert.deepEqual(passwordProblems("abc", "ada"), [TOO_SHORT]);
  assert.deepEqual(passwordProblems("abcdefg", "ada"), [TOO_SHORT], "one under the minimum");
  assert.deepEqual(passwordProblems("abcdefgh", "ada"), [], "exactly the minimum");
  assert.deepEqual(passwordProblems("1234", "ada"), [TOO_SHORT, NUMERIC]);
  assert.deepEqual(passwordProblems("123456789", "ada"), [NUMERIC]);
  assert.deepEqual(passwordProblems("Ada.Lovelace", "ada.lovelace"), [SIMILAR], "case does not matter");
  assert.deepEqual(passwordProblems("correct horse battery", "ada"), []);
});

test("the change-password form adds the match check to the same rules", () => {
  const form = (new_password1: string, new_password2 = new_password1, username = "ada") =>
    passwordChangeErrors({ new_password1, new_password2 }, username);
  assert.deepEqual(form("correct horse battery"), []);
  assert.deepEqual(form("correct horse battery", "correct horse"), ["The two password fields didn’t match."]);
  for (const [password, username] of [
    ["abc", "ada"],
    ["12345678901", "ada"],
    ["bob-builder", "BOB-BUILDER"],
  ] as const) {
    assert.deepEqual(form(password, password, username), passwordProblems(password, username), password);
  }
});
