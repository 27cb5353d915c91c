/**
 * JSON over HTTP to an authorization server, as a long-lived daemon needs
 * it: one keep-alive pool per origin (undici), connect and read timeouts,
 * and a shared back-off after 429 (Retry-After) so that concurrent logins
 * stop hammering a rate-limited server. Every failure to get a usable
 * answer is a ProviderUnavailableError; bodies are never logged.
 */
import type { Pool } from 'undici';
import { ProviderUnavailableError } from '../errors.js';

export interface HttpJsonOptions {
  baseUrl: string;
  timeoutSeconds: number;
  /** Longest Retry-After we wait out inside one request; longer ones fail fast until they pass. */
  maxInlineRetryAfterSeconds?: number;
}

export interface JsonResponse {
  status: number;
  body: unknown;
}

export class HttpJsonClient {
  private poolPromise: Promise<Pool> | undefined;
  private readonly base: URL;
  private blockedUntil = 0;

  constructor(private readonly options: HttpJsonOptions) {
    this.base = new URL(options.baseUrl);
  }

  /** undici is loaded on first use: a CLI run that needs no HTTP should not pay for it. */
  private pool(): Promise<Pool> {
    this.poolPromise ??= import('undici').then(({ Pool }) => {
      const ms = this.options.timeoutSeconds * 1000;
      return new Pool(this.base.origin, { connections: 16, connectTimeout: ms, headersTimeout: ms, bodyTimeout: ms, keepAliveTimeout: 30_000 });
    });
    return this.poolPromise;
  }

  async request(method: 'GET' | 'POST', path: string, init: { headers?: Record<string, string>; form?: Record<string, string>; json?: unknown } = {}): Promise<JsonResponse> {
    const waitMs = this.blockedUntil - Date.now();
    if (waitMs > 0) throw new ProviderUnavailableError(`${this.base.host} asked us to back off (HTTP 429); retrying in ${Math.ceil(waitMs / 1000)} s`);
    for (let attempt = 0; ; attempt++) {
      const response = await this.once(method, path, init);
      if (response.status !== 429) return response;
      const retryAfter = Number(response.retryAfter ?? '1');
      const seconds = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : 1;
      if (attempt === 0 && seconds <= (this.options.maxInlineRetryAfterSeconds ?? 2)) {
        await new Promise((r) => setTimeout(r, seconds * 1000));
        continue;
      }
      this.blockedUntil = Date.now() + seconds * 1000;
      throw new ProviderUnavailableError(`${this.base.host} is rate-limiting us (HTTP 429, Retry-After ${seconds} s)`);
    }
  }

  private async once(method: string, path: string, init: { headers?: Record<string, string>; form?: Record<string, string>; json?: unknown }): Promise<JsonResponse & { retryAfter?: string }> {
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    } else if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    // `path` is relative to the base URL, or an absolute URL on the same origin (endpoints from discovery).
    let fullPath: string;
    if (/^https?:\/\//.test(path)) {
      const url = new URL(path);
      if (url.origin !== this.base.origin) throw new ProviderUnavailableError(`${url.origin} is not ${this.base.origin}: endpoints must be on the issuer's origin`);
      fullPath = url.pathname + url.search;
    } else {
      fullPath = this.base.pathname.replace(/\/$/, '') + path;
    }
    let res;
    try {
      res = await (await this.pool()).request({ method, path: fullPath, headers, body });
    } catch (err) {
      throw new ProviderUnavailableError(`cannot reach ${this.base.host}: ${(err as Error).message}`, { cause: err });
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw new ProviderUnavailableError(`${this.base.host} broke off its answer: ${(err as Error).message}`, { cause: err });
    }
    if (res.statusCode === 429) return { status: 429, body: undefined, retryAfter: String(res.headers['retry-after'] ?? '') };
    if (res.statusCode >= 500) throw new ProviderUnavailableError(`${this.base.host} answered HTTP ${res.statusCode} on ${path.split('?')[0]}`);
    try {
      return { status: res.statusCode, body: text === '' ? undefined : JSON.parse(text) };
    } catch {
      throw new ProviderUnavailableError(`${this.base.host} answered HTTP ${res.statusCode} with a body that is not JSON on ${path.split('?')[0]}`);
    }
  }

  async close(): Promise<void> {
    if (this.poolPromise) await (await this.poolPromise).close();
  }
}

export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}
