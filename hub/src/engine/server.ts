// EngineServer: the Engine.IO v4 server. It verifies requests, opens
// sessions, and routes polling requests and WebSocket upgrades to them;
// everything after the handshake lives in the session and its transports.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, OutgoingHttpHeaders, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { attachToHttpServer, type AttachOptions } from './attach.js';
import { clientAddress, compileTrust, isSecure, type TrustFunction } from './client-address.js';
import { serializeCookie } from './cookie.js';
import { applyCors } from './cors.js';
import { EngineErrorCode, ENGINE_ERROR_MESSAGES, writeHttpError, writeUpgradeError, type RequestRejection } from './errors.js';
import { jsonpFraming } from './jsonp.js';
import { EngineMetrics } from './metrics.js';
import { runMiddlewares, UpgradeResponse, type EngineMiddleware } from './middleware.js';
import { resolveOptions, type EngineServerOptions, type ResolvedEngineOptions, type TransportName } from './options.js';
import { PollingTransport, XHR_FRAMING } from './polling.js';
import { PreparedMessage } from './prepared.js';
import { randomId } from './random-id.js';
import { NO_RESERVATION, type Reservation } from './session-limits.js';
import { SessionOpener, type OpenAnswer } from './session-opener.js';
import { EngineSocket } from './socket.js';
import { DETACHED_SINK } from './transport.js';
import { UpgradePacer } from './upgrade-pacer.js';
import { parseQuery, verifyRequest, type EngineRequest } from './verify.js';
import { WebSocketTransport } from './websocket.js';
import { WIRE_V4, wireOf } from './wire.js';
import { createWebSocketServer } from './ws-server.js';

/** Payload of the `connection_error` event. */
export interface ConnectionErrorEvent {
  req: IncomingMessage;
  code: EngineErrorCode;
  message: string;
  context?: Record<string, unknown>;
}

/** The Engine.IO v4 server: attach it to an http.Server and listen for `connection`. */
export class EngineServer extends EventEmitter {
  readonly opts: ResolvedEngineOptions;
  /**
   * Open sessions by id, a plain object as engine.io exposes it. It has no
   * prototype, so no sid (`__proto__`, `constructor`…) reaches an inherited
   * property; read it with `clients[id]` or Object.keys.
   */
  readonly clients: Record<string, EngineSocket> = Object.create(null);
  private sessionCount = 0;
  // The lookup verifyRequest uses: own properties only.
  private readonly sessions = { get: (sid: string): EngineSocket | undefined => (Object.hasOwn(this.clients, sid) ? this.clients[sid] : undefined) };
  /** Bad-input and slow-consumer counters. */
  readonly metrics = new EngineMetrics();
  /** Which X-Forwarded-For hops to believe (from `trustProxy`). */
  readonly trust: TrustFunction;
  private wss: WebSocketServer | undefined;
  // Ids of handshakes in flight, for the sid cookie and `initial_headers`.
  private readonly handshakeIds = new WeakMap<IncomingMessage, string>();
  private readonly opener: SessionOpener;
  // The admission place each open session holds, released when it closes.
  private readonly reservations = new Map<string, Reservation>();
  private readonly middlewares: EngineMiddleware[] = [];
  // Headers the middlewares set on an upgrade, for its 101 answer.
  private readonly upgradeResponses = new WeakMap<IncomingMessage, UpgradeResponse>();
  private readonly upgradePacer: UpgradePacer;

  constructor(opts: Partial<EngineServerOptions> = {}) {
    super();
    this.opts = resolveOptions(opts);
    this.trust = compileTrust(this.opts.trustProxy);
    this.opener = new SessionOpener(this);
    this.upgradePacer = new UpgradePacer(this.opts.upgradesPerTurn, (req, socket, head, onSocketError) => this.takeUpgrade(req, socket, head, onSocketError));
  }

  /** The client's address for `req`: the TCP peer, or the forwarded address when the peer is a trusted proxy. */
  clientAddress(req: IncomingMessage): string {
    return clientAddress(req, this.trust);
  }

  /** Whether the client's connection is encrypted: TLS here, or https at a trusted proxy (X-Forwarded-Proto). */
  isSecure(req: IncomingMessage): boolean {
    return isSecure(req, this.trust);
  }

