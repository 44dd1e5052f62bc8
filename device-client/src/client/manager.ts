// The Manager owns one Engine.IO connection, multiplexes namespaces over it,
// encodes and decodes Socket.IO packets, and reconnects with backoff.
import { LiteDecoder, LiteEncoder, type Packet } from '@sitehub/protocol';
import { Backoff } from './backoff.js';
import { Emitter, subscribe } from './emitter.js';
import { EngineSocket } from './engine/socket.js';
import { unrefIf } from './engine/platform.js';
import { clearTimer, setTimer } from './engine/timers.js';
import type { EngineOptions } from './engine/options.js';
import type { WriteOptions } from './engine/socket.js';
import { Socket, type SocketOptions } from './socket.js';
import type { DefaultEventsMap, EventsMap } from './typed-events.js';

/** Manager options, with socket.io-client's names and defaults. */
export interface ManagerOptions extends EngineOptions {
  /** Always create a new Manager in io(). Default false. */
  forceNew: boolean;
  /** Share one Manager per server in io(). Default true. */
  multiplex: boolean;
  /** Reconnect automatically. Default true. */
  reconnection: boolean;
  /** Attempts before giving up ('reconnect_failed'). Default Infinity. */
  reconnectionAttempts: number;
  /** First delay between attempts, ms. Default 1000. */
  reconnectionDelay: number;
  /** Largest delay between attempts, ms. Default 5000. */
  reconnectionDelayMax: number;
  /** Jitter in [0, 1]. Default 0.5. */
  randomizationFactor: number;
  /** Connection timeout in ms before 'connect_error', or false. Default 20000. */
  timeout: number | false;
  /** Connect on creation. Default true. */
  autoConnect: boolean;
  /** Most binary attachments accepted in one received packet. Default 10. */
  maxAttachments: number;
}

export type ManagerState = 'opening' | 'open' | 'closed';

/**
 * A connection to one server. Events: 'open', 'error' (err), 'ping',
 * 'packet' (internal), 'close' (reason, description), 'reconnect_attempt'
 * (attempt), 'reconnect' (attempt), 'reconnect_error' (err), 'reconnect_failed'.
 */
export class Manager<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends Emitter {
  /** The current Engine.IO connection. */
  engine: EngineSocket | undefined;
  declare readonly opts: Partial<ManagerOptions & SocketOptions>;
  declare readonly uri: string | undefined;
  /** @internal */
  _readyState: ManagerState = 'closed';
  /** @internal True while a reconnection attempt is scheduled or running. */
  _reconnecting = false;
  /** @internal */
  readonly _autoConnect: boolean;
  readonly #nsps = new Map<string, Socket<ListenEvents, EmitEvents>>();
  readonly #subs: (() => void)[] = [];
  readonly #encoder = new LiteEncoder();
  #decoder: LiteDecoder;
  #skipReconnect = false;
  #reconnection = true;
  #reconnectionAttempts = Infinity;
  /** Holds reconnectionDelay (min), reconnectionDelayMax (max) and randomizationFactor (jitter). */
  readonly #backoff = new Backoff({ min: 1000, max: 5000, jitter: 0.5 });
  #timeout: number | false = 20000;

  constructor(uri?: string | Partial<ManagerOptions & SocketOptions>, opts?: Partial<ManagerOptions & SocketOptions>) {
    super();
    if (uri && typeof uri === 'object') {
      opts = uri;
      uri = undefined;
    }
    const options = { ...opts };
    options.path = options.path || '/socket.io';
    this.opts = options;
    this.uri = uri;
    this.reconnection(options.reconnection !== false);
    this.reconnectionAttempts(options.reconnectionAttempts || Infinity);
    this.reconnectionDelay(options.reconnectionDelay || 1000);
    this.reconnectionDelayMax(options.reconnectionDelayMax || 5000);
    this.randomizationFactor(options.randomizationFactor ?? 0.5);
    this.timeout(options.timeout ?? 20000);
    this.#decoder = this.#newDecoder();
    this._autoConnect = options.autoConnect !== false;
    if (this._autoConnect) this.open();
  }

