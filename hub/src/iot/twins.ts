// Twins: desired state set by operators, reported state from the device,
// each versioned (protocol/iot twins.ts has the rules). Every accepted change
// is stored with its history and a stream record, pushed to operators, and a
// desired change goes to the device's live session; a device that is not
// connected gets the current desired document when it connects, on its own
// session, whichever hub node that is on.
import { mergePatch, TWIN_FORBIDDEN_KEYS, TWIN_MAX_DEPTH, twinDelta, type DesiredPayload, type TwinChange, type TwinDocument } from '@sitehub/protocol/iot';
import type { Socket } from '../realtime/index.js';
import type { LiveDevices } from './commands.js';
import { ackOf, type IotContext } from './context.js';
import { HubError, notFound } from './errors.js';
import { emptyTwin } from './store/rows.js';
import type { DeviceScope } from './streams.js';

/** A twin refused by the hub: the caller's mistake (400/409), with the twin as it is now when useful. */
export class TwinError extends HubError {
  constructor(code: string, message: string, status: number, readonly twin?: TwinDocument) {
    super(code, message, status);
  }
}

/** Checks a merge patch: a plain object, no prototype keys, bounded depth and size; returns its JSON size. */
export function checkPatch(value: unknown, what: string, maxBytes: number): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TwinError('twin_shape', `${what} must be an object`, 400);
  const walk = (v: unknown, depth: number): void => {
    if (depth > TWIN_MAX_DEPTH) throw new TwinError('twin_shape', `${what} is nested deeper than ${TWIN_MAX_DEPTH}`, 400);
    if (v === null || typeof v !== 'object') return;
    for (const key of Object.keys(v)) {
      if (TWIN_FORBIDDEN_KEYS.has(key)) throw new TwinError('twin_shape', `${what} may not hold the key "${key}"`, 400);
      walk((v as Record<string, unknown>)[key], depth + 1);
    }
  };
  walk(value, 1);
  const size = JSON.stringify(value).length;
  if (size > maxBytes) throw new TwinError('twin_size', `${what} is ${size} bytes, at most ${maxBytes} allowed`, 400);
  return value as Record<string, unknown>;
}

/** The twin service. */
export class Twins {
  constructor(
    private readonly ctx: IotContext,
    private readonly live: LiveDevices,
  ) {}

  /** A device's twin (an empty one if nothing was ever set). */
  async get(deviceId: string): Promise<TwinDocument> {
    const device = await this.ctx.store.registry.getDevice(deviceId);
    if (!device) throw notFound('device', deviceId);
    return (await this.ctx.store.twins.get(deviceId)) ?? emptyTwin(deviceId);
  }

  /** Accepted changes, newest first. */
  async history(deviceId: string, limit: number): Promise<TwinChange[]> {
    await this.get(deviceId);
    return this.ctx.store.twins.history(deviceId, limit);
  }

  /** Merges `patch` into the desired document; refused with twin_conflict when `basedOn` is not the current version. */
  async setDesired(deviceId: unknown, patch: unknown, basedOn: unknown, source: string): Promise<TwinDocument> {
    if (typeof deviceId !== 'string') throw new TwinError('twin_shape', 'deviceId must be a string', 400);
    if (basedOn !== undefined && (typeof basedOn !== 'number' || !Number.isSafeInteger(basedOn) || basedOn < 0)) {
      throw new TwinError('twin_shape', 'version must be an integer >= 0', 400);
    }
    const checked = checkPatch(patch, 'desired', this.ctx.limits.maxRecordBytes);
    const device = await this.ctx.store.registry.getDevice(deviceId);
    if (!device) throw notFound('device', deviceId);
    const now = Date.now();
    const result = await this.ctx.store.twins.update(
      deviceId,
      (current) => {
        if (basedOn !== undefined && basedOn !== current.desiredVersion) {
          return { code: 'twin_conflict', message: `desired is at version ${current.desiredVersion}, not ${basedOn}` };
        }
        const desired = mergePatch(current.desired, checked);
        if (JSON.stringify(desired).length > this.ctx.limits.maxRecordBytes) return { code: 'twin_size', message: `desired would exceed ${this.ctx.limits.maxRecordBytes} bytes` };
        const version = current.desiredVersion + 1;
        return { twin: { ...current, desired, desiredVersion: version }, change: { deviceId, side: 'desired', version, patch: checked, source, ts: now } };
      },
      now,
    );
    if (!result.ok) {
      this.ctx.metrics.badInputs.inc(result.code);
      throw new TwinError(result.code, result.message, result.code === 'twin_conflict' ? 409 : 400, result.twin);
    }
    const { pos, ...twin } = result.twin;
    this.publish(device, pos, twin, result.change);
    const socket = this.live.socketOf(deviceId);
    if (socket) this.sendDesired(socket, twin);
    return twin;
  }