  /**
   * Adds a Connect-style middleware run on every Engine.IO request and
   * upgrade before it is verified (express-session, helmet…); a failure
   * refuses the request with Bad Request.
   */
  use(fn: EngineMiddleware): this {
    this.middlewares.push(fn);
    return this;
  }

  /** The `ws` WebSocketServer that takes the upgrades (engine.io's `engine.ws`), made at first use. */
  get ws(): WebSocketServer {
    return this.webSocketServer();
  }

  /** Number of open sessions. */
  get clientsCount(): number {
    return this.sessionCount;
  }

  /** Serves `path` (default '/engine.io') on an http.Server, leaving other routes and upgrades alone. */
  attach(server: HttpServer, opts: AttachOptions = {}): this {
    attachToHttpServer(this, server, opts);
    return this;
  }

  /** Transports a session on `transport` may upgrade to. */
  upgrades(transport: TransportName): TransportName[] {
    return transport === 'polling' && this.opts.allowUpgrades && this.opts.transports.includes('websocket') ? ['websocket'] : [];
  }

  /** Generates a session id; override or pass `generateId` for custom ids. */
  generateId(req: IncomingMessage): string | PromiseLike<string> {
    if (this.opts.generateId) return this.opts.generateId(req);
    return randomId();
  }

  /** Pre-encodes a message once for many recipients (broadcast): reused WebSocket frame, reused polling text. */
  prepare(data: string | Uint8Array, opts?: { compress?: boolean }): PreparedMessage {
    return new PreparedMessage(data, opts?.compress !== false);
  }

  /** Counts one bad input of `kind` and emits `bad_input` (kind, context). */
  recordBadInput(kind: string, context?: Record<string, unknown>): void {
    this.metrics.countBadInput(kind);
    this.emit('bad_input', kind, context);
  }

  /** @internal Whether a session with this id is open. */
  _hasSession(id: string): boolean {
    return this.sessions.get(id) !== undefined;
  }

  /** @internal A session closed: it leaves the table before its 'close' listeners run. */
  _forget(session: EngineSocket): void {
    if (this.sessions.get(session.id) === session) {
      delete this.clients[session.id];
      this.sessionCount--;
      this.reservations.get(session.id)?.release();
      this.reservations.delete(session.id);
    }
  }

  /** Closes every session with reason 'server shutting down'. */
  close(): this {
    this.upgradePacer.close();
    for (const session of Object.values(this.clients)) session._closeNow('server shutting down');
    return this;
  }

  /** Handles an HTTP request for the Engine.IO path. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const request = parseQuery(req);
    const cors = this.opts.cors;
    if (!cors) {
      if (this.middlewares.length === 0) this.routeRequest(request, res);
      else this.afterMiddlewares(request, res, () => this.routeRequest(request, res));
      return;
    }
    applyCors(cors, req, res, (err, answered) => {
      if (err) this.rejectRequest(request, res, { code: EngineErrorCode.BAD_REQUEST, context: { name: 'CORS_FAILURE', error: err } }, 'bad_request');
      else if (!answered) this.afterMiddlewares(request, res, () => this.routeRequest(request, res));
    });
  }

  /** Handles an HTTP upgrade for the Engine.IO path (at most upgradesPerTurn per event-loop lap; the rest wait their turn). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Until ws owns the socket, a reset from the peer (CVE-2022-21676) must
    // not become an unhandled 'error', also while the upgrade waits.
    const onSocketError = (err: Error) => this.recordBadInput('upgrade_socket_error', { message: err.message });
    socket.on('error', onSocketError);
    this.upgradePacer.offer(req, socket, head, onSocketError);
  }

  private takeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, onSocketError: (err: Error) => void): void {
    const request = parseQuery(req);
    const upgradeHeader = req.headers.upgrade;
    if (upgradeHeader === undefined || upgradeHeader.toLowerCase() !== 'websocket' || req.headers['sec-websocket-key'] === undefined) {
      this.rejectUpgrade(request, socket, { code: EngineErrorCode.BAD_REQUEST, context: { name: 'INVALID_UPGRADE' } }, 'invalid_upgrade');
      return;
    }
    if (this.middlewares.length === 0) {
      this.routeUpgrade(request, socket, head, onSocketError);
      return;
    }
    const res = new UpgradeResponse(req, socket);
    this.upgradeResponses.set(req, res);
    runMiddlewares(this.middlewares, req, res as unknown as ServerResponse, (err) => {
      if (socket.destroyed) return;
      if (err !== undefined) {
        this.metrics.countRefusal('middleware');
        this.rejectUpgrade(request, socket, { code: EngineErrorCode.BAD_REQUEST, context: { name: 'MIDDLEWARE_FAILURE', error: err } }, undefined);
        return;
      }
      this.routeUpgrade(request, socket, head, onSocketError);
    });
  }

  /** Runs the middlewares, then `next`; a failing middleware's request is refused (counted as a `middleware` refusal). */
  private afterMiddlewares(req: EngineRequest, res: ServerResponse, next: () => void): void {
    if (this.middlewares.length === 0) return next();
    (req as EngineRequest & { res?: ServerResponse }).res = res;
    runMiddlewares(this.middlewares, req, res, (err) => {
      if (err === undefined) return next();
      this.metrics.countRefusal('middleware');
      this.rejectRequest(req, res, { code: EngineErrorCode.BAD_REQUEST, context: { name: 'MIDDLEWARE_FAILURE', error: err } }, undefined);
    });
  }

