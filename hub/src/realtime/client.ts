// One Engine.IO connection seen from Socket.IO: decodes its messages, routes
// packets to the socket of their namespace, runs the CONNECT handshake, and
// closes the whole connection on any protocol violation.
import type { IncomingMessage } from 'node:http';
import { Decoder, PacketType, type Packet } from '@sitehub/protocol';
import type { EngineSocket, PreparedMessage } from '../engine/index.js';
import { nestsDeeperThan } from './nesting.js';
import type { Server } from './server.js';
import type { Socket } from './socket.js';
import type { DisconnectReason, EncodedPacket } from './types.js';

/** How a packet is written: compression and whether it may be dropped. */
export interface WriteOptions {
  compress?: boolean;
  volatile?: boolean;
}

// The connection's listeners are shared functions (the engine calls them with
// the connection as `this`) rather than three closures per client.
const clientOf = new WeakMap<EngineSocket, Client>();

function onConnMessage(this: EngineSocket, data: string | Uint8Array): void {
  clientOf.get(this)?._onMessage(data);
}

function onConnError(this: EngineSocket, err: Error): void {
  clientOf.get(this)?._onTransportError(err);
}

function onConnClose(this: EngineSocket, reason: DisconnectReason, description?: unknown): void {
  clientOf.get(this)?._onClose(reason, description);
}

function ignoreLateError(): void {}

// Decodes the packets that carry no attachments, for every client: such a
// packet leaves no state in a decoder (and maxAttachments plays no part).
const TEXT_DECODER = new Decoder();

/** @internal The client made for an Engine.IO connection. */
export function clientOfConnection(conn: EngineSocket): Client | undefined {
  return clientOf.get(conn);
}

/** The Socket.IO side of one Engine.IO connection; sockets of several namespaces share it. */
export class Client {
  /** The Engine.IO session id. */
  readonly id: string;
  // Made for the first binary packet (BINARY_EVENT, BINARY_ACK, or an
  // attachment): only those leave state between messages. Every other
  // packet is decoded by TEXT_DECODER.
  private decoder: Decoder | undefined;
  // The connected sockets, one per namespace. Nearly every client has one
  // socket: it is kept in `onlySocket`, and a map by namespace name is made
  // when a second one connects.
  private onlySocket: Socket | undefined;
  private socketsByNsp: Map<string, Socket> | undefined;
  /** Namespaces whose CONNECT is being processed (middlewares, recovery); created on first use. */
  private connecting: Set<string> | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  // Runs only while a binary packet waits for its attachments.
  private attachmentTimer: NodeJS.Timeout | undefined;
  private closed = false;
  // connectTimeout passed while a CONNECT was being processed: the verdict waits for it.
  private connectOverdue = false;

  constructor(
    private readonly server: Server,
    readonly conn: EngineSocket,
  ) {
    this.id = conn.id;
    clientOf.set(conn, this);
    conn.on('message', onConnMessage);
    conn.on('error', onConnError);
    conn.on('close', onConnClose);
    // The verdict waits until pending I/O has been read (setImmediate runs
    // after the poll phase): after a long event-loop lap the timer fires
    // before a CONNECT already in the kernel's buffer is read.
    this.connectTimer = setTimeout(() => setImmediate(() => this.connectDeadlinePassed()), server.connectTimeout());
    // Socket.IO v2 clients are in the main namespace from the start and send
    // no CONNECT for it; its middlewares run now, with no auth. The timer
    // above still closes a connection that ends up in no namespace.
    if (conn.protocol === 3) this.connect('/', {});
  }

  /** The HTTP request that opened the Engine.IO session. */
  get request(): IncomingMessage {
    return this.conn.request;
  }

  /** @internal Whether packets can still be written. */
  get isOpen(): boolean {
    return !this.closed && this.conn.readyState === 'open';
  }

  /** @internal Encodes and writes one packet; `onWritten` runs once it left (or could not be written). */
  _writePacket(packet: Packet, opts: WriteOptions, onWritten?: (err?: Error) => void): void {
    if (!this.isOpen) return void (onWritten && process.nextTick(onWritten));
    const encoded = this.server.encoder
      .encode(packet)
      .map((part) => (part instanceof ArrayBuffer ? new Uint8Array(part) : part));
    this._writeEncoded(encoded, opts, onWritten);
  }

  /** @internal Writes a packet encoded earlier (header then attachments). */
  _writeEncoded(encoded: EncodedPacket, opts: WriteOptions, onWritten?: (err?: Error) => void): void {
    if (!this.isOpen || (opts.volatile && !this.conn.transport.writable)) {
      return void (onWritten && process.nextTick(onWritten));
    }
    const sendOpts = { compress: opts.compress !== false };
    const last = encoded.length - 1;
    encoded.forEach((part, i) => this.conn.send(part, sendOpts, i === last ? onWritten : undefined));
  }

