// The Engine.IO v3 heartbeat, driven by the client: it pings every
// pingInterval, the server answers each ping with a pong, and gives the
// session up when no ping came within pingInterval + pingTimeout. Only v3
// sessions (allowEIO3) have one, so a plain timer per session is enough.
// As in heartbeat.ts, the verdict waits until pending I/O has been read: a
// ping already received by the kernel when the timer fires after a long
// event-loop lap still counts.
import type { HeartbeatOwner } from './heartbeat.js';

/** Closes a v3 session whose client stopped pinging. */
export class ClientPingWatchdog {
  private timer: NodeJS.Timeout | undefined;
  // A ping arrived since the timer last fired.
  private pinged = false;

  constructor(
    private readonly limitMs: number,
    private readonly owner: HeartbeatOwner,
  ) {}

  /** Starts waiting for the first ping. */
  start(): void {
    this.stop();
    const timer = setTimeout(() => {
      this.pinged = false;
      setImmediate(() => {
        // Stopped or restarted meanwhile, or a ping came in the poll phase (it re-armed the timer).
        if (this.timer !== timer || this.pinged) return;
        this.timer = undefined;
        this.owner.onPingTimeout();
      });
    }, this.limitMs);
    this.timer = timer;
  }

  /** A ping arrived: the wait starts over. */
  onPing(): void {
    if (this.timer === undefined) return;
    this.pinged = true;
    // Also re-arms a timer that has fired and awaits its verdict.
    this.timer.refresh();
  }

  /** Stops waiting. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
