// The events the IoT services learn of each other's changes through. Each
// event has one owner that emits it; everyone else only listens. This keeps
// the wiring one-directional (no late-bound thunks to break a construction
// cycle), and it is what cross-node delivery plugs into: a remote change is
// the same event, emitted once by its owner on the node that saw it.
import { EventEmitter } from 'node:events';
import type { Socket } from '../realtime/index.js';
import type { DeviceScope } from './streams.js';

/** A device's live session on this node. `epoch` is set once presence has claimed it in the store. */
export interface DeviceSession {
  device: DeviceScope;
  socket: Socket;
  /** The session's place in the device's cluster-wide order of sessions (store-assigned); undefined until claimed. */
  epoch: number | undefined;
}

/** Whose credentials stopped being valid. */
export type Revoked = { kind: 'device'; id: string } | { kind: 'bridge'; id: string };

/** Event name -> listener arguments. */
export interface IotEventMap {
  /** A device session opened on this node (owner: DeviceSessions). */
  'session-open': [session: DeviceSession];
  /** The session moved to another transport (Engine.IO's upgrade, polling to WebSocket) (owner: DeviceSessions). */
  'session-upgraded': [session: DeviceSession];
  /** A device session on this node ended (owner: DeviceSessions); `replaced` when a newer session took over. */
  'session-close': [session: DeviceSession, reason: string];
  /** The session is now the device's current one in the store (owner: Presence); commands may go out on it. */
  'device-online': [session: DeviceSession];
  /** A session turned out older than one the store already holds (owner: Presence): it must end. */
  'session-stale': [session: DeviceSession];
  /**
   * Credentials stopped being valid; the live sessions they opened must end, on every node. Owner: the
   * Registry of the node where it happened (`local`); the node bus repeats it on the others (`remote`),
   * and only a local one is passed on, or two nodes would echo it to each other forever.
   */
  'credentials-revoked': [who: Revoked, reason: string, origin: 'local' | 'remote'];
}

/** The IoT services' event bus (one per hub). */
export class IotEvents extends EventEmitter<IotEventMap> {
  constructor() {
    super({ captureRejections: false });
    // Every service listens once per event; more would be a leak.
    this.setMaxListeners(20);
  }
}
