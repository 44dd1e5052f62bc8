// Delivery of the broadcasts that arrive from Redis. node-redis hands over
// every message of one read synchronously, so the messages of one read are
// collected and delivered together once the read is done (a microtask
// later): each message is still encoded once for all its recipients, and
// each recipient then gets all of its messages of that read in one go,
// instead of the recipients being walked once per message.
import type { Packet } from '@sitehub/protocol';
import type { PreparedMessage } from '../engine/index.js';
import type { AdapterSocket, BroadcastOptions } from '../realtime/index.js';

/** What the inbox needs from its adapter: encoding once, and the recipients of a broadcast. */
export interface InboxTarget {
  /** Encodes and frames a packet once for every recipient. */
  prepareFrames(packet: Packet, opts: BroadcastOptions): PreparedMessage[];
  /** Calls `fn` once per local socket the broadcast reaches. */
  forEachRecipient(opts: BroadcastOptions, fn: (socket: AdapterSocket) => void): void;
  /** A delivery threw (it runs in a microtask, where a throw would end the process). */
  failed(err: unknown): void;
}

interface Queued {
  packet: Packet;
  opts: BroadcastOptions;
}

/** Collects broadcasts until the current read is done, then delivers them recipient by recipient. */
export class BroadcastInbox {
  private queue: Queued[] = [];
  private scheduled = false;

  constructor(private readonly target: InboxTarget) {}

  push(packet: Packet, opts: BroadcastOptions): void {
    this.queue.push({ packet, opts });
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      try {
        this.drain();
      } catch (err) {
        this.scheduled = false;
        this.target.failed(err);
      }
    });
  }

  private drain(): void {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    if (queue.length === 1) return this.deliverOne(queue[0]!);
    // Per recipient, its frames in arrival order; volatile messages apart, since the flag is per write.
    const perSocket = new Map<AdapterSocket, { frames: PreparedMessage[]; volatile: boolean }[]>();
    for (const { packet, opts } of queue) {
      const volatile = opts.flags?.volatile === true;
      let frames: PreparedMessage[] | undefined;
      this.target.forEachRecipient(opts, (socket) => {
        // Prepared lazily: a broadcast that reaches nobody here costs no encoding.
        frames ??= this.target.prepareFrames(packet, opts);
        socket._notifyOutgoing(packet.data as unknown[]);
        let runs = perSocket.get(socket);
        if (!runs) perSocket.set(socket, (runs = []));
        const last = runs[runs.length - 1];
        if (last && last.volatile === volatile) last.frames.push(...frames);
        else runs.push({ frames: [...frames], volatile });
      });
    }
    for (const [socket, runs] of perSocket) for (const run of runs) socket.client._writePrepared(run.frames, run.volatile);
  }

  private deliverOne({ packet, opts }: Queued): void {
    let frames: PreparedMessage[] | undefined;
    const volatile = opts.flags?.volatile === true;
    this.target.forEachRecipient(opts, (socket) => {
      frames ??= this.target.prepareFrames(packet, opts);
      socket._notifyOutgoing(packet.data as unknown[]);
      socket.client._writePrepared(frames, volatile);
    });
  }
}
