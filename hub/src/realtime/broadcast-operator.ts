// The immutable builder behind io.to(...).except(...).volatile.emit(...):
// each modifier returns a new operator; the terminal calls go to the adapter.
import { PacketType, RESERVED_EVENTS, type Packet } from '@sitehub/protocol';
import type { Adapter } from './adapter.js';
import { RemoteSocket } from './remote-socket.js';
import type { BroadcastFlags, Room, SocketId } from './types.js';

type ReplyCallback = (err: Error | null, replies: any) => void;

function toList(room: Room | Room[]): Room[] {
  return Array.isArray(room) ? room : [room];
}

/** Targets a set of sockets by rooms, exclusions and flags. */
export class BroadcastOperator<SocketData = any> {
  constructor(
    private readonly adapter: Adapter,
    private readonly rooms: Set<Room> = new Set(),
    private readonly exceptRooms: Set<Room> = new Set(),
    private readonly flags: BroadcastFlags = {},
  ) {}

  /** Also targets the sockets in `room` (or rooms). */
  to(room: Room | Room[]): BroadcastOperator<SocketData> {
    const rooms = new Set(this.rooms);
    for (const r of toList(room)) rooms.add(r);
    return new BroadcastOperator(this.adapter, rooms, this.exceptRooms, this.flags);
  }

  /** Alias of to(). */
  in(room: Room | Room[]): BroadcastOperator<SocketData> {
    return this.to(room);
  }

  /** Leaves out the sockets in `room` (or rooms). */
  except(room: Room | Room[]): BroadcastOperator<SocketData> {
    const exceptRooms = new Set(this.exceptRooms);
    for (const r of toList(room)) exceptRooms.add(r);
    return new BroadcastOperator(this.adapter, this.rooms, exceptRooms, this.flags);
  }

  compress(compress: boolean): BroadcastOperator<SocketData> {
    return this.withFlags({ compress });
  }

  /** Recipients whose transport is not writable right now skip this packet. */
  get volatile(): BroadcastOperator<SocketData> {
    return this.withFlags({ volatile: true });
  }

  /** Only the sockets of this process. */
  get local(): BroadcastOperator<SocketData> {
    return this.withFlags({ local: true });
  }

  /** The ack callback of the next emit gets `(err, replies)`, err set if some reply is missing after `ms`. */
  timeout(ms: number): BroadcastOperator<SocketData> {
    return this.withFlags({ timeout: ms });
  }

  /** Emits to every targeted socket; a last-argument function collects the replies (see timeout()). */
  emit(ev: string, ...args: any[]): boolean {
    if (RESERVED_EVENTS.has(ev)) throw new Error(`"${String(ev)}" is a reserved event name`);
    const data: unknown[] = [ev, ...args];
    const packet: Packet = { type: PacketType.EVENT, nsp: this.adapter.nsp.name, data };
    if (typeof data[data.length - 1] !== 'function') {
      this.adapter.broadcast(packet, this.options());
      return true;
    }
    this.emitCollectingReplies(packet, data.pop() as ReplyCallback);
    return true;
  }

  /** emit() with replies as a promise; rejects with the partial replies in `err.responses` on timeout. */
  emitWithAck(ev: string, ...args: any[]): Promise<any> {
    return new Promise((resolve, reject) => {
      this.emit(ev, ...args, (err: (Error & { responses?: unknown }) | null, replies: unknown) => {
        if (!err) return resolve(replies);
        err.responses = replies;
        reject(err);
      });
    });
  }

  /** The ids of the targeted sockets. */
  allSockets(): Promise<Set<SocketId>> {
    return this.adapter.sockets(this.rooms);
  }

  /** The targeted sockets, as objects with id, handshake, rooms, data and emit/join/leave/disconnect; `missingNodes` names the cluster nodes that did not answer. */
  async fetchSockets(): Promise<RemoteSocket<SocketData>[] & { missingNodes?: string[] }> {
    const sockets = await this.adapter.fetchSockets(this.options());
    const remote: RemoteSocket<SocketData>[] & { missingNodes?: string[] } = sockets.map(
      (socket) => new RemoteSocket<SocketData>(this.adapter, socket),
    );
    if (sockets.missingNodes) remote.missingNodes = sockets.missingNodes;
    return remote;
  }

  /** Makes the targeted sockets join `room` (or rooms). */
  socketsJoin(room: Room | Room[]): void {
    this.adapter.addSockets(this.options(), toList(room));
  }

  /** Makes the targeted sockets leave `room` (or rooms). */
  socketsLeave(room: Room | Room[]): void {
    this.adapter.delSockets(this.options(), toList(room));
  }

  /** Disconnects the targeted sockets; `close` also closes their Engine.IO connections. */
  disconnectSockets(close = false): void {
    this.adapter.disconnectSockets(this.options(), close);
  }

  private withFlags(extra: BroadcastFlags): BroadcastOperator<SocketData> {
    return new BroadcastOperator(this.adapter, this.rooms, this.exceptRooms, { ...this.flags, ...extra });
  }

  private options() {
    return { rooms: this.rooms, except: this.exceptRooms, flags: this.flags };
  }

  /** Broadcast with ack: done when every server reported its recipients and each recipient replied, or on timeout. */
  private emitCollectingReplies(packet: Packet, ack: ReplyCallback): void {
    const single = this.flags.expectSingleResponse === true;
    const replies: unknown[] = [];
    let expectedServers = -1;
    let reportedServers = 0;
    let expectedReplies = 0;
    let done = false;
    const finish = (err: Error | null) => {
      done = true;
      clearTimeout(timer);
      ack(err, single ? (err ? null : replies[0]) : replies);
    };
    // As in socket.io, a broadcast with ack and no timeout() gives up at once (setTimeout with no delay).
    const timer = setTimeout(() => {
      if (done) return;
      if (packet.id !== undefined) for (const socket of this.adapter.nsp.sockets.values()) socket._removeAck(packet.id);
      finish(new Error('operation has timed out'));
    }, this.flags.timeout);
    const check = () => {
      if (!done && expectedServers === reportedServers && replies.length === expectedReplies) finish(null);
    };
    this.adapter.broadcastWithAck(
      packet,
      this.options(),
      (clientCount) => {
        expectedReplies += clientCount;
        reportedServers++;
        check();
      },
      (reply) => {
        replies.push(reply);
        check();
      },
    );
    void this.adapter.serverCount().then((count) => {
      expectedServers = count;
      check();
    });
  }
}
