/**
 * Clear 400/403/404/413/500 pages. A client error shows what was wrong; a server error shows a
 * generic page and logs the details. No stack trace ever reaches the browser.
 */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import { SessionInterrupted } from "fastify-django-sessions";
import { connectionErrorFields, isDatabaseUnavailable } from "./db/connection-errors.js";

interface ErrorPage {
  status: number;
  heading: string;
  message: string;
}

const HEADINGS: Record<number, string> = {
  400: "Bad Request (400)",
  403: "Forbidden (403)",
  404: "Not Found (404)",
  405: "Method Not Allowed (405)",
  413: "Request Too Large (413)",
  429: "Too Many Requests (429)",
  503: "Service Unavailable (503)",
  415: "Unsupported Media Type (415)",
  431: "Request Header Fields Too Large (431)",
  500: "Server Error (500)",
};

/** What a visitor should type into each demo form field. */
const FIELD_HELP: Record<string, string> = {
  key: "A key is 1 to 100 characters and may not start with “_” (those keys belong to the framework).",
  value: "A value is at most 2000 characters.",
  item: "An item is 1 to 100 characters.",
  username: "A username is at most 150 characters.",
  password: "A password is at most 4096 characters.",
  seconds: "Enter a whole number of seconds, 0 for “until the browser closes”, or nothing for the default.",
  session_key:
    "A session is named by 8 to 64 lowercase letters and digits: the prefix the list shows, or more of its key.",
  after: "A page of the session list is named by the link the list gives: start again from the first page.",
  before: "A page of the session list is named by the link the list gives: start again from the first page.",
};

function validationMessage(error: FastifyError): string {
  const first = error.validation?.[0];
  const field =
    (first?.params as { missingProperty?: string } | undefined)?.missingProperty ??
    first?.instancePath.replace(/^\//, "");
  const help = field ? FIELD_HELP[field] : undefined;
  return help ? `The field “${field}” is not valid. ${help}` : error.message;
}

const STORE_UNAVAILABLE = "The session store is unavailable right now. Please try again in a moment.";

function pageFor(error: FastifyError): ErrorPage {
  // PostgreSQL down or restarting: the same 503 as the cache's outage; the pool recovers by itself.
  if (isDatabaseUnavailable(error)) return { status: 503, heading: HEADINGS[503]!, message: STORE_UNAVAILABLE };
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
  const exposed = (error as { expose?: boolean }).expose === true;
  if (status === 503) {
    const message = exposed ? error.message : STORE_UNAVAILABLE;
    return { status, heading: HEADINGS[503]!, message };
  }
  if (status >= 500) {
    return {
      status,
      heading: HEADINGS[500]!,
      message: exposed ? error.message : "Something went wrong on our side. It has been logged.",
    };
  }
  if (error.code?.startsWith("FST_CSRF_")) {
    return {
      status: 403,
      heading: HEADINGS[403]!,
      message:
        "CSRF verification failed. Request aborted. The form was sent without its security " +
        "token, or with a token this browser was not given. Reload the page and try again.",
    };
  }
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return { status, heading: HEADINGS[413]!, message: "The form you sent is larger than this site accepts." };
  }
  if (status === 429) {
    return { status, heading: HEADINGS[429]!, message: "Too many attempts. Wait a minute and try again." };
  }
  if (error.validation) {
    return { status, heading: HEADINGS[400]!, message: validationMessage(error) };
  }
  if (error instanceof SessionInterrupted) {
    return { status, heading: HEADINGS[400]!, message: error.message };
  }
  return { status, heading: HEADINGS[status] ?? `Error (${status})`, message: error.message };
}

/** Who is logged in, for the navigation; never on a server error (the store may be the cause). */
async function navigationUser(reply: FastifyReply, status: number) {
  // Before the handler (e.g. a CSRF failure) the session is not loaded: then nobody is shown.
  if (status >= 500 || !reply.request.session?.isLoaded) return null;
  return reply.request.getUser().catch(() => null);
}

async function sendPage(reply: FastifyReply, page: ErrorPage): Promise<FastifyReply> {
  reply.code(page.status).type("text/html; charset=utf-8");
  try {
    const currentUser = await navigationUser(reply, page.status);
    return await reply.view("error.ejs", { title: page.heading, ...page, currentUser });
  } catch (renderError) {
    reply.log.error({ err: renderError }, "error page failed to render");
    return reply.send(`<!doctype html><title>${page.heading}</title><h1>${page.heading}</h1>`);
  }
}

export function registerErrorPages(app: FastifyInstance): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const page = pageFor(error);
    // An outage is one line per request (what and why), not a stack trace each time.
    if (isDatabaseUnavailable(error))
      request.log.error({ status: 503, ...connectionErrorFields(error) }, "database unavailable: answered 503");
    else if (page.status >= 500) request.log.error({ err: error }, "request failed");
    else request.log.warn({ status: page.status, code: error.code, reason: error.message }, page.heading);
    return sendPage(reply, page);
  });
  app.setNotFoundHandler(async (request, reply) => {
    // The path only: a query string can carry what a visitor typed.
    const path = request.url.split("?")[0];
    request.log.info({ path }, "not found");
    return sendPage(reply, {
      status: 404,
      heading: HEADINGS[404]!,
      message: `There is no page at ${path}.`,
    });
  });
}

/**
 * Requests Node's HTTP parser refuses before the app sees them (headers over the size limit, a
 * malformed request line or header): the same kind of page as every other error, and a warning
 * in the log (Fastify's default answers in JSON and logs only at trace level). Set as Fastify's
 * `clientErrorHandler`, which calls it with the instance as `this`.
 */
export function clientErrorPage(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
  const heading = HEADINGS[status] ?? `${STATUS_CODES[status]} (${status})`;
  const message =
    status === 431
      ? "The request's headers are larger than this server accepts. Clearing this site's cookies usually fixes it."
      : status === 408
        ? "The request took too long to arrive."
        : "The request could not be read.";
  this.log.warn({ code: error.code, status }, "request refused before routing");
  if (socket.writable) {
    const body =
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${heading}</title>` +
      `<link rel="stylesheet" href="/static/style.css"></head><body><main><section class="error" id="error-page" data-status="${status}">` +
      `<h1 id="error-heading">${heading}</h1><p id="error-message">${message}</p><p><a href="/">Back to the start page</a></p>` +
      `</section></main></body></html>`;
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: text/html; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
