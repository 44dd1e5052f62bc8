// The WebSocket transport: one Engine.IO packet per frame. ws does the
// framing and enforces the size and fragment limits (see ws-server.ts); this
// file maps frames to packets, ws errors to close reasons, and writes
// prepared broadcasts as ready-made frames.
import { decodePacket, decodePacketV3, encodePacket, encodePacketV3 } from '@sitehub/protocol';
import { WebSocket, type RawData } from 'ws';
import { compactListenerTable } from './compact-emitter.js';
import type { PreparedMessage } from './prepared.js';
import { settleCallbacks, type OutboundPacket, type Transport, type TransportShutdown, type TransportSink } from './transport.js';
import { TransportEvents } from './transport-events.js';
import { WIRE_V4, type Wire } from './wire.js';
import { rawSenderOf, rawSocketOf, type RawFrameSender, type RawSocket } from './ws-internals.js';

/** Limits the transport enforces itself (ws enforces the others). */
export interface WebSocketLimits {
  /** Bytes the socket may have waiting to be written before it is dropped. */
  maxBufferedBytes: number;
}

// ws errors that mean the peer sent something hostile or broken, by the
// bad-input kind they are counted under.
const WS_ERROR_KINDS: Readonly<Record<string, string>> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 'payload_too_large',
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 'websocket_fragment_flood',
};

// The ws listeners are module-level functions shared by every transport
// (ws calls them with the socket as `this`) rather than closures per
// connection; the socket carries a reference to its transport.
const TRANSPORT = Symbol('sitehub.transport');

/**
 * The WebSocket class our ws server makes: ws's own, with a slot for its
 * transport declared up front, so that it lives inside the object instead
 * of in a property store added to every connection.
 */
export class TransportWebSocket extends WebSocket {
  [TRANSPORT]: WebSocketTransport | undefined = undefined;

  // ws's server constructs it as `new WebSocket(null, undefined, options)`;
  // the arguments go through untouched whatever the overload.
  constructor(...args: [any, any?, any?]) {
    super(args[0], args[1], args[2]);
    // The four listeners the transport adds would sit in a 256-byte table.
    compactListenerTable(this);
  }
}

type TransportCarrier = WebSocket & { [TRANSPORT]: WebSocketTransport };

function transportOf(ws: WebSocket): WebSocketTransport {
  return (ws as TransportCarrier)[TRANSPORT];
}

function onWsMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  transportOf(this)._onMessage(data, isBinary);
}

function onWsError(this: WebSocket, err: Error & { code?: string }): void {
  transportOf(this)._onError(err);
}

function onWsClose(this: WebSocket): void {
  transportOf(this)._onClose();
}

function onWsPing(this: WebSocket, data: Buffer): void {
  transportOf(this)._onPing(data);
}

const EMPTY = Buffer.alloc(0);

// Transports that wrote during this tick.
const settling: WebSocketTransport[] = [];

function settleWritten(): void {
  // A transport that writes again meanwhile is queued again, for a later tick.
  const batch = settling.splice(0, settling.length);
  for (const transport of batch) transport._settle();
}

