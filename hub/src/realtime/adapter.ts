// The in-memory adapter: the room index of one namespace and delivery of
// broadcasts to the sockets of this process. A cluster adapter replaces it
// through the `adapter` option (a class or factory taking the namespace) and
// sees the namespace only through the seam in adapter-seam.ts.
import { EventEmitter } from 'node:events';
import type { Packet } from '@sitehub/protocol';
import type { PreparedMessage } from '../engine/index.js';
import type { AdapterHealth, AdapterNamespace, AdapterSocket, FetchedSockets } from './adapter-seam.js';
import type {
  BroadcastFlags,
  BroadcastOptions,
  EncodedPacket,
  PrivateSessionId,
  Room,
  Session,
  SessionToPersist,
  SocketId,
} from './types.js';

/** What the `adapter` option holds: a class (or factory) building the adapter of a namespace; `health` feeds /readyz. */
export type AdapterConstructor = ((new (nsp: AdapterNamespace) => Adapter) | ((nsp: AdapterNamespace) => Adapter)) & {
  health?: () => AdapterHealth;
};

/** Builds a namespace's adapter from the `adapter` option, class or factory function. */
export function createAdapter(ctor: AdapterConstructor, nsp: AdapterNamespace): Adapter {
  // A class cannot be called without `new`; an arrow function cannot be constructed.
  return typeof ctor.prototype === 'object' && ctor.prototype !== null
    ? new (ctor as new (nsp: AdapterNamespace) => Adapter)(nsp)
    : (ctor as (nsp: AdapterNamespace) => Adapter)(nsp);
}

/** Room index and local broadcast; emits create-room, delete-room, join-room, leave-room. */
export class Adapter extends EventEmitter {
  /** room -> the sockets in it */
  readonly rooms = new Map<Room, Set<SocketId>>();
  /** socket -> the rooms it is in */
  readonly sids = new Map<SocketId, Set<Room>>();

  constructor(readonly nsp: AdapterNamespace) {
    super();
  }

  /** Called once after construction; a cluster adapter connects here. */
  init(): Promise<void> | void {}

  /** Called when the namespace or the server closes. */
  close(): Promise<void> | void {}

  /** How many server processes share this namespace. */
  serverCount(): Promise<number> {
    return Promise.resolve(1);
  }

  /** Adds socket `id` to each of `rooms`. */
  addAll(id: SocketId, rooms: Set<Room>): Promise<void> | void {
    let joined = this.sids.get(id);
    if (!joined) this.sids.set(id, (joined = new Set()));
    for (const room of rooms) {
      joined.add(room);
      let members = this.rooms.get(room);
      if (!members) {
        this.rooms.set(room, (members = new Set()));
        this.emit('create-room', room);
      }
      if (!members.has(id)) {
        members.add(id);
        this.emit('join-room', room, id);
      }
    }
  }

  /** Removes socket `id` from `room`. */
  del(id: SocketId, room: Room): Promise<void> | void {
    this.sids.get(id)?.delete(room);
    this.removeFromRoom(room, id);
  }

  /** Removes socket `id` from every room. */
  delAll(id: SocketId): void {
    const joined = this.sids.get(id);
    if (!joined) return;
    for (const room of joined) this.removeFromRoom(room, id);
    this.sids.delete(id);
  }

  private removeFromRoom(room: Room, id: SocketId): void {
    const members = this.rooms.get(room);
    if (!members) return;
    if (members.delete(id)) this.emit('leave-room', room, id);
    if (members.size === 0 && this.rooms.delete(room)) this.emit('delete-room', room);
  }

  /** The rooms socket `id` is in. */
  socketRooms(id: SocketId): Set<Room> | undefined {
    return this.sids.get(id);
  }

  /** Sends `packet` to the matching sockets, encoded once for all of them. */
  broadcast(packet: Packet, opts: BroadcastOptions): void {
    packet.nsp = this.nsp.name;
    this.deliver(this.encode(packet), packet, opts);
  }

