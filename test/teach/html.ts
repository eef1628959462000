/** Reading the teaching panels out of a page's HTML in the HTTP tests (no DOM needed). */

/** HTML text back to what it says (EJS escapes & < > " '). */
export function unescapeHtml(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&#34;|&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

/** The HTML of one teaching step: "this" (the response itself) or the redirects before it, in order. */
export function stepHtml(html: string, kind: "this" | "previous"): string[] {
  const blocks = html.split('<div class="teach-step"').slice(1);
  return blocks.filter((block) => block.includes(`data-step="${kind}"`)).map((block) => block.split("</div>")[0]!);
}

/** The texts of the elements with `data-role="role"` (or `data-column`) in `html`. */
export function roleTexts(html: string, role: string, attribute = "data-role"): string[] {
  const pattern = new RegExp(`${attribute}="${role}"[^>]*>([\\s\\S]*?)</`, "g");
  return [...html.matchAll(pattern)].map((m) => unescapeHtml(m[1]!).trim());
}

export function roleText(html: string, role: string, attribute = "data-role"): string | undefined {
  return roleTexts(html, role, attribute)[0];
}

/** The response's Set-Cookie lines for `name`. */
export function setCookieLines(header: string | string[] | undefined, name = "sessionid"): string[] {
  return [header ?? []].flat().filter((line) => line.startsWith(`${name}=`));
}
