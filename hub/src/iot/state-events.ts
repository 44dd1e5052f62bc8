// The `state` and `event` events: validated, stored, acked after the commit,
// then streamed to operators.
import { ackOf, refuseDeviceInput, reportStoreFailure, type IotContext } from './context.js';
import type { DeviceScope } from './streams.js';
import { validateEvent, validateState } from './validate.js';

/** Handles one `state` event: (attrs | { attrs, ts }, ack). */
export async function handleState(ctx: IotContext, device: DeviceScope, args: unknown[]): Promise<void> {
  const ack = ackOf(args);
  ctx.metrics.eventsIn.inc('device|state');
  const now = Date.now();
  const checked = validateState(args[0], ctx.limits, now);
  if (!checked.ok) {
    return refuseDeviceInput(ctx, 'state', checked, ack);
  }
  let state;
  try {
    state = await ctx.store.stateEvents.applyState({ deviceId: device.id, attrs: checked.attrs, ts: checked.ts }, now);
  } catch (err) {
    return reportStoreFailure(ctx, 'state', device.id, err, ack);
  }
  // Committed: from here on nothing may tell the device it was not stored.
  ctx.metrics.acksSent.inc('state|ok');
  ack({ ok: true });
  ctx.streams.publish('state', device, state.pos, { attrs: state.attrs, ts: state.ts, updatedAt: state.updatedAt, changed: checked.attrs });
}

/** Handles one `event` event (alarm, log): ({ kind, severity?, message?, data?, ts? }, ack). */
export async function handleDeviceEvent(ctx: IotContext, device: DeviceScope, args: unknown[]): Promise<void> {
  const ack = ackOf(args);
  ctx.metrics.eventsIn.inc('device|event');
  const now = Date.now();
  const checked = validateEvent(args[0], ctx.limits, now);
  if (!checked.ok) {
    return refuseDeviceInput(ctx, 'event', checked, ack);
  }
  let stored;
  try {
    stored = await ctx.store.stateEvents.insertEvent({ deviceId: device.id, ...checked.event, receivedAt: now });
  } catch (err) {
    return reportStoreFailure(ctx, 'event', device.id, err, ack);
  }
  // Committed: from here on nothing may tell the device it was not stored.
  ctx.metrics.acksSent.inc('event|ok');
  ack({ ok: true, id: stored.id });
  const { deviceId: _deviceId, pos, ...body } = stored;
  ctx.streams.publish('event', device, pos, body);
  ctx.ingest?.event(device, { deviceId: device.id, ...body });
}
