// A message encoded once for many recipients (the broadcast hot path): the
// polling text and the WebSocket frame are each built at most once, on first
// use, and then shared by every session it is sent to.
import { encodePacket } from '@sitehub/protocol';
import { BINARY_OPCODE, TEXT_OPCODE, buildFrame } from './ws-internals.js';

// Frames up to this size are written as one buffer (see webSocketFrame).
const SINGLE_BUFFER_MAX = 64 * 1024;

/** A message pre-encoded by `EngineServer.prepare()`; send it with `socket.sendPrepared()`. */
export class PreparedMessage {
  /** The message as given. */
  readonly data: string | Uint8Array;
  /** Whether per-message compression may be used for it. */
  readonly compress: boolean;
  /** Approximate size, for write-buffer accounting. */
  readonly byteLength: number;
  private pollingEncoding?: string;
  private wsPayload?: Buffer;
  private wsFrame?: Buffer[] | null;

  constructor(data: string | Uint8Array, compress = true) {
    this.data = data;
    this.compress = compress;
    this.byteLength = typeof data === 'string' ? data.length + 1 : data.byteLength;
  }

  /** Whether the message is binary. */
  get binary(): boolean {
    return typeof this.data !== 'string';
  }

  /** The packet as it appears inside a polling payload (`4…` or `b<base64>`). */
  get pollingText(): string {
    return (this.pollingEncoding ??= encodePacket({ type: 'message', data: this.data }, false) as string);
  }

  /** The WebSocket payload: the bytes of `4…` for text, the raw bytes for binary. */
  get webSocketPayload(): Buffer {
    if (this.wsPayload === undefined) {
      const data = this.data;
      this.wsPayload =
        typeof data === 'string' ? Buffer.from('4' + data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    }
    return this.wsPayload;
  }

  /** The complete WebSocket frame, or undefined if ws cannot build one. */
  get webSocketFrame(): Buffer[] | undefined {
    if (this.wsFrame === undefined) {
      const frame = buildFrame(this.webSocketPayload, this.binary ? BINARY_OPCODE : TEXT_OPCODE) ?? null;
      // Header and payload copied once into one buffer: each recipient then
      // costs one plain socket write instead of a cork, two buffered writes
      // and a writev. Large payloads keep the two parts rather than a copy.
      this.wsFrame = frame !== null && frame.length === 2 && frame[1]!.length <= SINGLE_BUFFER_MAX ? [Buffer.concat(frame)] : frame;
    }
    return this.wsFrame ?? undefined;
  }
}
