/**
 * The demo's teaching panels, filled after the session plugin has decided the response: "what
 * just happened" (the exchange, with its real Set-Cookie) and the stored record, each put where
 * a page left its marker. Pages are rendered before the session is saved, which is why this
 * runs in onSend, registered after the session plugin so its hook runs later.
 *
 * Most session changes happen on a POST answered with a redirect, whose Set-Cookie the next
 * page would never see: such a step is kept in memory for a minute under a random id the
 * browser holds in a cookie of its own, and the page the redirect leads to shows it.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { serialize } from "cookie";
import ejs from "ejs";
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { LRUCache } from "lru-cache";
import type { AppConfig } from "../config.js";
import { sessionExchange } from "fastify-django-sessions";
import { readCookie } from "fastify-django-sessions";
import { describeStep, type ExchangeStep } from "./exchange.js";
import { PAGE_SNIPPETS, SNIPPETS, settingsSnippet, type Block, type RequestFacts, type Snippet } from "./snippets.js";
import type { RecordReader, StoredRecord } from "./stored-record.js";

/** Where a page wants each panel (pages without them are left alone). */
export const EXCHANGE_MARKER = "<!--teach:exchange-->";
export const RECORD_MARKER = "<!--teach:record-->";
/** The cookie naming the redirect steps that led to the next page. */
export const STEP_COOKIE = "teach_step";
/** How long a redirect's step waits for the page it leads to. */
const STEP_TTL_MS = 60_000;
/** A redirect chain is kept to its last few steps (login → account → ...). */
const MAX_CHAIN = 3;

export interface TeachPluginOptions {
  config: AppConfig;
  /** The cookie is the session (signed_cookies). */
  clientSide: boolean;
  readRecord: RecordReader;
  /** The views directory (the panels are its partials/teach-*.ejs). */
  views: string;
}

export interface LineView {
  text: string;
  /** The line touches the session... */
  session: boolean;
  /** ...and ran for the request the snippet is marked for. */
  ran: boolean;
}

export interface BlockView {
  file: string;
  lang: Block["lang"];
  lines: LineView[];
}

export interface SnippetView {
  id: string;
  route: string;
  title: string;
  note: string | null;
  /** "this": the page's own route ran for this response; "previous": a redirect before it. */
  ran: "this" | "previous" | null;
  ranLabel: string | null;
  django: BlockView[];
  ours: BlockView[];
}

export interface TeachLocals {
  snippets: SnippetView[];
}

interface TeachState {
  options: TeachPluginOptions;
  steps: LRUCache<string, ExchangeStep[]>;
}

const kState = Symbol("teach.state");
const kCarried = Symbol("teach.carried");

interface TeachInstance extends FastifyInstance {
  [kState]?: TeachState;
}

interface TeachRequest extends FastifyRequest {
  /** The redirect steps that led here: [id, steps], read once. */
  [kCarried]: { id: string; steps: ExchangeStep[] } | null | undefined;
}

function stateOf(request: FastifyRequest): TeachState | undefined {
  return (request.server as TeachInstance)[kState];
}

function routeOf(request: FastifyRequest): string | null {
  const url = request.routeOptions.url;
  return url === undefined ? null : `${request.method} ${url}`;
}

function recordOf(value: unknown): Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function factsOf(request: FastifyRequest, reply: FastifyReply): RequestFacts {
  return { query: recordOf(request.query), body: recordOf(request.body), status: reply.statusCode };
}

const SNIPPET_BY_ROUTE = new Map(SNIPPETS.map((snippet) => [snippet.route, snippet]));

/** The redirect steps that led to this request (peeked; the page that shows them removes them). */
function carried(request: FastifyRequest, state: TeachState): { id: string; steps: ExchangeStep[] } | null {
  const r = request as TeachRequest;
  if (r[kCarried] === undefined) {
    const id = readCookie(request.headers.cookie, STEP_COOKIE);
    const steps = id === undefined ? undefined : state.steps.get(id);
    r[kCarried] = id !== undefined && steps !== undefined ? { id, steps } : null;
  }
  return r[kCarried] ?? null;
}

function blockView(block: Block, ran: boolean, variant: string | null): BlockView {
  return {
    file: block.file,
    lang: block.lang,
    lines: block.lines.map((line) =>
      typeof line === "string"
        ? { text: line, session: false, ran: false }
        : { text: line.code, session: true, ran: ran && (line.when === undefined || line.when === variant) },
    ),
  };
}

function snippetView(
  snippet: Snippet,
  config: AppConfig,
  ran: SnippetView["ran"],
  ranLabel: string | null,
  variant: string | null,
): SnippetView {
  const note = typeof snippet.note === "function" ? snippet.note(config) : (snippet.note ?? null);
  return {
    id: snippet.route
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, ""),
    route: snippet.route,
    title: snippet.title,
    note,
    ran,
    ranLabel,
    django: snippet.django.map((block) => blockView(block, ran !== null, variant)),
    ours: snippet.ours.map((block) => blockView(block, ran !== null, variant)),
  };
}

/**
 * The code panel's locals for the page being rendered: the page's snippets, the one for its own
 * route marked as run for this response, and those of the redirects that led here marked as run
 * just before (with the variant that ran). Empty when the teaching plugin is not registered.
 */
