// The socket.io-compatible Server: the Engine.IO server and its
// attachment to http servers, the namespace registry (static and dynamic),
// the main namespace's shortcuts, and shutdown.
import { EventEmitter } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { Encoder } from '@sitehub/protocol';
import { Adapter, type AdapterConstructor } from './adapter.js';
import type { BroadcastOperator } from './broadcast-operator.js';
import { Client, clientOfConnection } from './client.js';
import { ConnectPacer } from './connect-pacer.js';
import { EngineServer, type EngineSocket } from '../engine/index.js';
import { RealtimeMetrics } from './metrics.js';
import type { Middleware } from './middleware.js';
import { Namespace } from './namespace.js';
import { ParentNamespace } from './parent-namespace.js';
import { recoveryConfig, SessionAwareAdapter, type RecoveryConfig } from './recovery.js';
import type { RemoteSocket } from './remote-socket.js';
import { attachClientBundle } from './serve-client.js';
import type { Socket } from './socket.js';
import { OWN_OPTIONS, type ParentNspNameMatchFn, type ServerOptions } from './server-options.js';
import type { ExtendedError, Room, SocketId } from './types.js';

export type { ParentNspNameMatchFn, ServerOptions } from './server-options.js';

type AnyHttpServer = HttpServer | HttpsServer;

/** A socket.io-compatible Socket.IO v5 server. */
export class Server<ListenEvents = any, EmitEvents = any, ServerSideEvents = any, SocketData = any> extends EventEmitter {
  /** The main namespace '/'. */
  readonly sockets: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The Engine.IO server carrying every connection. */
  engine: EngineServer;
  /** The last http server this server was attached to. */
  httpServer: AnyHttpServer | undefined;
  /** The options as given, connectionStateRecovery filled in with its defaults. */
  readonly opts: Partial<ServerOptions>;
  /** Counters of refused input (see RealtimeMetrics). */
  readonly metrics = new RealtimeMetrics();
  readonly encoder = new Encoder();
  /** @internal */
  readonly _nsps = new Map<string, Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  /** @internal Recovery settings, undefined when recovery is off. */
  readonly _recovery: RecoveryConfig | undefined;
  /** @internal */
  readonly _cleanupEmptyChildNamespaces: boolean;
  /** @internal */
  readonly _maxAttachments: number | undefined;
  /** @internal */
  readonly _attachmentTimeout: number;
  /** @internal */
  readonly _maxNestingDepth: number;
  /** @internal Starts at most connectsPerTurn CONNECTs per event-loop lap. */
  readonly _connectPacer: ConnectPacer;
  private readonly parentNsps = new Map<ParentNspNameMatchFn, ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  private readonly parentsByRegExp = new Map<RegExp, ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  private readonly ownedHttpServers = new Set<AnyHttpServer>();
  private _adapter: AdapterConstructor | undefined;
  private _path = '/socket.io';
  private _connectTimeout = 45_000;
  private _serveClient = true;
  private engineAttached = false;

  constructor(opts?: Partial<ServerOptions>);
  constructor(srv?: AnyHttpServer | number | string, opts?: Partial<ServerOptions>);
  constructor(srv?: AnyHttpServer | number | string | Partial<ServerOptions>, opts: Partial<ServerOptions> = {}) {
    super();
    if (srv !== null && typeof srv === 'object' && typeof (srv as Partial<HttpServer>).listen !== 'function') {
      opts = srv as Partial<ServerOptions>;
      srv = undefined;
    }
    this.opts = { ...opts };
    if (opts.connectionStateRecovery) this.opts.connectionStateRecovery = recoveryConfig(opts.connectionStateRecovery);
    this._recovery = this.opts.connectionStateRecovery as RecoveryConfig | undefined;
    this._cleanupEmptyChildNamespaces = opts.cleanupEmptyChildNamespaces === true;
    this._maxAttachments = opts.maxAttachments;
    this._attachmentTimeout = opts.attachmentTimeout ?? 30_000;
    this._maxNestingDepth = opts.maxNestingDepth ?? 100;
    this._connectPacer = new ConnectPacer(opts.connectsPerTurn ?? 256);
    this.path(opts.path ?? '/socket.io');
    this.connectTimeout(opts.connectTimeout ?? 45_000);
    this.serveClient(opts.serveClient !== false);
    this._adapter = opts.adapter ?? (this._recovery ? SessionAwareAdapter : Adapter);
    this.engine = this.createEngine({});
    this.sockets = this.of('/');
    if (srv !== undefined && srv !== null) this.attach(srv as AnyHttpServer | number);
  }

  /** Whether to serve the client bundle (getter) / sets it. */
  serveClient(): boolean;
  serveClient(v: boolean): this;
  serveClient(v?: boolean): this | boolean {
    if (v === undefined) return this._serveClient;
    this._serveClient = v;
    return this;
  }

  /** The path served (getter) / sets it, before attach(). */
  path(): string;
  path(v: string): this;
  path(v?: string): this | string {
    if (v === undefined) return this._path;
    this._path = v.replace(/\/$/, '');
    return this;
  }

