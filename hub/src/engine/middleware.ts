// `engine.use(fn)`: Connect-style middlewares (express-session, helmet, …)
// run on every Engine.IO HTTP request and WebSocket upgrade before it is
// verified. A middleware that fails (next(err), a throw, a rejected promise)
// refuses the request with Bad Request ("MIDDLEWARE_FAILURE").
import { EventEmitter } from 'node:events';
import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** A Connect-style middleware; `res` is a ServerResponse, or an UpgradeResponse on WebSocket upgrades. */
export type EngineMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Runs `middlewares` in order; `done(err)` once one fails or all called next(). */
export function runMiddlewares(middlewares: readonly EngineMiddleware[], req: IncomingMessage, res: ServerResponse, done: (err?: unknown) => void): void {
  let index = 0;
  const step = (err?: unknown): void => {
    if (err !== undefined && err !== null) return done(err);
    const fn = middlewares[index++];
    if (fn === undefined) return done();
    let settled = false;
    const next = (e?: unknown) => {
      // A middleware calling next() twice must not run the chain twice.
      if (settled) return;
      settled = true;
      step(e);
    };
    try {
      const result: unknown = fn(req, res, next);
      if (result instanceof Promise) result.catch((e: unknown) => next(e ?? new Error('middleware failed')));
    } catch (e) {
      next(e ?? new Error('middleware failed'));
    }
  };
  step();
}

/**
 * The part of ServerResponse middlewares use, for a WebSocket upgrade: the
 * headers they set go into the 101 answer (see `headersOf`), and `end()`
 * refuses the upgrade by dropping the connection, as engine.io does.
 */
export class UpgradeResponse extends EventEmitter {
  readonly headers: OutgoingHttpHeaders = {};
  headersSent = false;

  constructor(
    readonly req: IncomingMessage,
    private readonly socket: Duplex,
  ) {
    super();
    socket.once('close', () => this.emit('close'));
  }

  setHeader(name: string, value: OutgoingHttpHeader): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  getHeader(name: string): OutgoingHttpHeader | undefined {
    return this.headers[name.toLowerCase()];
  }

  hasHeader(name: string): boolean {
    return name.toLowerCase() in this.headers;
  }

  removeHeader(name: string): void {
    delete this.headers[name.toLowerCase()];
  }

  getHeaders(): OutgoingHttpHeaders {
    return { ...this.headers };
  }

  /** Called just before the 101 is written, so that middlewares that wait for it (express-session) add their headers. */
  writeHead(): this {
    return this;
  }

  write(): boolean {
    return true;
  }

  /** A middleware answered the upgrade itself: the connection is dropped. */
  end(): this {
    this.emit('finish');
    this.socket.destroy();
    return this;
  }
}
