// Bounds how many units of work of one kind one event-loop lap starts.
//
// libuv reads every ready socket of a poll phase before it runs timers
// again, so when thousands of devices reconnect at once (a hub restart) one
// lap would start every upgrade, or every CONNECT, that arrived: seconds in
// which no timer runs and no heartbeat is answered. A pacer starts up to
// `perTurn` of them per lap as they come; the rest wait, in arrival order,
// and are started `perTurn` at a time from setImmediate, which (queued from
// the check phase) runs once per lap, after that lap's timers and reads. The
// work is the same; it is spread over laps short enough for timers to keep
// time. Used for upgrades (engine) and CONNECTs (realtime).

/** What a pacer does with its items. */
export interface LapPacerSteps<T> {
  /** Starts one item. */
  take(item: T): void;
  /** Whether a waiting item's client went away (then it is skipped, at no further cost). */
  gone(item: T): boolean;
  /** Lets go of a waiting item when the pacer closes. */
  drop?(item: T): void;
}

/** Spreads storms of one kind of work over event-loop laps. */
export class LapPacer<T> {
  // Waiting items, oldest first, from `first` on (a queue without shift()).
  private waiting: Array<T | undefined> = [];
  private first = 0;
  // Items started since the last turn; a turn is scheduled whenever it is above 0.
  private takenThisLap = 0;
  private readonly turn = () => this.nextTurn();

  /** `perTurn` 0 starts every item at once. */
  constructor(
    private readonly perTurn: number,
    private readonly steps: LapPacerSteps<T>,
  ) {
    // A negative or fractional bound would queue everything and never take a turn: refused at once.
    if (!Number.isInteger(perTurn) || perTurn < 0) throw new RangeError(`items per turn must be an integer >= 0, got ${perTurn}`);
  }

  /** Items waiting for their turn. */
  get waitingCount(): number {
    return this.waiting.length - this.first;
  }

  /** Starts the item now if this lap has room, else queues it. */
  offer(item: T): void {
    if (this.perTurn === 0) return this.steps.take(item);
    if (this.waitingCount === 0 && this.takenThisLap < this.perTurn) {
      if (this.takenThisLap++ === 0) setImmediate(this.turn);
      return this.steps.take(item);
    }
    // A turn is due: this lap's room is full, or others wait (and then a turn always follows).
    this.waiting.push(item);
  }

  /** Drops every waiting item. */
  close(): void {
    const dropped = this.waiting.slice(this.first) as T[];
    this.waiting = [];
    this.first = 0;
    if (this.steps.drop) for (const item of dropped) this.steps.drop(item);
  }

  private nextTurn(): void {
    this.takenThisLap = 0;
    try {
      while (this.takenThisLap < this.perTurn && this.waitingCount > 0) {
        const item = this.waiting[this.first] as T;
        this.waiting[this.first++] = undefined;
        if (this.steps.gone(item)) continue;
        this.takenThisLap++;
        this.steps.take(item);
      }
    } finally {
      if (this.waitingCount === 0) {
        this.waiting = [];
        this.first = 0;
      }
      // A turn follows while this lap took any (it opens the next lap's room) or any wait.
      if (this.takenThisLap > 0 || this.waitingCount > 0) setImmediate(this.turn);
    }
  }
}