  /** The connect timeout in ms (getter) / sets it. */
  connectTimeout(): number;
  connectTimeout(v: number): this;
  connectTimeout(v?: number): this | number {
    if (v === undefined) return this._connectTimeout;
    this._connectTimeout = v;
    return this;
  }

  /** The adapter constructor (getter) / replaces it, re-creating the adapter of every namespace. */
  adapter(): AdapterConstructor | undefined;
  adapter(v: AdapterConstructor): this;
  adapter(v?: AdapterConstructor): this | AdapterConstructor | undefined {
    if (v === undefined) return this._adapter;
    this._adapter = v;
    for (const nsp of this._nsps.values()) nsp._initAdapter();
    return this;
  }

  /** Alias of attach(). */
  listen(srv: AnyHttpServer | number | string, opts: Partial<ServerOptions> = {}): this {
    return this.attach(srv, opts);
  }

  /** Serves Socket.IO on `srv`, or on a new http server listening on port `srv`. */
  attach(srv: AnyHttpServer | number | string, opts: Partial<ServerOptions> = {}): this {
    if (typeof srv === 'function') {
      throw new Error('You are trying to attach socket.io to an express request handler function. Please pass a http.Server instance.');
    }
    let httpServer: AnyHttpServer;
    if (typeof srv === 'number' || (typeof srv === 'string' && Number(srv) === Number(srv))) {
      httpServer = createServer((_req, res) => {
        res.writeHead(404);
        res.end();
      });
      this.ownedHttpServers.add(httpServer);
      httpServer.listen(Number(srv));
    } else {
      httpServer = srv as AnyHttpServer;
    }
    // Engine options given to attach() apply while no http server has been attached yet.
    if (!this.engineAttached && Object.keys(opts).some((key) => !OWN_OPTIONS.has(key))) {
      this.engine.removeAllListeners('connection');
      this.engine = this.createEngine(opts);
    }
    this.engineAttached = true;
    this.engine.attach(httpServer as HttpServer, {
      path: opts.path ?? this._path,
      ...(this.opts.addTrailingSlash !== undefined && { addTrailingSlash: this.opts.addTrailingSlash }),
      ...(this.opts.destroyUpgrade !== undefined && { destroyUpgrade: this.opts.destroyUpgrade }),
      ...(this.opts.destroyUpgradeTimeout !== undefined && { destroyUpgradeTimeout: this.opts.destroyUpgradeTimeout }),
    });
    if (this._serveClient) attachClientBundle(httpServer as HttpServer, opts.path ?? this._path, this.engine.opts.cors);
    this.httpServer = httpServer;
    return this;
  }

  /** Uses `engine` (an EngineServer already attached somewhere) for new connections. */
  bind(engine: EngineServer): this {
    this.engine = engine;
    this.engineAttached = true;
    engine.on('connection', this.onConnection);
    return this;
  }