  private routeUpgrade(request: EngineRequest, socket: Duplex, head: Buffer, onSocketError: (err: Error) => void): void {
    const req = request;
    const route = verifyRequest(request, this.opts, this.sessions, true);
    const accept = (onOpen: (ws: WebSocket) => void) => {
      if (socket.destroyed) return;
      // Middlewares that add headers on writeHead (express-session) do it now.
      this.upgradeResponses.get(req)?.writeHead();
      // ws writes the 101 and calls back at once, and a new session writes
      // its open packet there: corked, both leave in one write.
      const corkable = socket as Duplex & { cork?: () => void; uncork?: () => void };
      corkable.cork?.();
      try {
        this.webSocketServer().handleUpgrade(req, socket, head, (ws) => {
          socket.removeListener('error', onSocketError);
          onOpen(ws);
        });
      } finally {
        corkable.uncork?.();
      }
    };
    if (route.kind === 'rejected') {
      this.rejectUpgrade(request, socket, route.rejection, route.badInput);
    } else if (route.kind === 'session') {
      accept((ws) => this.upgradeSession(route.session.id, ws, req));
    } else {
      this.openSession(request, (rejection, id, reservation) => {
        if (rejection) {
          this.rejectUpgrade(request, socket, rejection, rejection.badInput);
          return;
        }
        // ws may drop a socket it finds unusable without telling anyone: the
        // place is given back when the TCP connection goes, whichever way,
        // until the session holds it. The listener goes then: it would keep
        // this handshake's closures alive as long as the connection.
        const releaseOnClose = () => reservation!.release();
        socket.once('close', releaseOnClose);
        if (socket.destroyed) {
          reservation!.release();
          return;
        }
        accept((ws) => {
          socket.removeListener('close', releaseOnClose);
          this.startSession(id!, request, new WebSocketTransport(ws, this.opts, DETACHED_SINK, wireOf(req)), reservation!);
        });
      });
    }
  }

  /** Adds the cookie and lets `initial_headers` / `headers` listeners edit a response's headers. @internal */
  decorateHeaders(headers: OutgoingHttpHeaders, req: IncomingMessage): void {
    const fromMiddlewares = this.upgradeResponses.get(req)?.headers;
    if (fromMiddlewares) Object.assign(headers, fromMiddlewares);
    const handshakeId = this.handshakeIds.get(req);
    if (handshakeId !== undefined) {
      if (this.opts.cookie) headers['Set-Cookie'] = [serializeCookie(handshakeId, this.opts.cookie)];
      this.emit('initial_headers', headers, req);
    }
    this.emit('headers', headers, req);
  }

  /** Whether decorateHeaders would add or change anything for `req`. @internal */
  decoratesHeaders(req: IncomingMessage): boolean {
    return this.listenerCount('headers') > 0 || this.handshakeIds.has(req) || this.upgradeResponses.has(req);
  }

