// A namespace: its sockets, its connection middlewares, its adapter, and the
// CONNECT sequence (recovery, middlewares, answer). Emitting on a namespace
// broadcasts to its sockets; 'connection' is announced locally.
import { EventEmitter } from 'node:events';
import { createAdapter, type Adapter } from './adapter.js';
import { BroadcastOperator } from './broadcast-operator.js';
import type { Client } from './client.js';
import { runMiddlewares, type Middleware } from './middleware.js';
import type { RemoteSocket } from './remote-socket.js';
import type { Server } from './server.js';
import { Socket } from './socket.js';
import type { ExtendedError, Room, Session, SocketId } from './types.js';

/** Event names a namespace keeps for itself; serverSideEmit refuses them. */
export const NAMESPACE_RESERVED_EVENTS: ReadonlySet<string> = new Set(['connect', 'connection', 'new_namespace']);

const emitLocally = EventEmitter.prototype.emit;

/** A socket.io-compatible namespace. */
export class Namespace<ListenEvents = any, EmitEvents = any, ServerSideEvents = any, SocketData = any> extends EventEmitter {
  /** The connected sockets, by Socket.IO id. */
  readonly sockets = new Map<SocketId, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  adapter!: Adapter;
  private readonly fns: Middleware<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, ExtendedError>[] = [];
  private ackIds = 0;
  /** CONNECTs being processed (recovery, middlewares): a namespace with one is not empty. */
  private pendingConnects = 0;
  /** @internal Set by a parent with cleanupEmptyChildNamespaces: called whenever this namespace may have become empty. */
  _onEmpty: (() => void) | undefined;

  constructor(
    readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    readonly name: string,
  ) {
    super();
    this._initAdapter();
  }

  /** @internal (Re)creates the adapter from the server's `adapter` option. */
  _initAdapter(): void {
    this.adapter = createAdapter(this.server.adapter()!, this as unknown as Namespace);
    Promise.resolve()
      .then(() => this.adapter.init())
      .catch((err) => process.emitWarning(`adapter of namespace ${this.name} failed to initialise: ${String(err)}`));
  }

  /** @internal Namespace-wide counter: ack ids are unique per namespace, shared with broadcasts. */
  _nextAckId(): number {
    return this.ackIds++;
  }

  /** Adds a connection middleware; `next(err)` refuses the CONNECT with err.message and err.data. */
  use(fn: Middleware<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, ExtendedError>): this {
    this.fns.push(fn);
    return this;
  }

  /** @internal The middlewares, copied by parent namespaces into their children. */
  get _middlewares(): ReadonlyArray<Middleware<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, ExtendedError>> {
    return this.fns;
  }

  to(room: Room | Room[]): BroadcastOperator<SocketData> {
    return this.operator().to(room);
  }

  in(room: Room | Room[]): BroadcastOperator<SocketData> {
    return this.operator().in(room);
  }

  except(room: Room | Room[]): BroadcastOperator<SocketData> {
    return this.operator().except(room);
  }

  compress(compress: boolean): BroadcastOperator<SocketData> {
    return this.operator().compress(compress);
  }

  get volatile(): BroadcastOperator<SocketData> {
    return this.operator().volatile;
  }

  get local(): BroadcastOperator<SocketData> {
    return this.operator().local;
  }

  timeout(ms: number): BroadcastOperator<SocketData> {
    return this.operator().timeout(ms);
  }

  /** Broadcasts an event to every socket of the namespace. */
  override emit(ev: string | symbol, ...args: any[]): boolean {
    if (ev === 'newListener' || ev === 'removeListener') return emitLocally.call(this, ev, ...args);
    return this.operator().emit(ev as string, ...args);
  }

  emitWithAck(ev: string, ...args: any[]): Promise<any> {
    return this.operator().emitWithAck(ev, ...args);
  }

  /** Broadcasts a `message` event. */
  send(...args: any[]): this {
    this.emit('message', ...args);
    return this;
  }

  write(...args: any[]): this {
    return this.send(...args);
  }

  /** Sends an event to the other servers of a cluster (none with the in-memory adapter: an ack gets []). */
  serverSideEmit(ev: string, ...args: any[]): boolean {
    if (typeof ev !== 'string' || ev.length === 0) throw new TypeError('serverSideEmit: the event name must be a non-empty string');
    if (NAMESPACE_RESERVED_EVENTS.has(ev)) throw new Error(`"${ev}" is a reserved event name`);
    this.adapter.serverSideEmit([ev, ...args]);
    return true;
  }

