// A client's membership of one namespace: events both ways, acks, rooms,
// per-packet middlewares, catch-all listeners and the disconnect lifecycle.
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { PacketType, RESERVED_EVENTS, type Packet } from '@sitehub/protocol';
import type { Adapter } from './adapter.js';
import { BroadcastOperator } from './broadcast-operator.js';
import { CatchAllListeners, type CatchAllListener } from './catch-all-listeners.js';
import type { Client } from './client.js';
import { CompactEmitter, type EngineSocket } from '../engine/index.js';
import { buildHandshake } from './handshake.js';
import { generateId } from './ids.js';
import { PendingAcks, type AckCallback } from './pending-acks.js';
import { runMiddlewares, type Middleware } from './middleware.js';
import type { Namespace } from './namespace.js';
import { RECOVERABLE_DISCONNECT_REASONS } from './recovery.js';
import type { BroadcastFlags, DisconnectReason, EncodedPacket, Handshake, Room, Session, SocketId } from './types.js';

/** An incoming event as per-packet middlewares see it: [name, ...args]. */
export type Event = [string, ...any[]];

const emitLocally = EventEmitter.prototype.emit;

const NO_MIDDLEWARES: readonly Middleware<Event>[] = [];

/** A socket.io-compatible server-side socket. */
export class Socket<ListenEvents = any, EmitEvents = any, ServerSideEvents = any, SocketData = any> extends CompactEmitter {
  /** The Socket.IO id: random, distinct from the Engine.IO session id, kept across a recovery. */
  readonly id: SocketId;
  /** True when this socket resumed a previous session (same id, rooms and data; missed packets replayed). */
  readonly recovered: boolean;
  /** The HTTP request details and the CONNECT payload (`auth`). */
  readonly handshake: Handshake;
  // `data`, made on first read: many sockets never use it.
  private dataValue: SocketData | undefined;
  /** True between the CONNECT answer and the disconnection. */
  connected = false;

  private readonly pid: string | undefined;
  private readonly adapter: Adapter;
  // Created on first use: a server holds one Socket per connection and
  // namespace, and most never register a middleware, a catch-all listener or
  // an ack, nor set a flag.
  private acks: PendingAcks | undefined;
  private fns: Middleware<Event>[] | undefined;
  private flags: BroadcastFlags | undefined;
  private anyIncoming: CatchAllListeners | undefined;
  private anyOutgoing: CatchAllListeners | undefined;
  private missedPackets: EncodedPacket[] | undefined;
  private removed = false;

  constructor(
    readonly nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    readonly client: Client,
    auth: Record<string, any>,
    previousSession?: Session,
  ) {
    super();
    this.adapter = nsp.adapter;
    if (previousSession) {
      this.id = previousSession.sid;
      this.pid = previousSession.pid;
      this.data = previousSession.data as SocketData;
      this.missedPackets = previousSession.missedPackets;
      this.recovered = true;
      this.join(previousSession.rooms);
    } else if (client.conn.protocol === 3) {
      // Socket.IO v2 clients derive their socket id from the Engine.IO id
      // (`<sid>`, or `<nsp>#<sid>` outside the main namespace); so does the
      // server for them, as socket.io does. No recovery in v2.
      this.id = nsp.name === '/' ? client.id : `${nsp.name}#${client.id}`;
      this.pid = undefined;
      this.recovered = false;
    } else {
      this.id = generateId();
      this.pid = nsp.server._recovery ? generateId() : undefined;
      this.recovered = false;
    }
    this.handshake = buildHandshake(client.request, client.conn.remoteAddress, client.conn.server.isSecure(client.request), auth);
  }

  /** Free-form application state; kept across a recovery and visible through fetchSockets(). */
  get data(): SocketData {
    return (this.dataValue ??= {} as SocketData);
  }

  set data(value: SocketData) {
    this.dataValue = value;
  }

  /** The underlying Engine.IO connection. */
  get conn(): EngineSocket {
    return this.client.conn;
  }

  /** The HTTP request that opened the Engine.IO session. */
  get request(): IncomingMessage {
    return this.client.request;
  }

  get disconnected(): boolean {
    return !this.connected;
  }

  /** The rooms this socket is in (its own id included). */
  get rooms(): Set<Room> {
    return this.adapter.socketRooms(this.id) ?? new Set();
  }

  /** Sends an event to this client; a function as last argument is called with the client's ack. */
  override emit(ev: string | symbol, ...args: any[]): boolean {
    // EventEmitter announces listener changes through emit(); they stay local.
    if (ev === 'newListener' || ev === 'removeListener') return emitLocally.call(this, ev, ...args);
    if (RESERVED_EVENTS.has(ev as string)) throw new Error(`"${String(ev)}" is a reserved event name`);
    const data: unknown[] = [ev, ...args];
    const packet: Packet = { type: PacketType.EVENT, nsp: this.nsp.name, data };
    const flags = this.takeFlags();
    if (typeof data[data.length - 1] === 'function') {
      packet.id = this.nsp._nextAckId();
      (this.acks ??= new PendingAcks()).expect(packet.id, data.pop() as AckCallback, flags.timeout, this);
    }
    if (this.nsp.server._recovery) {
      // Through the adapter, so that the packet gets an offset and is logged for replay.
      this.adapter.broadcast(packet, { rooms: new Set([this.id]), except: new Set(), flags });
    } else {
      this._notifyOutgoing(data);
      this.client._writePacket(packet, { compress: flags.compress !== false, volatile: flags.volatile === true });
    }
    return true;
  }