  /** Gets or sets `reconnection`. */
  reconnection(): boolean;
  reconnection(v: boolean): this;
  reconnection(v?: boolean): this | boolean {
    if (v === undefined) return this.#reconnection;
    this.#reconnection = !!v;
    if (!v) this.#skipReconnect = true;
    return this;
  }

  /** Gets or sets `reconnectionAttempts`. */
  reconnectionAttempts(): number;
  reconnectionAttempts(v: number): this;
  reconnectionAttempts(v?: number): this | number {
    if (v === undefined) return this.#reconnectionAttempts;
    this.#reconnectionAttempts = v;
    return this;
  }

  /** Gets or sets `reconnectionDelay`. */
  reconnectionDelay(): number;
  reconnectionDelay(v: number): this;
  reconnectionDelay(v?: number): this | number {
    if (v === undefined) return this.#backoff.min;
    this.#backoff.min = v;
    return this;
  }

  /** Gets or sets `reconnectionDelayMax`. */
  reconnectionDelayMax(): number;
  reconnectionDelayMax(v: number): this;
  reconnectionDelayMax(v?: number): this | number {
    if (v === undefined) return this.#backoff.max;
    this.#backoff.max = v;
    return this;
  }

  /** Gets or sets `randomizationFactor`. */
  randomizationFactor(): number;
  randomizationFactor(v: number): this;
  randomizationFactor(v?: number): this | number {
    if (v === undefined) return this.#backoff.jitter;
    this.#backoff.jitter = v;
    return this;
  }

  /** Gets or sets the connection `timeout`. */
  timeout(): number | false;
  timeout(v: number | false): this;
  timeout(v?: number | false): this | number | false {
    if (v === undefined) return this.#timeout;
    this.#timeout = v;
    return this;
  }

  /** Opens the Engine.IO connection; `fn(err?)` is told how it went. */
  open(fn?: (err?: Error) => void): this {
    if (this._readyState === 'open' || this._readyState === 'opening') return this;
    const engine = new EngineSocket(this.uri, this.opts);
    this.engine = engine;
    this._readyState = 'opening';
    this.#skipReconnect = false;

    const onError = (err: Error): void => {
      this.#cleanup();
      this._readyState = 'closed';
      this.emitReserved('error', err);
      if (fn) fn(err);
      else this.#maybeReconnectOnOpen();
    };
    const openSub = subscribe(engine, 'open', () => {
      this.#onOpen();
      fn?.();
    });
    this.#subs.push(
      openSub,
      subscribe(engine, 'error', onError),
      // A transport can also just close before the handshake; that is a
      // failed attempt too, not something to wait for until the timeout.
      subscribe(engine, 'close', (reason: string, description?: unknown) =>
        onError(description instanceof Error ? description : Object.assign(new Error(reason), { description })),
      ),
    );
    if (this.#timeout !== false) {
      const timer = setTimer(this.opts, () => {
        openSub();
        onError(new Error('timeout'));
        engine.close();
      }, this.#timeout);
      unrefIf(this.opts, timer);
      this.#subs.push(() => clearTimer(this.opts, timer));
    }
    engine.open();
    return this;
  }

  /** Alias of `open`. */
  connect(fn?: (err?: Error) => void): this {
    return this.open(fn);
  }

  /** The Socket for namespace `nsp`, created on first use. */
  socket(nsp: string, opts?: Partial<SocketOptions>): Socket<ListenEvents, EmitEvents> {
    let socket = this.#nsps.get(nsp);
    if (!socket) {
      socket = new Socket<ListenEvents, EmitEvents>(this as Manager, nsp, opts);
      this.#nsps.set(nsp, socket);
    } else if (this._autoConnect && !socket.active) {
      socket.connect();
    }
    return socket;
  }

  /** @internal Whether a socket for `nsp` exists (io() then makes a new Manager). */
  _hasSocket(nsp: string): boolean {
    return this.#nsps.has(nsp);
  }

