// The adapter seam: everything an adapter may use of a namespace and of a
// socket, and nothing more. `Namespace` and `Socket` satisfy these interfaces
// as they are; an adapter (the in-memory one, a cluster one) is written
// against them, so it never depends on the rest of realtime's internals.
import type { Packet } from '@sitehub/protocol';
import type { PreparedMessage } from '../engine/index.js';
import type { SocketDetails } from './remote-socket.js';
import type { ConnectionStateRecoveryOptions, Handshake, Room, SocketId } from './types.js';

/** What an adapter needs of one connected socket. */
export interface AdapterSocket {
  readonly id: SocketId;
  readonly handshake: Handshake;
  readonly data: any;
  readonly rooms: Set<Room>;
  readonly client: {
    /** Writes frames prepared once for every recipient of a broadcast. */
    _writePrepared(frames: PreparedMessage[], volatile: boolean): void;
  };
  join(rooms: Room | Room[]): Promise<void> | void;
  leave(room: Room): Promise<void> | void;
  disconnect(close?: boolean): unknown;
  /** Tells the socket's onAnyOutgoing listeners about an event it is sent. */
  _notifyOutgoing(data: unknown[]): void;
  /** Waits for the ACK with `id` (a broadcast with ack shares one id among its recipients). */
  _registerAck(id: number, ack: (...args: any[]) => void): void;
  _removeAck(id: number): void;
}

/** What an adapter needs of its namespace and of the server above it. */
export interface AdapterNamespace {
  readonly name: string;
  readonly sockets: ReadonlyMap<SocketId, AdapterSocket>;
  readonly server: {
    readonly opts: { connectionStateRecovery?: ConnectionStateRecoveryOptions };
    readonly encoder: { encode(packet: Packet): Array<string | ArrayBuffer | Uint8Array> };
    readonly engine: { prepare(data: string | Uint8Array, opts?: { compress?: boolean }): PreparedMessage };
  };
  /** The next ack id of the namespace (shared by sockets and broadcasts, so never pending twice). */
  _nextAckId(): number;
  /** Hands an event sent by another server to this namespace's own listeners. */
  _onServerSideEmit(args: [string, ...unknown[]]): void;
}

/** How an adapter reports the link it depends on (a cluster's Redis); /readyz shows it. */
export interface AdapterHealth {
  /** False while the adapter cannot reach the other servers. */
  ok: boolean;
  [detail: string]: unknown;
}

/**
 * What an adapter's fetchSockets() resolves to: the sockets found, and, when
 * some server of a cluster did not answer in time, `missingNodes` naming them
 * (a partial answer rather than a bare rejection).
 */
export type FetchedSockets = SocketDetails<any>[] & { missingNodes?: string[] };