  /** The namespace `name` (created if needed), or a parent of dynamic namespaces for a RegExp or function. */
  of(
    name: string | RegExp | ParentNspNameMatchFn,
    fn?: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    if (typeof name === 'function' || name instanceof RegExp) {
      const parent = new ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this);
      if (typeof name === 'function') {
        this.parentNsps.set(name, parent);
      } else {
        const regexp = name;
        this.parentNsps.set((nsp, _auth, next) => next(null, testRegExp(regexp, nsp)), parent);
        this.parentsByRegExp.set(regexp, parent);
      }
      if (fn) parent.on('connect', fn);
      return parent;
    }
    if (!name.startsWith('/')) name = '/' + name;
    let nsp = this._nsps.get(name);
    if (!nsp) {
      for (const [regexp, parent] of this.parentsByRegExp) {
        if (testRegExp(regexp, name)) return parent.createChild(name);
      }
      nsp = new Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this, name);
      this._registerNamespace(nsp);
    }
    if (fn) nsp.on('connect', fn);
    return nsp;
  }

  /** Disconnects every socket ('server shutting down'), closes the engine, and the http server if this Server created it. */
  async close(fn?: (err?: Error) => void): Promise<void> {
    // The engine's sessions are the clients (no set of our own: one entry per connection).
    for (const conn of Object.values(this.engine.clients)) clientOfConnection(conn)?._shutdown('server shutting down');
    await Promise.allSettled([...this._nsps.values(), ...this.parentNsps.values()].map(async (nsp) => nsp.adapter.close()));
    this.engine.close();
    // Like socket.io, close() also closes the http server it is attached to
    // (and any it created), so code written for socket.io shuts down the same.
    const servers = new Set<AnyHttpServer>(this.ownedHttpServers);
    if (this.httpServer) servers.add(this.httpServer);
    this.ownedHttpServers.clear();
    let error: Error | undefined;
    // A server that never listened answers ERR_SERVER_NOT_RUNNING, passed to
    // `fn` as socket.io does.
    for (const httpServer of servers) {
      await new Promise<void>((resolve) =>
        httpServer.close((err) => {
          error ??= err;
          resolve();
        }),
      );
    }
    fn?.(error);
  }

  /** Adds a connection middleware to the main namespace. */
  use(fn: Middleware<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, ExtendedError>): this {
    this.sockets.use(fn);
    return this;
  }

  to(room: Room | Room[]): BroadcastOperator<SocketData> {
    return this.sockets.to(room);
  }

  in(room: Room | Room[]): BroadcastOperator<SocketData> {
    return this.sockets.in(room);
  }

  except(room: Room | Room[]): BroadcastOperator<SocketData> {
    return this.sockets.except(room);
  }

  /** Broadcasts to every socket of the main namespace. */
  override emit(ev: string | symbol, ...args: any[]): boolean {
    return this.sockets.emit(ev, ...args);
  }

  emitWithAck(ev: string, ...args: any[]): Promise<any> {
    return this.sockets.emitWithAck(ev, ...args);
  }

  send(...args: any[]): this {
    this.sockets.send(...args);
    return this;
  }

  write(...args: any[]): this {
    return this.send(...args);
  }

  serverSideEmit(ev: string, ...args: any[]): boolean {
    return this.sockets.serverSideEmit(ev, ...args);
  }

  serverSideEmitWithAck(ev: string, ...args: any[]): Promise<any[]> {
    return this.sockets.serverSideEmitWithAck(ev, ...args);
  }

  allSockets(): Promise<Set<SocketId>> {
    return this.sockets.allSockets();
  }

  compress(compress: boolean): BroadcastOperator<SocketData> {
    return this.sockets.compress(compress);
  }

  get volatile(): BroadcastOperator<SocketData> {
    return this.sockets.volatile;
  }

  get local(): BroadcastOperator<SocketData> {
    return this.sockets.local;
  }

  timeout(ms: number): BroadcastOperator<SocketData> {
    return this.sockets.timeout(ms);
  }

  fetchSockets(): Promise<RemoteSocket<SocketData>[]> {
    return this.sockets.fetchSockets();
  }

  socketsJoin(room: Room | Room[]): void {
    this.sockets.socketsJoin(room);
  }

  socketsLeave(room: Room | Room[]): void {
    this.sockets.socketsLeave(room);
  }

  disconnectSockets(close = false): void {
    this.sockets.disconnectSockets(close);
  }

  /** @internal Adds a namespace to the registry and announces it with 'new_namespace'. */
  _registerNamespace(nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    this._nsps.set(nsp.name, nsp);
    // During construction `sockets` is the namespace being registered.
    if (nsp.name !== '/') this.sockets._emitLocal('new_namespace', nsp);
  }

  /** @internal Finds the namespace a CONNECT asks for, creating a dynamic one if a parent accepts; null if none. */
  _resolveNamespace(name: string, auth: Record<string, any>, done: (nsp: Namespace | null) => void): void {
    const existing = this._nsps.get(name);
    if (existing) return done(existing as unknown as Namespace);
    const matchers = [...this.parentNsps.entries()];
    const tryNext = (i: number): void => {
      if (i === matchers.length) return done(null);
      const [matches, parent] = matchers[i]!;
      let answered = false;
      matches(name, auth, (err, allow) => {
        if (answered) return;
        answered = true;
        if (err || !allow) return tryNext(i + 1);
        // Another CONNECT may have created it while the matcher ran.
        const nsp = this._nsps.get(name) ?? parent.createChild(name);
        done(nsp as unknown as Namespace);
      });
    };
    tryNext(0);
  }

  private createEngine(attachOpts: Partial<ServerOptions>): EngineServer {
    const engineOpts: Record<string, unknown> = {};
    for (const [key, value] of Object.entries({ ...this.opts, ...attachOpts })) {
      if (!OWN_OPTIONS.has(key)) engineOpts[key] = value;
    }
    const engine = new EngineServer(engineOpts);
    engine.on('connection', this.onConnection);
    return engine;
  }

  private onConnection = (conn: EngineSocket): void => {
    // Held by its connection (see clientOfConnection) as long as that is open.
    new Client(this as unknown as Server, conn);
  };
}

function testRegExp(regexp: RegExp, name: string): boolean {
  // A global or sticky RegExp keeps state between test() calls.
  regexp.lastIndex = 0;
  return regexp.test(name);
}

// Listener management on the server is listener management on the main namespace
// (io.on('connection') is io.sockets.on('connection')).
const DELEGATED = [
  'on', 'once', 'off', 'addListener', 'removeListener', 'removeAllListeners', 'prependListener',
  'prependOnceListener', 'listeners', 'rawListeners', 'listenerCount', 'eventNames', 'setMaxListeners', 'getMaxListeners',
] as const;
for (const method of DELEGATED) {
  Object.defineProperty(Server.prototype, method, {
    configurable: true,
    writable: true,
    value(this: Server, ...args: unknown[]) {
      const result = (this.sockets as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
      return result === this.sockets ? this : result;
    },
  });
}
