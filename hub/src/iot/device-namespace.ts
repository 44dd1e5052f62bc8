// The device namespaces `/devices/<class>`: authentication of the CONNECT
// payload, the rooms a device joins, its events, presence and command
// delivery on connect. One live session per device: a new one replaces the old
// here at once, and on other nodes once presence has ordered them (presence.ts).
import { DEVICE_NAMESPACE } from '@sitehub/protocol/iot';
import type { Server, Socket } from '../realtime/index.js';
import { tooManyFailuresError, type AuthGuard } from './auth-guard.js';
import type { LiveDevices } from './commands.js';
import { deviceCertificateRefusal, type CertificateRefusal } from './device-certificate.js';
import type { IotContext } from './context.js';
import { ID_PATTERN } from './limits.js';
import type { DeviceSession, IotEvents } from './iot-events.js';
import { deviceLimits } from './limits.js';
import type { DeviceRefusal } from './registry.js';
import { handleDeviceEvent, handleState } from './state-events.js';
import type { DeviceScope } from './streams.js';
import { handleTelemetry } from './telemetry.js';

export { DEVICE_NAMESPACE } from '@sitehub/protocol/iot';

const REFUSAL_MESSAGES: Record<DeviceRefusal | CertificateRefusal, string> = {
  invalid_credentials: 'authentication failed',
  device_disabled: 'device disabled',
  certificate_required: 'client certificate required',
  certificate_invalid: 'client certificate not trusted (another CA, or expired)',
  certificate_mismatch: 'client certificate is not this device\'s',
};

/** An Error the realtime layer turns into a connect_error with `data`. */
function refusal(code: DeviceRefusal | CertificateRefusal): Error & { data: { code: string } } {
  return Object.assign(new Error(REFUSAL_MESSAGES[code]), { data: { code } });
}

/** The live device sessions of this node, one per device id. Emits session-open/-upgraded/-close; ends sessions on session-stale and revocations. */
export class DeviceSessions implements LiveDevices {
  private readonly sessions = new Map<string, DeviceSession>();

  constructor(
    private readonly ctx: IotContext,
    private readonly events: IotEvents,
    private readonly guard: AuthGuard,
  ) {
    events.on('session-stale', (session) => {
      if (session.socket.connected) session.socket.disconnect(true);
    });
    events.on('credentials-revoked', (who) => {
      if (who.kind === 'device') this.kick(who.id);
    });
  }

  /**
   * Whether a CONNECT to `name` may have a device namespace: only
   * `/devices/<class>` of a class the store holds right now. Asked on every
   * CONNECT to a namespace that does not exist yet, so classes created or
   * deleted at run time are seen at once, and a flood of made-up class names
   * creates nothing (the hub cleans up empty child namespaces).
   */
  private matchNamespace(name: string, next: (err: Error | null, ok: boolean) => void): void {
    if (!DEVICE_NAMESPACE.test(name)) return next(null, false);
    this.ctx.store.registry.getClass(name.slice('/devices/'.length)).then(
      (cls) => next(null, cls !== undefined),
      (err: unknown) => {
        // Fails closed: the device sees "Invalid namespace" and retries later.
        this.ctx.log.error({ err }, 'device class lookup failed');
        next(err instanceof Error ? err : new Error(String(err)), false);
      },
    );
  }

