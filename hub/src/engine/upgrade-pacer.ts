// Bounds how many WebSocket upgrades one event-loop lap takes (a LapPacer
// of upgrades): in a reconnect storm the upgrades beyond `perTurn` wait, in
// arrival order, for the following laps, so that timers keep time.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { LapPacer } from './lap-pacer.js';

/** Takes one upgrade (the engine's verification, the 101 and the session); `onSocketError` is the socket's listener until ws owns it. */
export type TakeUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, onSocketError: (err: Error) => void) => void;

type Waiting = [IncomingMessage, Duplex, Buffer, (err: Error) => void];

/** Spreads upgrade storms over event-loop laps. */
export class UpgradePacer {
  private readonly pacer: LapPacer<Waiting>;

  /** `perTurn` 0 takes every upgrade at once. */
  constructor(perTurn: number, take: TakeUpgrade) {
    this.pacer = new LapPacer<Waiting>(perTurn, {
      take: ([req, socket, head, onSocketError]) => take(req, socket, head, onSocketError),
      // A client that gave up while waiting costs nothing more.
      gone: ([, socket]) => socket.destroyed,
      drop: ([, socket]) => socket.destroy(),
    });
  }

  /** Upgrades waiting for their turn. */
  get waitingCount(): number {
    return this.pacer.waitingCount;
  }

  /** Takes the upgrade now if this lap has room, else queues it (its socket already has an 'error' listener). */
  offer(req: IncomingMessage, socket: Duplex, head: Buffer, onSocketError: (err: Error) => void): void {
    this.pacer.offer([req, socket, head, onSocketError]);
  }

  /** Drops every waiting upgrade (the server is closing). */
  close(): void {
    this.pacer.close();
  }
}
