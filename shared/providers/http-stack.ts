/**
 * The one HTTP stack of the daemon: a fetch-compatible function that every
 * provider, openid-client and jose use, so that every request to an
 * authorization server gets the same treatment:
 * - keep-alive connections pooled per origin (one undici Agent);
 * - connect, headers and body timeouts of `http_timeout` each;
 * - a back-off shared by all requests to an origin after HTTP 429: a short
 *   Retry-After is waited out once, inline; a longer one makes every request
 *   to that origin fail fast until it has passed, so that concurrent logins
 *   stop hammering a rate-limited server;
 * - every failure to get an answer (network, timeout, 429, 5xx, a broken or
 *   oversized body) is a ProviderUnavailableError naming the host.
 * Answers are read whole here, so that a body that breaks off or stalls is
 * our error too and not a TypeError deep inside a library. Bodies, headers
 * and query strings never go into messages: they may carry tokens.
 */
import type { Agent } from 'undici';
import { ProviderUnavailableError, errorMessage } from '../errors.js';

export interface HttpStackOptions {
  /** Bound on connecting, on waiting for the headers, and on each pause in the body (http_timeout). */
  timeoutSeconds: number;
  /** Longest Retry-After waited out inside one request; longer ones fail fast until they pass. */
  maxInlineRetryAfterSeconds?: number;
}

export interface HttpStack {
  /** WHATWG fetch; give it to openid-client as `config[customFetch]` and to jose as `[customFetch]`. */
  readonly fetch: typeof fetch;
  /** http_timeout, for the libraries' own overall deadlines. */
  readonly timeoutSeconds: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_INLINE_RETRY_AFTER_S = 2;
/** A 429 without a usable Retry-After still backs off this long. */
const DEFAULT_RETRY_AFTER_S = 1;
const CONNECTIONS_PER_ORIGIN = 16;
const KEEP_ALIVE_MS = 30_000;
/** Discovery documents, key sets and introspection answers are a few kB; anything far larger is not one of them. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Statuses whose Response may not have a body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export function createHttpStack(options: HttpStackOptions): HttpStack {
  return new PooledHttpStack(options);
}

/** Seconds from a Retry-After header: delta-seconds or an HTTP date. */
/** A provider's stack: the shared one it was given (its owner closes it), or one of its own (closed with it). */
export function borrowOrOwnStack(shared: HttpStack | undefined, timeoutSeconds: number): { http: HttpStack; close: () => Promise<void> } {
  if (shared) return { http: shared, close: async () => {} };
  const own = createHttpStack({ timeoutSeconds });
  return { http: own, close: () => own.close() };
}

export function retryAfterSeconds(header: string | null, now = Date.now()): number {
  if (header === null || header.trim() === '') return DEFAULT_RETRY_AFTER_S;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isFinite(date) ? Math.max(0, Math.ceil((date - now) / 1000)) : DEFAULT_RETRY_AFTER_S;
}

type UndiciModule = typeof import('undici');

class PooledHttpStack implements HttpStack {
  readonly timeoutSeconds: number;
  readonly fetch: typeof fetch;
  private loaded: Promise<{ undici: UndiciModule; agent: Agent }> | undefined;
  /** Per origin: until when (epoch ms) it asked us to stay away. */
  private readonly blockedUntil = new Map<string, number>();
  private readonly maxInlineRetryAfterSeconds: number;

  constructor(options: HttpStackOptions) {
    this.timeoutSeconds = options.timeoutSeconds;
    this.maxInlineRetryAfterSeconds = options.maxInlineRetryAfterSeconds ?? DEFAULT_MAX_INLINE_RETRY_AFTER_S;
    this.fetch = ((input: string | URL | Request, init?: RequestInit) => this.send(input, init)) as typeof fetch;
  }

  /** undici is loaded on first use: a CLI run that needs no HTTP should not pay for it. */
  private undici(): Promise<{ undici: UndiciModule; agent: Agent }> {
    this.loaded ??= import('undici').then((undici) => {
      const ms = Math.max(1, Math.round(this.timeoutSeconds * 1000));
      const agent = new undici.Agent({ connections: CONNECTIONS_PER_ORIGIN, connect: { timeout: ms }, headersTimeout: ms, bodyTimeout: ms, keepAliveTimeout: KEEP_ALIVE_MS });
      return { undici, agent };
    });
    return this.loaded;
  }