  /** Like broadcast, with an ack id; `ack` is called once per client reply, `clientCountCallback` with the recipient count. */
  broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    packet.nsp = this.nsp.name;
    // One id for every recipient: ids come from the namespace counter, so no socket has it pending already.
    packet.id = this.nsp._nextAckId();
    const encoded = this.encode(packet);
    const count = this.deliver(encoded, packet, opts, (socket) => socket._registerAck(packet.id!, ack));
    clientCountCallback(count);
  }

  /** Encodes a packet of this namespace: text header first, attachments as Uint8Array. */
  protected encode(packet: Packet): EncodedPacket {
    return this.nsp.server.encoder.encode(packet).map((part) => (part instanceof ArrayBuffer ? new Uint8Array(part) : part));
  }

  /** Writes an already-encoded packet to every matching socket; returns how many were reached. */
  protected deliver(
    encoded: EncodedPacket,
    packet: Packet,
    opts: BroadcastOptions,
    beforeWrite?: (socket: AdapterSocket) => void,
  ): number {
    const flags: BroadcastFlags = opts.flags ?? {};
    let frames: PreparedMessage[] | undefined;
    let count = 0;
    this.apply(opts, (socket) => {
      // Prepared lazily: a broadcast that reaches nobody costs no framing.
      frames ??= encoded.map((part) => this.nsp.server.engine.prepare(part, { compress: flags.compress !== false }));
      beforeWrite?.(socket);
      socket._notifyOutgoing(packet.data as unknown[]);
      socket.client._writePrepared(frames, flags.volatile === true);
      count++;
    });
    return count;
  }

  /** The ids of the sockets in any of `rooms` (all sockets when empty). */
  sockets(rooms: Set<Room>): Promise<Set<SocketId>> {
    const ids = new Set<SocketId>();
    this.apply({ rooms }, (socket) => ids.add(socket.id));
    return Promise.resolve(ids);
  }

  /** The matching sockets of this process. */
  fetchSockets(opts: BroadcastOptions): Promise<FetchedSockets> {
    return Promise.resolve(this.collect(opts));
  }

  /** Makes the matching sockets join `rooms`. */
  addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    for (const socket of this.collect(opts)) socket.join(rooms);
  }

  /** Makes the matching sockets leave `rooms`. */
  delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    for (const socket of this.collect(opts)) for (const room of rooms) socket.leave(room);
  }

  /** Disconnects the matching sockets; `close` also closes their Engine.IO connections. */
  disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    for (const socket of this.collect(opts)) socket.disconnect(close);
  }

  /** Sends an event to the other servers of a cluster: there are none, so an ack gets no replies. */
  serverSideEmit(packet: unknown[]): void {
    const last = packet[packet.length - 1];
    if (typeof last === 'function') process.nextTick(() => last(null, []));
  }

  /** Hands an event from another server to this namespace's listeners (a cluster adapter calls it). */
  protected serverSideEmitLocally(args: [string, ...unknown[]]): void {
    this.nsp._onServerSideEmit(args);
  }

  /** Keeps a disconnected socket's state for connection state recovery (no-op without recovery). */
  persistSession(_session: SessionToPersist): void {}

  /** Returns the state and missed packets of a persisted session, or null. */
  restoreSession(_pid: PrivateSessionId, _offset: string): Promise<Session | null> {
    return Promise.resolve(null);
  }

  /** Snapshot first: the callers of collect() change rooms or disconnect sockets. */
  private collect(opts: BroadcastOptions): AdapterSocket[] {
    const sockets: AdapterSocket[] = [];
    this.apply(opts, (socket) => sockets.push(socket));
    return sockets;
  }

  /** Calls `fn` once for each connected socket matching `opts`. */
  protected apply(opts: BroadcastOptions, fn: (socket: AdapterSocket) => void): void {
    const except = this.exceptedIds(opts.except);
    const connected = this.nsp.sockets;
    if (opts.rooms.size === 0) {
      for (const id of this.sids.keys()) {
        if (except?.has(id)) continue;
        const socket = connected.get(id);
        if (socket) fn(socket);
      }
      return;
    }
    // A socket in several of the target rooms is reached once.
    const seen = opts.rooms.size > 1 ? new Set<SocketId>() : undefined;
    for (const room of opts.rooms) {
      const members = this.rooms.get(room);
      if (!members) continue;
      for (const id of members) {
        if (except?.has(id) || seen?.has(id)) continue;
        const socket = connected.get(id);
        if (!socket) continue;
        seen?.add(id);
        fn(socket);
      }
    }
  }

  private exceptedIds(exceptRooms: Set<Room> | undefined): Set<SocketId> | undefined {
    if (!exceptRooms || exceptRooms.size === 0) return undefined;
    const ids = new Set<SocketId>();
    for (const room of exceptRooms) {
      const members = this.rooms.get(room);
      if (members) for (const id of members) ids.add(id);
    }
    return ids;
  }
}
