// Which sitehub nodes serve a namespace, learnt from their heartbeats. A
// peer that misses heartbeats for `timeout` ms is gone: pending requests stop
// waiting for it at once instead of running into the request timeout.
// socket.io nodes send no heartbeats; they are only counted (PUBSUB NUMSUB).
import { EventEmitter } from 'node:events';

/** Live sitehub peers of one namespace; emits 'lost' (uid) when one goes silent or leaves. */
export class Membership extends EventEmitter {
  private readonly lastSeen = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly self: string,
    readonly timeout: number,
  ) {
    super();
    this.sweeper = setInterval(() => this.sweep(), Math.max(50, Math.floor(timeout / 4)));
    this.sweeper.unref();
  }

  /** Records a heartbeat of `uid`. */
  seen(uid: string): void {
    if (uid !== this.self) this.lastSeen.set(uid, Date.now());
  }

  /** `uid` said goodbye (a clean close). */
  left(uid: string): void {
    if (this.lastSeen.delete(uid)) this.emit('lost', uid);
  }

  /** The peers heard from within the timeout (never this node). */
  live(): Set<string> {
    this.sweep();
    return new Set(this.lastSeen.keys());
  }

  has(uid: string): boolean {
    return this.lastSeen.has(uid);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.lastSeen.clear();
  }

  private sweep(): void {
    const limit = Date.now() - this.timeout;
    for (const [uid, at] of this.lastSeen) {
      if (at < limit) {
        this.lastSeen.delete(uid);
        this.emit('lost', uid);
      }
    }
  }
}
