import type { Adapter } from './adapter.js';
import { BroadcastOperator } from './broadcast-operator.js';
import type { Handshake, Room, SocketId } from './types.js';

/** What fetchSockets() needs to know of a socket, local or (with a cluster adapter) on another server. */
export interface SocketDetails<SocketData> {
  id: SocketId;
  handshake: Handshake;
  rooms: Iterable<Room>;
  data: SocketData;
}

/** A socket as fetchSockets() returns it: a snapshot of its details plus actions addressed to it by id. */
export class RemoteSocket<SocketData = any> {
  readonly id: SocketId;
  readonly handshake: Handshake;
  /** The rooms at the time of the fetch. */
  readonly rooms: Set<Room>;
  /** The socket's `data` object itself for a local socket. */
  readonly data: SocketData;
  private readonly operator: BroadcastOperator<SocketData>;

  constructor(adapter: Adapter, details: SocketDetails<SocketData>) {
    this.id = details.id;
    this.handshake = details.handshake;
    this.rooms = new Set(details.rooms);
    this.data = details.data;
    // A single reply, so that an ack behaves as with socket.emit().
    this.operator = new BroadcastOperator<SocketData>(adapter, new Set([this.id]), new Set(), {
      expectSingleResponse: true,
    });
  }

  /** The ack callback of the next emit gets an Error first if no reply came within `ms`. */
  timeout(ms: number): BroadcastOperator<SocketData> {
    return this.operator.timeout(ms);
  }

  emit(ev: string, ...args: any[]): boolean {
    return this.operator.emit(ev, ...args);
  }

  join(room: Room | Room[]): void {
    this.operator.socketsJoin(room);
  }

  leave(room: Room): void {
    this.operator.socketsLeave(room);
  }

  disconnect(close = false): this {
    this.operator.disconnectSockets(close);
    return this;
  }
}
