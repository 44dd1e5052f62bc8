// CORS for the polling transport, with the option shapes of the `cors`
// package. Headers are only ever added when the `cors` option is set: without
// it a browser on another origin is granted nothing (CVE-2020-28481).
import type { IncomingMessage, ServerResponse } from 'node:http';

export type StaticOrigin = boolean | string | RegExp | Array<string | RegExp>;
export type OriginCallback = (err: Error | null, origin?: StaticOrigin) => void;

/** The `cors` option: which origins get access, and the preflight answers. */
export interface CorsOptions {
  /** `'*'` (default), `true` to reflect the request origin, a list/RegExp to match, or a callback. */
  origin?: StaticOrigin | ((origin: string | undefined, cb: OriginCallback) => void);
  methods?: string | string[];
  credentials?: boolean;
  allowedHeaders?: string | string[];
  /** Alias of allowedHeaders (the `cors` package accepts both). */
  headers?: string | string[];
  /** Status of a preflight answer (default 204; some legacy browsers need 200). */
  optionsSuccessStatus?: number;
  exposedHeaders?: string | string[];
  /** Preflight cache lifetime in seconds. */
  maxAge?: number;
}

const DEFAULT_METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE';

/**
 * Adds the CORS headers for `req` to `res`. Calls back with `true` when the
 * request was a preflight and has been answered (204), `false` to go on, or
 * an error when the origin callback failed.
 */
export function applyCors(opts: CorsOptions, req: IncomingMessage, res: ServerResponse, done: (err: Error | null, answered: boolean) => void): void {
  const requestOrigin = req.headers.origin;
  const withOrigin = (err: Error | null, allowed?: StaticOrigin) => {
    if (err) return done(err, false);
    if (allowed === false) return done(null, false);
    setOriginHeaders(res, allowed ?? '*', requestOrigin);
    if (opts.credentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
    // On preflights too, as the `cors` package does.
    const exposed = list(opts.exposedHeaders);
    if (exposed) res.setHeader('Access-Control-Expose-Headers', exposed);
    if (req.method === 'OPTIONS') {
      answerPreflight(opts, req, res);
      return done(null, true);
    }
    done(null, false);
  };
  const origin = opts.origin;
  if (typeof origin === 'function') {
    let called = false;
    try {
      origin(requestOrigin, (err, allowed) => {
        if (called) return;
        called = true;
        withOrigin(err, allowed);
      });
    } catch (err) {
      if (!called) {
        called = true;
        withOrigin(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return;
  }
  withOrigin(null, origin);
}

function setOriginHeaders(res: ServerResponse, allowed: StaticOrigin, requestOrigin: string | undefined): void {
  if (allowed === '*') {
    res.setHeader('Access-Control-Allow-Origin', '*');
    return;
  }
  // Anything but `*` depends on the request's origin, so caches must key on it.
  res.appendHeader('Vary', 'Origin');
  if (typeof allowed === 'string') {
    res.setHeader('Access-Control-Allow-Origin', allowed);
    return;
  }
  if (requestOrigin !== undefined && allowed !== false && (allowed === true || originMatches(requestOrigin, allowed))) {
    res.setHeader('Access-Control-Allow-Origin', requestOrigin);
  }
}

function originMatches(origin: string, allowed: RegExp | Array<string | RegExp>): boolean {
  const patterns = Array.isArray(allowed) ? allowed : [allowed];
  return patterns.some((p) => (typeof p === 'string' ? p === origin : p.test(origin)));
}

function answerPreflight(opts: CorsOptions, req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Access-Control-Allow-Methods', list(opts.methods) ?? DEFAULT_METHODS);
  let allowedHeaders = list(opts.allowedHeaders ?? opts.headers);
  if (allowedHeaders === undefined) {
    allowedHeaders = req.headers['access-control-request-headers'];
    res.appendHeader('Vary', 'Access-Control-Request-Headers');
  }
  if (allowedHeaders) res.setHeader('Access-Control-Allow-Headers', allowedHeaders);
  if (opts.maxAge !== undefined) res.setHeader('Access-Control-Max-Age', String(opts.maxAge));
  res.statusCode = opts.optionsSuccessStatus ?? 204;
  res.setHeader('Content-Length', '0');
  res.end();
}

function list(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}
