// Fuzz inputs shared by the codec fuzz tests: protocol-looking strings, random
// bytes and mutations of valid encodings, all from one seeded generator so a
// run is reproducible from its seed.
import { Encoder, PacketType, type Packet } from '@sitehub/protocol';
import { seededRandom } from './helpers.js';

/** Generators over one seeded random source. */
export function fuzzInputs(seed: number) {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;

  const PREFIXES = [
    '0', '1', '2', '3', '4', '5', '6', '7', '9', '', '-', '/', 'b',
    '0/', '0/admin,', '1/admin,', '2/', '2/admin,', '21', '2/a,9', '3', '31', '3/admin,13',
    '4/x,', '5', '50-', '51-', '52-', '511-', '5-1-', '51-/admin,', '51-/admin,7', '6', '61-', '61-1', '61-/a,15', '5999999999-',
  ];
  const TOKENS = [
    '[', ']', '{', '}', ',', ':', '"', '-', '/', '\\', '1', '0', '9', ' ', 'null', 'true', 'false', '1e400', '-0', '0.5',
    '"foo"', '"connect"', '"disconnect"', '"newListener"', '"error"', '"__proto__"', '"constructor"', '"_placeholder"', '"num"',
    '{"_placeholder":true,"num":0}', '{"_placeholder":true,"num":1}', '{"_placeholder":true,"num":"splice"}',
    '{"_placeholder":true,"num":-1}', '{"_placeholder":true}', '{"__proto__":{"x":1}}', '[[[[', ']]]]', '\u0000', '\ud800', '\x1e', 'ü',
  ];

  function randomProtocolString(): string {
    let text = random() < 0.9 ? pick(PREFIXES) : '';
    const pieces = int(12);
    for (let i = 0; i < pieces; i++) {
      text += random() < 0.8 ? pick(TOKENS) : String.fromCharCode(int(0x80));
    }
    return text;
  }

  function randomBytes(): Uint8Array {
    const out = new Uint8Array(int(24));
    for (let i = 0; i < out.length; i++) out[i] = int(256);
    return out;
  }

  const encoder = new Encoder();
  const VALID_PACKETS: Packet[] = [
    { type: PacketType.CONNECT, nsp: '/' },
    { type: PacketType.CONNECT, nsp: '/admin', data: { token: 'abc', nested: { list: [1, 2] } } },
    { type: PacketType.DISCONNECT, nsp: '/admin' },
    { type: PacketType.EVENT, nsp: '/', data: ['hello', 'world', 42, null, { a: true }] },
    { type: PacketType.EVENT, nsp: '/devices/pump', data: ['telemetry', { seq: 7, values: [1.5, 2] }], id: 12 },
    { type: PacketType.ACK, nsp: '/', data: [], id: 3 },
    { type: PacketType.CONNECT_ERROR, nsp: '/', data: { message: 'Invalid namespace' } },
    { type: PacketType.EVENT, nsp: '/', data: ['file', new Uint8Array([1, 2, 3])] },
    { type: PacketType.EVENT, nsp: '/admin', data: ['two', { a: new Uint8Array([1]), b: [new Uint8Array([2, 3])] }], id: 9 },
    { type: PacketType.ACK, nsp: '/x', data: [new Uint8Array(0), 'ok'], id: 15 },
  ];
  const VALID_ENCODINGS = VALID_PACKETS.map((packet) => encoder.encode(packet));

  function mutate(text: string): string {
    let out = text;
    const edits = 1 + int(3);
    for (let e = 0; e < edits; e++) {
      const at = int(out.length + 1);
      switch (int(6)) {
        case 0: out = out.slice(0, at) + out.slice(at + 1 + int(3)); break; // delete
        case 1: out = out.slice(0, at) + pick(TOKENS) + out.slice(at); break; // insert a token
        case 2: out = out.slice(0, at) + String.fromCharCode(int(0x80)) + out.slice(at + 1); break; // replace
        case 3: out = out.slice(0, at); break; // truncate
        case 4: out = out.slice(0, at) + out.slice(int(out.length), int(out.length + 1) + 4) + out.slice(at); break; // duplicate
        default: out = out.replace(/[0-9]/, String(int(12))); // change a count, a type or an id
      }
    }
    return out;
  }

  /** The next chunk for the Socket.IO decoder: text or binary, well-formed or not. */
  function* socketChunks(count: number): Generator<string | Uint8Array | ArrayBuffer> {
    let produced = 0;
    while (produced < count) {
      const roll = random();
      if (roll < 0.4) {
        yield randomProtocolString();
        produced++;
      } else if (roll < 0.5) {
        const bytes = randomBytes();
        yield random() < 0.5 ? bytes : bytes.slice().buffer;
        produced++;
      } else {
        // A valid encoding, its header mutated or not, its attachments dropped, doubled or kept.
        const [header, ...attachments] = pick(VALID_ENCODINGS);
        yield random() < 0.7 ? mutate(header as string) : (header as string);
        produced++;
        for (const attachment of attachments) {
          const fate = random();
          if (fate < 0.1) continue;
          yield attachment as Uint8Array;
          produced++;
          if (fate > 0.95) {
            yield attachment as Uint8Array;
            produced++;
          }
        }
      }
    }
  }

  return { random, int, pick, TOKENS, randomProtocolString, randomBytes, mutate, socketChunks, VALID_ENCODINGS };
}
