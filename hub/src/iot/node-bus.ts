// What the hub nodes of a cluster tell each other, over the cluster adapter's
// serverSideEmit on a namespace of their own (no client may connect to it).
// With the in-memory adapter there are no other nodes and nothing is sent.
// Messages come from Redis, the trusted network, but are still checked: a
// malformed one is dropped and counted, never thrown.
import { EventEmitter } from 'node:events';
import type { Namespace, Server } from '../realtime/index.js';
import type { IotMetrics } from './metrics.js';
import type { Revoked } from './iot-events.js';

/** The namespace the nodes talk on. Clients get "Invalid namespace". */
export const NODE_BUS_NAMESPACE = '/_sitehub-nodes';

/** Bus message -> listener arguments. */
export interface NodeBusMap {
  /** A device session got `epoch` on `node`: sessions of the device with a lower epoch end wherever they are. */
  session: [deviceId: string, epoch: number, node: string];
  /** A command was stored for a device: the node holding the device delivers it. */
  'command-ready': [deviceId: string, commandId: string];
  /** A command reached acked, failed or expired: whoever waits for it reads it. */
  'command-final': [commandId: string];
  /** Credentials were revoked on another node. */
  revoked: [who: Revoked, reason: string];
  /** How many operator sockets `node` has (watchers.ts). */
  watchers: [node: string, count: number];
  /** Stream records were committed through `pos`: bridge sessions behind it read the store (bridge-feed.ts). */
  'stream-head': [pos: number];
}

type Checker = (args: unknown[]) => boolean;
const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;
const CHECKS: { [K in keyof NodeBusMap]: Checker } = {
  session: ([d, e, n]) => str(d) && typeof e === 'number' && Number.isSafeInteger(e) && str(n),
  'command-ready': ([d, c]) => str(d) && str(c),
  'command-final': ([c]) => str(c),
  watchers: ([n, c]) => str(n) && typeof c === 'number' && Number.isSafeInteger(c) && c >= 0,
  'stream-head': ([p]) => typeof p === 'number' && Number.isSafeInteger(p) && p >= 0,
  revoked: ([w, r]) => {
    const who = w as Partial<Revoked> | null;
    return typeof who === 'object' && who !== null && (who.kind === 'device' || who.kind === 'bridge') && str(who.id) && typeof r === 'string';
  },
};

/** The nodes' channel: send() reaches every other node; messages from them are emitted here. */
export class NodeBus extends EventEmitter<NodeBusMap> {
  private readonly nsp: Namespace;

  constructor(io: Server, metrics: IotMetrics) {
    super();
    this.nsp = io.of(NODE_BUS_NAMESPACE);
    this.nsp.use((_socket, next) => {
      metrics.refusedConnections.inc('nodes|invalid_namespace');
      next(new Error('Invalid namespace'));
    });
    for (const name of Object.keys(CHECKS) as Array<keyof NodeBusMap>) {
      this.nsp.on(name, (...args: unknown[]) => {
        if (!CHECKS[name](args)) return metrics.badInputs.inc('node_bus');
        try {
          (this.emit as (ev: string, ...a: unknown[]) => boolean)(name, ...args);
        } catch {
          metrics.badInputs.inc('node_bus_handler');
        }
      });
    }
  }

  /** Tells every other node. */
  send<K extends keyof NodeBusMap>(name: K, ...args: NodeBusMap[K]): void {
    this.nsp.serverSideEmit(name, ...args);
  }
}
