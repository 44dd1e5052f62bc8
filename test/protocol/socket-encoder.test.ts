import { describe, expect, it } from 'vitest';
import { Encoder, PacketType, hasBinary, type Packet } from '@sitehub/protocol';

const encoder = new Encoder();
const bytes = (...values: number[]) => new Uint8Array(values);

describe('Socket.IO Encoder: wire strings from the v5 spec', () => {
  const cases: Array<[string, Packet, string]> = [
    ['CONNECT to /', { type: PacketType.CONNECT, nsp: '/' }, '0'],
    ['CONNECT to /admin', { type: PacketType.CONNECT, nsp: '/admin' }, '0/admin,'],
    ['CONNECT with payload', { type: PacketType.CONNECT, nsp: '/admin', data: { sid: 'oSO0OpakMV_3jnilAAAA' } }, '0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}'],
    ['CONNECT to / with auth', { type: PacketType.CONNECT, nsp: '/', data: { token: '123' } }, '0{"token":"123"}'],
    ['CONNECT_ERROR object', { type: PacketType.CONNECT_ERROR, nsp: '/', data: { message: 'Not authorized' } }, '4{"message":"Not authorized"}'],
    ['CONNECT_ERROR string', { type: PacketType.CONNECT_ERROR, nsp: '/admin', data: 'nope' }, '4/admin,"nope"'],
    ['EVENT', { type: PacketType.EVENT, nsp: '/', data: ['foo'] }, '2["foo"]'],
    ['EVENT in /admin', { type: PacketType.EVENT, nsp: '/admin', data: ['bar'] }, '2/admin,["bar"]'],
    ['EVENT with ack id', { type: PacketType.EVENT, nsp: '/', data: ['foo'], id: 12 }, '212["foo"]'],
    ['EVENT with ack id 0', { type: PacketType.EVENT, nsp: '/', data: ['foo'], id: 0 }, '20["foo"]'],
    ['ACK in /admin', { type: PacketType.ACK, nsp: '/admin', data: ['bar'], id: 13 }, '3/admin,13["bar"]'],
    ['empty ACK', { type: PacketType.ACK, nsp: '/', data: [], id: 12 }, '312[]'],
    ['DISCONNECT from /', { type: PacketType.DISCONNECT, nsp: '/' }, '1'],
    ['DISCONNECT from /admin', { type: PacketType.DISCONNECT, nsp: '/admin' }, '1/admin,'],
    ['compact JSON', { type: PacketType.EVENT, nsp: '/', data: ['a b', { x: [1, 2], y: null }] }, '2["a b",{"x":[1,2],"y":null}]'],
  ];
  for (const [name, packet, wire] of cases) {
    it(`${name} -> ${wire}`, () => {
      expect(encoder.encode(packet)).toEqual([wire]);
    });
  }

  it('a missing or empty namespace means the main namespace', () => {
    expect(encoder.encode({ type: PacketType.EVENT, nsp: '', data: ['x'] })).toEqual(['2["x"]']);
  });
});