export function teachLocals(request: FastifyRequest, reply: FastifyReply): TeachLocals {
  const state = stateOf(request);
  const route = routeOf(request);
  if (!state || route === null) return { snippets: [] };
  const { config } = state.options;
  const lookup = (name: string) => (name === "GET /settings/" ? settingsSnippet(config) : SNIPPET_BY_ROUTE.get(name));
  const shown: SnippetView[] = [];
  const seen = new Set<string>();
  const own = lookup(route);
  if (own) {
    shown.push(
      snippetView(
        own,
        config,
        "this",
        `Ran for this response (${route})`,
        own.variant?.(factsOf(request, reply)) ?? null,
      ),
    );
    seen.add(own.route);
  }
  for (const step of [...(carried(request, state)?.steps ?? [])].reverse()) {
    const snippet = step.route === null ? undefined : lookup(step.route);
    if (!snippet || seen.has(snippet.route)) continue;
    seen.add(snippet.route);
    shown.push(
      snippetView(
        snippet,
        config,
        "previous",
        `Ran for the request before this page (${step.method} ${step.url} → ${step.status})`,
        step.variant,
      ),
    );
  }
  for (const name of PAGE_SNIPPETS[route] ?? []) {
    const snippet = lookup(name);
    if (!snippet || seen.has(snippet.route)) continue;
    seen.add(snippet.route);
    shown.push(snippetView(snippet, config, null, null, null));
  }
  return { snippets: shown };
}

function stepOf(request: FastifyRequest, reply: FastifyReply, options: TeachPluginOptions): ExchangeStep {
  const cookieName = options.config.session.SESSION_COOKIE_NAME;
  const route = routeOf(request);
  const snippet = route === null ? undefined : SNIPPET_BY_ROUTE.get(route);
  const location = reply.getHeader("location");
  return describeStep({
    method: request.method,
    url: request.url,
    status: reply.statusCode,
    location: typeof location === "string" ? location : null,
    cookieSent: readCookie(request.headers.cookie, cookieName) ?? null,
    setCookieHeader: reply.getHeader("set-cookie"),
    varyHeader: reply.getHeader("vary"),
    exchange: sessionExchange(request),
    cookieName,
    clientSide: options.clientSide,
    route,
    variant: snippet?.variant?.(factsOf(request, reply)) ?? null,
  });
}

function isLocalRedirect(reply: FastifyReply): boolean {
  const location = reply.getHeader("location");
  return (
    reply.statusCode >= 300 &&
    reply.statusCode < 400 &&
    typeof location === "string" &&
    location.startsWith("/") &&
    !location.startsWith("//")
  );
}

const teachPlugin: FastifyPluginAsync<TeachPluginOptions> = async (fastify, options) => {
  const state: TeachState = { options, steps: new LRUCache({ max: 1000, ttl: STEP_TTL_MS }) };
  fastify.decorate(kState, state);
  fastify.decorateRequest(kCarried, undefined);
  const partial = (name: string, data: Record<string, unknown>) =>
    ejs.renderFile(path.join(options.views, "partials", name), data, {
      cache: true,
      async: false,
      root: options.views,
    });
  const { config } = options;

  fastify.addHook("onSend", async (request, reply, payload) => {
    // Static files and probes have no route of the demo's; their responses stay as they are.
    if (request.routeOptions.config?.session === false) return payload;
    if (isLocalRedirect(reply) && routeOf(request) !== null) {
      const steps = [...(carried(request, state)?.steps ?? []), stepOf(request, reply, options)].slice(-MAX_CHAIN);
      const id = randomBytes(16).toString("base64url");
      state.steps.set(id, steps);
      reply.header(
        "set-cookie",
        serialize(STEP_COOKIE, id, {
          path: "/",
          httpOnly: true,
          sameSite: "lax",
          maxAge: STEP_TTL_MS / 1000,
          secure: config.session.SESSION_COOKIE_SECURE,
        }),
      );
      return payload;
    }
    if (typeof payload !== "string" || !String(reply.getHeader("content-type") ?? "").startsWith("text/html"))
      return payload;
    const wantsExchange = payload.includes(EXCHANGE_MARKER);
    const wantsRecord = payload.includes(RECORD_MARKER);
    if (!wantsExchange && !wantsRecord) return payload;

    const step = stepOf(request, reply, options);
    const before = carried(request, state);
    // Shown once: a reload tells only about itself.
    if (before) state.steps.delete(before.id);
    let html = payload;
    if (wantsExchange) {
      const panel = await partial("teach-exchange.ejs", {
        step,
        previous: before?.steps ?? [],
        clientSide: options.clientSide,
        cookieName: config.session.SESSION_COOKIE_NAME,
      });
      html = html.replace(EXCHANGE_MARKER, () => panel);
    }
    if (wantsRecord) {
      let record: StoredRecord | { kind: "error"; message: string };
      try {
        record = await options.readRecord(step.cookieAfter);
      } catch (error) {
        request.log.warn({ err: error }, "teaching panel: could not read the stored record");
        // The details go to the log; the page says only that the read failed.
        record = { kind: "error", message: "The store could not be read for this page; the server log says why." };
      }
      const panel = await partial("teach-record.ejs", {
        record,
        engine: config.session.SESSION_ENGINE,
        cookieName: config.session.SESSION_COOKIE_NAME,
      });
      html = html.replace(RECORD_MARKER, () => panel);
    }
    return html;
  });
};

export default fp(teachPlugin, { fastify: "5.x", name: "teach", dependencies: ["django-sessions"] });