  /** emit() with an ack, as a promise of the client's answer (rejected on timeout when timeout() was set). */
  emitWithAck(ev: string, ...args: any[]): Promise<any> {
    const withError = this.flags?.timeout !== undefined;
    return new Promise((resolve, reject) => {
      this.emit(ev, ...args, (first: unknown, second: unknown) => {
        if (!withError) return resolve(first);
        return first ? reject(first) : resolve(second);
      });
    });
  }

  /** Sends a `message` event. */
  send(...args: any[]): this {
    this.emit('message', ...args);
    return this;
  }

  /** Alias of send(). */
  write(...args: any[]): this {
    return this.send(...args);
  }

  /** Joins one or several rooms. */
  join(rooms: Room | Room[]): Promise<void> | void {
    if (this.removed) return;
    return this.adapter.addAll(this.id, new Set(Array.isArray(rooms) ? rooms : [rooms]));
  }

  /** Leaves a room. */
  leave(room: Room): Promise<void> | void {
    return this.adapter.del(this.id, room);
  }

  /** Broadcast to `room` (or rooms), excluding this socket. */
  to(room: Room | Room[]): BroadcastOperator<SocketData> {
    return this.newBroadcastOperator().to(room);
  }

  /** Alias of to(). */
  in(room: Room | Room[]): BroadcastOperator<SocketData> {
    return this.newBroadcastOperator().in(room);
  }

  /** Broadcast to every socket except those in `room` (and this one). */
  except(room: Room | Room[]): BroadcastOperator<SocketData> {
    return this.newBroadcastOperator().except(room);
  }

  /** Broadcast to every other socket of the namespace. */
  get broadcast(): BroadcastOperator<SocketData> {
    return this.newBroadcastOperator();
  }

  /** Broadcast to the other sockets of this process only. */
  get local(): BroadcastOperator<SocketData> {
    return this.newBroadcastOperator().local;
  }

  /** The next emit may be dropped if the transport is not writable right now. */
  get volatile(): this {
    (this.flags ??= {}).volatile = true;
    return this;
  }

  /** Whether the next emit is compressed. */
  compress(compress: boolean): this {
    (this.flags ??= {}).compress = compress;
    return this;
  }

  /** The next emit's ack callback gets an Error first if the client has not answered within `ms`. */
  timeout(ms: number): this {
    (this.flags ??= {}).timeout = ms;
    return this;
  }

  /** Adds a per-packet middleware, run on each incoming event before the listeners. */
  use(fn: Middleware<Event>): this {
    (this.fns ??= []).push(fn);
    return this;
  }

  /** Listens to every incoming event: `(event, ...args)`. */
  onAny(listener: CatchAllListener): this {
    (this.anyIncoming ??= new CatchAllListeners()).append(listener);
    return this;
  }

  prependAny(listener: CatchAllListener): this {
    (this.anyIncoming ??= new CatchAllListeners()).prepend(listener);
    return this;
  }

  offAny(listener?: CatchAllListener): this {
    this.anyIncoming?.remove(listener);
    return this;
  }

  listenersAny(): CatchAllListener[] {
    return this.anyIncoming?.snapshot() ?? [];
  }

  /** Listens to every outgoing event: `(event, ...args)`. */
  onAnyOutgoing(listener: CatchAllListener): this {
    (this.anyOutgoing ??= new CatchAllListeners()).append(listener);
    return this;
  }

  prependAnyOutgoing(listener: CatchAllListener): this {
    (this.anyOutgoing ??= new CatchAllListeners()).prepend(listener);
    return this;
  }

  offAnyOutgoing(listener?: CatchAllListener): this {
    this.anyOutgoing?.remove(listener);
    return this;
  }

  listenersAnyOutgoing(): CatchAllListener[] {
    return this.anyOutgoing?.snapshot() ?? [];
  }

  /** Leaves the namespace ('server namespace disconnect'); `close` also closes the Engine.IO connection. */
  disconnect(close = false): this {
    if (!this.connected) return this;
    if (close) {
      this.client._disconnect();
    } else {
      this.packet({ type: PacketType.DISCONNECT, nsp: this.nsp.name });
      this._onclose('server namespace disconnect');
    }
    return this;
  }

  /** @internal disconnect(true): the DISCONNECT packet, `onWritten` once it left, then the namespace is left. */
  _disconnectBeforeClose(onWritten: () => void): void {
    if (!this.connected) return void process.nextTick(onWritten);
    this.client._writePacket({ type: PacketType.DISCONNECT, nsp: this.nsp.name }, {}, onWritten);
    this._onclose('server namespace disconnect');
  }

