// The device namespaces `/devices/<class>`: authentication of the CONNECT
// payload, the rooms a device joins, its events, presence and command
// delivery on connect. One live session per device: a new one replaces the old.
import type { Server, Socket } from '../realtime/index.js';
import type { Commands, LiveDevices } from './commands.js';
import type { IotContext } from './context.js';
import type { Presence } from './presence.js';
import type { DeviceRefusal } from './registry.js';
import { handleDeviceEvent, handleState } from './state-events.js';
import type { DeviceScope } from './streams.js';
import { handleTelemetry } from './telemetry.js';

/** Device namespaces: `/devices/` followed by a class id. */
export const DEVICE_NAMESPACE = /^\/devices\/[a-z0-9-]{1,32}$/;

const REFUSAL_MESSAGES: Record<DeviceRefusal, string> = {
  invalid_credentials: 'authentication failed',
  device_disabled: 'device disabled',
};

/** An Error the realtime layer turns into a connect_error with `data`. */
function refusal(code: DeviceRefusal): Error & { data: { code: string } } {
  return Object.assign(new Error(REFUSAL_MESSAGES[code]), { data: { code } });
}

/** The live device sessions, one per device id. */
export class DeviceSessions implements LiveDevices {
  private readonly sockets = new Map<string, Socket>();

  constructor(
    private readonly ctx: IotContext,
    private readonly presence: Presence,
    private readonly commands: () => Commands,
  ) {}

  /** Wires the dynamic device namespaces into `io`. */
  attach(io: Server): void {
    const devices = io.of(DEVICE_NAMESPACE);
    devices.use((socket, next) => {
      const classId = socket.nsp.name.slice('/devices/'.length);
      const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
      this.ctx.registry.authenticateDevice(classId, auth).then(
        (result) => {
          if (typeof result === 'string') {
            this.ctx.metrics.refusedConnections.inc(`device|${result}`);
            return next(refusal(result));
          }
          socket.data.device = result;
          next();
        },
        (err: unknown) => {
          this.ctx.log.error({ err }, 'device authentication failed unexpectedly');
          this.ctx.metrics.refusedConnections.inc('device|internal_error');
          next(Object.assign(new Error('service unavailable'), { data: { code: 'unavailable' } }));
        },
      );
    });
    devices.on('connection', (socket: Socket) => this.onConnection(socket));
  }

  socketOf(deviceId: string): Socket | undefined {
    return this.sockets.get(deviceId);
  }

  /** Connected sockets, for metrics by transport. */
  all(): IterableIterator<Socket> {
    return this.sockets.values();
  }

  /** Ends a device's live session (its credentials changed); it may reconnect if they are still valid. */
  kick(deviceId: string): void {
    this.sockets.get(deviceId)?.disconnect(true);
  }

  private onConnection(socket: Socket): void {
    const { id, classId, siteId, enrolledToken } = socket.data.device as DeviceScope & { enrolledToken?: string };
    const device: DeviceScope = { id, classId, siteId };
    const previous = this.sockets.get(id);
    this.sockets.set(id, socket);
    // The newer session wins: a device that reconnected before the hub noticed its old link died.
    if (previous) previous.disconnect(true);
    void socket.join([`site:${siteId}`, `device:${id}`]);
    if (enrolledToken) {
      // The only time this token is ever shown: the device must keep it.
      socket.emit('enrolled', { deviceId: id, token: enrolledToken });
      delete (socket.data.device as { enrolledToken?: string }).enrolledToken;
    }
    socket.on('telemetry', (...args: unknown[]) => void handleTelemetry(this.ctx, device, args));
    socket.on('state', (...args: unknown[]) => void handleState(this.ctx, device, args));
    socket.on('event', (...args: unknown[]) => void handleDeviceEvent(this.ctx, device, args));
    socket.on('disconnect', (reason: string) => {
      if (this.sockets.get(id) !== socket) return; // replaced by a newer session
      this.sockets.delete(id);
      void this.presence.offline(device, reason, socket.conn.transport.name);
    });
    // Most clients start on polling and move to WebSocket a moment later:
    // operators are told, or they would show the first transport forever.
    socket.conn.once('upgrade', () => {
      if (this.sockets.get(id) === socket && socket.connected) void this.presence.upgraded(device, socket.conn.transport.name);
    });
    void this.presence.online(device, socket.conn.transport.name).then(() => {
      if (socket.connected) return this.commands().deliverPending(socket, device);
    });
  }
}
