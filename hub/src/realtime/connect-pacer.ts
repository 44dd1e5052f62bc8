// Bounds how many CONNECTs one event-loop lap starts.
//
// The engine's upgrade pacer spreads a reconnect storm's upgrades over laps,
// but each client answers its open packet with a CONNECT, and a client
// process that fell behind (or thousands of devices behind one slow link)
// sends the CONNECTs of many laps' upgrades at once: libuv reads them all in
// one poll phase, and each runs the namespace's middlewares (device
// authentication), the 'connection' handlers and their writes in that lap.
// Profiled in an 18,000-device storm, that was the 1.8-2.3 s lap. The pacer
// starts up to `perTurn` CONNECTs per lap as they come; the rest wait, in
// arrival order, and are started `perTurn` at a time from setImmediate,
// which (queued from the check phase) runs once per lap, after that lap's
// timers and reads.

/** Starts one CONNECT; `isOpen` tells whether its connection is still there. */
export interface PacedConnect {
  readonly isOpen: boolean;
  _startConnect(name: string, auth: Record<string, any>): void;
}

/** Spreads CONNECT storms over event-loop laps. */
export class ConnectPacer {
  // Waiting CONNECTs, oldest first, from `first` on (a queue without shift()).
  private waiting: Array<[PacedConnect, string, Record<string, any>] | undefined> = [];
  private first = 0;
  // CONNECTs started since the last turn; a turn is scheduled whenever it is above 0.
  private startedThisLap = 0;
  private readonly turn = () => this.nextTurn();

  /** `perTurn` 0 starts every CONNECT at once. */
  constructor(private readonly perTurn: number) {}

  /** CONNECTs waiting for their turn. */
  get waitingCount(): number {
    return this.waiting.length - this.first;
  }

  /** Starts the CONNECT now if this lap has room, else queues it. */
  offer(client: PacedConnect, name: string, auth: Record<string, any>): void {
    if (this.perTurn === 0) return client._startConnect(name, auth);
    if (this.waitingCount === 0 && this.startedThisLap < this.perTurn) {
      if (this.startedThisLap++ === 0) setImmediate(this.turn);
      return client._startConnect(name, auth);
    }
    // A turn is due: this lap's room is full, or others wait (and then a turn always follows).
    this.waiting.push([client, name, auth]);
  }

  private nextTurn(): void {
    this.startedThisLap = 0;
    try {
      while (this.startedThisLap < this.perTurn && this.waitingCount > 0) {
        const [client, name, auth] = this.waiting[this.first]!;
        this.waiting[this.first++] = undefined;
        // A connection that closed while waiting costs nothing more.
        if (!client.isOpen) continue;
        this.startedThisLap++;
        client._startConnect(name, auth);
      }
    } finally {
      if (this.waitingCount === 0) {
        this.waiting = [];
        this.first = 0;
      }
      // A turn follows while this lap started any (it opens the next lap's room) or any wait.
      if (this.startedThisLap > 0 || this.waitingCount > 0) setImmediate(this.turn);
    }
  }
}
