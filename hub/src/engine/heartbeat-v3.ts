// The Engine.IO v3 heartbeat, driven by the client: it pings every
// pingInterval, the server answers each ping with a pong, and gives the
// session up when no ping came within pingInterval + pingTimeout. Only v3
// sessions (allowEIO3) have one, so a plain timer per session is enough.
import type { HeartbeatOwner } from './heartbeat.js';

/** Closes a v3 session whose client stopped pinging. */
export class ClientPingWatchdog {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limitMs: number,
    private readonly owner: HeartbeatOwner,
  ) {}

  /** Starts waiting for the first ping. */
  start(): void {
    this.stop();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.owner.onPingTimeout();
    }, this.limitMs);
  }

  /** A ping arrived: the wait starts over. */
  onPing(): void {
    this.timer?.refresh();
  }

  /** Stops waiting. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
