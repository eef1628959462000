/** A connection URL fit for logs and pages: its password, if any, replaced by ***. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    // Shown as is, it could be a password with a typo in front of it.
    return "(unparseable URL)";
  }
}
