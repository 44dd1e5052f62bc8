// The Engine.IO v4 heartbeat, driven by the server: a ping every
// `interval` (counted from the handshake, then from each pong), and the
// session is given up if no pong follows within `timeout`.
//
// A server runs one heartbeat per session, all with the same two delays, so
// instead of a timer object per session the heartbeats wait in one queue per
// delay: with equal delays, appending keeps a queue in due order, and a single
// timer for its head serves every session (Node's own timer lists work the
// same way, but cost a Timeout object per entry).
//
// A missing pong is judged only after pending I/O has been read. Timers run
// before the poll phase, so after a long event-loop lap (a reconnect storm)
// a pong timer would otherwise close sessions whose pong already sits,
// unread, in the kernel's buffer. The overdue heartbeats are collected and
// judged in one setImmediate, which runs after the poll phase; a pong read
// meanwhile saves its session.

/** What the heartbeat asks of its session. */
export interface HeartbeatOwner {
  /** Time to send a ping. */
  onPingDue(): void;
  /** No pong within the timeout. */
  onPingTimeout(): void;
}

/** Heartbeats waiting for the same delay, oldest first. */
class DelayQueue {
  private head: Heartbeat | undefined;
  private tail: Heartbeat | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly fire = () => this.expire();

  constructor(
    private readonly delay: number,
    private readonly onExpired: (heartbeat: Heartbeat) => void,
  ) {}

  /** Queues `heartbeat` to expire `delay` ms from now. */
  add(heartbeat: Heartbeat): void {
    // Whole milliseconds (at most 1 ms late, below a timer's resolution):
    // a small integer sits in the object, a fraction would take a 16-byte
    // number box per session.
    heartbeat._due = Math.ceil(performance.now() + this.delay);
    heartbeat._queue = this;
    heartbeat._prev = this.tail;
    heartbeat._next = undefined;
    if (this.tail) this.tail._next = heartbeat;
    else this.head = heartbeat;
    this.tail = heartbeat;
    if (this.timer === undefined) this.arm(this.delay);
  }

  remove(heartbeat: Heartbeat): void {
    const { _prev: prev, _next: next } = heartbeat;
    if (prev) prev._next = next;
    else this.head = next;
    if (next) next._prev = prev;
    else this.tail = prev;
    heartbeat._prev = heartbeat._next = heartbeat._queue = undefined;
    if (this.head === undefined && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(ms)));
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    try {
      let heartbeat = this.head;
      while (heartbeat !== undefined && heartbeat._due <= now) {
        this.remove(heartbeat);
        // May queue this heartbeat (or others) again: they go to the tail, due later.
        this.onExpired(heartbeat);
        heartbeat = this.head;
      }
    } finally {
      // Even if one session's callback threw, the others keep their heartbeat.
      if (this.head !== undefined && this.timer === undefined) this.arm(this.head._due - performance.now());
    }
  }
}

// `_due` of a heartbeat whose pong is overdue and whose verdict is pending.
const OVERDUE = -1;

// Heartbeats to judge after this lap's poll phase, in the order they expired.
let awaitingVerdict: Heartbeat[] = [];

function judgeOverdue(): void {
  const batch = awaitingVerdict;
  awaitingVerdict = [];
  let i = 0;
  try {
    for (; i < batch.length; i++) batch[i]!._judge();
  } finally {
    // If one session's close threw, the rest are still judged, next lap.
    if (++i < batch.length) {
      if (awaitingVerdict.length === 0) setImmediate(judgeOverdue);
      awaitingVerdict.unshift(...batch.slice(i));
    }
  }
}

// One pair of queues per (interval, timeout) in use; a server has one.
const queuesByDelays = new Map<string, { ping: DelayQueue; pong: DelayQueue }>();

function queuesFor(interval: number, timeout: number): { ping: DelayQueue; pong: DelayQueue } {
  const key = `${interval}/${timeout}`;
  let queues = queuesByDelays.get(key);
  if (!queues) {
    queues = {
      ping: new DelayQueue(interval, (heartbeat) => heartbeat._pingDue()),
      pong: new DelayQueue(timeout, (heartbeat) => heartbeat._pongOverdue()),
    };
    queuesByDelays.set(key, queues);
  }
  return queues;
}

/** Ping scheduler and pong watchdog for one session. */
export class Heartbeat {
  /** @internal Queue links and due time (performance.now() ms), owned by DelayQueue. */
  _queue: DelayQueue | undefined;
  /** @internal */
  _prev: Heartbeat | undefined;
  /** @internal */
  _next: Heartbeat | undefined;
  /** @internal */
  _due = 0;
  private readonly queues: { ping: DelayQueue; pong: DelayQueue };

  constructor(
    interval: number,
    timeout: number,
    private readonly owner: HeartbeatOwner,
  ) {
    this.queues = queuesFor(interval, timeout);
  }

  /** Starts the cycle: the first ping goes out `interval` from now. */
  start(): void {
    this.schedulePing();
  }

  /** A pong arrived: stop waiting and schedule the next ping. */
  onPong(): void {
    // A pong nobody asked for must not push the next ping back, or a client
    // could keep a session alive while never answering real pings.
    if (this._queue !== this.queues.pong && this._due !== OVERDUE) return;
    this.schedulePing();
  }

  /** Stops every timer. */
  stop(): void {
    this._queue?.remove(this);
    this._due = 0;
  }

  /** @internal The interval elapsed: wait for the pong, and ping. */
  _pingDue(): void {
    this.queues.pong.add(this);
    this.owner.onPingDue();
  }

  /** @internal No pong in time, as far as the timers can tell: judged after the poll phase. */
  _pongOverdue(): void {
    this._due = OVERDUE;
    if (awaitingVerdict.push(this) === 1) setImmediate(judgeOverdue);
  }

  /** @internal Pending I/O has been read: still no pong (nor a stop) gives the session up. */
  _judge(): void {
    if (this._due !== OVERDUE) return;
    this._due = 0;
    this.owner.onPingTimeout();
  }

  private schedulePing(): void {
    this._queue?.remove(this);
    this.queues.ping.add(this);
  }
}
