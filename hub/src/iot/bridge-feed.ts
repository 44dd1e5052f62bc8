// Wake-ups for the bridge sessions this node serves on a cluster (their
// followers, stream-follower.ts). Records committed here wake them, and the
// other nodes hear the newest position committed here through the node bus,
// once per turn of the event loop (a group commit publishes many records
// together). A wake-up lost with Redis (down, or a node still
// reconnecting) delays records, never loses them: while this node serves a
// bridge it also reads the store's head every second.
import type { Logger } from 'pino';
import type { NodeBus } from './node-bus.js';
import type { StreamStore } from './store/types.js';
import type { StreamFollower } from './stream-follower.js';

/** How often the store's head is read while this node serves a bridge (the wake-up of last resort). */
const POLL_MS = 1000;

/** This node's bridge followers and what wakes them. */
export class BridgeFeed {
  private readonly followers = new Set<StreamFollower>();
  /** The newest position committed on this node, told to the others at the end of the turn. */
  private newest = 0;
  private telling = false;
  private polling = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly stream: StreamStore,
    private readonly bus: NodeBus,
    private readonly log: Logger,
  ) {
    bus.on('stream-head', (pos) => this.wake(pos));
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  /**
   * A record was committed on this node at `pos` (called after its commit).
   * The records of one group commit are published in the same turn: one
   * wake-up at its end covers them all, here and on the other nodes.
   */
  committed(pos: number): void {
    if (pos > this.newest) this.newest = pos;
    if (this.telling) return;
    this.telling = true;
    setImmediate(() => {
      this.telling = false;
      this.wake(this.newest);
      this.bus.send('stream-head', this.newest);
    });
  }

  /** Starts waking `follower`. */
  add(follower: StreamFollower): void {
    this.followers.add(follower);
  }

  /** Stops waking `follower`. */
  remove(follower: StreamFollower): void {
    this.followers.delete(follower);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private wake(pos: number): void {
    for (const f of this.followers) f.wake(pos);
  }

  private async poll(): Promise<void> {
    if (this.followers.size === 0 || this.polling) return;
    this.polling = true;
    try {
      this.wake(await this.stream.head());
    } catch (err) {
      this.log.debug({ err }, 'stream head not read (bridges wait for the next record)');
    } finally {
      this.polling = false;
    }
  }
}