  /** @internal A socket stopped: close the connection when none is left. */
  _destroy(): void {
    for (const socket of this.#nsps.values()) if (socket.active) return;
    this._close();
  }

  /** @internal Encodes once and writes every part to the engine. */
  _packet(packet: Packet & { options?: WriteOptions }): void {
    const engine = this.engine;
    if (!engine) return;
    for (const part of this.#encoder.encode(packet)) {
      engine.write(part instanceof ArrayBuffer ? new Uint8Array(part) : part, packet.options);
    }
  }

  /** @internal Closes for good: no reconnection. */
  _close(): void {
    this.#skipReconnect = true;
    this._reconnecting = false;
    this.#onClose('forced close');
  }

  #newDecoder(): LiteDecoder {
    return new LiteDecoder(this.opts.maxAttachments !== undefined ? { maxAttachments: this.opts.maxAttachments } : {});
  }

  #maybeReconnectOnOpen(): void {
    // Only the first failure starts a reconnection loop; later ones belong to it.
    if (!this._reconnecting && this.#reconnection && this.#backoff.attempts === 0) this.#reconnect();
  }

  #onOpen(): void {
    this.#cleanup();
    this._readyState = 'open';
    this.emitReserved('open');
    const engine = this.engine!;
    this.#subs.push(
      subscribe(engine, 'ping', () => this.emitReserved('ping')),
      subscribe(engine, 'data', (data: string | Uint8Array | ArrayBuffer) => this.#onData(engine, data)),
      subscribe(engine, 'error', (err: Error) => this.emitReserved('error', err)),
      subscribe(engine, 'close', (reason: string, description?: unknown) =>
        // Queued behind the packets decoded before it, so that sockets see
        // them in the order they arrived.
        queueMicrotask(() => {
          if (this.engine === engine && this._readyState === 'open') this.#onClose(reason, description);
        }),
      ),
    );
  }

  #onData(engine: EngineSocket, data: string | Uint8Array | ArrayBuffer): void {
    let packet: Packet | null;
    try {
      packet = this.#decoder.add(data);
    } catch (err) {
      this.#onClose('parse error', err);
      return;
    }
    if (!packet) return;
    const decoded = packet;
    // Delivered from a fresh microtask: an exception in an application
    // listener must not be taken for a protocol error, nor break the
    // transport's read loop.
    queueMicrotask(() => {
      if (this.engine === engine && this._readyState === 'open') this.emitReserved('packet', decoded);
    });
  }

  #cleanup(): void {
    for (const unsubscribe of this.#subs.splice(0)) unsubscribe();
    this.#decoder.destroy();
    this.#decoder = this.#newDecoder();
  }

  #onClose(reason: string, description?: unknown): void {
    this.#cleanup();
    this.engine?.close();
    this.#backoff.reset();
    this._readyState = 'closed';
    this.emitReserved('close', reason, description);
    if (this.#reconnection && !this.#skipReconnect) this.#reconnect();
  }

  #reconnect(): void {
    if (this._reconnecting || this.#skipReconnect) return;
    if (this.#backoff.attempts >= this.#reconnectionAttempts) {
      this.#backoff.reset();
      this._reconnecting = false;
      this.emitReserved('reconnect_failed');
      return;
    }
    const delay = this.#backoff.duration();
    this._reconnecting = true;
    const timer = setTimer(this.opts, () => {
      if (this.#skipReconnect) return;
      this.emitReserved('reconnect_attempt', this.#backoff.attempts);
      // A listener may have closed the manager.
      if (this.#skipReconnect) return;
      this.open((err) => {
        if (err) {
          this._reconnecting = false;
          this.#reconnect();
          this.emitReserved('reconnect_error', err);
        } else {
          const attempts = this.#backoff.attempts;
          this._reconnecting = false;
          this.#backoff.reset();
          this.emitReserved('reconnect', attempts);
        }
      });
    }, delay);
    unrefIf(this.opts, timer);
    this.#subs.push(() => clearTimer(this.opts, timer));
  }
}
