// The Engine.IO v4 heartbeat, driven by the server: a ping every
// `interval` (counted from the handshake, then from each pong), and the
// session is given up if no pong follows within `timeout`.

/** Ping scheduler and pong watchdog for one session. */
export class Heartbeat {
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly interval: number,
    private readonly timeout: number,
    private readonly sendPing: () => void,
    private readonly onTimeout: () => void,
  ) {}

  /** Starts the cycle: the first ping goes out `interval` from now. */
  start(): void {
    this.schedulePing();
  }

  /** A pong arrived: stop waiting and schedule the next ping. */
  onPong(): void {
    // A pong nobody asked for must not push the next ping back, or a client
    // could keep a session alive while never answering real pings.
    if (this.pongTimer === undefined) return;
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
    this.schedulePing();
  }

  /** Stops every timer. */
  stop(): void {
    clearTimeout(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = this.pongTimer = undefined;
  }

  private schedulePing(): void {
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => {
      this.pingTimer = undefined;
      this.pongTimer = setTimeout(() => {
        this.pongTimer = undefined;
        this.onTimeout();
      }, this.timeout);
      this.sendPing();
    }, this.interval);
  }
}
