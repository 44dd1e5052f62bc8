// The compact codec of the browser bundle (LiteEncoder, LiteDecoder) against
// the strict one the hub uses (Encoder, Decoder): same output for the same
// packet, same packet or same refusal for the same input, step by step. The
// strict codec has its own tests of every rule; agreeing with it on generated,
// fuzzed and hand-picked inputs is what shows the compact one keeps them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, Decoder, Encoder, LiteDecoder, LiteEncoder, PacketType, type Packet } from '@sitehub/protocol';
import { packetArb } from './arbitraries.js';
import { fuzzInputs } from './fuzz-inputs.js';
import { withPlainBytes } from './helpers.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261124);
const FUZZ_CHUNKS = 60_000;

type Chunk = string | Uint8Array | ArrayBuffer;
type Outcome = { packet: unknown } | { refused: true } | { threw: string };

/** What one call did, comparable across the two codecs. */
function outcome(run: () => unknown, refusal: new (...args: never[]) => Error): Outcome {
  try {
    return { packet: withPlainBytes(run()) };
  } catch (error) {
    return error instanceof refusal ? { refused: true } : { threw: String(error) };
  }
}

function encodeBoth(packet: Packet): [Outcome, Outcome] {
  return [
    outcome(() => new Encoder().encode(packet), TypeError),
    outcome(() => new LiteEncoder().encode(packet), TypeError),
  ];
}

/** Feeds the same chunks to both decoders; returns the first step where they differ. */
function firstDisagreement(chunks: Iterable<Chunk>, maxAttachments?: number): string | null {
  const opts = maxAttachments === undefined ? {} : { maxAttachments };
  const strict = new Decoder(opts);
  const lite = new LiteDecoder(opts);
  let step = 0;
  for (const chunk of chunks) {
    const expected = outcome(() => strict.add(chunk), DecodeError);
    const actual = outcome(() => lite.add(chunk), DecodeError);
    try {
      expect(actual).toEqual(expected);
    } catch {
      const shown = typeof chunk === 'string' ? JSON.stringify(chunk.slice(0, 200)) : `<${chunk.byteLength} bytes>`;
      return `step ${step}, input ${shown}: strict ${JSON.stringify(expected)}, lite ${JSON.stringify(actual)}`;
    }
    step++;
  }
  return null;
}

describe('LiteEncoder writes what Encoder writes', () => {
  it('for generated valid packets, binary ones included', () => {
    fc.assert(
      fc.property(packetArb, (packet) => {
        const [strict, lite] = encodeBoth(packet);
        expect(strict).toHaveProperty('packet');
        expect(lite).toEqual(strict);
      }),
      { numRuns: 2000 },
    );
  });

  it('for generated packets with any type, namespace and ack id, refusing the same ones', () => {
    const loose = fc.record({
      type: fc.oneof(fc.integer({ min: -1, max: 8 }), fc.constant(2.5), fc.constant('2')),
      nsp: fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant(''), fc.constant('/'), fc.string({ maxLength: 6 })),
      id: fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer({ min: -2, max: 5 }), fc.constant(1.5), fc.constant(2 ** 53)),
      data: fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant(['ev', new Uint8Array([1])]), fc.constant({ a: 1 }), fc.constant('s')),
    });
    fc.assert(
      fc.property(loose, (packet) => {
        const [strict, lite] = encodeBoth(packet as unknown as Packet);
        expect(lite).toEqual(strict);
      }),
      { numRuns: 3000 },
    );
  });

  it('for toJSON, typed arrays of every kind, sparse arrays and __proto__ keys', () => {
    const f32 = new Float32Array([1.5, -2]);
    const withProto = JSON.parse('{"__proto__":{"x":1},"b":2}') as object;
    const payloads: unknown[] = [
      ['date', new Date(0), { when: new Date(86_400_000) }],
      ['to-json-bytes', { toJSON: () => new Uint8Array([9]) }],
      ['to-json-nested', { toJSON: () => ({ inner: new Uint8Array([1, 2]), keep: 1 }) }],
      ['to-json-key', { a: { toJSON: (key: string) => key } }],
      ['views', new Uint16Array([1, 2]), new DataView(new ArrayBuffer(2)), f32, new Uint8Array(new ArrayBuffer(8), 2, 3), new ArrayBuffer(3)],
      ['buffer', Buffer.from('hi')],
      ['sparse', [1, , new Uint8Array([3])]], // eslint-disable-line no-sparse-arrays
      ['undefined-and-functions', { a: undefined, f: () => 1, b: new Uint8Array([1]) }, [undefined, () => 1]],
      ['proto', withProto, { nested: withProto, bytes: new Uint8Array([5]) }],
      ['placeholder-lookalike', { _placeholder: true, num: 0 }],
      ['deep', { a: { b: { c: [[[new Uint8Array([1])]]] } } }],
    ];
    for (const data of payloads) {
      for (const type of [PacketType.EVENT, PacketType.ACK, PacketType.BINARY_EVENT, PacketType.CONNECT, PacketType.CONNECT_ERROR]) {
        const packet = { type, nsp: '/x', data, ...(type === PacketType.ACK ? { id: 4 } : {}) } as Packet;
        const [strict, lite] = encodeBoth(packet);
        expect({ type, data: String((data as unknown[])[0]), lite }).toEqual({ type, data: String((data as unknown[])[0]), lite: strict });
      }
    }
  });

  it('refuses circular payloads and Blobs as Encoder does, and never mutates the input', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    const cyclicWithBytes: Record<string, unknown> = { bytes: new Uint8Array([1]) };
    cyclicWithBytes['self'] = cyclicWithBytes;
    for (const data of [['c', cyclic], ['c', cyclicWithBytes], ['blob', new Blob(['x'])], ['blob-json', { toJSON: () => new Blob(['y']) }]]) {
      const [strict, lite] = encodeBoth({ type: PacketType.EVENT, nsp: '/', data });
      expect(strict).toEqual({ refused: true });
      expect(lite).toEqual(strict);
    }
    const input = ['x', { bytes: new Uint8Array([1, 2]), list: [new ArrayBuffer(1)] }];
    const before = withPlainBytes(input);
    new LiteEncoder().encode({ type: PacketType.EVENT, nsp: '/', data: input });
    expect(withPlainBytes(input)).toEqual(before);
    expect((input[1] as { bytes: unknown }).bytes).toBeInstanceOf(Uint8Array);
  });
});

