// The codec-level rows of /work/shared/BAD-INPUTS.md: each must end in a
// DecodeError (the server then closes the connection) or an Engine.IO parser
// error, with the decoder ready for the next packet.
import { describe, expect, it } from 'vitest';
import { DecodeError, Decoder, decodePacket, decodePayload, PacketType } from '@sitehub/protocol';

function rejects(decoder: Decoder, input: string | Uint8Array): void {
  expect(() => decoder.add(input)).toThrow(DecodeError);
  expect(decoder.awaitingAttachments).toBe(false);
}

describe('BAD-INPUTS: codec rows', () => {
  it('CVE-2024-38355: an event named "error" decodes as an ordinary event', () => {
    expect(new Decoder().add('2["error"]')).toEqual({ type: PacketType.EVENT, nsp: '/', data: ['error'] });
  });

  it('CVE-2023-32695: an event name that is not a string or number is refused', () => {
    rejects(new Decoder(), '2[{"toString":"x"}]');
    rejects(new Decoder(), '21[{"toString":"x"}]');
    rejects(new Decoder(), '51-[{"toString":"x"},{"_placeholder":true,"num":0}]');
  });

  it('CVE-2022-2421: a placeholder num of "splice" is refused', () => {
    rejects(new Decoder(), '51-["a",{"_placeholder":true,"num":"splice"}]');
    rejects(new Decoder(), '51-["a",{"_placeholder":true,"num":"toString"}]');
    rejects(new Decoder(), '51-["a",{"_placeholder":true,"num":"__proto__"}]');
  });

  it('CVE-2026-33151: 4511-[...] (11 attachments) is refused before anything is buffered', () => {
    const engine = decodePacket(`4511-["a",${Array.from({ length: 11 }, (_, num) => `{"_placeholder":true,"num":${num}}`).join(',')}]`);
    expect(engine.type).toBe('message');
    const decoder = new Decoder();
    rejects(decoder, engine.data as string);
    rejects(new Decoder(), `5${'9'.repeat(100_000)}-["a"]`);
  });

  it('GHSA-2m8v-j782-fhvr: a binary packet with 0 attachments is refused', () => {
    rejects(new Decoder(), '50-["a"]');
    rejects(new Decoder(), '60-3["a"]');
  });

  it('GHSA-2m8v-j782-fhvr: text while attachments are awaited is refused and the state freed', () => {
    const decoder = new Decoder();
    expect(decoder.add('52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')).toBeNull();
    expect(decoder.add(new Uint8Array([1]))).toBeNull();
    rejects(decoder, '2["b"]');
    // The late attachment of the dropped packet is now unexpected too.
    rejects(decoder, new Uint8Array([2]));
    expect(decoder.add('2["c"]')).toEqual({ type: PacketType.EVENT, nsp: '/', data: ['c'] });
  });

  it('GHSA-2m8v-j782-fhvr: attachments that never come are freed by destroy()', () => {
    const decoder = new Decoder();
    decoder.add('51-["a",{"_placeholder":true,"num":0}]');
    expect(decoder.awaitingAttachments).toBe(true);
    decoder.destroy();
    expect(decoder.awaitingAttachments).toBe(false);
  });

  it('reference behaviour: disconnect as event name, non-integer ack id, unknown type, invalid JSON, empty frame, binary without header', () => {
    rejects(new Decoder(), '2["disconnect"]');
    rejects(new Decoder(), '2abc["x"]');
    rejects(new Decoder(), '21e3["x"]');
    rejects(new Decoder(), '9["x"]');
    rejects(new Decoder(), '2["x"');
    rejects(new Decoder(), '');
    rejects(new Decoder(), new Uint8Array([1, 2, 3]));
    expect(decodePacket('')).toEqual({ type: 'error', data: 'parser error' });
    expect(decodePacket('9')).toEqual({ type: 'error', data: 'parser error' });
  });
});

