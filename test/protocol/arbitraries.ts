// fast-check arbitraries for Socket.IO packets that a correct peer may send.
import fc from 'fast-check';
import { PacketType, RESERVED_EVENTS, type Packet } from '@sitehub/protocol';

export const bytesArb = fc.uint8Array({ maxLength: 64 });
/** Text that may hold any code point, lone surrogates included. */
export const textArb = fc.string({ unit: 'binary', maxLength: 40 });

// Keys include the ones that matter to the codec; `_placeholder` is left out
// because a user object shaped like a placeholder is ambiguous by protocol design.
const keyArb = fc.oneof(textArb.filter((k) => k !== '_placeholder'), fc.constantFrom('__proto__', 'constructor', 'num', 'toString'));
const numberArb = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)));
const scalarArb = fc.oneof(fc.constant(null), fc.boolean(), numberArb, textArb);

const { json, withBinary } = fc.letrec<{ json: unknown; withBinary: unknown }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarArb,
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(keyArb, tie('json'), { maxKeys: 4, noNullPrototype: true }),
  ),
  withBinary: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarArb,
    bytesArb,
    fc.array(tie('withBinary'), { maxLength: 4 }),
    fc.dictionary(keyArb, tie('withBinary'), { maxKeys: 4, noNullPrototype: true }),
  ),
}));

const nspArb = fc.oneof(fc.constant('/'), textArb.filter((s) => !s.includes(',')).map((s) => '/' + s));
const idArb = fc.oneof(fc.nat(1000), fc.constant(Number.MAX_SAFE_INTEGER));
const eventNameArb = fc.oneof(textArb.filter((name) => !RESERVED_EVENTS.has(name)), numberArb);
const objectArb = fc.dictionary(keyArb, json, { maxKeys: 4, noNullPrototype: true });

export const packetArb: fc.Arbitrary<Packet> = fc.oneof(
  fc.record({ type: fc.constant(PacketType.CONNECT), nsp: nspArb, data: objectArb }),
  fc.record({ type: fc.constant(PacketType.CONNECT), nsp: nspArb }),
  fc.record({ type: fc.constant(PacketType.DISCONNECT), nsp: nspArb }),
  fc.record(
    {
      type: fc.constant(PacketType.EVENT),
      nsp: nspArb,
      data: fc.tuple(eventNameArb, fc.array(withBinary, { maxLength: 4 })).map(([name, args]) => [name, ...args]),
      id: idArb,
    },
    { requiredKeys: ['type', 'nsp', 'data'] },
  ),
  fc.record({ type: fc.constant(PacketType.ACK), nsp: nspArb, data: fc.array(withBinary, { maxLength: 4 }), id: idArb }),
  fc.record({ type: fc.constant(PacketType.CONNECT_ERROR), nsp: nspArb, data: fc.oneof(textArb, objectArb) }),
);


/**
 * Decoder options for round trips of these packets: nothing bounds how many
 * binary values packetArb nests, and the decoder's default limit of 10
 * attachments (tested in bad-inputs.test.ts) is a defence, not part of what
 * a round trip checks.
 */
export const ROUND_TRIP_DECODER = { maxAttachments: 10_000 };
