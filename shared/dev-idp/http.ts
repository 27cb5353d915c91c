/**
 * Minimal HTTP plumbing for the dev IdP: parse a request once into a typed
 * shape, route it, and turn thrown OAuth errors into RFC 6749 section 5.2
 * JSON bodies. No framework: the surface is small and must stay auditable.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_BODY_BYTES = 64 * 1024;

export interface DevRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  /** Form or JSON body flattened to string values (first value wins). */
  form: Map<string, string>;
  json: unknown;
  cookies: Map<string, string>;
}

export interface DevResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
}

export type Handler = (req: DevRequest) => DevResponse | Promise<DevResponse>;

/** An error the client is told about, shaped as RFC 6749 5.2 (plus Globus's `errors` list). */
export class OAuthHttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${error}: ${description}`);
  }
}

export function json(status: number, body: unknown, headers: Record<string, string | string[]> = {}): DevResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache', ...headers },
    body: JSON.stringify(body),
  };
}

export function html(status: number, body: string, headers: Record<string, string | string[]> = {}): DevResponse {
  return {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:* http://localhost:*",
      'x-frame-options': 'DENY',
      ...headers,
    },
    body,
  };
}

export function redirect(location: string, headers: Record<string, string | string[]> = {}): DevResponse {
  return { status: 302, headers: { location, 'cache-control': 'no-store', ...headers }, body: '' };
}

export function oauthErrorResponse(err: OAuthHttpError): DevResponse {
  return json(
    err.status,
    {
      error: err.error,
      error_description: err.description,
      errors: [{ status: String(err.status), code: err.error, detail: err.description }],
    },
    err.headers,
  );
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new OAuthHttpError(413, 'invalid_request', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()));
  }
  return cookies;
}

export async function parseRequest(req: IncomingMessage, baseUrl: string): Promise<DevRequest> {
  const url = new URL(req.url ?? '/', baseUrl);
  const form = new Map<string, string>();
  let json: unknown = undefined;
  if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
    const text = await readBody(req);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'application/json') {
      try {
        json = text === '' ? {} : JSON.parse(text);
      } catch {
        throw new OAuthHttpError(400, 'invalid_request', 'body is not valid JSON');
      }
      if (json && typeof json === 'object' && !Array.isArray(json)) {
        for (const [k, v] of Object.entries(json)) if (typeof v === 'string') form.set(k, v);
      }
    } else if (type === 'application/x-www-form-urlencoded' || text === '') {
      for (const [k, v] of new URLSearchParams(text)) {
        // RFC 6749 3.1: parameters must not be repeated.
        if (form.has(k)) throw new OAuthHttpError(400, 'invalid_request', `parameter "${k}" given more than once`);
        form.set(k, v);
      }
    } else {
      throw new OAuthHttpError(415, 'invalid_request', `unsupported content-type "${type}"; send application/x-www-form-urlencoded or application/json`);
    }
  }
  return { method: req.method ?? 'GET', url, headers: req.headers, form, json, cookies: parseCookies(req.headers.cookie) };
}

export function writeResponse(res: ServerResponse, response: DevResponse): void {
  res.writeHead(response.status, { 'content-length': Buffer.byteLength(response.body), ...response.headers });
  res.end(response.body);
}

interface Route {
  method: string;
  pattern: RegExp;
  handler: (req: DevRequest, params: string[]) => DevResponse | Promise<DevResponse>;
}

/** Exact-path routes with optional `:param` segments. */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: Route['handler']): this {
    const pattern = new RegExp('^' + path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[a-z_]+/g, '([^/]+)') + '/?$');
    this.routes.push({ method, pattern, handler });
    return this;
  }

  async dispatch(req: DevRequest): Promise<DevResponse> {
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(req.url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      return route.handler(req, m.slice(1).map((p) => decodeURIComponent(p)));
    }
    if (pathMatched) throw new OAuthHttpError(405, 'invalid_request', `method ${req.method} not allowed on ${req.url.pathname}`);
    throw new OAuthHttpError(404, 'not_found', `no endpoint at ${req.url.pathname}`);
  }
}

/** Reads a required parameter or fails with invalid_request naming it. */
export function param(req: DevRequest, name: string): string {
  const value = req.form.get(name) ?? (req.method === 'GET' ? req.url.searchParams.get(name) : null);
  if (value === null || value === undefined || value === '') {
    throw new OAuthHttpError(400, 'invalid_request', `missing parameter "${name}"`);
  }
  return value;
}

export function optionalParam(req: DevRequest, name: string): string | undefined {
  const value = req.form.get(name) ?? (req.method === 'GET' ? req.url.searchParams.get(name) : null);
  return value === null || value === undefined || value === '' ? undefined : value;
}