describe('LiteDecoder decodes and refuses what Decoder does', () => {
  it('every generated valid packet, with its attachments', () => {
    const encoder = new Encoder();
    fc.assert(
      fc.property(packetArb, (packet) => {
        expect(firstDisagreement(encoder.encode(packet) as Chunk[])).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it('hand-picked edge cases of every rule', () => {
    const inputs: Chunk[][] = [
      ['', '7', 'x', '-1', '0', '0/', '0/a', '0/a,', '0/a,{}', '0[]', '0"s"', '01', '01{}', '1', '1/a,', '1{}', '11'],
      ['2', '2[]', '2[1]', '2["connect"]', '2["newListener"]', '2["error"]', '2[null]', '2[{}]', '21["a"]', '2/a,1["a"]'],
      ['2/a["a"]', '2/a,,["a"]', '2,["a"]', '2-1["a"]', '21.5["a"]', '2007["a"]', `2${'1'.repeat(16)}["a"]`, `2${'1'.repeat(17)}["a"]`],
      [`2${'0'.repeat(16)}1["a"]`, `2${'0'.repeat(15)}1["a"]`, '51-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]'],
      ['29007199254740991["a"]', '29007199254740992["a"]', '2["a"]x', '2["a"] ', '2 ["a"]', '2["a",1e400]', '2{"0":"a"}'],
      ['3', '3[]', '31', '31[]', '31{}', '3/a,2["x"]', '4', '4"no"', '4{"message":"m"}', '4[]', '41"x"', '4/a,', '4/a,"x"'],
      ['5', '5-["a"]', '50-["a"]', '51["a"]', '51-["a"]', '51-["a",{"_placeholder":true,"num":0}]', new Uint8Array([1])],
      ['501-["a",{"_placeholder":true,"num":0}]', new ArrayBuffer(2), '5001-["a",{"_placeholder":true,"num":0}]'],
      ['511-["a"]', `5${'9'.repeat(50)}-["a"]`, '52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]'],
      ['52-["a",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]', new Uint8Array([1]), new Uint8Array([2])],
      ['51-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":1}}]', new Uint8Array([3])],
      ['52-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":1}}]', '2["b"]'],
      ['51-["a",{"_placeholder":"true","num":0}]', '51-["a",{"_placeholder":true,"num":"0"}]', '51-["a",{"_placeholder":true,"num":0.5}]'],
      ['51-["a",[{"_placeholder":true,"num":0}]]', new Uint8Array([4]), '51-["a",{"__proto__":{"_placeholder":true,"num":0}}]', new Uint8Array([5])],
      ['51-[{"_placeholder":true,"num":0}]', new Uint8Array([6]), '51-/a,["connect",{"_placeholder":true,"num":0}]'],
      ['6', '61-[]', '61-1[{"_placeholder":true,"num":0}]', new Uint8Array([7]), '61-/a,15[{"_placeholder":true,"num":0}]', new Uint8Array(0)],
      ['51-["a",{"_placeholder":true,"num":0}]', '2["text while waiting"]', new Uint8Array([8]), '2["after"]'],
      [new Uint8Array([9]), '2["ok"]', 42 as unknown as Chunk, '2["ok"]', {} as unknown as Chunk, null as unknown as Chunk],
    ];
    for (const chunks of inputs) expect(firstDisagreement(chunks)).toBeNull();
    for (const max of [0, 1, 2, 99]) {
      for (const chunks of inputs) expect(firstDisagreement(chunks, max)).toBeNull();
    }
  });

  it(`${FUZZ_CHUNKS} fuzzed chunks in one stream (seed ${SEED}; reproduce with FUZZ_SEED=${SEED})`, () => {
    const { socketChunks } = fuzzInputs(SEED);
    expect(firstDisagreement(socketChunks(FUZZ_CHUNKS))).toBeNull();
  });

  it('refuses a bad maxAttachments option as Decoder does', () => {
    for (const max of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => new Decoder({ maxAttachments: max })).toThrow(RangeError);
      expect(() => new LiteDecoder({ maxAttachments: max })).toThrow(RangeError);
    }
  });
});