  /** serverSideEmit() with the replies of the other servers as a promise. */
  serverSideEmitWithAck(ev: string, ...args: any[]): Promise<any[]> {
    return new Promise((resolve, reject) => {
      this.serverSideEmit(ev, ...args, (err: (Error & { responses?: unknown }) | null, replies: any[]) => {
        if (!err) return resolve(replies);
        err.responses = replies;
        reject(err);
      });
    });
  }

  /** @internal Emits to this namespace's own listeners (connection, new_namespace...), never to clients. */
  _emitLocal(ev: string, ...args: unknown[]): boolean {
    return emitLocally.call(this, ev, ...args);
  }

  /** @internal An event from another server, delivered to the local listeners. */
  _onServerSideEmit(args: [string, ...unknown[]]): void {
    emitLocally.apply(this, args);
  }

  allSockets(): Promise<Set<SocketId>> {
    return this.operator().allSockets();
  }

  fetchSockets(): Promise<RemoteSocket<SocketData>[]> {
    return this.operator().fetchSockets();
  }

  socketsJoin(room: Room | Room[]): void {
    this.operator().socketsJoin(room);
  }

  socketsLeave(room: Room | Room[]): void {
    this.operator().socketsLeave(room);
  }

  disconnectSockets(close = false): void {
    this.operator().disconnectSockets(close);
  }

  /**
   * @internal Runs the CONNECT sequence for `client`: recovery, middlewares, then either
   * the `40` answer and 'connection', or the `44` refusal. Reports the outcome to the client.
   */
  async _add(client: Client, auth: Record<string, any>): Promise<void> {
    this.pendingConnects++;
    let socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
    try {
      const session = await this.restore(auth);
      socket = new Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this, client, auth, session ?? undefined);
    } catch (err) {
      this.pendingConnects--;
      this._checkEmpty();
      throw err;
    }
    if (socket.recovered) this.server.metrics.recoveredSessions++;
    if (socket.recovered && this.server._recovery?.skipMiddlewares && client.isOpen) {
      this.pendingConnects--;
      return this.doConnect(socket, client);
    }
    runMiddlewares(this.fns, socket, (err) => {
      // Outside the middleware's stack, so that a throwing listener cannot re-enter it.
      process.nextTick(() => {
        // Settled: the socket either joins below or leaves through _cleanup, whose _remove checks for emptiness.
        this.pendingConnects--;
        if (!client.isOpen) {
          socket._cleanup();
          client._connectAborted(this.name);
          return;
        }
        if (err) {
          this.server.metrics.middlewareRejections++;
          socket._cleanup();
          // The refusal goes out first: past connectTimeout, ending the attempt closes the connection.
          socket._error(connectErrorPayload(err));
          client._connectAborted(this.name);
          return;
        }
        this.doConnect(socket, client);
      });
    });
  }

  /** @internal Called by a socket that leaves. */
  _remove(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    this.sockets.delete(socket.id);
    this._checkEmpty();
  }

  /** @internal Tells the parent (if it cleans up) when no socket is connected or connecting. */
  _checkEmpty(): void {
    if (this._onEmpty !== undefined && this.sockets.size === 0 && this.pendingConnects === 0) this._onEmpty();
  }


  private async restore(auth: Record<string, any>): Promise<Session | null> {
    if (!this.server._recovery) return null;
    const { pid, offset } = auth;
    if (typeof pid !== 'string' || typeof offset !== 'string') return null;
    try {
      return await this.adapter.restoreSession(pid, offset);
    } catch {
      // A failing session store means no recovery, not a failed connection.
      return null;
    }
  }

  private doConnect(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, client: Client): void {
    this.sockets.set(socket.id, socket);
    // The socket is fully wired before user code sees it, so a disconnect() in a handler is safe.
    socket._onconnect();
    client._connected(socket as unknown as Socket);
    emitLocally.call(this, 'connect', socket);
    emitLocally.call(this, 'connection', socket);
  }

  private operator(): BroadcastOperator<SocketData> {
    return new BroadcastOperator<SocketData>(this.adapter);
  }
}

/** The CONNECT_ERROR payload for a middleware error: its message, and its data when set. */
function connectErrorPayload(err: ExtendedError | unknown): { message: string; data?: unknown } {
  if (err instanceof Error) {
    const data = (err as ExtendedError).data;
    return data === undefined ? { message: err.message } : { message: err.message, data };
  }
  return { message: String(err) };
}
