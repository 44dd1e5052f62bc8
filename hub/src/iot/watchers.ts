// Whether anyone, on any node, watches the operator streams. Alone, the
// streams skip a record nobody is connected to see; in a cluster this node
// cannot see the other nodes' operators, so each node tells the others how
// many it has (node bus): when it changes between none and some, at once,
// and every few seconds anyway (a word lost while Redis was away is repeated).
// Without it every record would cross Redis to every node for nobody.
import type { Namespace } from '../realtime/index.js';
import type { NodeBus } from './node-bus.js';

/** How often a node repeats its count. */
const REPEAT_MS = 5000;
/** A node not heard from for this long counts as watching nothing (it is gone). */
const FORGET_MS = 60_000;

/** The cluster-wide count of operator sockets (/console and /bridge), as this node knows it. */
export class WatcherCensus {
  private readonly remote = new Map<string, { count: number; at: number }>();
  private readonly timer: NodeJS.Timeout;
  private lastSent = -1;

  constructor(
    private readonly namespaces: Namespace[],
    private readonly bus: NodeBus,
    private readonly nodeId: string,
  ) {
    bus.on('watchers', (node, count) => {
      if (node !== nodeId) this.remote.set(node, { count, at: Date.now() });
    });
    for (const nsp of namespaces) {
      // An operator arriving is told to the others before it can subscribe (it waits for its CONNECT answer first).
      nsp.on('connection', (socket) => {
        this.tell();
        // Counted once the socket has left the namespace.
        socket.on('disconnect', () => setImmediate(() => this.tell()));
      });
    }
    this.timer = setInterval(() => this.tell(true), REPEAT_MS);
    this.timer.unref();
  }

  /** Is any operator connected anywhere in the cluster? */
  anyone(): boolean {
    if (this.local() > 0) return true;
    const limit = Date.now() - FORGET_MS;
    for (const { count, at } of this.remote.values()) if (count > 0 && at >= limit) return true;
    return false;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private local(): number {
    let n = 0;
    for (const nsp of this.namespaces) n += nsp.sockets.size;
    return n;
  }

  private tell(repeat = false): void {
    const count = this.local();
    // Only the change between none and some matters to the others; the repeat keeps them right.
    if (!repeat && (count > 0) === (this.lastSent > 0) && this.lastSent >= 0) return;
    this.lastSent = count;
    this.bus.send('watchers', this.nodeId, count);
  }
}