  private routeRequest(req: EngineRequest, res: ServerResponse): void {
    const route = verifyRequest(req, this.opts, this.sessions, false);
    if (route.kind === 'rejected') {
      this.rejectRequest(req, res, route.rejection, route.badInput);
    } else if (route.kind === 'session') {
      (route.session.transport as PollingTransport).handleRequest(req, res);
    } else {
      this.openSession(req, (rejection, id, reservation) => {
        if (rejection) {
          this.rejectRequest(req, res, rejection, rejection.badInput);
          return;
        }
        // The client may have given up while allowRequest/generateId ran.
        if (res.destroyed || req.socket.destroyed) {
          reservation!.release();
          return;
        }
        const j = req._query.j;
        const transport = new PollingTransport(this, j === undefined ? XHR_FRAMING : jsonpFraming(j), DETACHED_SINK, wireOf(req));
        this.startSession(id!, req, transport, reservation!, () => transport.handleRequest(req, res));
      });
    }
  }

  /** Runs a handshake through the limits, allowRequest and generateId (session-opener.ts); remembers the new id for its answer's headers. */
  private openSession(req: EngineRequest, answer: OpenAnswer): void {
    this.opener.open(req, (rejection, id, reservation) => {
      if (id !== undefined) this.handshakeIds.set(req, id);
      answer(rejection, id, reservation);
    });
  }

  /** Registers a new session, writes its open packet, and announces it. */
  private startSession(
    id: string,
    req: IncomingMessage,
    transport: PollingTransport | WebSocketTransport,
    reservation: Reservation,
    takeRequest?: () => void,
  ): void {
    const session = new EngineSocket(id, this, transport, req);
    this.clients[id] = session;
    this.sessionCount++;
    // Without limits there is nothing to give back: no entry per session.
    if (reservation !== NO_RESERVATION) this.reservations.set(id, reservation);
    session._open();
    takeRequest?.();
    this.handshakeIds.delete(req);
    if (session.readyState === 'open') this.emit('connection', session);
  }

  private upgradeSession(sid: string, ws: WebSocket, req: IncomingMessage): void {
    const session = this.sessions.get(sid);
    // The session's revision, whatever this request's EIO says.
    const transport = new WebSocketTransport(ws, this.opts, DETACHED_SINK, session?.protocol === 3 ? wireOf(req) : WIRE_V4);
    if (!session) {
      transport.shutdown('close', 1000);
      return;
    }
    // Only a second WebSocket for the session is the client's fault; a
    // session that is closing just refuses the upgrade.
    const duplicate = session.upgrading || session.upgraded || session.transport.name === 'websocket';
    if (!session._startUpgrade(transport) && duplicate) this.recordBadInput('duplicate_websocket', { sid });
  }

  private webSocketServer(): WebSocketServer {
    if (!this.wss) {
      this.wss = createWebSocketServer(this.opts);
      // Cookies and header listeners reach the 101 response through ws's
      // raw header lines.
      this.wss.on('headers', (lines: string[], req: IncomingMessage) => {
        const headers: OutgoingHttpHeaders = {};
        this.decorateHeaders(headers, req);
        for (const [name, value] of Object.entries(headers)) {
          if (value === undefined) continue;
          for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${item}`);
        }
      });
      // Handshakes ws itself finds malformed (version, subprotocol list,
      // extensions...) are counted and refused like every other failed upgrade.
      this.wss.on('wsClientError', (err: Error, socket: Duplex, req: IncomingMessage) => {
        this.rejectUpgrade(req, socket, { code: EngineErrorCode.BAD_REQUEST, message: err.message, context: { name: 'INVALID_HANDSHAKE', message: err.message } }, 'invalid_upgrade');
      });
    }
    return this.wss;
  }

  private connectionError(req: IncomingMessage, rejection: RequestRejection, badInput: string | undefined): void {
    if (badInput) this.recordBadInput(badInput, { code: rejection.code, ...rejection.context });
    const event: ConnectionErrorEvent = {
      req,
      code: rejection.code,
      // The code's message, as engine.io: the one a refusal sends (allowRequest's, a limit's) is in the response body.
      message: ENGINE_ERROR_MESSAGES[rejection.code],
      context: rejection.context,
    };
    this.emit('connection_error', event);
  }

  private rejectRequest(req: IncomingMessage, res: ServerResponse, rejection: RequestRejection, badInput: string | undefined): void {
    this.connectionError(req, rejection, badInput);
    writeHttpError(res, rejection);
  }

  private rejectUpgrade(req: IncomingMessage, socket: Duplex, rejection: RequestRejection, badInput: string | undefined): void {
    this.connectionError(req, rejection, badInput);
    writeUpgradeError(socket, rejection);
  }
}
