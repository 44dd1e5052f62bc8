import { describe, expect, it } from 'vitest';
import {
  decodeBase64,
  decodePacket,
  decodePayload,
  encodeBase64,
  encodePacket,
  encodePayload,
  Encoder,
  PacketType,
  PAYLOAD_SEPARATOR,
} from '@sitehub/protocol';
import { withPlainBytes } from './helpers.js';

const bytes = (...values: number[]) => new Uint8Array(values);

describe('Engine.IO packets: exact wire strings', () => {
  it('encodes each packet type as its digit plus data', () => {
    expect(encodePacket({ type: 'open', data: '{"sid":"abc"}' }, true)).toBe('0{"sid":"abc"}');
    expect(encodePacket({ type: 'close' }, true)).toBe('1');
    expect(encodePacket({ type: 'ping' }, true)).toBe('2');
    expect(encodePacket({ type: 'ping', data: 'probe' }, true)).toBe('2probe');
    expect(encodePacket({ type: 'pong', data: 'probe' }, true)).toBe('3probe');
    expect(encodePacket({ type: 'message', data: 'hello' }, false)).toBe('4hello');
    expect(encodePacket({ type: 'upgrade' }, true)).toBe('5');
    expect(encodePacket({ type: 'noop' }, true)).toBe('6');
  });

  it('sends binary as raw bytes when the transport supports it, b<base64> otherwise', () => {
    const data = bytes(1, 2, 3, 4);
    expect(encodePacket({ type: 'message', data }, true)).toBe(data);
    expect(encodePacket({ type: 'message', data }, false)).toBe('bAQIDBA==');
  });

  it('sends an ArrayBuffer or a DataView as bytes, never as "[object ArrayBuffer]"', () => {
    const arrayBuffer = bytes(1, 2, 3, 4).buffer;
    expect(encodePacket({ type: 'message', data: arrayBuffer as unknown as Uint8Array }, false)).toBe('bAQIDBA==');
    const view = new DataView(arrayBuffer, 1, 2);
    expect(Array.from(encodePacket({ type: 'message', data: view as unknown as Uint8Array }, true) as Uint8Array)).toEqual([2, 3]);
  });

  it('decodes text packets by their first digit', () => {
    expect(decodePacket('0{"sid":"abc"}')).toEqual({ type: 'open', data: '{"sid":"abc"}' });
    expect(decodePacket('1')).toEqual({ type: 'close' });
    expect(decodePacket('2probe')).toEqual({ type: 'ping', data: 'probe' });
    expect(decodePacket('3')).toEqual({ type: 'pong' });
    expect(decodePacket('4hello')).toEqual({ type: 'message', data: 'hello' });
    expect(decodePacket('5')).toEqual({ type: 'upgrade' });
    expect(decodePacket('6')).toEqual({ type: 'noop' });
  });

  it('decodes b<base64> and raw frames as binary messages', () => {
    expect(withPlainBytes(decodePacket('bAQIDBA=='))).toEqual(withPlainBytes({ type: 'message', data: bytes(1, 2, 3, 4) }));
    const frame = bytes(4, 5);
    const decoded = decodePacket(frame);
    expect(decoded).toEqual({ type: 'message', data: frame });
    // A binary frame has no type prefix: its first byte is data, not a type.
    expect((decoded.data as Uint8Array)[0]).toBe(4);
    expect(decodePacket(bytes(9, 8).buffer)).toEqual({ type: 'message', data: bytes(9, 8) });
    const view = new DataView(bytes(0, 7, 0).buffer, 1, 1);
    expect(decodePacket(view)).toEqual({ type: 'message', data: bytes(7) });
  });

  it('an empty message goes out as "4" and comes back without data', () => {
    expect(encodePacket({ type: 'message', data: '' }, true)).toBe('4');
    expect(decodePacket('4')).toEqual({ type: 'message' });
  });

  it('returns a parser error, never throws, for malformed input', () => {
    const parserError = { type: 'error', data: 'parser error' };
    expect(decodePacket('')).toEqual(parserError);
    expect(decodePacket('7')).toEqual(parserError);
    expect(decodePacket('/')).toEqual(parserError);
    expect(decodePacket('x')).toEqual(parserError);
    expect(decodePacket('b!!!!')).toEqual(parserError);
    expect(decodePacket('bA')).toEqual(parserError);
    expect(decodePacket(null as unknown as string)).toEqual(parserError);
    expect(decodePacket(5 as unknown as string)).toEqual(parserError);
  });
});

