// The Server's options: socket.io's names and defaults, and which of them
// this layer keeps for itself rather than passing to the EngineServer.
import type { EngineServerOptions } from '../engine/index.js';
import type { AdapterConstructor } from './adapter.js';
import type { ConnectionStateRecoveryOptions } from './types.js';

/** Decides whether a dynamic namespace `name` may be created: `next(null, true)` to accept. */
export type ParentNspNameMatchFn = (
  name: string,
  auth: Record<string, any>,
  next: (err: Error | null, success: boolean) => void,
) => void;

/** Server options: socket.io's names and defaults, plus every EngineServer option. */
export interface ServerOptions extends Omit<EngineServerOptions, 'path'> {
  /** Where the server listens (default '/socket.io'). */
  path: string;
  /** Serve the browser client bundle at `<path>/socket.io.js` once one is registered (default true). */
  serveClient: boolean;
  /** The adapter class (or factory) for each namespace (default: in-memory). */
  adapter: AdapterConstructor;
  /** Milliseconds a new connection has to join a namespace before it is closed (default 45000). */
  connectTimeout: number;
  /** Enables connection state recovery; `{}` means the defaults. */
  connectionStateRecovery: ConnectionStateRecoveryOptions;
  /** Drop a dynamic child namespace once its last socket leaves (default false). */
  cleanupEmptyChildNamespaces: boolean;
  /** Most binary attachments one packet may carry (default 10). */
  maxAttachments: number;
  /** Milliseconds a binary packet's attachments may take to arrive after its header; then the connection is closed (default 30000). */
  attachmentTimeout: number;
  /**
   * Most CONNECTs one event-loop lap starts (default 256; 0: all at once, as
   * socket.io); the rest wait, in arrival order, for the next laps, so that a
   * reconnect storm does not hold timers and heartbeats for seconds.
   */
  connectsPerTurn: number;
  /** Deepest nesting of arrays and objects a message may have; deeper ones close the connection before being parsed (default 100). */
  maxNestingDepth: number;
  addTrailingSlash: boolean;
  destroyUpgrade: boolean;
  /** Milliseconds before an upgrade for another path that nobody answered is destroyed (default 1000). */
  destroyUpgradeTimeout: number;
}

/** The options this layer consumes; everything else goes to the EngineServer. */
export const OWN_OPTIONS = new Set([
  'path',
  'serveClient',
  'adapter',
  'connectTimeout',
  'connectionStateRecovery',
  'cleanupEmptyChildNamespaces',
  'maxAttachments',
  'attachmentTimeout',
  'maxNestingDepth',
  'connectsPerTurn',
  'addTrailingSlash',
  'destroyUpgrade',
  'destroyUpgradeTimeout',
  'parser',
]);
