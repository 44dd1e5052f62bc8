import { beforeEach, describe, expect, it } from 'vitest';
import { DecodeError, Decoder, PacketType, RESERVED_EVENTS, type Packet } from '@sitehub/protocol';

const bytes = (...values: number[]) => new Uint8Array(values);

let decoder: Decoder;
beforeEach(() => {
  decoder = new Decoder();
});

function decodeText(text: string): Packet | null {
  return decoder.add(text);
}

function expectRejected(input: string | Uint8Array | ArrayBuffer, message?: RegExp): DecodeError {
  let caught: unknown;
  try {
    decoder.add(input);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DecodeError);
  if (message) expect((caught as Error).message).toMatch(message);
  expect(decoder.awaitingAttachments).toBe(false);
  return caught as DecodeError;
}

describe('Decoder: valid packets from the v5 spec', () => {
  const cases: Array<[string, Packet]> = [
    ['0', { type: PacketType.CONNECT, nsp: '/' }],
    ['0/admin,', { type: PacketType.CONNECT, nsp: '/admin' }],
    ['0/admin', { type: PacketType.CONNECT, nsp: '/admin' }],
    ['0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}', { type: PacketType.CONNECT, nsp: '/admin', data: { sid: 'oSO0OpakMV_3jnilAAAA' } }],
    ['0{"token":"123"}', { type: PacketType.CONNECT, nsp: '/', data: { token: '123' } }],
    ['1', { type: PacketType.DISCONNECT, nsp: '/' }],
    ['1/admin,', { type: PacketType.DISCONNECT, nsp: '/admin' }],
    ['2["foo"]', { type: PacketType.EVENT, nsp: '/', data: ['foo'] }],
    ['2/admin,["bar"]', { type: PacketType.EVENT, nsp: '/admin', data: ['bar'] }],
    ['212["foo"]', { type: PacketType.EVENT, nsp: '/', data: ['foo'], id: 12 }],
    ['2/admin,1["tellme"]', { type: PacketType.EVENT, nsp: '/admin', data: ['tellme'], id: 1 }],
    ['2[42,"x"]', { type: PacketType.EVENT, nsp: '/', data: [42, 'x'] }],
    ['312[]', { type: PacketType.ACK, nsp: '/', data: [], id: 12 }],
    ['3/admin,13["bar"]', { type: PacketType.ACK, nsp: '/admin', data: ['bar'], id: 13 }],
    ['4{"message":"Not authorized"}', { type: PacketType.CONNECT_ERROR, nsp: '/', data: { message: 'Not authorized' } }],
    ['4/admin,"Invalid namespace"', { type: PacketType.CONNECT_ERROR, nsp: '/admin', data: 'Invalid namespace' }],
    ['29007199254740991["max"]', { type: PacketType.EVENT, nsp: '/', data: ['max'], id: Number.MAX_SAFE_INTEGER }],
  ];
  for (const [wire, packet] of cases) {
    it(`${wire}`, () => {
      expect(decodeText(wire)).toStrictEqual(packet);
    });
  }
});

