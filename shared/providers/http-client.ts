/**
 * JSON over HTTP to an authorization server, for code that speaks its API
 * directly (Globus Auth, the client's login flows): a base URL, JSON or form
 * bodies, parsed answers. It is a thin layer over the HTTP stack
 * (./http-stack.ts), which owns pooling, timeouts and the 429 back-off; pass
 * the daemon's stack as `http` to share them, or let the client build its own.
 * Every failure to get a usable answer is a ProviderUnavailableError; bodies
 * are never logged.
 */
import { ProviderUnavailableError } from '../errors.js';
import { createHttpStack, type HttpStack } from './http-stack.js';

export { createHttpStack, type HttpStack, type HttpStackOptions } from './http-stack.js';

export interface HttpJsonOptions {
  baseUrl: string;
  timeoutSeconds: number;
  /** Longest Retry-After we wait out inside one request; longer ones fail fast until they pass. */
  maxInlineRetryAfterSeconds?: number;
  /** A shared stack (the daemon's); without one the client builds and closes its own. */
  http?: HttpStack;
}

export interface JsonResponse {
  status: number;
  body: unknown;
}

export class HttpJsonClient {
  private readonly base: URL;
  private readonly http: HttpStack;
  private readonly ownsStack: boolean;

  constructor(options: HttpJsonOptions) {
    this.base = new URL(options.baseUrl);
    this.ownsStack = !options.http;
    this.http = options.http ?? createHttpStack({ timeoutSeconds: options.timeoutSeconds, maxInlineRetryAfterSeconds: options.maxInlineRetryAfterSeconds });
  }

  async request(method: 'GET' | 'POST', path: string, init: { headers?: Record<string, string>; form?: Record<string, string>; json?: unknown } = {}): Promise<JsonResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    } else if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const url = this.resolve(path);
    const res = await this.http.fetch(url, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    try {
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
    } catch {
      throw new ProviderUnavailableError(`${this.base.host} answered HTTP ${res.status} with a body that is not JSON on ${url.pathname}`);
    }
  }

  /** `path` is relative to the base URL, or an absolute URL on the same origin (endpoints from discovery). */
  private resolve(path: string): URL {
    if (/^https?:\/\//.test(path)) {
      const url = new URL(path);
      if (url.origin !== this.base.origin) throw new ProviderUnavailableError(`${url.origin} is not ${this.base.origin}: endpoints must be on the issuer's origin`);
      return url;
    }
    return new URL(this.base.pathname.replace(/\/$/, '') + path, this.base.origin);
  }

  async close(): Promise<void> {
    if (this.ownsStack) await this.http.close();
  }
}

export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}
