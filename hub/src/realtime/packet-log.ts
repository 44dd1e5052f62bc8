// The bounded log of recent packets a namespace keeps for connection state
// recovery. Each entry holds the packet exactly as it was sent (encoded once),
// so a replay is a plain resend. Offsets are a per-log prefix plus a sequence
// number, so finding the position after an offset is arithmetic, not a scan.
import { randomBytes } from 'node:crypto';
import type { EncodedPacket, Room } from './types.js';

/** One logged packet and who it was meant for. */
export interface LoggedPacket {
  seq: number;
  emittedAt: number;
  encoded: EncodedPacket;
  rooms: Room[];
  except: Room[];
}

/** Append-only, size- and age-bounded packet log. */
export class PacketLog {
  private readonly prefix = randomBytes(6).toString('base64url') + '-';
  private entries: LoggedPacket[] = [];
  /** Index in `entries` of the oldest live entry; the array is compacted lazily. */
  private head = 0;
  private nextSeq = 0;

  constructor(private readonly maxEntries: number) {}

  /** Reserves the offset of the next packet; the offset travels inside the packet, so it is known before encoding. */
  nextOffset(): string {
    return this.prefix + this.nextSeq.toString(36);
  }

  /** Appends the packet encoded with the offset returned by the last nextOffset(). */
  append(encoded: EncodedPacket, rooms: Iterable<Room>, except: Iterable<Room> | undefined): void {
    this.entries.push({
      seq: this.nextSeq++,
      emittedAt: Date.now(),
      encoded,
      rooms: [...rooms],
      except: except ? [...except] : [],
    });
    if (this.size > this.maxEntries) this.head++;
    this.compact();
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  /** Drops entries emitted before `threshold` (epoch ms). */
  expire(threshold: number): void {
    while (this.head < this.entries.length && this.entries[this.head]!.emittedAt < threshold) this.head++;
    this.compact();
  }

  /** The entries after `offset`, or null when the offset is unknown or packets after it were already dropped. */
  after(offset: string): LoggedPacket[] | null {
    if (!offset.startsWith(this.prefix)) return null;
    const digits = offset.slice(this.prefix.length);
    if (!/^[0-9a-z]{1,11}$/.test(digits)) return null;
    const seq = parseInt(digits, 36);
    if (seq >= this.nextSeq) return null;
    const first = this.entries[this.head]?.seq ?? this.nextSeq;
    // Everything after `seq` must still be here; the entry `seq` itself may be gone.
    if (seq + 1 < first) return null;
    return this.entries.slice(this.head + (seq + 1 - first));
  }

  clear(): void {
    this.entries = [];
    this.head = 0;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