/** The WebSocket transport of one session (or of an upgrade in progress). */
export class WebSocketTransport extends TransportEvents implements Transport {
  readonly name = 'websocket' as const;
  sink: TransportSink;
  private closed = false;
  // True from a send() until its frames are written, as engine.io does:
  // meanwhile the session queues (so a burst leaves in one write), and
  // volatile packets are dropped.
  private busy = false;
  // Without permessage-deflate, ws writes to this socket synchronously, so
  // after a send its buffer says whether everything reached the kernel.
  private readonly directSocket: RawSocket | undefined;
  // Called back once queued bytes are written: made on first need (deflate,
  // or a socket that could not take everything at once).
  private writtenCallback: (() => void) | undefined;
  // With permessage-deflate ws compresses and queues frames inside its
  // sender; a frame written around that queue could overtake one still being
  // compressed, so the prepared-frame shortcut is only taken without it.
  private readonly frameSender: RawFrameSender | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly limits: WebSocketLimits,
    sink: TransportSink,
    private readonly wire: Wire = WIRE_V4,
  ) {
    super();
    this.sink = sink;
    this.frameSender = ws.extensions === '' ? rawSenderOf(ws) : undefined;
    this.directSocket = this.frameSender ? rawSocketOf(ws) : undefined;
    (ws as TransportCarrier)[TRANSPORT] = this;
    ws.on('message', onWsMessage);
    ws.on('error', onWsError);
    ws.on('close', onWsClose);
    ws.on('ping', onWsPing);
  }

  get writable(): boolean {
    return !this.closed && !this.busy && this.ws.readyState === WebSocket.OPEN;
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /** The IP address of the peer, if still known. */
  get remoteAddress(): string | undefined {
    return (this.ws as unknown as { _socket?: { remoteAddress?: string } })._socket?.remoteAddress;
  }

  send(packets: OutboundPacket[]): void {
    if (packets.length === 0) return;
    this.busy = true;
    // Several packets at once (a batch of broadcasts) leave in one write.
    const socket = packets.length > 1 ? rawSocketOf(this.ws) : undefined;
    socket?.cork();
    const last = packets.length - 1;
    for (let i = 0; i < last; i++) this.write(packets[i]!, undefined);
    const direct = this.directSocket;
    if (direct === undefined) {
      // ws writes in order, so the last frame's callback means the batch is out.
      this.write(packets[last]!, this.onWritten());
      socket?.uncork();
      return;
    }
    this.write(packets[last]!, undefined);
    socket?.uncork();
    // Looked at at the end of the tick, all such transports together, with
    // no callback per write (one per broadcast recipient otherwise). Not
    // now: the socket may be corked by a caller (the handshake is).
    if (settling.push(this) === 1) process.nextTick(settleWritten);
  }

  /** @internal End of the tick after a send: writable again once the socket's buffer is empty. */
  _settle(): void {
    const direct = this.directSocket!;
    if (this.ws.bufferedAmount === 0 || this.closed || !direct.writable) {
      this._written();
      return;
    }
    // Bytes wait in the socket: an empty write's callback comes after them.
    direct.write(EMPTY, this.onWritten());
  }

  /** @internal The frames of the last send are written. */
  _written(): void {
    this.busy = false;
    if (!this.closed) this.sink.onWritable();
  }

  private onWritten(): () => void {
    return (this.writtenCallback ??= () => this._written());
  }

  shutdown(how: TransportShutdown, code = 1000): void {
    if (this.closed) return;
    this.closed = true;
    if (how === 'terminate') this.ws.terminate();
    else this.ws.close(code);
  }

  private write(packet: OutboundPacket, written: (() => void) | undefined): void {
    const cb = packet.callback
      ? (err?: Error | null) => {
          settleCallbacks([packet], err ?? undefined);
          written?.();
        }
      : written;
    if (packet.prepared) {
      this.writePrepared(packet.prepared, cb);
      return;
    }
    const data = packet.data;
    if (this.wire.protocol === 3) {
      // v3 binary frames carry the packet type in their first byte.
      const encoded = encodePacketV3(packet, this.wire.supportsBinary);
      this.ws.send(encoded, { binary: typeof encoded !== 'string', compress: packet.compress }, cb);
    } else if (packet.type === 'message' && data instanceof Uint8Array) {
      this.ws.send(data, { binary: true, compress: packet.compress }, cb);
    } else {
      this.ws.send(encodePacket(packet, true) as string, { compress: packet.compress }, cb);
    }
  }

  private writePrepared(message: PreparedMessage, cb?: (err?: Error | null) => void): void {
    if (this.wire.protocol === 3 && message.binary) {
      // The shared frame is v4's (bytes without a type byte); v3 needs its own.
      const encoded = encodePacketV3({ type: 'message', data: message.data }, this.wire.supportsBinary);
      this.ws.send(encoded, { binary: typeof encoded !== 'string', compress: message.compress }, cb);
      return;
    }
    const frame = this.frameSender && this.ws.readyState === WebSocket.OPEN ? message.webSocketFrame : undefined;
    if (frame) {
      this.frameSender!.sendFrame(frame, cb);
      return;
    }
    this.ws.send(message.webSocketPayload, { binary: message.binary, compress: message.compress }, cb);
  }

  /** @internal The connection is closed, whoever closed it: `close`, then the session is told if it did not ask for it. */
  _onClose(): void {
    const expected = this.closed;
    this.closed = true;
    this.emit('close');
    if (!expected) this.sink.onTransportClose();
  }

  /**
   * @internal autoPong is off on our WebSocketServer: a peer that floods pings
   * and never reads would otherwise make us queue pongs without bound.
   */
  _onPing(data: Buffer): void {
    if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.sink.onTransportError('transport buffer full', 'pongs not read by the client');
      return;
    }
    this.ws.pong(data);
  }

  /** @internal */
  _onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const raw = isBinary ? buffer : buffer.toString('utf8');
    const packet = this.wire.protocol === 3 ? decodePacketV3(raw) : decodePacket(raw);
    if (packet.type === 'error') {
      this.sink.onTransportError('parse error', 'invalid packet', 'parse_error');
      return;
    }
    this.sink.onPacket(packet);
  }

  /** @internal */
  _onError(err: Error & { code?: string }): void {
    if (this.closed) return;
    // ws has already started closing with the right status (1009, 1008, 1002...).
    const code = err.code;
    const kind = code === undefined ? undefined : (WS_ERROR_KINDS[code] ?? (code.startsWith('WS_ERR_') ? 'websocket_protocol_error' : undefined));
    this.emitError(err.message, err);
    this.sink.onTransportError('transport error', err.message, kind);
  }
}
