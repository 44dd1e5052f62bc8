// The compact Socket.IO v5 codec, for the browser bundle of the client, where
// every byte is downloaded. It accepts and refuses exactly what Encoder and
// Decoder do (test/protocol/lite-codec.test.ts compares them on generated and
// fuzzed inputs); what it gives up is the strict codec's reasons (one message
// for every refusal), its hand-written linear scan (a regular expression
// without backtracking does the same here) and its iterative placeholder
// search (recursion: a payload nested deeper than the call stack is refused
// instead of accepted). The hub keeps the strict codec.
import { DEFAULT_MAX_ATTACHMENTS, type DecoderOptions } from './decoder.js';
import { DecodeError } from './decode-error.js';
import { RESERVED_EVENTS, type Packet } from './packet.js';

type Holder = Record<string, unknown>;
type Chunk = string | Uint8Array | ArrayBuffer;

const BlobClass = typeof Blob === 'function' ? Blob : undefined;

const isBytes = (value: unknown): value is ArrayBuffer | ArrayBufferView =>
  value instanceof ArrayBuffer || ArrayBuffer.isView(value);

/** Bytes or a Blob: what the encoder takes out of the JSON. */
const isBinary = (value: unknown): value is ArrayBuffer | ArrayBufferView | Blob =>
  isBytes(value) || (BlobClass !== undefined && value instanceof BlobClass);

const isObject = (value: unknown): value is Holder => typeof value === 'object' && value !== null;

function fail(): never {
  throw new DecodeError('malformed packet');
}

/** Same contract as Encoder: TypeError for a packet it cannot write, input never mutated. */
export class LiteEncoder {
  encode(packet: Packet): Array<string | Uint8Array> {
    let { type, nsp, id, data } = packet as { type: number; nsp: unknown; id?: number | null; data?: unknown };
    if (nsp == null || nsp === '') nsp = '/';
    if (
      !(Number.isInteger(type) && type >= 0 && type < 7) ||
      typeof nsp !== 'string' ||
      nsp[0] !== '/' ||
      nsp.includes(',') ||
      (id != null && !(Number.isSafeInteger(id) && id >= 0))
    ) {
      throw new TypeError('invalid packet type, namespace or ack id');
    }
    const attachments: Uint8Array[] = [];
    // EVENT/ACK whatever the caller chose, binary when the payload holds any.
    // The replacer sees values in the order JSON.stringify writes them, which
    // is the order of the placeholders' numbers.
    const eventOrAck = type > 1 && type !== 4;
    const json =
      data == null
        ? ''
        : (JSON.stringify(data, eventOrAck ? (placeholders as (k: string, v: unknown) => unknown) : undefined) ?? '');
    function placeholders(this: Holder, key: string, value: unknown): unknown {
      // `value` is what toJSON made of this[key]; binary is looked for in both.
      const original = this[key];
      const binary = isBinary(original) ? original : value;
      if (!isBinary(binary)) return value;
      if (!isBytes(binary)) throw new TypeError('convert Blob attachments to an ArrayBuffer first');
      attachments.push(ArrayBuffer.isView(binary) ? new Uint8Array(binary.buffer, binary.byteOffset, binary.byteLength) : new Uint8Array(binary));
      return { _placeholder: true, num: attachments.length - 1 };
    }
    if (eventOrAck) type = (type === 2 || type === 5 ? 2 : 3) + (attachments.length ? 3 : 0);
    const head = attachments.length ? attachments.length + '-' : '';
    return [type + head + (nsp === '/' ? '' : nsp + ',') + (id ?? '') + json, ...attachments];
  }
}

// <type>[<attachments>-][<nsp>,][<ack id>][JSON]. Each group stops where the
// next cannot start and the last takes everything, so there is no backtracking.
const PACKET_RE = /^([0-6])(?:(\d+)-)?(\/[^,]*,?)?(\d*)([^]*)$/;

