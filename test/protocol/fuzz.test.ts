// Bounded fuzzing of every decoding entry point with a fixed seed: protocol-
// looking strings, random bytes and mutations of valid encodings. The Socket.IO
// Decoder may only ever throw DecodeError and must only ever return packets
// that obey the decoding rules; the Engine.IO functions never throw at all.
import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  Decoder,
  decodePacket,
  decodePayload,
  encodePacket,
  encodePayload,
  PacketType,
  RESERVED_EVENTS,
  type Packet,
} from '@sitehub/protocol';
import { fuzzInputs } from './fuzz-inputs.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20260524);
const SOCKET_INPUTS = 120_000;
const ENGINE_INPUTS = 120_000;

const { random, pick, randomProtocolString, randomBytes, mutate, socketChunks, VALID_ENCODINGS } = fuzzInputs(SEED);

/** Restates the decoding rules independently of the decoder, for what it returns. */
function ruleViolation(packet: Packet): string | null {
  if (![PacketType.CONNECT, PacketType.DISCONNECT, PacketType.EVENT, PacketType.ACK, PacketType.CONNECT_ERROR].includes(packet.type as 0)) {
    return `type ${packet.type}`;
  }
  if (typeof packet.nsp !== 'string' || !packet.nsp.startsWith('/')) return `nsp ${String(packet.nsp)}`;
  if (packet.id !== undefined && !(Number.isSafeInteger(packet.id) && packet.id >= 0)) return `id ${packet.id}`;
  const { data } = packet;
  const isObject = typeof data === 'object' && data !== null && !Array.isArray(data);
  switch (packet.type) {
    case PacketType.CONNECT:
      return data === undefined || isObject ? null : 'CONNECT data';
    case PacketType.DISCONNECT:
      return data === undefined ? null : 'DISCONNECT data';
    case PacketType.EVENT: {
      if (!Array.isArray(data) || data.length === 0) return 'EVENT data';
      const name: unknown = data[0];
      return typeof name === 'number' || (typeof name === 'string' && !RESERVED_EVENTS.has(name)) ? null : 'event name';
    }
    case PacketType.ACK:
      return Array.isArray(data) && packet.id !== undefined ? null : 'ACK';
    default:
      return typeof data === 'string' || isObject ? null : 'CONNECT_ERROR data';
  }
}

function describeInput(input: unknown): string {
  if (typeof input === 'string') return JSON.stringify(input.slice(0, 200));
  return `<${input instanceof ArrayBuffer ? 'ArrayBuffer' : 'Uint8Array'} ${(input as ArrayBuffer).byteLength} bytes>`;
}

describe(`fuzz (seed ${SEED}; reproduce with FUZZ_SEED=${SEED})`, () => {
  it(`Decoder.add: ${SOCKET_INPUTS} chunks, only DecodeError, only valid packets`, () => {
    const decoder = new Decoder();
    const failures: string[] = [];
    let decoded = 0;
    let rejected = 0;
    let fed = 0;
    for (const chunk of socketChunks(SOCKET_INPUTS)) {
      fed++;
      try {
        const packet = decoder.add(chunk);
        if (packet !== null) {
          decoded++;
          const violation = ruleViolation(packet);
          if (violation) failures.push(`${describeInput(chunk)} decoded with ${violation}`);
        }
      } catch (error) {
        rejected++;
        if (!(error instanceof DecodeError)) failures.push(`${describeInput(chunk)} threw ${String(error)}`);
        if (decoder.awaitingAttachments) failures.push(`${describeInput(chunk)} left reassembly state behind`);
      }
      if (failures.length > 20) break;
    }
    expect(failures).toEqual([]);
    expect(fed).toBeGreaterThanOrEqual(SOCKET_INPUTS);
    // The mix must exercise both outcomes in earnest, or the fuzz proves little.
    expect(decoded).toBeGreaterThan(SOCKET_INPUTS / 20);
    expect(rejected).toBeGreaterThan(SOCKET_INPUTS / 4);
  });

  it(`Engine.IO decodePacket/decodePayload: ${ENGINE_INPUTS} inputs, never a throw`, () => {
    const names = new Set(['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop']);
    const validBodies = VALID_ENCODINGS.map((parts) =>
      encodePayload(parts.map((part) => ({ type: 'message' as const, data: part as string | Uint8Array }))),
    );
    const failures: string[] = [];
    let errors = 0;
    for (let i = 0; i < ENGINE_INPUTS; i++) {
      const roll = random();
      const input: string | Uint8Array =
        roll < 0.3 ? randomProtocolString()
        : roll < 0.5 ? mutate(pick(validBodies))
        : roll < 0.6 ? randomBytes()
        : roll < 0.8 ? `b${mutate(encodePacket({ type: 'message', data: randomBytes() }, false) as string).slice(1)}`
        : [randomProtocolString(), pick(validBodies), mutate(pick(validBodies))].join('\x1e');
      try {
        const single = decodePacket(input);
        if (single.type === 'error') errors++;
        else if (!names.has(single.type)) failures.push(`${describeInput(input)} decoded as type ${single.type}`);
        if (typeof input === 'string') {
          const all = decodePayload(input);
          if (all.length === 0) failures.push(`${describeInput(input)} decoded to an empty list`);
          all.forEach((packet, index) => {
            if (packet.type === 'error' && index !== all.length - 1) failures.push(`${describeInput(input)}: error not last`);
          });
        }
      } catch (error) {
        failures.push(`${describeInput(input)} threw ${String(error)}`);
      }
      if (failures.length > 20) break;
    }
    expect(failures).toEqual([]);
    expect(errors).toBeGreaterThan(ENGINE_INPUTS / 20);
  });
});
