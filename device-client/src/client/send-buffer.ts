// Packets emitted while disconnected, kept in order up to a limit and sent on
// the next connect. Past the limit the oldest is dropped: for telemetry the
// newest readings matter most, and anything that must not be lost belongs in
// a durable outbox, not in memory.
import type { Packet } from '@sitehub/protocol';
import type { WriteOptions } from './engine/socket.js';

/** A packet with its write flags. */
export type OutgoingPacket = Packet & { options?: WriteOptions };

/** A bounded FIFO of packets waiting for a connection. */
export class SendBuffer {
  #packets: OutgoingPacket[] = [];

  readonly #limit: number;
  /** Told about each packet dropped to stay within the limit. */
  readonly #onDrop: (packet: OutgoingPacket) => void;

  constructor(limit: number, onDrop: (packet: OutgoingPacket) => void) {
    this.#limit = limit;
    this.#onDrop = onDrop;
  }

  get length(): number {
    return this.#packets.length;
  }

  push(packet: OutgoingPacket): void {
    this.#packets.push(packet);
    while (this.#packets.length > this.#limit) this.#onDrop(this.#packets.shift()!);
  }

  /** Whether a packet with this ack id is waiting. */
  hasAck(id: number): boolean {
    return this.#packets.some((p) => p.id === id);
  }

  /** Removes the packet with this ack id (its ack timed out). */
  removeAck(id: number): void {
    const index = this.#packets.findIndex((p) => p.id === id);
    if (index !== -1) this.#packets.splice(index, 1);
  }

  /** Empties the buffer, returning what it held. */
  take(): OutgoingPacket[] {
    const packets = this.#packets;
    this.#packets = [];
    return packets;
  }
}
