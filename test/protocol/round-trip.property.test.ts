// Property-based round trips: whatever a sender encodes, a receiver decodes
// back to the same packet, binary contents included.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Decoder,
  decodePacket,
  decodePayload,
  Encoder,
  encodePacket,
  encodePayload,
  type EnginePacket,
  type Packet,
} from '@sitehub/protocol';
import { bytesArb, packetArb, ROUND_TRIP_DECODER, textArb } from './arbitraries.js';
import { withPlainBytes } from './helpers.js';

const RUNS = 500;

describe('Engine.IO packets round-trip', () => {
  const typeArb = fc.constantFrom<EnginePacket['type']>('open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop');
  // An empty string and no data share one encoding ("4"), so generate one of them only.
  const textPacketArb = fc.record({ type: typeArb, data: fc.option(textArb.filter((s) => s.length > 0), { nil: undefined }) }, { requiredKeys: ['type'] })
    .map((p): EnginePacket => (p.data === undefined ? { type: p.type } : { type: p.type, data: p.data }));
  const binaryPacketArb = bytesArb.map((data): EnginePacket => ({ type: 'message', data }));
  const packetArb = fc.oneof(textPacketArb, binaryPacketArb);

  for (const supportsBinary of [true, false]) {
    it(`encodePacket -> decodePacket (supportsBinary: ${supportsBinary})`, () => {
      fc.assert(
        fc.property(packetArb, (packet) => {
          const encoded = encodePacket(packet, supportsBinary);
          if (packet.data instanceof Uint8Array) expect(typeof encoded === 'string').toBe(!supportsBinary);
          expect(withPlainBytes(decodePacket(encoded))).toEqual(withPlainBytes(packet));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('encodePayload -> decodePayload', () => {
    // The record separator cannot appear inside a packet of a polling body.
    const payloadTextArb = fc.record({ type: typeArb, data: fc.option(textArb.filter((s) => s.length > 0 && !s.includes('\x1e')), { nil: undefined }) }, { requiredKeys: ['type'] })
      .map((p): EnginePacket => (p.data === undefined ? { type: p.type } : { type: p.type, data: p.data }));
    fc.assert(
      fc.property(fc.array(fc.oneof(payloadTextArb, binaryPacketArb), { minLength: 1, maxLength: 8 }), (packets) => {
        const body = encodePayload(packets);
        expect(typeof body).toBe('string');
        expect(withPlainBytes(decodePayload(body))).toEqual(withPlainBytes(packets));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('Socket.IO packets round-trip through Encoder and Decoder', () => {
  it('decodes what the encoder produced into an equal packet', () => {
    const encoder = new Encoder();
    const decoder = new Decoder(ROUND_TRIP_DECODER);
    fc.assert(
      fc.property(packetArb, (packet) => {
        const parts = encoder.encode(packet);
        let decoded: Packet | null = null;
        for (const [index, part] of parts.entries()) {
          // Attachments reach the receiver as fresh bytes, as off a socket.
          const received = typeof part === 'string' ? part : new Uint8Array(part as Uint8Array);
          decoded = decoder.add(received);
          expect(decoded === null).toBe(index < parts.length - 1);
        }
        expect(withPlainBytes(decoded)).toEqual(withPlainBytes(packet));
        expect(decoder.awaitingAttachments).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('crosses Engine.IO too: over WebSocket frames and inside a polling body', () => {
    const encoder = new Encoder();
    fc.assert(
      fc.property(fc.array(packetArb, { minLength: 1, maxLength: 5 }), (packets) => {
        const engineMessages: EnginePacket[] = packets.flatMap((packet) =>
          encoder.encode(packet).map((part): EnginePacket => ({ type: 'message', data: part as string | Uint8Array })),
        );
        const overWebSocket = engineMessages.map((message) => decodePacket(encodePacket(message, true)));
        const overPolling = decodePayload(encodePayload(engineMessages));
        for (const received of [overWebSocket, overPolling]) {
          const decoder = new Decoder(ROUND_TRIP_DECODER);
          const decoded: Packet[] = [];
          for (const message of received) {
            expect(message.type).toBe('message');
            const packet = decoder.add(message.data as string | Uint8Array);
            if (packet !== null) decoded.push(packet);
          }
          expect(withPlainBytes(decoded)).toEqual(withPlainBytes(packets));
        }
      }),
      { numRuns: 300 },
    );
  });
});
