// Bounds how many WebSocket upgrades one event-loop lap takes.
//
// libuv reads every ready socket of a poll phase before it runs timers
// again, so when thousands of devices reconnect at once (a hub restart) one
// lap would accept every upgrade that arrived: seconds in which no timer
// runs and no heartbeat is answered. The pacer takes up to `perTurn`
// upgrades per lap as they come; the rest wait, in arrival order, and are
// taken `perTurn` at a time from setImmediate, which (queued from the check
// phase) runs once per lap, after that lap's timers and reads. The work is
// the same; it is spread over laps short enough for timers to keep time.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** Takes one upgrade (the engine's verification, the 101 and the session); `onSocketError` is the socket's listener until ws owns it. */
export type TakeUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, onSocketError: (err: Error) => void) => void;

type Waiting = [IncomingMessage, Duplex, Buffer, (err: Error) => void];

/** Spreads upgrade storms over event-loop laps. */
export class UpgradePacer {
  // Waiting upgrades, oldest first, from `first` on (a queue without shift()).
  private waiting: Waiting[] = [];
  private first = 0;
  // Upgrades taken since the last turn; a turn is scheduled whenever it is above 0.
  private takenThisLap = 0;
  private readonly turn = () => this.nextTurn();

  /** `perTurn` 0 takes every upgrade at once. */
  constructor(
    private readonly perTurn: number,
    private readonly take: TakeUpgrade,
  ) {}

  /** Upgrades waiting for their turn. */
  get waitingCount(): number {
    return this.waiting.length - this.first;
  }

  /** Takes the upgrade now if this lap has room, else queues it (its socket already has an 'error' listener). */
  offer(req: IncomingMessage, socket: Duplex, head: Buffer, onSocketError: (err: Error) => void): void {
    if (this.perTurn === 0) return this.take(req, socket, head, onSocketError);
    if (this.waitingCount === 0 && this.takenThisLap < this.perTurn) {
      if (this.takenThisLap++ === 0) setImmediate(this.turn);
      return this.take(req, socket, head, onSocketError);
    }
    // A turn is due: this lap's room is full, or others wait (and then a turn always follows).
    this.waiting.push([req, socket, head, onSocketError]);
  }

  /** Drops every waiting upgrade (the server is closing). */
  close(): void {
    const dropped = this.waiting.slice(this.first);
    this.waiting = [];
    this.first = 0;
    for (const [, socket] of dropped) socket.destroy();
  }

  private nextTurn(): void {
    this.takenThisLap = 0;
    try {
      while (this.takenThisLap < this.perTurn && this.waitingCount > 0) {
        const [req, socket, head, onSocketError] = this.waiting[this.first]!;
        this.waiting[this.first++] = undefined as never;
        // A client that gave up while waiting costs nothing more.
        if (socket.destroyed) continue;
        this.takenThisLap++;
        this.take(req, socket, head, onSocketError);
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
