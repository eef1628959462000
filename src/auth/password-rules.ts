/**
 * The password rules, one set for every place a password is chosen: the change-password form
 * (src/routes/auth.ts) and `npm run createuser` (src/cli/createuser.ts). Django's validators,
 * trimmed to three, with Django's messages.
 */

/** Django's MinimumLengthValidator default. */
export const MIN_PASSWORD_LENGTH = 8;

/** What is wrong with `password` for the user `username`; empty when it is acceptable. */
export function passwordProblems(password: string, username: string): string[] {
  const problems: string[] = [];
  if (password.length < MIN_PASSWORD_LENGTH) {
    problems.push(`This password is too short. It must contain at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
  if (/^\d+$/.test(password)) problems.push("This password is entirely numeric.");
  // Django's UserAttributeSimilarityValidator is fuzzier; the plain case of it is kept.
  if (password.toLowerCase() === username.toLowerCase()) problems.push("The password is too similar to the username.");
  return problems;
}