  /** @internal Writes a broadcast packet prepared once for every recipient. */
  _writePrepared(frames: PreparedMessage[], volatile: boolean): void {
    if (!this.isOpen || (volatile && !this.conn.transport.writable)) return;
    if (frames.length === 1) this.conn.sendPrepared(frames[0]!);
    else this.conn.sendPreparedMany(frames);
  }

  /** @internal A namespace accepted the socket (called before 'connection' is emitted). */
  _connected(socket: Socket): void {
    this.connectAttemptDone(socket.nsp.name);
    if (this.onlySocket === undefined && this.socketsByNsp === undefined) {
      this.onlySocket = socket;
    } else {
      this.socketsByNsp ??= new Map(this.onlySocket ? [[this.onlySocket.nsp.name, this.onlySocket]] : []);
      this.onlySocket = undefined;
      this.socketsByNsp.set(socket.nsp.name, socket);
    }
    if (this.connectTimer) {
      clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
    }
  }

  /** @internal The CONNECT to `name` ended without a socket (refused, or the connection closed meanwhile). */
  _connectAborted(name: string): void {
    this.connectAttemptDone(name);
    if (this.connectOverdue) this.connectDeadlinePassed();
  }

  /** @internal A socket left its namespace. */
  _remove(socket: Socket): void {
    if (this.onlySocket === socket) this.onlySocket = undefined;
    else if (this.socketsByNsp?.get(socket.nsp.name) === socket) this.socketsByNsp.delete(socket.nsp.name);
  }

  /** @internal socket.disconnect(true): every namespace gets its DISCONNECT, then the connection closes. */
  _disconnect(): void {
    const sockets = this.sockets();
    let unwritten = sockets.length;
    // Over polling the engine would put its close packet in the same response as
    // the DISCONNECTs, and socket.io-client acts on the close before it reads
    // them; closing once they are written keeps the "io server disconnect" reason.
    const closeWhenWritten = () => {
      if (--unwritten === 0) this.conn.close();
    };
    for (const socket of sockets) socket._disconnectBeforeClose(closeWhenWritten);
    this._onClose('forced server close');
    if (sockets.length === 0) this.conn.close();
  }

  /** @internal Server shutdown: closes the connection, the sockets learn `reason`. */
  _shutdown(reason: DisconnectReason): void {
    this.close(reason);
  }

  /** The connected socket of namespace `name`. */
  private socketOf(name: string): Socket | undefined {
    const only = this.onlySocket;
    if (only !== undefined) return only.nsp.name === name ? only : undefined;
    return this.socketsByNsp?.get(name);
  }

  /** A snapshot of the connected sockets, in the order they connected. */
  private sockets(): Socket[] {
    if (this.onlySocket !== undefined) return [this.onlySocket];
    return this.socketsByNsp ? [...this.socketsByNsp.values()] : [];
  }

  // No namespace joined within connectTimeout: closed, unless a CONNECT is
  // still being processed (its middlewares run), which then decides.
  private connectDeadlinePassed(): void {
    this.connectTimer = undefined;
    if (this.closed || this.onlySocket !== undefined || (this.socketsByNsp?.size ?? 0) > 0) return;
    this.connectOverdue = this.connecting !== undefined;
    if (this.connectOverdue) return;
    this.server.metrics.connectTimeouts++;
    this.close();
  }

  private connectAttemptDone(name: string): void {
    const connecting = this.connecting;
    if (connecting === undefined) return;
    connecting.delete(name);
    if (connecting.size === 0) this.connecting = undefined;
  }

  /** @internal A message from the Engine.IO connection. */
  _onMessage(data: string | Uint8Array): void {
    if (typeof data === 'string' && nestsDeeperThan(data, this.server._maxNestingDepth)) {
      this.server.metrics.tooDeepMessages++;
      this.close('parse error');
      return;
    }
    let packet: Packet | null;
    try {
      packet = this.decoderFor(data).add(data);
    } catch (err) {
      this.server.metrics.parseErrors++;
      for (const socket of this.sockets()) socket._onerror(err);
      this.close('parse error');
      return;
    }
    this.watchAttachments();
    if (packet) this.onPacket(packet);
  }

  private decoderFor(data: string | Uint8Array): Decoder {
    if (this.decoder !== undefined) return this.decoder;
    if (typeof data === 'string') {
      const type = data.charCodeAt(0) - 48; // the packet type digit
      if (type !== PacketType.BINARY_EVENT && type !== PacketType.BINARY_ACK) return TEXT_DECODER;
    }
    return (this.decoder = new Decoder({ maxAttachments: this.server._maxAttachments }));
  }

