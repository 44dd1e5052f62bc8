// One Engine.IO session: its write buffer, heartbeat, close paths and
// upgrade, independent of which transport currently carries it.
import type { IncomingMessage } from 'node:http';
import { CompactEmitter } from './compact-emitter.js';
import type { EnginePacket, EnginePacketTypeName } from '@sitehub/protocol';
import { Heartbeat, type HeartbeatOwner } from './heartbeat.js';
import { ClientPingWatchdog } from './heartbeat-v3.js';
import type { PreparedMessage } from './prepared.js';
import { shareRequestStrings } from './shared-strings.js';
import type { EngineServer } from './server.js';
import {
  packetSize,
  settleCallbacks,
  type CloseReason,
  type OutboundPacket,
  type Transport,
  type TransportShutdown,
  type TransportSink,
} from './transport.js';
import { UpgradeNegotiation } from './upgrade.js';
import type { WebSocketTransport } from './websocket.js';
import { wireOf } from './wire.js';

export type EngineSocketState = 'opening' | 'open' | 'closing' | 'closed';

/** Options of `send`/`write`. */
export interface SendOptions {
  /** Allow per-message compression (default true). */
  compress?: boolean;
}

export type SendCallback = (err?: Error) => void;

// The write buffer of a session with nothing queued; never written to.
const NO_PACKETS: OutboundPacket[] = Object.freeze([]) as unknown as OutboundPacket[];

// WebSocket close code for each way a session can end.
const CLOSE_CODES: Partial<Record<CloseReason, number>> = {
  'server shutting down': 1001,
  'parse error': 1002,
};

/** A client session; `server.on('connection', socket => …)` hands them out. */
export class EngineSocket extends CompactEmitter {
  /** The session id (`sid`). */
  readonly id: string;
  readonly server: EngineServer;
  /** The request that opened the session. */
  readonly request: IncomingMessage;
  /** The Engine.IO protocol revision the client speaks: 4, or 3 when `allowEIO3` let a v3 client in. */
  readonly protocol: 3 | 4;
  /** The client's IP address (the forwarded one when the TCP peer is a trusted proxy, see `trustProxy`). */
  readonly remoteAddress: string;
  readyState: EngineSocketState = 'opening';
  /** The transport currently carrying the session. */
  transport: Transport;
  /** Whether the session moved from polling to WebSocket. */
  upgraded = false;
  /** Whether an upgrade is being negotiated. */
  upgrading = false;

  // NO_PACKETS while empty (most of a session's life): no array per
  // session, nor a new one after each flush.
  private writeBuffer: OutboundPacket[] = NO_PACKETS;
  /** Set by sendPreparedMany while it queues: one flush at the end. */
  private holdFlush = false;
  private writeBufferBytes = 0;
  // v4: the server pings; v3: the client pings and the server watches for it.
  private readonly heartbeat: Heartbeat | ClientPingWatchdog;
  private upgrade: UpgradeNegotiation | undefined;
  private readonly sink: SessionSink;

  constructor(id: string, server: EngineServer, transport: Transport, request: IncomingMessage) {
    super();
    this.id = id;
    this.server = server;
    this.request = request;
    // Held as long as the session: its common strings are shared.
    shareRequestStrings(request);
    this.remoteAddress = server.clientAddress(request);
    this.transport = transport;
    this.sink = new SessionSink(this);
    transport.sink = this.sink;
    const { pingInterval, pingTimeout } = server.opts;
    this.protocol = wireOf(request).protocol;
    this.heartbeat =
      this.protocol === 3 ? new ClientPingWatchdog(pingInterval + pingTimeout, this.sink) : new Heartbeat(pingInterval, pingTimeout, this.sink);
  }

  /** Queues a message; returns this. */
  send(data: string | Uint8Array, opts?: SendOptions | SendCallback, cb?: SendCallback): this {
    if (typeof opts === 'function') [opts, cb] = [undefined, opts];
    this.sendPacket('message', data, opts?.compress !== false, cb);
    return this;
  }

  /** Alias of `send`. */
  write(data: string | Uint8Array, opts?: SendOptions | SendCallback, cb?: SendCallback): this {
    return this.send(data, opts, cb);
  }

  /** Sends a message prepared once by `server.prepare()` – the broadcast fast path. */
  sendPrepared(message: PreparedMessage, cb?: SendCallback): this {
    this.sendPacket('message', undefined, message.compress, cb, message);
    return this;
  }

  /** Sends several prepared messages, flushed together (one write on WebSocket, one response when polling). */
  sendPreparedMany(messages: PreparedMessage[]): this {
    this.holdFlush = true;
    try {
      for (const message of messages) this.sendPacket('message', undefined, message.compress, undefined, message);
    } finally {
      this.holdFlush = false;
    }
    this.flush();
    return this;
  }