describe('CVE-2020-36049: very large packets are handled in linear time', () => {
  const MB = 1024 * 1024;

  /**
   * Times `run` on an input and on one 4 times smaller, alternating the two
   * and keeping the best of each, so load from other processes hits both
   * alike. Linear work gives a ratio near 4, quadratic near 16; the bound of
   * 8 leaves room for garbage-collection noise, which a 2x step does not
   * (GC alone has pushed a 2x step past 3 on this machine under load).
   */
  function expectLinear<T>(build: (size: number) => T, largeSize: number, run: (input: T) => void): void {
    const small = build(largeSize / 4);
    const large = build(largeSize);
    let smallTime = Infinity;
    let largeTime = Infinity;
    for (let round = 0; round < 5; round++) {
      let start = performance.now();
      run(small);
      smallTime = Math.min(smallTime, performance.now() - start);
      start = performance.now();
      run(large);
      largeTime = Math.min(largeTime, performance.now() - start);
    }
    expect(largeTime).toBeLessThan(1000);
    // Below the floor, timings of a few milliseconds are mostly scheduling
    // and GC noise; anything quadratic at 5 MB lands far above it.
    expect(largeTime).toBeLessThan(Math.max(8 * smallTime, 50));
  }

  type Outcome = 'packet' | 'awaiting attachments' | 'error';

  function decodeOutcome(text: string): Outcome {
    try {
      return new Decoder().add(text) === null ? 'awaiting attachments' : 'packet';
    } catch (error) {
      if (error instanceof DecodeError) return 'error';
      throw error;
    }
  }

  /**
   * For payloads of hundreds of thousands of containers V8's own JSON.parse is not
   * linear at these sizes (young-generation GC: 4x input costs 5-7x), so
   * instead of a size ratio this checks that decoding costs at most a
   * constant factor over JSON.parse of the same payload, measured alike
   * (normally about 1.6x). The margin is wide because GC noise is; a
   * superlinear walk over ~240,000 containers would miss it by seconds.
   */
  function expectNearJsonParse(text: string, json: string): void {
    let parseTime = Infinity;
    let decodeTime = Infinity;
    for (let round = 0; round < 5; round++) {
      let start = performance.now();
      JSON.parse(json);
      parseTime = Math.min(parseTime, performance.now() - start);
      start = performance.now();
      decodeOutcome(text);
      decodeTime = Math.min(decodeTime, performance.now() - start);
    }
    expect(decodeTime).toBeLessThan(1000);
    expect(decodeTime).toBeLessThan(4 * parseTime + 50);
  }

  const flatShapes: Array<[string, (size: number) => string, Outcome]> = [
    ['a huge string argument', (n) => `2["${'a'.repeat(n)}"]`, 'packet'],
    ['a huge namespace without a comma', (n) => `2/${'a'.repeat(n)}`, 'error'],
    ['a huge run of digits as ack id', (n) => `2${'1'.repeat(n)}`, 'error'],
    ['a huge invalid JSON payload', (n) => `2["${'a'.repeat(n)}`, 'error'],
    ['dashes where attachments should be', (n) => `5${'-'.repeat(n)}`, 'error'],
  ];

  for (const [name, build, outcome] of flatShapes) {
    it(`Decoder: ${name} (5 MB under a second, 4x input ~4x time)`, () => {
      expect(decodeOutcome(build(5 * MB))).toBe(outcome);
      expectLinear(build, 5 * MB, decodeOutcome);
    });
  }

  // 1 MB: the hub's default maxHttpBufferSize, so the most a real packet can
  // be. At 5 MB JSON.parse alone spends about half a second on deep nesting.
  const objectShapes: Array<[string, string]> = [
    ['deep nesting', `["a",${'['.repeat(MB / 2)}${']'.repeat(MB / 2)},{"_placeholder":true,"num":0}]`],
    ['many small objects', `["a",${'{"k":[1,{}]},'.repeat(MB / 13)}{"_placeholder":true,"num":0}]`],
  ];

  for (const [name, json] of objectShapes) {
    it(`Decoder: ${name} in a 1 MB binary packet costs little more than JSON.parse`, () => {
      const text = `51-${json}`;
      expect(decodeOutcome(text)).toBe('awaiting attachments');
      expectNearJsonParse(text, json);
    });
  }

  it('Engine.IO: a 5 MB base64 packet and a 5 MB polling body', () => {
    const base64 = (n: number) => 'b' + 'A'.repeat(Math.floor(n / 4) * 4);
    const packet = `4${'x'.repeat(62)}\x1e`;
    const body = (n: number) => packet.repeat(Math.floor(n / packet.length)) + '4x';
    expect(decodePacket(base64(5 * MB)).type).toBe('message');
    expect(decodePayload(body(5 * MB)).at(-1)).toEqual({ type: 'message', data: 'x' });
    expectLinear(base64, 5 * MB, decodePacket);
    expectLinear(body, 5 * MB, decodePayload);
  });
});