describe('Socket.IO Encoder: binary', () => {
  it('turns an EVENT holding a buffer into BINARY_EVENT with a placeholder', () => {
    const buffer = bytes(1, 2, 3, 4);
    const out = encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['baz', buffer] });
    expect(out).toEqual(['51-["baz",{"_placeholder":true,"num":0}]', buffer]);
    expect(out[1]).toBe(buffer);
  });

  it('numbers several attachments in JSON order, with namespace', () => {
    const out = encoder.encode({ type: PacketType.EVENT, nsp: '/admin', data: ['baz', bytes(1, 2), bytes(3, 4)] });
    expect(out).toEqual(['52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', bytes(1, 2), bytes(3, 4)]);
  });

  it('turns an ACK holding a buffer into BINARY_ACK with its id', () => {
    const out = encoder.encode({ type: PacketType.ACK, nsp: '/', data: ['bar', bytes(1, 2, 3, 4)], id: 15 });
    expect(out).toEqual(['61-15["bar",{"_placeholder":true,"num":0}]', bytes(1, 2, 3, 4)]);
    expect(encoder.encode({ type: PacketType.ACK, nsp: '/admin', data: [bytes(9)], id: 1 })[0]).toBe(
      '61-/admin,1[{"_placeholder":true,"num":0}]',
    );
  });

  it('finds buffers nested in objects and arrays', () => {
    const out = encoder.encode({
      type: PacketType.EVENT,
      nsp: '/',
      data: ['deep', { a: [1, { b: bytes(7) }], c: bytes(8) }],
    });
    expect(out[0]).toBe('52-["deep",{"a":[1,{"b":{"_placeholder":true,"num":0}}],"c":{"_placeholder":true,"num":1}}]');
    expect(out.slice(1)).toEqual([bytes(7), bytes(8)]);
  });

  it('sends ArrayBuffer and other views as Uint8Array over the same memory', () => {
    const arrayBuffer = bytes(1, 2, 3).buffer;
    const view = new DataView(bytes(0, 5, 6, 0).buffer, 1, 2);
    const out = encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['x', arrayBuffer, view] });
    expect(out[0]).toBe('52-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    expect(out[1]).toBeInstanceOf(Uint8Array);
    expect(Array.from(out[1] as Uint8Array)).toEqual([1, 2, 3]);
    expect((out[1] as Uint8Array).buffer).toBe(arrayBuffer);
    expect(Array.from(out[2] as Uint8Array)).toEqual([5, 6]);
  });

  it('keeps a Node Buffer as it is', () => {
    const buffer = Buffer.from([1, 2]);
    expect(encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['b', buffer] })[1]).toBe(buffer);
  });

  it('never mutates the packet it encodes', () => {
    const buffer = bytes(1);
    const inner = { file: buffer, list: [buffer, 'x'] };
    const packet: Packet = { type: PacketType.EVENT, nsp: '/', data: ['up', inner], id: 3 };
    encoder.encode(packet);
    expect(packet).toEqual({ type: PacketType.EVENT, nsp: '/', data: ['up', inner], id: 3 });
    expect(inner.file).toBe(buffer);
    expect(inner.list[0]).toBe(buffer);
    expect(packet.attachments).toBeUndefined();
  });

  it('chooses the type from the payload: BINARY_EVENT without binary is sent as EVENT', () => {
    expect(encoder.encode({ type: PacketType.BINARY_EVENT, nsp: '/', data: ['x'] })).toEqual(['2["x"]']);
    expect(encoder.encode({ type: PacketType.BINARY_ACK, nsp: '/', data: [], id: 4 })).toEqual(['34[]']);
    expect(encoder.encode({ type: PacketType.BINARY_EVENT, nsp: '/', data: ['x', bytes(1)], attachments: 7 })[0]).toBe(
      '51-["x",{"_placeholder":true,"num":0}]',
    );
  });

  it('honours toJSON like JSON.stringify, binary included', () => {
    const date = new Date(0);
    expect(encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['t', date] })).toEqual(['2["t","1970-01-01T00:00:00.000Z"]']);
    const wrapped = { toJSON: () => ({ payload: bytes(5) }) };
    const out = encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['w', wrapped] });
    expect(out).toEqual(['51-["w",{"payload":{"_placeholder":true,"num":0}}]', bytes(5)]);
  });

  it('keeps a __proto__ key as data when rebuilding a binary payload', () => {
    const data = JSON.parse('["p",{"__proto__":{"x":1}}]') as unknown[];
    (data[1] as Record<string, unknown>)['y'] = bytes(1);
    expect(encoder.encode({ type: PacketType.EVENT, nsp: '/', data })[0]).toBe(
      '51-["p",{"__proto__":{"x":1},"y":{"_placeholder":true,"num":0}}]',
    );
  });

  it('refuses a circular payload with a TypeError instead of looping', () => {
    const loop: Record<string, unknown> = { b: bytes(1) };
    loop['self'] = loop;
    expect(() => encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['c', loop] })).toThrow(TypeError);
    const plainLoop: Record<string, unknown> = {};
    plainLoop['self'] = plainLoop;
    expect(() => encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['c', plainLoop] })).toThrow(TypeError);
  });

  it('refuses a Blob, which cannot be read synchronously', () => {
    expect(() => encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['b', new Blob(['x'])] })).toThrow(/Blob/);
  });
});

describe('Socket.IO Encoder: invalid packets are programming errors', () => {
  it('refuses an unknown type, a namespace with a comma or without a slash, and a bad ack id', () => {
    expect(() => encoder.encode({ type: 7 as PacketType, nsp: '/' })).toThrow(TypeError);
    expect(() => encoder.encode({ type: PacketType.EVENT, nsp: '/a,b', data: ['x'] })).toThrow(TypeError);
    expect(() => encoder.encode({ type: PacketType.EVENT, nsp: 'admin', data: ['x'] })).toThrow(TypeError);
    expect(() => encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['x'], id: -1 })).toThrow(TypeError);
    expect(() => encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['x'], id: 1.5 })).toThrow(TypeError);
  });
});

describe('hasBinary', () => {
  it('finds Uint8Array, Buffer, ArrayBuffer, DataView and Blob anywhere', () => {
    expect(hasBinary(bytes(1))).toBe(true);
    expect(hasBinary(Buffer.from('x'))).toBe(true);
    expect(hasBinary(new ArrayBuffer(1))).toBe(true);
    expect(hasBinary([1, { a: [new DataView(new ArrayBuffer(2))] }])).toBe(true);
    expect(hasBinary({ a: { b: { c: new Blob([]) } } })).toBe(true);
    expect(hasBinary({ toJSON: () => [bytes(1)] })).toBe(true);
  });

  it('is false for plain JSON data, dates and cycles without binary', () => {
    expect(hasBinary(['a', 1, null, true, { b: [{}] }])).toBe(false);
    expect(hasBinary(new Date())).toBe(false);
    expect(hasBinary(undefined)).toBe(false);
    const loop: Record<string, unknown> = {};
    loop['self'] = loop;
    expect(hasBinary(loop)).toBe(false);
    // An object whose toJSON hides the buffer: JSON would not carry it.
    expect(hasBinary({ buffer: bytes(1), toJSON: () => 'hidden' })).toBe(false);
  });
});
