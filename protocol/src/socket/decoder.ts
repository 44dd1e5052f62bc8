// Socket.IO v5 decoding: one Engine.IO message at a time. A binary packet's
// text header is followed by its attachments as separate messages; the
// decoder keeps at most one such packet in reassembly.
import { DecodeError } from './decode-error.js';
import { PacketType, type Packet } from './packet.js';
import { parsePacketText } from './parse-text.js';
import { fillSlot, findAttachmentSlots, type AttachmentSlot } from './placeholders.js';

/** Decoder limits. */
export interface DecoderOptions {
  /** Most binary attachments one packet may announce (default 10). */
  maxAttachments?: number;
}

/** Default for DecoderOptions.maxAttachments, as in the reference server. */
export const DEFAULT_MAX_ATTACHMENTS = 10;

/** A binary packet whose attachments are still arriving. */
interface Reassembly {
  packet: Packet;
  slots: AttachmentSlot[];
  received: number;
}

function isBinaryChunk(chunk: unknown): chunk is ArrayBuffer | ArrayBufferView {
  return chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk);
}

/** Decodes Socket.IO packets from Engine.IO messages, reassembling binary packets. */
export class Decoder {
  readonly #maxAttachments: number;
  #reassembly: Reassembly | null = null;

  constructor(opts: DecoderOptions = {}) {
    const max = opts.maxAttachments ?? DEFAULT_MAX_ATTACHMENTS;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`maxAttachments must be a non-negative integer, got ${String(max)}`);
    }
    this.#maxAttachments = max;
  }

  /** True while a binary packet waits for attachments. */
  get awaitingAttachments(): boolean {
    return this.#reassembly !== null;
  }

  /**
   * Feed one Engine.IO message (text header or binary attachment). Returns the complete packet, or null while attachments are still awaited.
   * Throws DecodeError on any rule violation and resets its reassembly state. Attachments are placed exactly as given.
   */
  add(chunk: string | Uint8Array | ArrayBuffer): Packet | null {
    try {
      if (typeof chunk === 'string') return this.#addText(chunk);
      if (isBinaryChunk(chunk)) return this.#addAttachment(chunk);
      throw new DecodeError('a packet must be a string or binary data');
    } catch (error) {
      this.#reassembly = null;
      if (error instanceof DecodeError) throw error;
      // Callers close the connection on DecodeError; nothing else may escape.
      throw new DecodeError('malformed packet', { cause: error });
    }
  }

  /** Frees any reassembly state. */
  destroy(): void {
    this.#reassembly = null;
  }

  #addText(text: string): Packet | null {
    if (this.#reassembly !== null) throw new DecodeError('text packet while binary attachments are awaited');
    const { packet, attachments } = parsePacketText(text, this.#maxAttachments);
    if (attachments === 0) return packet;
    const slots = findAttachmentSlots(packet.data, attachments);
    // Consumers see EVENT/ACK whatever the framing; binary is a transport detail.
    packet.type = packet.type === PacketType.BINARY_EVENT ? PacketType.EVENT : PacketType.ACK;
    this.#reassembly = { packet, slots, received: 0 };
    return null;
  }

  #addAttachment(chunk: ArrayBuffer | ArrayBufferView): Packet | null {
    const reassembly = this.#reassembly;
    if (reassembly === null) throw new DecodeError('binary data while no binary packet is awaited');
    fillSlot(reassembly.slots[reassembly.received]!, chunk);
    reassembly.received++;
    if (reassembly.received < reassembly.slots.length) return null;
    this.#reassembly = null;
    return reassembly.packet;
  }
}