  /** Starts the attachment clock when a binary header arrives, stops it when the packet is complete. */
  private watchAttachments(): void {
    if (this.closed) return;
    const awaiting = this.decoder?.awaitingAttachments === true;
    if (awaiting && this.attachmentTimer === undefined) {
      this.attachmentTimer = setTimeout(() => {
        this.attachmentTimer = undefined;
        this.server.metrics.attachmentTimeouts++;
        // _onClose destroys the decoder, freeing the attachments received so far.
        this.close('parse error');
      }, this.server._attachmentTimeout);
    } else if (!awaiting && this.attachmentTimer !== undefined) {
      clearTimeout(this.attachmentTimer);
      this.attachmentTimer = undefined;
    }
  }

  private onPacket(packet: Packet): void {
    const socket = this.socketOf(packet.nsp);
    if (packet.type === PacketType.CONNECT) {
      if (this.conn.protocol === 3) {
        // v2 CONNECT: no payload; the namespace's query string is the auth.
        const { name, auth } = splitV2Namespace(packet.nsp);
        if (packet.data !== undefined || this.socketOf(name) || this.connecting?.has(name)) return this.violation();
        return this.connect(name, auth);
      }
      if (socket || this.connecting?.has(packet.nsp)) return this.violation();
      return this.connect(packet.nsp, (packet.data as Record<string, any> | undefined) ?? {});
    }
    if (!socket || packet.type === PacketType.CONNECT_ERROR) return this.violation();
    socket._onpacket(packet);
  }

  // Counted as being processed from arrival: a CONNECT waiting for its turn
  // came in time, and a second one for the same namespace is a violation.
  private connect(name: string, auth: Record<string, any>): void {
    (this.connecting ??= new Set()).add(name);
    this.server._connectPacer.offer(this, name, auth);
  }

  /** @internal The CONNECT's turn came (at most connectsPerTurn per event-loop lap). */
  _startConnect(name: string, auth: Record<string, any>): void {
    this.server._resolveNamespace(name, auth, (nsp) => {
      if (!this.isOpen) {
        // A child namespace may have been made for this CONNECT alone.
        nsp?._checkEmpty();
        return this._connectAborted(name);
      }
      if (!nsp) {
        this._connectAborted(name);
        this.server.metrics.invalidNamespaces++;
        // Socket.IO v2 clients get the message as a plain string.
        const data = this.conn.protocol === 3 ? 'Invalid namespace' : { message: 'Invalid namespace' };
        this._writePacket({ type: PacketType.CONNECT_ERROR, nsp: name, data }, {});
        return;
      }
      nsp._add(this, auth).catch((err) => {
        // _add handles every expected failure itself; this is a last resort.
        this._connectAborted(name);
        process.emitWarning(`CONNECT to ${name} failed: ${String(err)}`);
      });
    });
  }

  /** A packet that the connection's state does not allow: close everything. */
  private violation(): void {
    this.server.metrics.protocolViolations++;
    this.close();
  }

  /** @internal The Engine.IO connection reported an error. */
  _onTransportError(err: Error): void {
    for (const socket of this.sockets()) socket._onerror(err);
    this.conn.close();
  }

  /** Closes the Engine.IO connection; the sockets learn `reason` at once. */
  private close(reason: DisconnectReason = 'forced server close'): void {
    // Sockets learn our reason first: the engine may report its own 'close' synchronously.
    this._onClose(reason);
    if (this.conn.readyState === 'open' || this.conn.readyState === 'opening') this.conn.close();
  }

  /** @internal The connection closed (or is being closed) with `reason`. */
  _onClose(reason: DisconnectReason, description?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.off('message', onConnMessage);
    this.conn.off('close', onConnClose);
    // The engine may still report a late error; keep a listener so it cannot throw.
    this.conn.off('error', onConnError);
    this.conn.on('error', ignoreLateError);
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    clearTimeout(this.attachmentTimer);
    this.attachmentTimer = undefined;
    for (const socket of this.sockets()) socket._onclose(reason, description);
    this.onlySocket = undefined;
    this.socketsByNsp = undefined;
    this.decoder?.destroy();
  }
}

/**
 * Splits a Socket.IO v2 CONNECT namespace (`/chat?token=abc`) into the name
 * and the query, which becomes `handshake.auth` as socket.io does it. The
 * query object inherits nothing, so keys like `__proto__` stay plain data.
 */
function splitV2Namespace(nsp: string): { name: string; auth: Record<string, any> } {
  const at = nsp.indexOf('?');
  if (at === -1) return { name: nsp, auth: {} };
  const auth: Record<string, any> = Object.create(null);
  for (const [key, value] of new URLSearchParams(nsp.slice(at + 1))) {
    if (!(key in auth)) auth[key] = value;
  }
  return { name: nsp.slice(0, at), auth };
}