  /**
   * Closes the session (reason 'forced close'): queued packets are delivered
   * first unless `discard` is true.
   */
  close(discard?: boolean): void {
    if (this.readyState === 'closed') return;
    if (discard) {
      this.closeNow('forced close', undefined, 'close');
      return;
    }
    if (this.readyState !== 'open') return;
    this.readyState = 'closing';
    this.upgrade?.abandon();
    if (this.transport.name === 'websocket') {
      // Packets queued while a frame was in flight go out first; _onWritable
      // closes once they are written.
      if (this.writeBuffer.length === 0) this.closeNow('forced close', undefined, 'close');
      return;
    }
    // Polling, as the reference server does it: a pending poll is ended with
    // `1`; otherwise queued packets go out on the next poll and the close
    // packet on the one after that, as `6\x1e1`. A client that stops polling
    // meanwhile is given up by the heartbeat, which keeps running (no ping is
    // sent while closing): the reason is then 'ping timeout', as in engine.io,
    // within pingInterval + pingTimeout.
    if (this.writeBuffer.length === 0 && this.transport.writable) {
      this.transport.send([{ type: 'close', compress: false }]);
      this.closeNow('forced close', undefined, 'close');
    }
  }

  /** Sends the open packet and starts the heartbeat. @internal */
  _open(): void {
    this.readyState = 'open';
    const { pingInterval, pingTimeout, maxHttpBufferSize, initialPacket } = this.server.opts;
    const open = {
      sid: this.id,
      upgrades: this.server.upgrades(this.transport.name),
      pingInterval,
      pingTimeout,
      maxPayload: maxHttpBufferSize,
    };
    this.sendPacket('open', JSON.stringify(open));
    if (initialPacket !== undefined) this.sendPacket('message', initialPacket);
    this.emit('open');
    this.heartbeat.start();
  }

  /** Starts negotiating a move to `ws`; false (and `ws` closed) if this session cannot upgrade. @internal */
  _startUpgrade(ws: WebSocketTransport): boolean {
    if (this.readyState !== 'open' || this.upgrading || this.upgraded || this.transport.name !== 'polling') {
      ws.shutdown('close', 1008);
      return false;
    }
    this.upgrading = true;
    this.upgrade = new UpgradeNegotiation(ws, this.server.opts.upgradeTimeout, {
      probed: () => {
        this.emit('upgrading', ws);
        // End the pending poll so the client can pause polling and finish.
        if (this.transport.writable && this.writeBuffer.length === 0) this.transport.send([{ type: 'noop', compress: false }]);
      },
      complete: () => this.completeUpgrade(ws),
      abandoned: (badInput) => {
        this.upgrade = undefined;
        this.upgrading = false;
        if (badInput) this.server.recordBadInput(badInput, { sid: this.id, during: 'upgrade' });
      },
    });
    return true;
  }

  /** Closes at once with `reason` (used by the server on shutdown). @internal */
  _closeNow(reason: CloseReason, description?: string): void {
    this.closeNow(reason, description, 'close');
  }

  /** @internal The heartbeat's ping (see SessionSink). */
  _sendPing(): void {
    this.sendPacket('ping');
  }

  private completeUpgrade(ws: WebSocketTransport): void {
    const previous = this.transport;
    this.upgrade = undefined;
    this.upgrading = false;
    this.upgraded = true;
    this.transport = ws;
    ws.sink = this.sink;
    // A poll still pending is ended with a noop; a POST in flight still
    // reaches this session through the old transport's sink.
    previous.shutdown('noop');
    this.emit('upgrade', ws);
    this.flush();
  }

  private sendPacket(
    type: EnginePacketTypeName,
    data?: string | Uint8Array,
    compress = true,
    callback?: SendCallback,
    prepared?: PreparedMessage,
  ): void {
    // A closing session takes nothing more; the callback is never called, as in engine.io.
    if (this.readyState === 'closing' || this.readyState === 'closed') return;
    const packet: OutboundPacket = { type, data, compress, callback, prepared };
    // engine.io's shape, built only for listeners: a read-only view of the packet.
    if (this.listenerCount('packetCreate') > 0) {
      this.emit('packetCreate', { type, data: prepared ? prepared.data : data, options: { compress } });
    }
    const size = packetSize(packet);
    // A slow consumer is cut off rather than left to grow our memory: when
    // what was already waiting exceeds the limit. A message of any size is
    // let through when the backlog is under the limit (a 5 MB message over
    // polling reaches a client that polls).
    const backlog = this.writeBufferBytes + this.transport.bufferedBytes;
    if (this.writeBuffer === NO_PACKETS) this.writeBuffer = [packet];
    else this.writeBuffer.push(packet);
    this.writeBufferBytes += size;
    if (!this.holdFlush) this.flush();
    if (backlog > this.server.opts.maxBufferedBytes && this.readyState === 'open') {
      this.server.metrics.slowConsumersClosed++;
      this.closeNow('transport buffer full', `more than ${this.server.opts.maxBufferedBytes} bytes waiting to be written`, 'terminate');
    }
  }

