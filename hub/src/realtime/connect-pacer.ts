// Bounds how many CONNECTs one event-loop lap starts (a LapPacer of
// CONNECTs).
//
// The engine's upgrade pacer spreads a reconnect storm's upgrades over laps,
// but each client answers its open packet with a CONNECT, and a client
// process that fell behind (or thousands of devices behind one slow link)
// sends the CONNECTs of many laps' upgrades at once: libuv reads them all in
// one poll phase, and each runs the namespace's middlewares (device
// authentication), the 'connection' handlers and their writes in that lap.
// Profiled in an 18,000-device storm, that was the 1.8-2.3 s lap
// (docs/benchmarks.md, capacity). CONNECTs beyond `perTurn` wait, in
// arrival order, for the following laps.
import { LapPacer } from '../engine/index.js';

/** Starts one CONNECT; `isOpen` tells whether its connection is still there. */
export interface PacedConnect {
  readonly isOpen: boolean;
  _startConnect(name: string, auth: Record<string, any>): void;
}

type Waiting = [PacedConnect, string, Record<string, any>];

/** Spreads CONNECT storms over event-loop laps. */
export class ConnectPacer {
  private readonly pacer: LapPacer<Waiting>;

  /** `perTurn` 0 starts every CONNECT at once. */
  constructor(perTurn: number) {
    this.pacer = new LapPacer<Waiting>(perTurn, {
      take: ([client, name, auth]) => client._startConnect(name, auth),
      // A connection that closed while waiting costs nothing more.
      gone: ([client]) => !client.isOpen,
    });
  }

  /** CONNECTs waiting for their turn. */
  get waitingCount(): number {
    return this.pacer.waitingCount;
  }

  /** Starts the CONNECT now if this lap has room, else queues it. */
  offer(client: PacedConnect, name: string, auth: Record<string, any>): void {
    this.pacer.offer([client, name, auth]);
  }
}