  /** @internal Sends the CONNECT answer, preceded by the packets a recovered client missed. */
  _onconnect(): void {
    this.connected = true;
    this.join(this.id);
    const missed = this.missedPackets;
    this.missedPackets = undefined;
    if (missed) for (const encoded of missed) this.client._writeEncoded(encoded, {});
    // Socket.IO v2 clients (Engine.IO v3) expect a CONNECT answer without payload.
    const data = this.conn.protocol === 3 ? undefined : this.pid === undefined ? { sid: this.id } : { sid: this.id, pid: this.pid };
    this.packet({ type: PacketType.CONNECT, nsp: this.nsp.name, data });
  }

  /** @internal A decoded packet for this namespace (never CONNECT or CONNECT_ERROR). */
  _onpacket(packet: Packet): void {
    switch (packet.type) {
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT:
        return this.onevent(packet);
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        return this.onack(packet);
      case PacketType.DISCONNECT:
        this._onclose('client namespace disconnect');
        return;
    }
  }

  /** @internal Emits 'error' if someone listens; an unheard error is counted, never thrown (CVE-2024-38355). */
  _onerror(err: unknown): void {
    if (this.listenerCount('error') > 0) emitLocally.call(this, 'error', err);
    else this.nsp.server.metrics.unhandledErrorEvents++;
  }

  /** @internal Ends this socket; keeps its session when recovery is on and the reason allows it. */
  _onclose(reason: DisconnectReason, description?: unknown): this {
    if (!this.connected) return this;
    emitLocally.call(this, 'disconnecting', reason, description);
    if (this.pid !== undefined && RECOVERABLE_DISCONNECT_REASONS.has(reason)) {
      this.adapter.persistSession({ sid: this.id, pid: this.pid, rooms: [...this.rooms], data: this.data });
    }
    this._cleanup();
    this.client._remove(this);
    this.connected = false;
    emitLocally.call(this, 'disconnect', reason, description);
    return this;
  }

  /** @internal Leaves every room and the namespace; later join() calls are ignored. */
  _cleanup(): void {
    this.adapter.delAll(this.id);
    this.nsp._remove(this);
    this.removed = true;
  }

  /** @internal Refuses the CONNECT with `44`. */
  _error(data: unknown): void {
    if (this.conn.protocol === 3 && typeof data === 'object' && data !== null) {
      // Socket.IO v2 clients get the error's data, or its message, as is.
      const { message, data: extra } = data as { message?: unknown; data?: unknown };
      data = extra ?? message;
    }
    this.packet({ type: PacketType.CONNECT_ERROR, nsp: this.nsp.name, data });
  }

  /** @internal Registers a callback for the ACK with `id` (broadcasts with ack share one id). */
  _registerAck(id: number, ack: AckCallback): void {
    (this.acks ??= new PendingAcks()).set(id, ack);
  }

  /** @internal Forgets a pending ack (its broadcast timed out). */
  _removeAck(id: number): void {
    this.acks?.delete(id);
  }

  /** @internal Tells the onAnyOutgoing listeners about an event sent to this socket. */
  _notifyOutgoing(data: unknown[]): void {
    if (this.anyOutgoing !== undefined && this.anyOutgoing.size > 0) this.anyOutgoing.call(this, data);
  }

  private packet(packet: Packet, flags: BroadcastFlags = {}): void {
    this.client._writePacket(packet, { compress: flags.compress !== false, volatile: flags.volatile === true });
  }

  private onevent(packet: Packet): void {
    const event = packet.data as Event;
    if (packet.id !== undefined) event.push(this.ackFor(packet.id));
    this.anyIncoming?.call(this, event);
    runMiddlewares(this.fns ?? NO_MIDDLEWARES, event, (err) => {
      // Listeners run outside the caller's stack (the engine's read loop).
      process.nextTick(() => {
        if (err) return this._onerror(err);
        if (!this.connected) return;
        if (event[0] === 'error' && this.listenerCount('error') === 0) {
          this.nsp.server.metrics.unhandledErrorEvents++;
          return;
        }
        emitLocally.apply(this, event);
      });
    });
  }

  /** The callback handed to listeners for an event with an ack id; answers once. */
  private ackFor(id: number): AckCallback {
    let sent = false;
    return (...args: unknown[]) => {
      if (sent || !this.connected) return;
      sent = true;
      this.packet({ type: PacketType.ACK, nsp: this.nsp.name, id, data: args });
    };
  }

  private onack(packet: Packet): void {
    const ack = this.acks?.take(packet.id!);
    if (!ack) {
      this.nsp.server.metrics.unknownAcks++;
      return;
    }
    ack.apply(this, packet.data as unknown[]);
  }

  /** The flags set for the next emit, which then start over empty. */
  private takeFlags(): BroadcastFlags {
    const flags = this.flags ?? {};
    this.flags = undefined;
    return flags;
  }

  private newBroadcastOperator(): BroadcastOperator<SocketData> {
    const flags = this.takeFlags();
    return new BroadcastOperator<SocketData>(this.adapter, new Set(), new Set([this.id]), flags);
  }
}