describe('Decoder: binary packets', () => {
  it('reassembles 51-["baz",placeholder] + one buffer into an EVENT', () => {
    const attachment = bytes(1, 2, 3, 4);
    expect(decoder.add('51-["baz",{"_placeholder":true,"num":0}]')).toBeNull();
    expect(decoder.awaitingAttachments).toBe(true);
    const packet = decoder.add(attachment);
    expect(packet).toStrictEqual({ type: PacketType.EVENT, nsp: '/', data: ['baz', attachment] });
    expect((packet!.data as unknown[])[1]).toBe(attachment);
    expect(decoder.awaitingAttachments).toBe(false);
  });

  it('places attachments by num, wherever the placeholders sit', () => {
    expect(
      decoder.add('52-/admin,7["baz",{"b":{"_placeholder":true,"num":1}},[{"_placeholder":true,"num":0}]]'),
    ).toBeNull();
    const first = bytes(1);
    const second = bytes(2);
    expect(decoder.add(first)).toBeNull();
    expect(decoder.awaitingAttachments).toBe(true);
    expect(decoder.add(second)).toStrictEqual({
      type: PacketType.EVENT,
      nsp: '/admin',
      id: 7,
      data: ['baz', { b: second }, [first]],
    });
  });

  it('reassembles a BINARY_ACK into an ACK with its id', () => {
    expect(decoder.add('61-15["bar",{"_placeholder":true,"num":0}]')).toBeNull();
    const attachment = bytes(9);
    expect(decoder.add(attachment)).toStrictEqual({ type: PacketType.ACK, nsp: '/', id: 15, data: ['bar', attachment] });
  });

  it('keeps attachments exactly as given: Buffer stays Buffer, ArrayBuffer stays ArrayBuffer', () => {
    const buffer = Buffer.from([1]);
    const arrayBuffer = new ArrayBuffer(2);
    decoder.add('52-["kinds",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    decoder.add(buffer);
    const data = decoder.add(arrayBuffer)!.data as unknown[];
    expect(data[1]).toBe(buffer);
    expect(data[2]).toBe(arrayBuffer);
  });

  it('leaves placeholder-looking objects alone in non-binary packets', () => {
    expect(decoder.add('2["x",{"_placeholder":true,"num":0}]')).toStrictEqual({
      type: PacketType.EVENT,
      nsp: '/',
      data: ['x', { _placeholder: true, num: 0 }],
    });
  });

  it('decodes packets one after another with the same decoder', () => {
    decoder.add('51-["a",{"_placeholder":true,"num":0}]');
    decoder.add(bytes(1));
    expect(decoder.add('2["b"]')).toStrictEqual({ type: PacketType.EVENT, nsp: '/', data: ['b'] });
  });

  it('destroy() frees a half-received packet', () => {
    decoder.add('52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    decoder.add(bytes(1));
    decoder.destroy();
    expect(decoder.awaitingAttachments).toBe(false);
    expect(decoder.add('2["next"]')).toStrictEqual({ type: PacketType.EVENT, nsp: '/', data: ['next'] });
  });
});

describe('Decoder rules: packet type', () => {
  it('rejects an empty packet', () => expectRejected('', /empty/));
  it('rejects type 7', () => expectRejected('7["x"]', /type/));
  it('rejects a non-digit type', () => expectRejected('x["x"]', /type/));
  it('rejects a type that is not a single digit', () => expectRejected('-1', /type/));
});

describe('Decoder rules: attachments', () => {
  it('rejects a binary type without an attachment count', () => expectRejected('5["a",{"_placeholder":true,"num":0}]', /attachment count/));
  it('rejects an attachment count not followed by "-"', () => expectRejected('51["a"]', /attachment count/));
  it('rejects a non-integer attachment count', () => expectRejected('51.5-["a",{"_placeholder":true,"num":0}]', /attachment count/));
  it('rejects a negative attachment count', () => expectRejected('5-1-["a",{"_placeholder":true,"num":0}]', /attachment count/));
  it('rejects a binary type with 0 attachments', () => expectRejected('50-["a"]', /no attachments/));
  it('rejects a binary ACK with 0 attachments', () => expectRejected('60-1[]', /no attachments/));
  it('words a missing or zero attachment count as socket.io-parser does (Illegal attachments)', () => {
    expectRejected('5woooot', /^Illegal attachments/);
    expectRejected('5', /^Illegal attachments/);
    expectRejected('50-["a"]', /^Illegal attachments/);
  });
  it('rejects more than maxAttachments (default 10)', () => expectRejected('511-["a"]', /too many attachments/));
  it('rejects an attachment count with a huge number of digits', () => expectRejected(`5${'9'.repeat(1000)}-["a"]`, /too many attachments/));
  it('accepts exactly maxAttachments', () => {
    const placeholders = Array.from({ length: 10 }, (_, num) => ({ _placeholder: true, num }));
    expect(decoder.add(`510-${JSON.stringify(['ten', ...placeholders])}`)).toBeNull();
    for (let i = 0; i < 9; i++) expect(decoder.add(bytes(i))).toBeNull();
    expect((decoder.add(bytes(9))!.data as unknown[]).length).toBe(11);
  });
  it('honours a lower maxAttachments option', () => {
    decoder = new Decoder({ maxAttachments: 1 });
    expectRejected('52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', /too many attachments/);
    expect(decoder.add('51-["a",{"_placeholder":true,"num":0}]')).toBeNull();
  });
  it('honours a higher maxAttachments option', () => {
    decoder = new Decoder({ maxAttachments: 12 });
    const placeholders = Array.from({ length: 12 }, (_, num) => ({ _placeholder: true, num }));
    expectRejected('513-["a"]', /too many attachments/);
    expect(decoder.add(`512-${JSON.stringify(['many', ...placeholders])}`)).toBeNull();
  });
  it('refuses an invalid maxAttachments option', () => {
    expect(() => new Decoder({ maxAttachments: -1 })).toThrow(RangeError);
    expect(() => new Decoder({ maxAttachments: 1.5 })).toThrow(RangeError);
  });
});

describe('Decoder rules: namespace', () => {
  it('runs from a leading "/" to the next ","', () => {
    expect(decoder.add('2/a/b,["x"]')).toStrictEqual({ type: PacketType.EVENT, nsp: '/a/b', data: ['x'] });
  });
  it('runs to the end when there is no ","', () => {
    expect(decoder.add('1/admin')).toStrictEqual({ type: PacketType.DISCONNECT, nsp: '/admin' });
  });
  it('is "/" when the packet does not start one', () => {
    expect(decoder.add('2["x"]')!.nsp).toBe('/');
  });
  it('means an EVENT whose namespace swallows the rest has no payload', () => expectRejected('2/admin["x"]', /non-empty array/));
});

describe('Decoder rules: ack id', () => {
  it('is the digits after the namespace', () => {
    expect(decoder.add('2/admin,0042["x"]')).toStrictEqual({ type: PacketType.EVENT, nsp: '/admin', id: 42, data: ['x'] });
  });
  it('rejects an ack id longer than 16 digits', () => expectRejected(`2${'1'.repeat(17)}["x"]`, /ack id too long/));
  it('rejects an ack id beyond Number.MAX_SAFE_INTEGER', () => expectRejected('29007199254740992["x"]', /safe integer/));
  it('rejects a non-integer ack id (the rest is not JSON)', () => expectRejected('21.5["x"]', /JSON/));
  it('rejects a negative ack id (the rest is not JSON)', () => expectRejected('2-1["x"]', /JSON/));
  it('rejects an ACK without an ack id', () => expectRejected('3["x"]', /ack id/));
  it('rejects an ack id on CONNECT', () => expectRejected('01{}', /no ack id/));
  it('rejects an ack id on DISCONNECT', () => expectRejected('1/admin,5', /no ack id/));
  it('rejects an ack id on CONNECT_ERROR', () => expectRejected('41"x"', /no ack id/));
});

describe('Decoder rules: payloads', () => {
  it('rejects invalid JSON', () => expectRejected('2["x"', /invalid JSON/));
  it('rejects trailing garbage after the JSON', () => expectRejected('2["x"]x', /invalid JSON/));

  it('CONNECT: accepts no payload', () => expect(decoder.add('0')!.data).toBeUndefined());
  it('CONNECT: rejects an array', () => expectRejected('0[]', /CONNECT payload/));
  it('CONNECT: rejects a string', () => expectRejected('0"x"', /CONNECT payload/));
  it('CONNECT: rejects null', () => expectRejected('0null', /CONNECT payload/));

  it('DISCONNECT: rejects any payload', () => expectRejected('1{}', /DISCONNECT/));

  it('EVENT: rejects no payload', () => expectRejected('2', /non-empty array/));
  it('EVENT: rejects an empty array', () => expectRejected('2[]', /non-empty array/));
  it('EVENT: rejects an object', () => expectRejected('2{"0":"x"}', /non-empty array/));
  it('EVENT: rejects an object as event name', () => expectRejected('2[{"toString":"x"}]', /event name/));
  it('EVENT: rejects null as event name', () => expectRejected('2[null]', /event name/));
  it('EVENT: rejects an array as event name', () => expectRejected('2[["x"]]', /event name/));
  for (const name of ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']) {
    it(`EVENT: rejects the reserved name "${name}"`, () => expectRejected(`2["${name}"]`, /reserved/));
  }
  it('EVENT: RESERVED_EVENTS holds exactly the six reserved names', () => {
    expect([...RESERVED_EVENTS].sort()).toEqual(
      ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'].sort(),
    );
  });
  it('EVENT: accepts "error" and other ordinary names', () => {
    expect(decoder.add('2["error"]')!.data).toEqual(['error']);
  });
  it('BINARY_EVENT: applies the EVENT rule', () => expectRejected('51-["disconnect",{"_placeholder":true,"num":0}]', /reserved/));

  it('ACK: rejects no payload', () => expectRejected('31', /ACK payload/));
  it('ACK: rejects an object', () => expectRejected('31{}', /ACK payload/));
  it('BINARY_ACK: rejects an object', () => expectRejected('61-1{"a":{"_placeholder":true,"num":0}}', /ACK payload/));

  it('CONNECT_ERROR: rejects no payload', () => expectRejected('4', /CONNECT_ERROR/));
  it('CONNECT_ERROR: rejects an array', () => expectRejected('4["x"]', /CONNECT_ERROR/));
  it('CONNECT_ERROR: rejects a number', () => expectRejected('4/admin,42', /no ack id/));
  it('CONNECT_ERROR: rejects null', () => expectRejected('4null', /CONNECT_ERROR/));
});

describe('Decoder rules: placeholders', () => {
  it('rejects a string num', () => expectRejected('51-["a",{"_placeholder":true,"num":"0"}]', /placeholder num/));
  it('rejects a fractional num', () => expectRejected('51-["a",{"_placeholder":true,"num":0.5}]', /placeholder num/));
  it('rejects a negative num', () => expectRejected('51-["a",{"_placeholder":true,"num":-1}]', /placeholder num/));
  it('rejects a num equal to the attachment count', () => expectRejected('51-["a",{"_placeholder":true,"num":1}]', /placeholder num/));
  it('rejects a placeholder without num', () => expectRejected('51-["a",{"_placeholder":true}]', /placeholder num/));
  it('rejects the same num used twice', () =>
    expectRejected('52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]', /used twice/));
  it('rejects fewer placeholders than attachments', () => expectRejected('52-["a",{"_placeholder":true,"num":0}]', /placeholders/));
  it('rejects a binary packet with no placeholder at all', () => expectRejected('51-["a"]', /placeholders/));
  it('does not take _placeholder:"true" (a string) for a placeholder', () =>
    expectRejected('51-["a",{"_placeholder":"true","num":0}]', /placeholders/));
});

describe('Decoder rules: sequencing', () => {
  it('rejects a text packet while attachments are awaited, then decodes the next packet', () => {
    decoder.add('51-["a",{"_placeholder":true,"num":0}]');
    expectRejected('2["sneaky"]', /attachments are awaited/);
    expect(decoder.add('2["fresh"]')).toStrictEqual({ type: PacketType.EVENT, nsp: '/', data: ['fresh'] });
  });
  it('rejects a binary chunk when nothing is awaited', () => expectRejected(bytes(1, 2), /no binary packet/));
  it('rejects an ArrayBuffer chunk when nothing is awaited', () => expectRejected(new ArrayBuffer(1), /no binary packet/));
  it('rejects an extra attachment after the packet completed', () => {
    decoder.add('51-["a",{"_placeholder":true,"num":0}]');
    expect(decoder.add(bytes(1))).not.toBeNull();
    expectRejected(bytes(2), /no binary packet/);
  });
  it('rejects what is neither text nor binary', () => {
    expectRejected(undefined as unknown as string, /string or binary/);
    expectRejected(42 as unknown as string, /string or binary/);
    expectRejected({ base64: true } as unknown as string, /string or binary/);
  });
});

describe('Decoder: prototype pollution', () => {
  it('keeps __proto__ keys as plain data in payloads', () => {
    const packet = decoder.add('2["x",{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}]');
    const payload = (packet!.data as unknown[])[1] as Record<string, unknown>;
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(Object.hasOwn(payload, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((payload as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('puts an attachment under a __proto__ key as data, without touching any prototype', () => {
    decoder.add('51-["x",{"__proto__":{"_placeholder":true,"num":0}}]');
    const attachment = bytes(1);
    const payload = (decoder.add(attachment)!.data as unknown[])[1] as Record<string, unknown>;
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(payload, '__proto__')!.value).toBe(attachment);
  });
});