  /** Sends a just-connected device its desired document, if any. */
  async deliverOnConnect(socket: Socket, device: DeviceScope): Promise<void> {
    const twin = await this.ctx.store.twins.get(device.id);
    if (twin && twin.desiredVersion > 0 && socket.connected) this.sendDesired(socket, twin);
  }

  /** Handles one `reported` event from a device: ({ reported, version? }, ack). */
  async handleReport(device: DeviceScope, args: unknown[]): Promise<void> {
    const ack = ackOf(args);
    this.ctx.metrics.eventsIn.inc('device|reported');
    const payload = args[0] as { reported?: unknown; version?: unknown } | null | undefined;
    let patch: Record<string, unknown>;
    try {
      if (payload === null || typeof payload !== 'object') throw new TwinError('twin_shape', 'report must be an object { reported, version? }', 400);
      const v = payload.version;
      if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) throw new TwinError('twin_shape', 'version must be an integer >= 0', 400);
      patch = checkPatch(payload.reported, 'reported', this.ctx.limits.maxRecordBytes);
    } catch (err) {
      const e = err as TwinError;
      this.ctx.metrics.badInputs.inc(e.code);
      this.ctx.metrics.acksSent.inc('reported|error');
      return ack({ ok: false, error: e.message, code: e.code, retryable: false });
    }
    const applied = payload.version as number | undefined;
    const now = Date.now();
    let result;
    try {
      result = await this.ctx.store.twins.update(
        device.id,
        (current) => {
          // A report of an older desired version than one already reported is late: what it says is outdated.
          if (applied !== undefined && applied < current.appliedVersion) {
            return { code: 'twin_stale', message: `version ${applied} is older than the applied version ${current.appliedVersion}` };
          }
          const reported = mergePatch(current.reported, patch);
          if (JSON.stringify(reported).length > this.ctx.limits.maxRecordBytes) return { code: 'twin_size', message: `reported would exceed ${this.ctx.limits.maxRecordBytes} bytes` };
          const version = current.reportedVersion + 1;
          return {
            twin: { ...current, reported, reportedVersion: version, appliedVersion: applied ?? current.appliedVersion },
            change: { deviceId: device.id, side: 'reported', version, patch, source: 'device', ts: now },
          };
        },
        now,
      );
    } catch (err) {
      this.ctx.log.error({ err, deviceId: device.id }, 'twin report not stored');
      this.ctx.metrics.acksSent.inc('reported|error');
      return ack({ ok: false, error: 'store unavailable, retry later', code: 'store_unavailable', retryable: true });
    }
    if (!result.ok) {
      this.ctx.metrics.badInputs.inc(result.code);
      this.ctx.metrics.acksSent.inc('reported|error');
      return ack({ ok: false, error: result.message, code: result.code, retryable: false });
    }
    this.ctx.metrics.acksSent.inc('reported|ok');
    ack({ ok: true, version: result.twin.reportedVersion });
    const { pos, ...twin } = result.twin;
    this.publish(device, pos, twin, result.change);
  }

  private sendDesired(socket: Socket, twin: TwinDocument): void {
    const payload: DesiredPayload = { version: twin.desiredVersion, desired: twin.desired, delta: twinDelta(twin.desired, twin.reported) };
    this.ctx.metrics.eventsOut.inc('device|desired');
    socket.emit('desired', payload);
  }

  private publish(device: DeviceScope, pos: number, twin: TwinDocument, change: TwinChange): void {
    const { deviceId: _d, ...body } = twin;
    const { deviceId: _c, ...rest } = change;
    this.ctx.streams.publish('twin', device, pos, { ...body, change: rest });
  }
}
