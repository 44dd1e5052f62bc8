// Wire compatibility with the reference codec that socket.io 4.8.4 and
// socket.io-client ship (socket.io-parser): each side decodes what the other
// encodes, for the same random packets, and both agree on what to refuse.
import fc from 'fast-check';
import * as reference from 'socket.io-parser';
import { describe, expect, it } from 'vitest';
import { DecodeError, Decoder, Encoder, type Packet } from '@sitehub/protocol';
import { packetArb, ROUND_TRIP_DECODER } from './arbitraries.js';
import { withPlainBytes } from './helpers.js';

function decodeWithReference(parts: Array<string | Uint8Array | ArrayBuffer>): unknown[] {
  const decoder = new reference.Decoder();
  const decoded: unknown[] = [];
  decoder.on('decoded', (packet: unknown) => decoded.push(packet));
  for (const part of parts) decoder.add(typeof part === 'string' ? part : Buffer.from(part as Uint8Array));
  return decoded;
}

describe('interoperability with socket.io-parser', () => {
  it('the reference decodes what our Encoder produces', () => {
    const encoder = new Encoder();
    fc.assert(
      fc.property(packetArb, (packet) => {
        expect(withPlainBytes(decodeWithReference(encoder.encode(packet)))).toEqual(withPlainBytes([packet]));
      }),
      { numRuns: 500 },
    );
  });

  it('our Decoder decodes what the reference encodes, byte for byte the same header', () => {
    const referenceEncoder = new reference.Encoder();
    const encoder = new Encoder();
    fc.assert(
      fc.property(packetArb, (packet) => {
        // The reference encoder loses binary data held under a "__proto__" key
        // (it assigns the key, which sets a prototype); ours keeps it.
        fc.pre(!JSON.stringify(withPlainBytes(packet)).includes('"__proto__"'));
        // The reference encoder rewrites the packet object it is given.
        const parts = referenceEncoder.encode({ ...packet } as reference.Packet) as Array<string | Uint8Array>;
        expect(parts).toEqual(encoder.encode(packet));
        const decoder = new Decoder(ROUND_TRIP_DECODER);
        let decoded: Packet | null = null;
        for (const part of parts) decoded = decoder.add(part);
        expect(withPlainBytes(decoded)).toEqual(withPlainBytes(packet));
      }),
      { numRuns: 500 },
    );
  });

  it('both refuse the malformed packets of BAD-INPUTS.md', () => {
    const malformed: Array<Array<string | Uint8Array>> = [
      ['2[{"toString":"x"}]'],
      // The reference only looks at placeholders once the attachment is in; we refuse the header.
      ['51-["a",{"_placeholder":true,"num":"splice"}]', new Uint8Array([1])],
      ['511-["a"]'],
      ['2["disconnect"]'],
      ['9["x"]'],
      ['2["x"'],
      ['0[]'],
      ['1{}'],
      ['2{}'],
      ['4["x"]'],
    ];
    for (const parts of malformed) {
      const name = String(parts[0]);
      expect(() => new Decoder().add(parts[0]!), name).toThrow(DecodeError);
      expect(() => decodeWithReference(parts), name).toThrow();
    }
  });
});
