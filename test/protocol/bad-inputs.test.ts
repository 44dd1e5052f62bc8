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

  /** Best of a few runs, so one scheduling hiccup on a busy machine does not decide the result. */
  function bestTime(run: () => void, repeats = 5): number {
    let best = Infinity;
    for (let i = 0; i < repeats; i++) {
      const start = performance.now();
      run();
      best = Math.min(best, performance.now() - start);
    }
    return best;
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

  const shapes: Array<[string, (size: number) => string, Outcome]> = [
    ['a huge string argument', (n) => `2["${'a'.repeat(n)}"]`, 'packet'],
    ['a huge namespace without a comma', (n) => `2/${'a'.repeat(n)}`, 'error'],
    ['a huge run of digits as ack id', (n) => `2${'1'.repeat(n)}`, 'error'],
    ['deep nesting in a binary packet', (n) => `51-["a",${'['.repeat(n / 2)}${']'.repeat(n / 2)},{"_placeholder":true,"num":0}]`, 'awaiting attachments'],
    ['many small objects in a binary packet', (n) => `51-["a",${'{"k":[1,{}]},'.repeat(n / 13)}{"_placeholder":true,"num":0}]`, 'awaiting attachments'],
    ['a huge invalid JSON payload', (n) => `2["${'a'.repeat(n)}`, 'error'],
    ['dashes where attachments should be', (n) => `5${'-'.repeat(n)}`, 'error'],
  ];

  for (const [name, build, outcome] of shapes) {
    it(`Decoder: ${name} (5 MB well under a second, 2x input ~2x time)`, () => {
      const small = build(2.5 * MB);
      const large = build(5 * MB);
      expect(decodeOutcome(large)).toBe(outcome);
      const smallTime = bestTime(() => decodeOutcome(small), 3);
      const largeTime = bestTime(() => decodeOutcome(large), 3);
      expect(largeTime).toBeLessThan(1000);
      // Quadratic work would make this ratio about 4; the floor absorbs timer noise on tiny durations.
      expect(largeTime).toBeLessThan(Math.max(3 * smallTime, 5));
    });
  }

  it('Engine.IO: a 5 MB polling body of many packets and a 5 MB base64 packet', () => {
    const body = (n: number) => '4x\x1e'.repeat(n / 3) + '4x';
    const base64 = (n: number) => 'b' + 'A'.repeat(Math.floor(n / 4) * 4);
    for (const build of [body, base64]) {
      const small = build(2.5 * MB);
      const large = build(5 * MB);
      const smallTime = bestTime(() => decodePayload(small), 3);
      const largeTime = bestTime(() => decodePayload(large), 3);
      expect(largeTime).toBeLessThan(1000);
      expect(largeTime).toBeLessThan(Math.max(3 * smallTime, 5));
    }
    expect(decodePayload(body(5 * MB)).at(-1)).toEqual({ type: 'message', data: 'x' });
  });
});
