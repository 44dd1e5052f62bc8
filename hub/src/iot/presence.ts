// Presence: a device is online while it has a session. The store orders the
// sessions of a device across every node: each new session claims the next
// epoch, and a session's later changes (upgrade, offline) are stored only
// while it is still the newest, so a late "offline" from a dying node never
// overwrites a newer "online" elsewhere. Last seen is written at connect,
// disconnect and with telemetry (the telemetry write already carries it),
// never per ping. Each stored change is pushed to operators.
import type { IotContext } from './context.js';
import type { DeviceSession, IotEvents } from './iot-events.js';
import type { NodeBus } from './node-bus.js';
import type { DeviceScope } from './streams.js';

/** The local sessions presence asks about (DeviceSessions). */
export interface LocalSessions {
  sessionOf(deviceId: string): DeviceSession | undefined;
}

/** Records and publishes device connects and disconnects; ends sessions a newer one replaced. */
export class Presence {
  /** Epochs other nodes announced for devices whose local session had not claimed yet. */
  private readonly announced = new Map<string, number>();

  constructor(
    private readonly ctx: IotContext,
    private readonly events: IotEvents,
    private readonly sessions: LocalSessions,
    private readonly nodeId: string,
    private readonly bus?: NodeBus,
  ) {
    events.on('session-open', (s) => void this.open(s));
    events.on('session-upgraded', (s) => {
      // Before the claim returns, the claim itself records whichever transport it finds.
      if (s.epoch !== undefined) void this.change(s, true, 'upgraded');
    });
    events.on('session-close', (s, reason) => void this.close(s, reason));
    bus?.on('session', (deviceId, epoch) => this.newerElsewhere(deviceId, epoch));
  }

  private async open(session: DeviceSession): Promise<void> {
    const { device, socket } = session;
    const ts = Date.now();
    const transport = socket.conn.transport.name;
    let claimed;
    try {
      claimed = await this.ctx.store.presence.claim({ deviceId: device.id, online: true, ts, reason: 'connected', transport }, this.nodeId);
    } catch (err) {
      // Fails closed: a session the store does not know of would never be marked offline. The device retries.
      this.ctx.log.error({ err, deviceId: device.id }, 'presence not stored; ending the session');
      this.ctx.metrics.refusedConnections.inc('device|presence_unavailable');
      socket.disconnect(true);
      return;
    }
    session.epoch = claimed.epoch;
    this.bus?.send('session', device.id, claimed.epoch, this.nodeId);
    this.publish(device, claimed.pos, true, ts, 'connected', transport);
    const newer = this.announced.get(device.id);
    this.announced.delete(device.id);
    if (newer !== undefined && newer > claimed.epoch) return this.events.emit('session-stale', session), undefined;
    if (!socket.connected) {
      // It closed while the claim was in flight: its close found no epoch to record against.
      return this.change(session, false, 'disconnected before presence was stored');
    }
    this.events.emit('device-online', session);
  }

  private close(session: DeviceSession, reason: string): Promise<void> | undefined {
    if (session.epoch === undefined) return; // open() records it once the claim returns
    return this.change(session, false, reason);
  }

  /** Another node's session of `deviceId` claimed `epoch`: an older local one must end. */
  private newerElsewhere(deviceId: string, epoch: number): void {
    const local = this.sessions.sessionOf(deviceId);
    if (!local) return;
    if (local.epoch === undefined) {
      if (this.announced.size > 100_000) this.announced.clear(); // bounded; a lost entry costs one extra takeover
      this.announced.set(deviceId, Math.max(epoch, this.announced.get(deviceId) ?? 0));
    } else if (local.epoch < epoch) {
      this.ctx.metrics.eventsOut.inc('device|taken_over_elsewhere');
      this.events.emit('session-stale', local);
    }
  }

  /** Ends the local sessions that the store shows replaced by a newer one (a 'session' word lost while Redis was away). */
  async endReplaced(sessions: readonly DeviceSession[]): Promise<void> {
    const claimed = sessions.filter((s) => s.epoch !== undefined && s.socket.connected);
    if (claimed.length === 0) return;
    const current = new Map((await this.ctx.store.presence.epochs(claimed.map((s) => s.device.id))).map((e) => [e.deviceId, e.epoch]));
    for (const session of claimed) {
      const epoch = current.get(session.device.id);
      if (epoch !== undefined && epoch > session.epoch!) {
        this.ctx.metrics.eventsOut.inc('device|taken_over_elsewhere');
        this.events.emit('session-stale', session);
      }
    }
  }

  /** Records a still-connected session online again (after this node was wrongly declared gone). */
  restore(session: DeviceSession): Promise<void> {
    return this.change(session, true, 'restored');
  }

  private async change(session: DeviceSession, online: boolean, reason: string): Promise<void> {
    const ts = Date.now();
    const transport = session.socket.conn.transport.name;
    let pos: number | undefined;
    try {
      pos = await this.ctx.store.presence.recordIfCurrent({ deviceId: session.device.id, online, ts, reason, transport }, session.epoch!);
    } catch (err) {
      // The node watch (node-watch.ts) releases the device if this node goes away; until then it shows as before.
      this.ctx.log.error({ err, deviceId: session.device.id }, 'presence not stored');
      return;
    }
    // Undefined: a newer session holds the device; its presence is the true one.
    if (pos !== undefined) this.publish(session.device, pos, online, ts, reason, transport);
  }

  /** Pushes a stored change to operators. */
  publish(device: DeviceScope, pos: number | undefined, online: boolean, ts: number, reason: string, transport: string): void {
    this.ctx.streams.publish('presence', device, pos, { online, ts, reason, transport });
  }
}
