// A Socket.IO socket: one namespace over a Manager's connection. Events,
// acknowledgements, buffering while disconnected, connection state recovery
// and the lifecycle timers.
import { PacketType, RESERVED_EVENTS, type Packet } from '@sitehub/protocol';
import { AckRegistry } from './acks.js';
import { subscribe } from './emitter.js';
import { LifecycleTimers, type LifecycleTimer, type LoopOptions, type TimerCallback } from './lifecycle-timers.js';
import type { Manager } from './manager.js';
import { RetryQueue, type AckCallback } from './retry-queue.js';
import { SendBuffer, type OutgoingPacket } from './send-buffer.js';
import { callAll, SocketListeners } from './socket-listeners.js';
import {
  DEFAULT_MAX_BUFFERED_PACKETS,
  type ConnectError,
  type DisconnectReason,
  type EmitFlags,
  type SocketOptions,
} from './socket-types.js';

export type { SocketOptions, DisconnectReason, ConnectError, SocketReservedEvents } from './socket-types.js';
import type {
  AllButLast,
  DecorateAcknowledgements,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
  FirstArg,
  Last,
} from './typed-events.js';

/**
 * A Socket.IO client socket for one namespace. It is "closed for good" after
 * disconnect(), a server disconnect or refusal that no listener answered with
 * connect(), or when the Manager will not reconnect (reconnection disabled or
 * given up); its lifecycle timers end then.
 */
