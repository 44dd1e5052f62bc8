// What every IoT service shares: config, store, registry, streams, metrics, logger.
import type { Logger } from 'pino';
import type { HubConfig } from '../config/index.js';
import type { IngestHooks } from './ingest-hooks.js';
import type { InputLimits } from './limits.js';
import type { IotMetrics } from './metrics.js';
import type { Registry } from './registry.js';
import type { Store } from './store/types.js';
import type { Streams } from './streams.js';
import { refusedAck, STORE_UNAVAILABLE_ACK } from './errors.js';

/** The services' shared dependencies. */
export interface IotContext {
  config: HubConfig;
  limits: InputLimits;
  store: Store;
  registry: Registry;
  streams: Streams;
  metrics: IotMetrics;
  log: Logger;
  /** Told of readings and device events after they are stored (alarm rules). */
  ingest?: IngestHooks;
}

/** An ack callback if the client asked for one, else a no-op, so handlers can always answer. */
export function ackOf(args: unknown[]): (answer: unknown) => void {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as (answer: unknown) => void) : () => {};
}

/** Answers a device event refused on its content: counted, nothing stored. */
export function refuseDeviceInput(ctx: IotContext, event: string, refusal: { kind: string; error: string; index?: number }, ack: (answer: unknown) => void): void {
  ctx.metrics.badInputs.inc(refusal.kind);
  ctx.metrics.acksSent.inc(`${event}|error`);
  ack(refusedAck(refusal.kind, refusal.error, refusal.index));
}

/** Answers a device event whose commit failed: logged, the device is told to retry. */
export function reportStoreFailure(ctx: IotContext, event: string, deviceId: string, err: unknown, ack: (answer: unknown) => void): void {
  ctx.log.error({ err, deviceId }, `${event} not stored`);
  ctx.metrics.acksSent.inc(`${event}|error`);
  ack(STORE_UNAVAILABLE_ACK);
}
