/**
 * The load: autocannon, in the harness's own process. A scenario with a session gives every
 * connection its own Cookie header through autocannon's setupClient (client.setHeaders builds
 * that connection's request once; nothing is rebuilt per request, and a reconnect keeps it).
 * The servers count the distinct Cookie headers they saw, so the harness checks this held.
 */
import { randomBytes } from "node:crypto";
import autocannon from "autocannon";

export interface LoadResult {
  /** Completed requests (any status). */
  requests: number;
  seconds: number;
  rps: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Latency percentiles in ms, from every response's own time (autocannon's histogram rounds to 1 ms). */
  p50: number;
  p99: number;
  /** The slowest response, in ms. */
  max: number;
  /** CPU the load generator (this process) used, in % of one core: near 100, it is the limit. */
  generatorCpu: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  /** Run for this long: the requests in flight at the end are cut off. */
  seconds?: number;
  /**
   * Or send exactly this many requests, each connection waiting for its last answer: nothing is
   * cut off, so what the server did and what the client saw add up exactly.
   */
  amount?: number;
  /** One Cookie header per connection (cookies[i] for the i-th connection). */
  cookies?: string[];
  /** Ends the run early when it settles (the requests in flight are cut off). */
  stop?: Promise<unknown>;
  /** Called for every response, as it completes: its status and its own time in ms. */
  onResponse?: (status: number, ms: number) => void;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function fire({
  url,
  connections,
  seconds,
  amount,
  cookies,
  stop,
  onResponse,
}: LoadOptions): Promise<LoadResult> {
  let next = 0;
  let times = new Float64Array(1 << 16);
  let n = 0;
  let ok = 0;
  let last = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const instance = autocannon({
    url,
    connections,
    // autocannon notices the end of a run only at its sampling tick (1 s by default): the rate
    // is taken from the answers' own times below, and a short tick ends a fixed-amount run soon.
    sampleInt: 100,
    ...(amount !== undefined ? { amount: Math.max(amount, connections) } : { duration: seconds ?? 1 }),
    ...(cookies
      ? {
          setupClient: (client: autocannon.Client) => {
            client.setHeaders({ cookie: cookies[next++ % cookies.length]! });
          },
        }
      : {}),
  });
  // The instance emits (client, statusCode, bytes, responseTime in ms) per response.
  (instance as unknown as NodeJS.EventEmitter).on(
    "response",
    (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (n === times.length) {
        const grown = new Float64Array(times.length * 2);
        grown.set(times);
        times = grown;
      }
      times[n++] = ms;
      if (status >= 200 && status < 300) ok++;
      last = performance.now();
      onResponse?.(status, ms);
    },
  );
  void stop?.then(() => (instance as unknown as autocannon.Instance).stop());
  const result = await instance;
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = times.subarray(0, n).sort();
  const elapsed = ((last || performance.now()) - started) / 1000;
  return {
    requests: n,
    seconds: elapsed,
    rps: n / elapsed,
    ok2xx: ok,
    non2xx: n - ok,
    errors: result.errors,
    timeouts: result.timeouts,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: n ? sorted[n - 1]! : Number.NaN,
    generatorCpu: (cpu.user + cpu.system) / 10 / (performance.now() - started),
  };
}

/** One request; the Cookie header a browser would send next (`cookie` updated by every Set-Cookie). */
async function visit(url: string, cookie?: string): Promise<string> {
  const response = await fetch(url, cookie ? { headers: { cookie } } : {});
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`creating a session: ${url} answered ${response.status}`);
  const jar = new Map(
    (cookie ?? "")
      .split("; ")
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf("=")), pair] as const),
  );
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(";", 1)[0]!.trim();
    const name = pair.slice(0, pair.indexOf("="));
    if (pair.length > name.length + 1) jar.set(name, pair);
    else jar.delete(name);
  }
  if (jar.size === 0) throw new Error(`creating a session: ${url} set no cookie`);
  return [...jar.values()].join("; ");
}

/**
 * `n` returning visitors: one request each to the server's new-visitor route, keeping every
 * cookie it sets (the demo also sets a CSRF cookie), as the Cookie header a browser would send.
 * A cookie-only session is the same bytes for the same data signed in the same second
 * (signed_cookies), so such twins are made different by visiting `again` (a route that changes
 * the session) a different number of times each: no two connections share a session.
 */
export async function createSessions(url: string, n: number, again: string): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < n; i += 10) {
    cookies.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => visit(url)))));
  }
  const seen = new Set<string>();
  let twins = 0;
  await Promise.all(
    cookies.map(async (cookie, i) => {
      if (!seen.has(cookie)) return void seen.add(cookie);
      // The k-th twin changes its session k times: no two twins end with the same data.
      for (let k = ++twins; k > 0; k--) cookie = await visit(again, cookie);
      cookies[i] = cookie;
    }),
  );
  if (new Set(cookies).size !== n)
    throw new Error(`creating ${n} sessions at ${url}: only ${new Set(cookies).size} are different`);
  return cookies;
}

/** Session cookies of a real key's shape for the bare server, which sets none. */
export function madeUpCookies(n: number): string[] {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from({ length: n }, () => {
    const bytes = randomBytes(32);
    return `sessionid=${Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("")}`;
  });
}
