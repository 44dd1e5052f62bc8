// The Engine.IO v4 heartbeat, driven by the server: a ping every
// `interval` (counted from the handshake, then from each pong), and the
// session is given up if no pong follows within `timeout`.

/** What the heartbeat asks of its session. */
export interface HeartbeatOwner {
  /** Time to send a ping. */
  onPingDue(): void;
  /** No pong within the timeout. */
  onPingTimeout(): void;
}

// The timers call module-level functions with the heartbeat as argument
// rather than a closure per timer: a server holds one heartbeat per session,
// and a closure with its context costs more than the argument slot.
function pingDue(heartbeat: Heartbeat): void {
  heartbeat._pingDue();
}

function pongOverdue(heartbeat: Heartbeat): void {
  heartbeat._pongOverdue();
}

/** Ping scheduler and pong watchdog for one session. */
export class Heartbeat {
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly interval: number,
    private readonly timeout: number,
    private readonly owner: HeartbeatOwner,
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

  /** @internal The ping timer fired. */
  _pingDue(): void {
    this.pingTimer = undefined;
    this.pongTimer = setTimeout(pongOverdue, this.timeout, this);
    this.owner.onPingDue();
  }

  /** @internal The pong timer fired. */
  _pongOverdue(): void {
    this.pongTimer = undefined;
    this.owner.onPingTimeout();
  }

  private schedulePing(): void {
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(pingDue, this.interval, this);
  }
}