  private async send(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const request = fromRequest(input, init);
    const url = new URL(request.url);
    const waitMs = (this.blockedUntil.get(url.origin) ?? 0) - Date.now();
    if (waitMs > 0) throw new ProviderUnavailableError(`${url.host} asked us to back off (HTTP 429); retrying in ${Math.ceil(waitMs / 1000)} s`);
    for (let attempt = 0; ; attempt++) {
      const response = await this.once(url, request.init);
      if (response.status === 429) {
        const seconds = retryAfterSeconds(response.headers.get('retry-after'));
        if (attempt === 0 && seconds <= this.maxInlineRetryAfterSeconds && request.replayable) {
          await sleep(seconds * 1000, request.init.signal ?? undefined, url.host);
          continue;
        }
        this.blockedUntil.set(url.origin, Date.now() + seconds * 1000);
        throw new ProviderUnavailableError(`${url.host} is rate-limiting us (HTTP 429, Retry-After ${seconds} s)`);
      }
      if (response.status >= 500) throw new ProviderUnavailableError(`${url.host} answered HTTP ${response.status} on ${url.pathname}`);
      return response;
    }
  }

  /** One exchange, read whole, as a platform Response (the libraries check its class). */
  private async once(url: URL, init: RequestInit): Promise<Response> {
    const { undici, agent } = await this.undici();
    let res: Awaited<ReturnType<UndiciModule['fetch']>>;
    try {
      res = await undici.fetch(url, { ...(init as object), dispatcher: agent } as Parameters<UndiciModule['fetch']>[1]);
    } catch (err) {
      throw new ProviderUnavailableError(failureMessage(url.host, err, init.signal, (detail) => `cannot reach ${url.host}: ${detail}`), { cause: err });
    }
    let body: Uint8Array | null;
    try {
      body = await readCapped(res.body as ReadableStream<Uint8Array> | null, url.host);
    } catch (err) {
      if (err instanceof ProviderUnavailableError) throw err;
      throw new ProviderUnavailableError(failureMessage(url.host, err, init.signal, (detail) => `${url.host} broke off its answer: ${detail}`), { cause: err });
    }
    const headers = new Headers();
    for (const [name, value] of res.headers) headers.append(name, value);
    const response = new Response(NULL_BODY_STATUSES.has(res.status) ? null : body, { status: res.status, statusText: res.statusText, headers });
    Object.defineProperty(response, 'url', { value: res.url || url.href });
    return response;
  }

  async close(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    if (loaded) await (await loaded).agent.close();
  }
}

/** The URL and init of a fetch call, and whether its body can be sent a second time (after a short 429). */
function fromRequest(input: string | URL | Request, init: RequestInit): { url: string; init: RequestInit; replayable: boolean } {
  if (input instanceof Request) {
    const merged: RequestInit = { method: input.method, headers: input.headers, body: input.body, redirect: input.redirect, signal: input.signal, ...init };
    if (merged.body) Object.assign(merged, { duplex: 'half' });
    return { url: input.url, init: merged, replayable: !merged.body };
  }
  return { url: String(input), init, replayable: !(init.body instanceof ReadableStream) };
}

async function readCapped(stream: ReadableStream<Uint8Array> | null, host: string): Promise<Uint8Array | null> {
  if (!stream) return null;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) {
      await stream.cancel().catch(() => {});
      throw new ProviderUnavailableError(`${host} sent an answer larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** What went wrong, for a message: the caller's deadline, undici's timeouts, or the network error (never a body). */
function failureMessage(host: string, err: unknown, signal: AbortSignal | null | undefined, describe: (detail: string) => string): string {
  if (signal?.aborted) return (signal.reason as Error | undefined)?.name === 'TimeoutError' ? `${host} did not answer in time` : `the request to ${host} was cancelled`;
  const cause = (err as { cause?: unknown }).cause ?? err;
  const code = (cause as { code?: unknown }).code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `${host} did not answer in time`;
  return describe(errorMessage(cause));
}

function sleep(ms: number, signal: AbortSignal | undefined, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancelled = () => {
      clearTimeout(timer);
      reject(new ProviderUnavailableError(`the request to ${host} was cancelled while backing off (HTTP 429)`));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', cancelled);
      resolve();
    }, ms);
    if (signal?.aborted) cancelled();
    else signal?.addEventListener('abort', cancelled, { once: true });
  });
}