  private flush(): void {
    if (this.readyState === 'closed' || this.writeBuffer.length === 0 || !this.transport.writable) return;
    const packets = this.writeBuffer;
    this.writeBuffer = NO_PACKETS;
    this.writeBufferBytes = 0;
    // These four run for every packet sent and rarely have a listener;
    // emit() would build its argument array each time regardless.
    const server = this.server;
    if (server.listenerCount('flush') > 0) server.emit('flush', this, packets);
    if (this.listenerCount('flush') > 0) this.emit('flush', packets);
    this.transport.send(packets);
    if (this.listenerCount('drain') > 0) this.emit('drain');
    if (server.listenerCount('drain') > 0) server.emit('drain', this);
  }

  /** @internal The transport can take packets (see SessionSink). */
  _onWritable(): void {
    if (this.writeBuffer.length > 0) {
      this.flush();
    } else if (this.readyState === 'closing' && this.transport.name === 'websocket') {
      this.closeNow('forced close', undefined, 'close');
    } else if (this.readyState === 'closing') {
      this.transport.send([
        { type: 'noop', compress: false },
        { type: 'close', compress: false },
      ]);
      this.closeNow('forced close', undefined, 'close');
    } else if (this.upgrade?.probed) {
      this.transport.send([{ type: 'noop', compress: false }]);
    }
  }

  /** @internal A packet from the transport (see SessionSink). */
  _onPacket(packet: EnginePacket): boolean {
    if (this.readyState !== 'open' && this.readyState !== 'closing') return true;
    if (this.listenerCount('packet') > 0) this.emit('packet', packet);
    switch (packet.type) {
      case 'pong':
        if (this.heartbeat instanceof ClientPingWatchdog) {
          this._onTransportError('transport error', 'invalid heartbeat direction', 'client_pong');
          return false;
        }
        this.heartbeat.onPong();
        this.emit('heartbeat');
        return true;
      case 'message': {
        const data = packet.data ?? '';
        if (this.listenerCount('data') > 0) this.emit('data', data);
        this.emit('message', data);
        return true;
      }
      case 'close':
        // The client is leaving: a pending poll is ended with a noop.
        this.closeNow('transport close', undefined, 'noop');
        return true;
      case 'noop':
        return true;
      case 'ping':
        if (this.heartbeat instanceof ClientPingWatchdog) {
          // v3: the client pings, the server answers.
          this.heartbeat.onPing();
          this.sendPacket('pong', packet.data as string | undefined);
          this.emit('heartbeat');
          return true;
        }
        // In v4 only the server pings; a ping from the client is a v3 client
        // or a confused one.
        this._onTransportError('transport error', 'invalid heartbeat direction', 'client_ping');
        return false;
      default:
        this._onTransportError('transport error', `unexpected ${packet.type} packet`, 'unexpected_packet');
        return false;
    }
  }

  /** @internal The transport failed or saw bad input (see SessionSink). */
  _onTransportError(reason: CloseReason, description: string, badInput?: string): void {
    if (this.readyState === 'closed') return;
    if (badInput) this.server.recordBadInput(badInput, { sid: this.id, description });
    const code = CLOSE_CODES[reason] ?? (badInput ? 1002 : 1000);
    this.closeNow(reason, description, reason === 'transport buffer full' ? 'terminate' : 'close', code);
  }

  private closeNow(reason: CloseReason, description: string | undefined, how: TransportShutdown, code?: number): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.heartbeat.stop();
    this.upgrade?.abandon();
    this.transport.shutdown(how, code ?? CLOSE_CODES[reason] ?? 1000);
    const unsent = this.writeBuffer;
    this.writeBuffer = NO_PACKETS;
    this.writeBufferBytes = 0;
    settleCallbacks(unsent, new Error(`session closed: ${reason}`));
    this.server._forget(this);
    // engine.io hands listeners an Error describing a transport failure (`err.message`).
    this.emit('close', reason, description === undefined ? undefined : new Error(description));
  }
}

/**
 * The session as its transports and its heartbeat see it. One small object
 * per session instead of a closure (and its context) per callback: a server
 * holds one per connection.
 */
class SessionSink implements TransportSink, HeartbeatOwner {
  constructor(private readonly session: EngineSocket) {}

  onPacket(packet: EnginePacket): boolean {
    return this.session._onPacket(packet);
  }

  onWritable(): void {
    this.session._onWritable();
  }

  onTransportError(reason: CloseReason, description: string, badInput?: string): void {
    this.session._onTransportError(reason, description, badInput);
  }

  onTransportClose(): void {
    this.session._closeNow('transport close');
  }

  onPingDue(): void {
    this.session._sendPing();
  }

  onPingTimeout(): void {
    this.session._closeNow('ping timeout');
  }
}
