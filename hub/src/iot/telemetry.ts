// The `telemetry` event: validate the whole batch, store it in the next group
// commit, ack after the commit, then stream what was new.
import { ackOf, refuseDeviceInput, reportStoreFailure, type IotContext } from './context.js';
import type { DeviceScope } from './streams.js';
import { validateReadings } from './validate.js';

/** Handles one `telemetry` event from `device`: (payload, ack). */
export async function handleTelemetry(ctx: IotContext, device: DeviceScope, args: unknown[]): Promise<void> {
  const received = performance.now();
  const ack = ackOf(args);
  ctx.metrics.eventsIn.inc('device|telemetry');
  const now = Date.now();
  const checked = validateReadings(args[0], ctx.limits, now);
  if (!checked.ok) {
    refuseDeviceInput(ctx, 'telemetry', checked, ack);
    return;
  }
  let result;
  try {
    result = await ctx.store.telemetry.insert(device.id, checked.readings, now);
  } catch (err) {
    reportStoreFailure(ctx, 'telemetry', device.id, err, ack);
    return;
  }
  ctx.metrics.readingsStored += result.stored.length;
  ctx.metrics.readingsDuplicate += result.duplicates;
  ctx.metrics.acksSent.inc('telemetry|ok');
  ack({ ok: true, stored: result.stored.length, duplicates: result.duplicates });
  ctx.metrics.telemetryAckMs.observe(performance.now() - received);
  if (result.pos !== undefined) {
    ctx.streams.publish('telemetry', device, result.pos, { readings: result.stored.map((r) => ({ seq: r.seq, ts: r.ts, values: r.values })) });
    ctx.ingest?.readings(device, result.stored, now);
  }
}
