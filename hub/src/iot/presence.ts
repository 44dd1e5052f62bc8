// Presence: a device is online while it has a session; each change is stored
// (online flag, last seen, history) and pushed to operators.
import type { IotContext } from './context.js';
import type { DeviceScope } from './streams.js';

/** Records and publishes device connects and disconnects. */
export class Presence {
  constructor(private readonly ctx: IotContext) {}

  /** The device just connected over `transport`. */
  online(device: DeviceScope, transport: string): Promise<void> {
    return this.change(device, true, 'connected', transport);
  }

  /** The device's session moved to `transport` (Engine.IO's upgrade, polling to WebSocket). */
  upgraded(device: DeviceScope, transport: string): Promise<void> {
    return this.change(device, true, 'upgraded', transport);
  }

  /** The device's session ended for `reason`. */
  offline(device: DeviceScope, reason: string, transport: string): Promise<void> {
    return this.change(device, false, reason, transport);
  }

  private async change(device: DeviceScope, online: boolean, reason: string, transport: string): Promise<void> {
    const ts = Date.now();
    let pos: number | undefined;
    try {
      pos = await this.ctx.store.presence.record({ deviceId: device.id, online, ts, reason, transport });
    } catch (err) {
      this.ctx.log.error({ err, deviceId: device.id }, 'presence not stored');
    }
    // Operators still learn of a change the store missed; it just has no position to resume from.
    this.ctx.streams.publish('presence', device, pos, { online, ts, reason, transport });
  }
}