export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends SocketListeners<ListenEvents> {
  /** The Manager carrying this socket. */
  declare readonly io: Manager;
  /** Socket.IO session id, set while connected. */
  id: string | undefined;
  connected = false;
  /** Whether the last connection restored the previous session (connection state recovery). */
  recovered = false;
  auth: SocketOptions['auth'] | undefined;
  /** Events received before the CONNECT answer, delivered on connect. */
  receiveBuffer: unknown[][] = [];
  /** Packets emitted while disconnected, sent on connect. */
  declare readonly sendBuffer: SendBuffer;
  /** Packets dropped because the send buffer was full. */
  droppedPackets = 0;
  declare readonly nsp: string;
  readonly #opts: Partial<SocketOptions>;
  readonly #acks = new AckRegistry();
  #flags: EmitFlags = {};
  #subs: (() => void)[] | undefined;
  #pid: string | undefined;
  #lastOffset: string | undefined;
  /** The engine connection this socket's CONNECT went out on; guards against a second one. */
  #connectSentOn: object | undefined;
  #closedForGood = false;
  readonly #queue: RetryQueue;
  readonly #timers: LifecycleTimers;

  constructor(io: Manager, nsp: string, opts?: Partial<SocketOptions>) {
    super();
    this.io = io;
    this.nsp = nsp;
    this.#opts = { ...opts };
    if (opts?.auth) this.auth = opts.auth;
    const maxBuffered = Math.max(0, opts?.maxBufferedPackets ?? DEFAULT_MAX_BUFFERED_PACKETS);
    this.sendBuffer = new SendBuffer(maxBuffered, (packet) => {
      if (packet.id !== undefined) this.#acks.fail(packet.id, new Error('send buffer overflow'));
      this.droppedPackets++;
    });
    this.#queue = new RetryQueue(
      {
        canSend: () => this.connected,
        sendTry: (args, flags, onAck) => {
          this.#flags = { ...flags, fromQueue: true };
          this.#emitUntyped([...args, onAck]);
        },
      },
      opts?.retries ?? 0,
      maxBuffered,
      (ack) => {
        this.droppedPackets++;
        if (ack?.withError) ack(new Error('send buffer overflow'));
      },
    );
    this.#timers = new LifecycleTimers(opts?.timers ?? {}, () => !this.#closedForGood);
    if (io._autoConnect) this.open();
  }

  /** True when not connected. */
  get disconnected(): boolean {
    return !this.connected;
  }

  /** Whether the socket is connected or trying to be (false after disconnect() or a refusal). */
  get active(): boolean {
    return !!this.#subs;
  }

  /** Connects (again); no-op when connected. */
  connect(): this {
    if (this.connected) return this;
    this.#closedForGood = false;
    this.#subEvents();
    if (!this.io._reconnecting) this.io.open();
    if (this.io._readyState === 'open') this.#onOpen();
    return this;
  }

  /** Alias of `connect`. */
  open(): this {
    return this.connect();
  }

  /** Disconnects for good: no reconnection, lifecycle timers stop. */
  disconnect(): this {
    const wasConnected = this.connected;
    if (wasConnected) this.io._packet({ type: PacketType.DISCONNECT, nsp: this.nsp });
    this.#destroy();
    this.#forgetSession();
    if (wasConnected) this.#onClose('io client disconnect');
    this.#endOfLife();
    return this;
  }

  /** Alias of `disconnect`. */
  close(): this {
    return this.disconnect();
  }

  /** Emits 'message'. */
  send(...args: unknown[]): this {
    return this.#emitUntyped(['message', ...args]);
  }

  /** Sends an event; a trailing function receives the server's ack. */
  override emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): this {
    if (RESERVED_EVENTS.has(ev)) throw new Error(`"${String(ev)}" is a reserved event name`);
    const flags = this.#flags;
    this.#flags = {};
    const data: unknown[] = [ev, ...args];
    if (this.#opts.retries && !flags.fromQueue && !flags.volatile) {
      this.#queue.add(data, { compress: flags.compress, timeout: flags.timeout });
      return this;
    }
    const packet: OutgoingPacket = {
      type: PacketType.EVENT,
      nsp: this.nsp,
      data,
      options: { compress: flags.compress !== false },
    };
    if (typeof data[data.length - 1] === 'function') {
      const id = this.#acks.nextId();
      const ack = data.pop() as AckCallback;
      this.#acks.register(id, ack, flags.timeout ?? this.#opts.ackTimeout, () => this.sendBuffer.removeAck(id));
      packet.id = id;
    }
    const engine = this.io.engine;
    const isConnected = this.connected && !!engine && !engine.hasPingExpired();
    if (flags.volatile) {
      // Volatile: now or never.
      if (isConnected && engine.transport.writable) this.#sendNow(packet);
    } else if (isConnected) {
      this.#sendNow(packet);
    } else {
      this.sendBuffer.push(packet);
    }
    return this;
  }

  #emitUntyped(args: unknown[]): this {
    return (this.emit as (...a: unknown[]) => this)(...args);
  }

  /** Emits and resolves with the ack's argument (rejects on timeout or disconnection). */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstArg<Last<EventParams<EmitEvents, Ev>>>> {
    return new Promise((resolve, reject) => {
      const ack: AckCallback = (err, response) => (err ? reject(err) : resolve(response as never));
      ack.withError = true;
      this.#emitUntyped([ev, ...args, ack]);
    });
  }

  /** The next emit is dropped unless it can be written right now. */
  get volatile(): this {
    this.#flags.volatile = true;
    return this;
  }

  /** The next emit's ack gets an error after `timeout` ms. */
  timeout(timeout: number): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>> {
    this.#flags.timeout = timeout;
    return this as unknown as Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>>;
  }

  /** Whether the next emit may be compressed. */
  compress(compress: boolean): this {
    this.#flags.compress = compress;
    return this;
  }

  /** Runs `fn` once after `ms`, unless the socket is closed for good first (see TimerOptions). */
  setTimeout(fn: TimerCallback, ms: number): LifecycleTimer {
    return this.#timers.setTimeout(fn, ms);
  }

  /** Runs `fn` every `ms` until the socket is closed for good. */
  setInterval(fn: TimerCallback, ms: number): LifecycleTimer {
    return this.#timers.setInterval(fn, ms);
  }

  /** Runs `fn` again each time its previous (possibly async) run settled, until the socket is closed for good. */
  setLoop(fn: TimerCallback, opts?: LoopOptions): LifecycleTimer {
    return this.#timers.setLoop(fn, opts);
  }

  #subEvents(): void {
    if (this.#subs) return;
    const io = this.io;
    this.#subs = [
      subscribe(io, 'open', () => this.#onOpen()),
      subscribe(io, 'packet', (packet: Packet) => this.#onPacket(packet)),
      subscribe(io, 'error', (err: Error) => this.#onError(err)),
      subscribe(io, 'close', (reason: DisconnectReason, description?: unknown) => this.#onClose(reason, description)),
      subscribe(io, 'reconnect_failed', () => this.#checkGivenUp()),
    ];
  }

  #onOpen(): void {
    const engine = this.io.engine;
    if (!engine || this.#connectSentOn === engine) return;
    this.#connectSentOn = engine;
    let sent = false;
    const send = (data: object | undefined): void => {
      // Once (a second CONNECT closes the connection), and only on the connection it was asked for.
      if (sent || this.io.engine !== engine || this.connected || !this.active) return;
      sent = true;
      this.io._packet({
        type: PacketType.CONNECT,
        nsp: this.nsp,
        data: this.#pid ? { pid: this.#pid, offset: this.#lastOffset, ...data } : data,
      });
    };
    if (typeof this.auth === 'function') this.auth(send);
    else send(this.auth);
  }

  #onError(err: Error): void {
    if (!this.connected) this.emitReserved('connect_error', err);
    this.#checkGivenUp();
  }

  #onClose(reason: DisconnectReason, description?: unknown): void {
    this.connected = false;
    this.id = undefined;
    this.#connectSentOn = undefined;
    this.#timers.disconnected();
    this.emitReserved('disconnect', reason, description);
    // Acks of packets already sent will never come (buffered ones still may).
    this.#acks.failAll(new Error('socket has been disconnected'), (id) => this.sendBuffer.hasAck(id));
    this.#checkGivenUp();
  }

  #onPacket(packet: Packet): void {
    if (packet.nsp !== this.nsp) return;
    switch (packet.type) {
      case PacketType.CONNECT: {
        const data = packet.data as { sid?: unknown; pid?: unknown } | undefined;
        if (data && typeof data.sid === 'string') {
          this.#onConnect(data.sid, typeof data.pid === 'string' ? data.pid : undefined);
        } else {
          this.emitReserved('connect_error', new Error('CONNECT answer without sid'));
        }
        break;
      }
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT:
        this.#onEvent(packet);
        break;
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        if (packet.id !== undefined) this.#acks.resolve(packet.id, argsOf(packet));
        break;
      case PacketType.DISCONNECT:
        this.#destroy();
        this.#forgetSession();
        this.#onClose('io server disconnect');
        break;
      case PacketType.CONNECT_ERROR: {
        this.#destroy();
        const data = packet.data as { message?: unknown; data?: unknown } | string | undefined;
        const message = typeof data === 'string' ? data : String(data?.message ?? 'connection refused');
        const err: ConnectError = new Error(message);
        if (data && typeof data === 'object' && 'data' in data) err.data = data.data;
        this.emitReserved('connect_error', err);
        this.#checkGivenUp();
        break;
      }
      default:
        break;
    }
  }

  #onEvent(packet: Packet): void {
    const args = argsOf(packet);
    if (packet.id !== undefined && packet.id !== null) args.push(this.#ackSender(packet.id));
    if (this.connected) this.#emitEvent(args);
    else this.receiveBuffer.push(args);
  }

  #emitEvent(args: unknown[]): void {
    callAll(this._any, this, args);
    this.emitReserved(String(args[0]), ...args.slice(1));
    const last = args[args.length - 1];
    // With connection state recovery the server appends each event's offset.
    if (this.#pid && args.length > 1 && typeof last === 'string') this.#lastOffset = last;
  }

  #ackSender(id: number): (...args: unknown[]) => void {
    let sent = false;
    return (...args: unknown[]) => {
      if (sent) return;
      sent = true;
      this.io._packet({ type: PacketType.ACK, nsp: this.nsp, id, data: args });
    };
  }

  #onConnect(id: string, pid: string | undefined): void {
    this.id = id;
    this.recovered = pid !== undefined && this.#pid === pid;
    this.#pid = pid;
    this.connected = true;
    const received = this.receiveBuffer.splice(0);
    for (const args of received) this.#emitEvent(args);
    for (const packet of this.sendBuffer.take()) this.#sendNow(packet);
    this.#queue.drain(true);
    this.emitReserved('connect');
    this.#timers.connected();
  }

  #sendNow(packet: OutgoingPacket): void {
    callAll(this._anyOutgoing, this, packet.data as unknown[]);
    this.io._packet(packet);
  }

  #destroy(): void {
    if (this.#subs) {
      for (const unsubscribe of this.#subs) unsubscribe();
      this.#subs = undefined;
    }
    this.#connectSentOn = undefined;
    this.io._destroy();
  }

  /**
   * After a refusal, a server disconnect or a failed (re)connection: if
   * nothing will connect this socket again, it is closed for good. Checked a
   * microtask later, so that the Manager has decided whether to reconnect
   * and listeners have had the chance to call connect() themselves.
   */
  #checkGivenUp(): void {
    queueMicrotask(() => {
      if (this.connected || this.#closedForGood) return;
      const managerIdle = this.io._readyState === 'closed' && !this.io._reconnecting;
      if (!this.active || managerIdle) this.#endOfLife();
    });
  }

  /**
   * After an explicit disconnect the server does not keep the session, but
   * may still hold an older copy of it: a later connect() must start afresh
   * rather than "recover" that copy.
   */
  #forgetSession(): void {
    this.#pid = undefined;
    this.#lastOffset = undefined;
  }

  #endOfLife(): void {
    this.#closedForGood = true;
    this.#timers.clearAll();
  }
}

/** A copy of an EVENT's or ACK's arguments. */
function argsOf(packet: Packet): unknown[] {
  return Array.isArray(packet.data) ? [...(packet.data as unknown[])] : [];
}
