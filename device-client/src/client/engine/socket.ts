// The Engine.IO client session: handshake, heartbeat watchdog, the write
// buffer, transport switching and close reasons. Knows nothing of Socket.IO.
import type { EnginePacket, EnginePacketTypeName, RawData } from '@sitehub/protocol';
import { Emitter } from '../emitter.js';
import { decodeQuery, parseUrl } from '../url.js';
import { toBinaryType, utf8Length } from './binary.js';
import { withEngineDefaults, type BinaryType, type EngineOptions, type TransportName } from './options.js';
import { createCookieStore, unrefIf } from './platform.js';
import { clearTimer, setTimer } from './timers.js';
import { PollingTransport } from './polling.js';
import { Transport, type CloseDetails, type CookieStore, type OutgoingPacket } from './transport.js';
import { probeUpgrade } from './upgrade.js';
import { WebSocketTransport } from './websocket.js';

export type EngineState = 'opening' | 'open' | 'closing' | 'closed';

/** The open packet's data. */
export interface Handshake {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

/** Per-message write flags. */
export interface WriteOptions {
  compress?: boolean;
}

const TRANSPORTS: Record<TransportName, new (opts: ConstructorParameters<typeof PollingTransport>[0]) => Transport> = {
  polling: PollingTransport,
  websocket: WebSocketTransport,
};

/**
 * An Engine.IO v4 client connection. Events: 'open', 'handshake', 'packet',
 * 'packetCreate', 'data' and 'message' (string | Buffer/ArrayBuffer), 'drain',
 * 'flush', 'heartbeat', 'ping', 'pong', 'upgrading', 'upgrade',
 * 'upgradeError', 'error', 'close' (reason, description). Close reasons:
 * 'forced close', 'transport close', 'transport error', 'ping timeout'.
 */
export class EngineSocket extends Emitter {
  /** Whether a WebSocket worked earlier in this process (for `rememberUpgrade`). */
  static priorWebsocketSuccess = false;

  /** Engine.IO session id, null until the handshake and after close. */
  id: string | null = null;
  /** The transport in use. */
  transport!: Transport;
  readyState: EngineState = 'closed';
  /** Packets not yet acknowledged by a drain of the transport. */
  writeBuffer: OutgoingPacket[] = [];
  /** True while an upgrade swaps transports (writes wait). */
  upgrading = false;
  declare readonly opts: EngineOptions;
  /** How received binary is delivered; may be changed after creation, as in engine.io-client. */
  declare binaryType: BinaryType;
  /** Transport names in preference order. */
  declare readonly transports: TransportName[];
  #prevBufferLen = 0;
  #pingInterval = 0;
  #pingTimeout = 0;
  #maxPayload = 0;
  #pingTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the next ping must have arrived; 0 once it is known to be late. */
  #pingDeadline = Infinity;
  #upgrades: TransportName[] = [];
  readonly #cookieJar: CookieStore | undefined;

  constructor(uri?: string, opts: Partial<EngineOptions> = {}) {
    super();
    const options: Partial<EngineOptions> = { ...opts };
    let query = typeof opts.query === 'string' ? decodeQuery(opts.query) : { ...opts.query };
    if (uri) {
      const url = parseUrl(uri);
      options.hostname = url.hostname;
      options.secure = url.secure;
      options.port = url.port;
      query = { ...query, ...url.queryKey };
    }
    options.query = query;
    this.opts = withEngineDefaults(options);
    this.binaryType = this.opts.binaryType;
    this.transports = this.opts.transports.filter((name) => name in TRANSPORTS);
    this.#cookieJar = createCookieStore(this.opts.withCredentials);
  }

  /** Starts the connection with the preferred transport. */
  open(): this {
    if (this.transports.length === 0) {
      setTimeout(() => this.emitReserved('error', new Error('No transports available')), 0);
      return this;
    }
    const name =
      this.opts.rememberUpgrade && EngineSocket.priorWebsocketSuccess && this.transports.includes('websocket')
        ? 'websocket'
        : this.transports[0]!;
    this.readyState = 'opening';
    const transport = this.createTransport(name);
    this.setTransport(transport);
    transport.open();
    return this;
  }