describe('Engine.IO + Socket.IO: the two layers on the wire', () => {
  const encoder = new Encoder();
  const wire = (packet: Parameters<Encoder['encode']>[0]) =>
    encoder.encode(packet).map((part) => encodePacket({ type: 'message', data: part as string | Uint8Array }, false));

  it('EVENT 2["foo"] is sent as 42["foo"]', () => {
    expect(wire({ type: PacketType.EVENT, nsp: '/', data: ['foo'] })).toEqual(['42["foo"]']);
  });
  it('CONNECT to / is 40, to /admin is 40/admin,', () => {
    expect(wire({ type: PacketType.CONNECT, nsp: '/' })).toEqual(['40']);
    expect(wire({ type: PacketType.CONNECT, nsp: '/admin' })).toEqual(['40/admin,']);
    expect(wire({ type: PacketType.CONNECT, nsp: '/admin', data: { sid: 'x' } })).toEqual(['40/admin,{"sid":"x"}']);
  });
  it('DISCONNECT from /admin is 41/admin,', () => {
    expect(wire({ type: PacketType.DISCONNECT, nsp: '/admin' })).toEqual(['41/admin,']);
  });
  it('ACK in /admin is 43/admin,13["bar"]', () => {
    expect(wire({ type: PacketType.ACK, nsp: '/admin', data: ['bar'], id: 13 })).toEqual(['43/admin,13["bar"]']);
  });
  it('CONNECT_ERROR is 44{"message":"Invalid namespace"}', () => {
    expect(wire({ type: PacketType.CONNECT_ERROR, nsp: '/', data: { message: 'Invalid namespace' } })).toEqual([
      '44{"message":"Invalid namespace"}',
    ]);
  });
  it('a BINARY_ACK with a placeholder is 461-/admin,1[...] followed by the attachment', () => {
    expect(wire({ type: PacketType.ACK, nsp: '/admin', data: [bytes(1, 2, 3, 4)], id: 1 })).toEqual([
      '461-/admin,1[{"_placeholder":true,"num":0}]',
      'bAQIDBA==',
    ]);
  });
  it('a polling body joins packets with \\x1e and carries binary as b<base64>', () => {
    const [header, attachment] = encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['baz', bytes(1, 2, 3, 4)] });
    const body = encodePayload([
      { type: 'message', data: '2["hello"]' },
      { type: 'message', data: header as string },
      { type: 'message', data: attachment as Uint8Array },
      { type: 'ping' },
    ]);
    expect(body).toBe('42["hello"]\x1e451-["baz",{"_placeholder":true,"num":0}]\x1ebAQIDBA==\x1e2');
    expect(withPlainBytes(decodePayload(body))).toEqual(withPlainBytes([
      { type: 'message', data: '2["hello"]' },
      { type: 'message', data: '51-["baz",{"_placeholder":true,"num":0}]' },
      { type: 'message', data: bytes(1, 2, 3, 4) },
      { type: 'ping' },
    ]));
  });
  it('the spec sample: 42["hello"]\\x1e42["world"]', () => {
    expect(decodePayload('42["hello"]\x1e42["world"]')).toEqual([
      { type: 'message', data: '2["hello"]' },
      { type: 'message', data: '2["world"]' },
    ]);
    expect(PAYLOAD_SEPARATOR).toBe('\x1e');
  });
});

describe('Engine.IO payloads: malformed bodies', () => {
  const parserError = { type: 'error', data: 'parser error' };
  it('stops at the first bad packet and returns it last', () => {
    expect(decodePayload('4a\x1e9b\x1e4c')).toEqual([{ type: 'message', data: 'a' }, parserError]);
  });
  it('treats an empty body, an empty packet and a trailing separator as errors', () => {
    expect(decodePayload('')).toEqual([parserError]);
    expect(decodePayload('4a\x1e\x1e4b')).toEqual([{ type: 'message', data: 'a' }, parserError]);
    expect(decodePayload('4a\x1e')).toEqual([{ type: 'message', data: 'a' }, parserError]);
  });
  it('returns an error for a body that is not text', () => {
    expect(decodePayload(bytes(52) as unknown as string)).toEqual([parserError]);
  });
});

describe('base64', () => {
  it('round-trips bytes and refuses what is not base64', () => {
    expect(encodeBase64(bytes())).toBe('');
    expect(encodeBase64(bytes(255, 0, 128))).toBe('/wCA');
    expect(Array.from(decodeBase64('/wCA')!)).toEqual([255, 0, 128]);
    expect(decodeBase64('a-b_')).toBeNull();
    expect(decodeBase64('A')).toBeNull();
    expect(decodeBase64('AA=A')).toBeNull();
  });
  it('encodes a view on part of a larger buffer without reading past it', () => {
    const whole = bytes(1, 2, 3, 4, 5);
    expect(encodeBase64(whole.subarray(1, 3))).toBe(encodeBase64(bytes(2, 3)));
  });
});