/** An attachment's destination: the placeholder at holder[key]. */
type Slot = [Holder, string];

/** Same contract as Decoder: DecodeError (and reset) for anything outside the v5 rules. */
export class LiteDecoder {
  #max: number;
  /** The binary packet being reassembled, and where its remaining attachments go. */
  #packet: Packet | null = null;
  #slots: Slot[] = [];

  constructor(opts: DecoderOptions = {}) {
    const max = opts.maxAttachments ?? DEFAULT_MAX_ATTACHMENTS;
    if (!Number.isSafeInteger(max) || max < 0) throw new RangeError('maxAttachments must be a non-negative integer');
    this.#max = max;
  }

  /** Feeds one Engine.IO message; returns the complete packet or null while attachments are awaited. */
  add(chunk: Chunk): Packet | null {
    try {
      return this.#add(chunk);
    } catch (error) {
      this.#packet = null;
      throw error instanceof DecodeError ? error : new DecodeError('malformed packet', { cause: error });
    }
  }

  /** Frees any reassembly state. */
  destroy(): void {
    this.#packet = null;
  }

  #add(chunk: Chunk): Packet | null {
    const pending = this.#packet;
    if (typeof chunk !== 'string') {
      if (!pending || !isBytes(chunk)) fail();
      const [holder, key] = this.#slots.shift()!;
      Object.defineProperty(holder, key, { value: chunk, writable: true, enumerable: true, configurable: true });
      if (this.#slots.length) return null;
      this.#packet = null;
      return pending;
    }
    const match = pending ? null : PACKET_RE.exec(chunk);
    if (!match) fail();
    const [, typeDigit, count, nspPart, idDigits, json] = match as unknown as string[];
    const max = this.#max;
    let type = Number(typeDigit);
    const binary = type > 4;
    const attachments = Number(count ?? 0);
    const id = idDigits ? Number(idDigits) : undefined;
    const present = json !== '';
    const data: unknown = present ? JSON.parse(json!) : undefined;
    if (binary) type -= 3;
    const isArray = Array.isArray(data);
    const name: unknown = isArray ? data[0] : 0;
    if (
      binary !== (count !== undefined) ||
      (binary && (!attachments || attachments > max || count!.length > String(max).length)) ||
      idDigits!.length > 16 ||
      // Ack ids: none on CONNECT, DISCONNECT, CONNECT_ERROR; required on ACKs.
      (id === undefined ? type === 3 : !Number.isSafeInteger(id) || type < 2 || type === 4) ||
      // What each type may carry (payload-rules.ts spells the rules out).
      ![
        !present || (isObject(data) && !isArray),
        !present,
        isArray && (typeof name === 'number' || (typeof name === 'string' && !RESERVED_EVENTS.has(name))),
        isArray,
        (isObject(data) && !isArray) || typeof data === 'string',
      ][type]
    ) {
      fail();
    }
    const packet: Packet = { type: type as Packet['type'], nsp: nspPart ? nspPart.replace(',', '') : '/' };
    if (id !== undefined) packet.id = id;
    if (present) packet.data = data;
    if (!binary) return packet;
    const slots: Slot[] = [];
    findPlaceholders(data, attachments, slots);
    for (let i = 0; i < attachments; i++) if (!slots[i]) fail();
    this.#slots = slots;
    this.#packet = packet;
    return null;
  }
}

/** Records each placeholder under `container` in slots[num]; each num in [0, count) at most once. */
function findPlaceholders(container: unknown, count: number, slots: Slot[]): void {
  if (!isObject(container)) return;
  for (const key of Object.keys(container)) {
    const value = container[key];
    if (isObject(value) && !Array.isArray(value) && Object.hasOwn(value, '_placeholder') && value['_placeholder'] === true) {
      const num = value['num'] as number;
      if (!Number.isInteger(num) || num < 0 || num >= count || slots[num]) fail();
      slots[num] = [container, key];
    } else {
      findPlaceholders(value, count, slots);
    }
  }
}
