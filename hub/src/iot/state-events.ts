// The `state` and `event` events: validated, stored, acked after the commit,
// then streamed to operators.
import { ackOf, type IotContext } from './context.js';
import { refusedAck, STORE_UNAVAILABLE_ACK } from './errors.js';
import type { DeviceScope } from './streams.js';
import { validateEvent, validateState } from './validate.js';

/** Handles one `state` event: (attrs | { attrs, ts }, ack). */
export async function handleState(ctx: IotContext, device: DeviceScope, args: unknown[]): Promise<void> {
  const ack = ackOf(args);
  ctx.metrics.eventsIn.inc('device|state');
  const now = Date.now();
  const checked = validateState(args[0], ctx.limits, now);
  if (!checked.ok) {
    ctx.metrics.badInputs.inc(checked.kind);
    ctx.metrics.acksSent.inc('state|error');
    return ack(refusedAck(checked.kind, checked.error));
  }
  try {
    const state = await ctx.store.stateEvents.applyState({ deviceId: device.id, attrs: checked.attrs, ts: checked.ts }, now);
    ctx.metrics.acksSent.inc('state|ok');
    ack({ ok: true });
    ctx.streams.publish('state', device, { ...state, siteId: device.siteId, classId: device.classId, changed: checked.attrs });
  } catch (err) {
    ctx.log.error({ err, deviceId: device.id }, 'state not stored');
    ctx.metrics.acksSent.inc('state|error');
    ack(STORE_UNAVAILABLE_ACK);
  }
}

/** Handles one `event` event (alarm, log): ({ kind, severity?, message?, data?, ts? }, ack). */
export async function handleDeviceEvent(ctx: IotContext, device: DeviceScope, args: unknown[]): Promise<void> {
  const ack = ackOf(args);
  ctx.metrics.eventsIn.inc('device|event');
  const now = Date.now();
  const checked = validateEvent(args[0], ctx.limits, now);
  if (!checked.ok) {
    ctx.metrics.badInputs.inc(checked.kind);
    ctx.metrics.acksSent.inc('event|error');
    return ack(refusedAck(checked.kind, checked.error));
  }
  try {
    const stored = await ctx.store.stateEvents.insertEvent({ deviceId: device.id, ...checked.event, receivedAt: now });
    ctx.metrics.acksSent.inc('event|ok');
    ack({ ok: true, id: stored.id });
    ctx.streams.publish('event', device, { ...stored, siteId: device.siteId, classId: device.classId });
  } catch (err) {
    ctx.log.error({ err, deviceId: device.id }, 'event not stored');
    ctx.metrics.acksSent.inc('event|error');
    ack(STORE_UNAVAILABLE_ACK);
  }
}
