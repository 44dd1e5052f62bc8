// A dynamic namespace (io.of(/regexp/) or io.of(fn)): it owns no sockets,
// creates child namespaces on demand, gives them its middlewares and
// connection listeners, and fans broadcasts out to them.
import type { Packet } from '@sitehub/protocol';
import { Adapter } from './adapter.js';
import { Namespace } from './namespace.js';
import type { Server } from './server.js';
import type { FetchedSockets } from './adapter-seam.js';
import type { BroadcastOptions, Room, SocketId } from './types.js';

let parentCount = 0;

/** The namespace returned by io.of(regexp | fn). */
export class ParentNamespace<ListenEvents = any, EmitEvents = any, ServerSideEvents = any, SocketData = any> extends Namespace<
  ListenEvents,
  EmitEvents,
  ServerSideEvents,
  SocketData
> {
  /** The namespaces created so far by this parent. */
  readonly children = new Set<Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();

  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) {
    // A name no client can ask for: CONNECT names start with '/' followed by what the client chose.
    super(server, '/_' + parentCount++);
  }

  override _initAdapter(): void {
    this.adapter = new ParentBroadcastAdapter(this as unknown as Namespace);
  }

  /** @internal Creates the child namespace `name`, registered on the server. */
  createChild(name: string): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const child = new Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this.server, name);
    for (const fn of this._middlewares) child.use(fn);
    for (const listener of this.listeners('connect')) child.on('connect', listener as (...args: any[]) => void);
    for (const listener of this.listeners('connection')) child.on('connection', listener as (...args: any[]) => void);
    this.children.add(child);
    if (this.server._cleanupEmptyChildNamespaces) {
      // Empty means no socket connected and none being connected: a CONNECT
      // still in its middlewares must not find its namespace gone.
      child._onEmpty = () => {
        if (this.server._nsps.get(name) !== child) return;
        child._onEmpty = undefined;
        void child.adapter.close();
        this.server._nsps.delete(name);
        this.children.delete(child);
      };
    }
    this.server._registerNamespace(child);
    return child;
  }
}

/** The parent's adapter: every operation goes to each child's adapter. */
class ParentBroadcastAdapter extends Adapter {
  private get children(): Set<Namespace> {
    return (this.nsp as unknown as ParentNamespace).children as Set<Namespace>;
  }

  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    // Each child encodes its own copy: the namespace name is part of the header.
    for (const child of this.children) child.adapter.broadcast({ ...packet }, opts);
  }

  override broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    // The operator expects one count per server, so the children's counts are summed.
    let total = 0;
    for (const child of this.children) child.adapter.broadcastWithAck({ ...packet }, opts, (n) => (total += n), ack);
    clientCountCallback(total);
  }

  override async sockets(rooms: Set<Room>): Promise<Set<SocketId>> {
    const ids = new Set<SocketId>();
    for (const child of this.children) for (const id of await child.adapter.sockets(rooms)) ids.add(id);
    return ids;
  }

  override async fetchSockets(opts: BroadcastOptions): Promise<FetchedSockets> {
    const all: FetchedSockets = [];
    for (const child of this.children) all.push(...(await child.adapter.fetchSockets(opts)));
    return all;
  }

  override addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    for (const child of this.children) child.adapter.addSockets(opts, rooms);
  }

  override delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    for (const child of this.children) child.adapter.delSockets(opts, rooms);
  }

  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    for (const child of [...this.children]) child.adapter.disconnectSockets(opts, close);
  }
}
