// The WebSocket transport: one Engine.IO packet per frame, binary messages as
// binary frames.
import { encodePacket, type EnginePacket } from '@sitehub/protocol';
import { timestamp } from './options.js';
import { Transport, type OutgoingPacket } from './transport.js';
import { frameOptions, unrefIf, webSocketFactory, type WebSocketLike } from './platform.js';

/** The Engine.IO WebSocket transport. */
export class WebSocketTransport extends Transport {
  readonly name = 'websocket' as const;
  #ws: WebSocketLike | undefined;

  protected doOpen(): void {
    webSocketFactory().then(
      (factory) => {
        // Closed while the implementation was loading.
        if (this.state !== 'opening') return;
        try {
          this.#ws = factory.create(this.#uri(), this.opts);
        } catch (err) {
          this.onError('websocket error', err);
          return;
        }
        // 'nodebuffer' is only understood by `ws`; a standard WebSocket gets
        // 'arraybuffer' and the engine converts to the configured type.
        this.#ws.binaryType = factory.nativeOptions ? this.opts.binaryType : 'arraybuffer';
        this.#listen(this.#ws);
      },
      (err: unknown) => {
        if (this.state === 'opening') this.onError('websocket error', err);
      },
    );
  }

  #listen(ws: WebSocketLike): void {
    ws.onopen = () => {
      unrefIf(this.opts, (ws as unknown as { _socket?: unknown })._socket);
      this.onOpen();
    };
    ws.onclose = (event) => this.onClose({ description: 'websocket connection closed', context: event });
    ws.onmessage = (event) => this.#onMessage(event.data);
    ws.onerror = (event) => this.onError('websocket error', event);
  }

  #onMessage(data: unknown): void {
    if (typeof data === 'string' || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
      this.onData(data as string | Uint8Array | ArrayBuffer);
    } else {
      this.onError('parse error', new Error('bad packet'));
    }
  }

  protected override onPacket(packet: EnginePacket): void {
    if (packet.type !== 'close') return super.onPacket(packet);
    this.doClose();
    this.onClose({ description: 'server close' });
  }

  protected write(packets: OutgoingPacket[]): void {
    this.writable = false;
    const ws = this.#ws;
    for (const packet of packets) {
      const frame = encodePacket(packet, true);
      try {
        ws?.send(frame, frameOptions(frame, packet.options, this.opts));
      } catch {
        // The socket closed under us; its close event reports it.
      }
    }
    // WebSocket sends are buffered by the platform: the transport can take
    // more as soon as the engine has cleared what was just handed over.
    queueMicrotask(() => {
      if (this.state === 'closed') return;
      this.writable = true;
      this.emitReserved('drain');
    });
  }

  protected doClose(): void {
    const ws = this.#ws;
    this.#ws = undefined;
    if (!ws) return;
    ws.onerror = () => {};
    ws.onclose = null;
    ws.onmessage = null;
    try {
      ws.close();
    } catch {
      // Already closed.
    }
  }

  #uri(): string {
    const query = { ...this.query };
    if (this.opts.timestampRequests === true) query[this.opts.timestampParam] = timestamp();
    return this.uri(this.opts.secure ? 'wss' : 'ws', query);
  }
}