  /** Wires the dynamic device namespaces into `io`. */
  attach(io: Server): void {
    const devices = io.of((name, _auth, next) => this.matchNamespace(name, next));
    devices.use((socket, next) => {
      const classId = socket.nsp.name.slice('/devices/'.length);
      const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
      // Counted per address and per device id (unknown ids too, so that a ban tells nothing about which ids exist).
      const ticket = this.guard.admit({
        kind: auth.enrollmentKey !== undefined ? 'enrollment' : 'device',
        address: socket.handshake.address,
        ...(typeof auth.deviceId === 'string' && ID_PATTERN.test(auth.deviceId) && { deviceId: auth.deviceId }),
      });
      if (ticket.gate !== 'open') {
        this.ctx.metrics.refusedConnections.inc(`device|${ticket.gate}`);
        return next(tooManyFailuresError());
      }
      // The certificate next: without the right one, the token is not even looked at.
      const certificate = deviceCertificateRefusal(this.ctx.config.tlsClientAuth, socket.conn.request.socket, auth.deviceId);
      if (certificate) {
        this.guard.failure(ticket);
        this.ctx.metrics.refusedConnections.inc(`device|${certificate}`);
        return next(refusal(certificate));
      }
      this.ctx.registry.authenticateDevice(classId, auth).then(
        (result) => {
          if (typeof result === 'string') {
            if (result === 'invalid_credentials') this.guard.failure(ticket);
            else this.guard.abandon(ticket); // right credentials of a disabled device: no guess
            this.ctx.metrics.refusedConnections.inc(`device|${result}`);
            return next(refusal(result));
          }
          this.guard.success(ticket);
          socket.data.device = result;
          next();
        },
        (err: unknown) => {
          this.guard.abandon(ticket);
          this.ctx.log.error({ err }, 'device authentication failed unexpectedly');
          this.ctx.metrics.refusedConnections.inc('device|internal_error');
          next(Object.assign(new Error('service unavailable'), { data: { code: 'unavailable' } }));
        },
      );
    });
    devices.on('connection', (socket: Socket) => this.onConnection(socket));
  }

  socketOf(deviceId: string): Socket | undefined {
    return this.sessions.get(deviceId)?.socket;
  }

  sessionOf(deviceId: string): DeviceSession | undefined {
    return this.sessions.get(deviceId);
  }

  /** This node's sessions. */
  allSessions(): IterableIterator<DeviceSession> {
    return this.sessions.values();
  }

  /** Connected sockets, for metrics by transport. */
  *all(): IterableIterator<Socket> {
    for (const session of this.sessions.values()) yield session.socket;
  }

  /** Ends a device's live session on this node (its credentials changed); it may reconnect if they are still valid. */
  kick(deviceId: string): void {
    this.sessions.get(deviceId)?.socket.disconnect(true);
  }

  private onConnection(socket: Socket): void {
    const { id, classId, siteId, enrolledToken } = socket.data.device as DeviceScope & { enrolledToken?: string };
    const device: DeviceScope = { id, classId, siteId };
    const session: DeviceSession = { device, socket, epoch: undefined };
    const previous = this.sessions.get(id);
    this.sessions.set(id, session);
    // The newer session wins: a device that reconnected before the hub noticed its old link died.
    if (previous) previous.socket.disconnect(true);
    void socket.join([`site:${siteId}`, `device:${id}`]);
    socket.emit('limits', deviceLimits(this.ctx.config));
    if (enrolledToken) {
      // The only time this token is ever shown: the device must keep it.
      socket.emit('enrolled', { deviceId: id, token: enrolledToken });
      delete (socket.data.device as { enrolledToken?: string }).enrolledToken;
    }
    socket.on('telemetry', (...args: unknown[]) => void handleTelemetry(this.ctx, device, args));
    socket.on('state', (...args: unknown[]) => void handleState(this.ctx, device, args));
    socket.on('event', (...args: unknown[]) => void handleDeviceEvent(this.ctx, device, args));
    socket.on('disconnect', (reason: string) => {
      if (this.sessions.get(id) === session) this.sessions.delete(id);
      // Also for a replaced session: presence stores it only if no newer session claimed the device.
      this.events.emit('session-close', session, reason);
    });
    // Most clients start on polling and move to WebSocket a moment later:
    // operators are told, or they would show the first transport forever.
    socket.conn.once('upgrade', () => {
      if (this.sessions.get(id) === session && socket.connected) this.events.emit('session-upgraded', session);
    });
    this.events.emit('session-open', session);
  }
}