  /** @internal Builds a transport for this session. */
  createTransport(name: TransportName): Transport {
    const query: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.opts.query)) query[key] = String(value);
    query.EIO = '4';
    query.transport = name;
    if (this.id) query.sid = this.id;
    return new TRANSPORTS[name]({
      ...this.opts,
      ...this.opts.transportOptions[name],
      query,
      cookieJar: this.#cookieJar,
    });
  }

  /** @internal Makes `transport` the one in use. */
  setTransport(transport: Transport): void {
    this.transport?.removeAllListeners();
    this.transport = transport;
    transport
      .on('drain', () => this.#onDrain())
      .on('packet', (packet: EnginePacket) => this.#onPacket(packet))
      .on('error', (err: Error) => this.#onError(err))
      .on('close', (details: CloseDetails) => this.#onClose('transport close', details));
  }

  /** Sends a message. `fn` runs once it has been handed to the transport. */
  write(data: RawData, options?: WriteOptions, fn?: () => void): this {
    this.#sendPacket('message', data, options, fn);
    return this;
  }

  /** Alias of `write`. */
  send(data: RawData, options?: WriteOptions, fn?: () => void): this {
    return this.write(data, options, fn);
  }

  /** Closes the connection once buffered packets are out ('forced close'). */
  close(): this {
    const close = (): void => {
      this.#onClose('forced close');
    };
    const afterUpgrade = (): void => {
      this.off('upgrade', afterUpgrade);
      this.off('upgradeError', afterUpgrade);
      close();
    };
    const waitForUpgrade = (): void => {
      // A pausing transport cannot carry the close packet; wait for the swap.
      this.once('upgrade', afterUpgrade);
      this.once('upgradeError', afterUpgrade);
    };
    if (this.readyState === 'opening' || this.readyState === 'open') {
      this.readyState = 'closing';
      if (this.writeBuffer.length) {
        this.once('drain', () => (this.upgrading ? waitForUpgrade() : close()));
      } else if (this.upgrading) {
        waitForUpgrade();
      } else {
        close();
      }
    }
    return this;
  }

  /**
   * Whether the server's ping is overdue. Timers can fire late (a laptop
   * waking up), so writers check this before trusting the connection; when
   * overdue the session closes with 'ping timeout'.
   */
  hasPingExpired(): boolean {
    if (this.#pingDeadline === 0) return true;
    if (Date.now() <= this.#pingDeadline) return false;
    this.#pingDeadline = 0;
    queueMicrotask(() => this.#onClose('ping timeout'));
    return true;
  }

  /** @internal Sends what the write buffer holds, if the transport can take it. */
  flush(): void {
    if (this.readyState === 'closed' || !this.transport.writable || this.upgrading || !this.writeBuffer.length) return;
    const packets = this.#writablePackets();
    this.transport.send(packets);
    this.#prevBufferLen = packets.length;
    this.emitReserved('flush');
  }

  #sendPacket(type: EnginePacketTypeName, data?: RawData, options?: WriteOptions, fn?: () => void): void {
    if (this.readyState === 'closing' || this.readyState === 'closed') return;
    const packet: OutgoingPacket = { type, options: { compress: options?.compress !== false } };
    if (data !== undefined) packet.data = data;
    this.emitReserved('packetCreate', packet);
    this.writeBuffer.push(packet);
    if (fn) this.once('flush', fn);
    this.flush();
  }

  /** Polling bodies must stay under the server's maxPayload. */
  #writablePackets(): OutgoingPacket[] {
    if (!this.#maxPayload || this.transport.name !== 'polling' || this.writeBuffer.length < 2) return this.writeBuffer;
    let size = 1;
    for (let i = 0; i < this.writeBuffer.length; i++) {
      const data = this.writeBuffer[i]!.data;
      if (typeof data === 'string') size += utf8Length(data);
      else if (data) size += 1 + Math.ceil(data.byteLength / 3) * 4;
      if (i > 0 && size > this.#maxPayload) return this.writeBuffer.slice(0, i);
      size += 2;
    }
    return this.writeBuffer;
  }

  #onDrain(): void {
    this.writeBuffer.splice(0, this.#prevBufferLen);
    this.#prevBufferLen = 0;
    if (this.writeBuffer.length === 0) this.emitReserved('drain');
    else this.flush();
  }

  #onPacket(packet: EnginePacket): void {
    if (this.readyState === 'closed') return;
    this.emitReserved('packet', packet);
    this.emitReserved('heartbeat');
    switch (packet.type) {
      case 'open':
        this.#onHandshake(packet.data);
        break;
      case 'ping':
        this.#sendPacket('pong');
        this.emitReserved('ping');
        this.emitReserved('pong');
        this.#resetPingTimeout();
        break;
      case 'message': {
        const data = packet.data instanceof Uint8Array ? toBinaryType(packet.data, this.binaryType) : packet.data;
        this.emitReserved('data', data);
        this.emitReserved('message', data);
        break;
      }
      default:
        break;
    }
  }

  #onHandshake(raw: RawData | undefined): void {
    const handshake = parseHandshake(raw);
    if (!handshake) {
      this.#onError(new Error('invalid handshake'));
      return;
    }
    this.emitReserved('handshake', handshake);
    this.id = handshake.sid;
    this.transport.query.sid = handshake.sid;
    this.#pingInterval = handshake.pingInterval;
    this.#pingTimeout = handshake.pingTimeout;
    this.#maxPayload = handshake.maxPayload;
    this.#upgrades = handshake.upgrades.filter((name): name is TransportName =>
      this.transports.includes(name as TransportName),
    );
    this.readyState = 'open';
    EngineSocket.priorWebsocketSuccess = this.transport.name === 'websocket';
    this.emitReserved('open');
    this.flush();
    // An 'open' listener may have closed the socket.
    if ((this.readyState as EngineState) === 'closed') return;
    this.#resetPingTimeout();
    if (this.opts.upgrade && this.transport.name === 'polling') {
      for (const name of this.#upgrades) probeUpgrade(this, name);
    }
  }

  #resetPingTimeout(): void {
    clearTimer(this.opts, this.#pingTimer);
    const delay = this.#pingInterval + this.#pingTimeout;
    this.#pingDeadline = Date.now() + delay;
    this.#pingTimer = setTimer(this.opts, () => this.#onClose('ping timeout'), delay);
    unrefIf(this.opts, this.#pingTimer);
  }

  #onError(err: Error): void {
    EngineSocket.priorWebsocketSuccess = false;
    if (this.opts.tryAllTransports && this.transports.length > 1 && this.readyState === 'opening') {
      this.transport.removeAllListeners();
      this.transport.close();
      this.transports.shift();
      this.open();
      return;
    }
    this.emitReserved('error', err);
    this.#onClose('transport error', err);
  }

  #onClose(reason: string, description?: CloseDetails | Error): void {
    if (this.readyState === 'closed') return;
    clearTimer(this.opts, this.#pingTimer);
    this.transport.removeAllListeners('close');
    this.transport.close();
    this.transport.removeAllListeners();
    this.readyState = 'closed';
    this.id = null;
    this.emitReserved('close', reason, description);
    // Cleared after the event so that 'close' listeners can still read it.
    this.writeBuffer = [];
    this.#prevBufferLen = 0;
  }
}

function parseHandshake(raw: RawData | undefined): Handshake | undefined {
  if (typeof raw !== 'string') return undefined;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const h = data as Partial<Handshake> | null;
  if (!h || typeof h.sid !== 'string' || typeof h.pingInterval !== 'number' || typeof h.pingTimeout !== 'number') {
    return undefined;
  }
  return {
    sid: h.sid,
    upgrades: Array.isArray(h.upgrades) ? h.upgrades.filter((u) => typeof u === 'string') : [],
    pingInterval: h.pingInterval,
    pingTimeout: h.pingTimeout,
    maxPayload: typeof h.maxPayload === 'number' ? h.maxPayload : 0,
  };
}
