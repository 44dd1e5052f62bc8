// What every IoT service shares: config, store, registry, streams, metrics, logger.
import type { Logger } from 'pino';
import type { HubConfig } from '../config/index.js';
import type { InputLimits } from './limits.js';
import type { IotMetrics } from './metrics.js';
import type { Registry } from './registry.js';
import type { Store } from './store/types.js';
import type { Streams } from './streams.js';

/** The services' shared dependencies. */
export interface IotContext {
  config: HubConfig;
  limits: InputLimits;
  store: Store;
  registry: Registry;
  streams: Streams;
  metrics: IotMetrics;
  log: Logger;
}

/** An ack callback if the client asked for one, else a no-op, so handlers can always answer. */
export function ackOf(args: unknown[]): (answer: unknown) => void {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as (answer: unknown) => void) : () => {};
}
