// Assembles the IoT services around a Socket.IO Server and a Store.
import type { Logger } from 'pino';
import type { HubConfig } from '../config/index.js';
import type { Server } from '../realtime/index.js';
import { AuthGuard } from './auth-guard.js';
import { Commands } from './commands.js';
import { ConsoleSessions } from './console-sessions.js';
import type { IotContext } from './context.js';
import { DeviceSessions } from './device-namespace.js';
import { inputLimits } from './limits.js';
import { IotMetrics } from './metrics.js';
import { OperatorSessions } from './operator-namespaces.js';
import { Presence } from './presence.js';
import { Registry } from './registry.js';
import { Retention } from './retention.js';
import type { Store } from './store/types.js';
import { Streams } from './streams.js';
import { hashToken } from './tokens.js';
import { Twins } from './twins.js';
import { attachTwinHandlers } from './twin-handlers.js';
import { Files } from './files/service.js';

/** The running IoT services. */
export interface IotServices {
  ctx: IotContext;
  registry: Registry;
  commands: Commands;
  devices: DeviceSessions;
  operators: OperatorSessions;
  /** Web console sign-in sessions (cookie), accepted by /console and /api like the admin token. */
  consoleSessions: ConsoleSessions;
  /** Failed authentications, throttles and bans, shared by REST and every namespace. */
  authGuard: AuthGuard;
  retention: Retention;
  metrics: IotMetrics;
  /** Desired and reported state per device (issue 21). */
  twins: Twins;
  /** Files to and from devices (issue 21). */
  files: Files;
  /** Starts timers (command expiry, retention) after marking every device offline. */
  start(): Promise<void>;
  /** Stops the timers. */
  stop(): Promise<void>;
}

/** Wires the device, console and bridge namespaces into `io`. */
export function createIotServices(io: Server, store: Store, config: HubConfig, adminToken: string, log: Logger): IotServices {
  const metrics = new IotMetrics();
  const registry = new Registry(store, config.enrollmentKey);
  const streams = new Streams(io, metrics, log);
  const ctx: IotContext = { config, limits: inputLimits(config), store, registry, streams, metrics, log };
  const authGuard = new AuthGuard({
    windowMs: config.authFailureWindowMs,
    throttleAfter: config.authThrottleAfter,
    throttleIntervalMs: config.authThrottleIntervalMs,
    banAfter: config.authBanAfter,
    banMs: config.authBanMs,
    maxTracked: config.authTrackedMax,
  });
  const presence = new Presence(ctx);
  let commands: Commands | undefined;
  const devices = new DeviceSessions(ctx, presence, () => commands!, authGuard);
  commands = new Commands(ctx, devices);
  const consoleSessions = new ConsoleSessions();
  const operators = new OperatorSessions(ctx, commands, hashToken(adminToken), authGuard, consoleSessions);
  registry.onCredentialsRevoked = (id) => {
    if (id.startsWith('bridge:')) operators.kickBridge(id.slice('bridge:'.length));
    else devices.kick(id);
  };
  devices.attach(io);
  operators.attach(io);
  const retention = new Retention(ctx);
  const twins = new Twins(ctx, devices);
  devices.onSession((socket, device) => {
    socket.on('reported', (...args: unknown[]) => void twins.handleReport(device, args));
    void twins.deliverOnConnect(socket, device).catch((err: unknown) => log.error({ err, deviceId: device.id }, 'desired state not delivered'));
  });
  operators.onSession((socket, kind, source) => attachTwinHandlers(ctx, twins, socket, kind, source));
  const files = new Files(ctx, devices);
  devices.onSession((socket, device) => files.attach(socket, device));
  return {
    twins,
    files,
    ctx,
    registry,
    commands,
    devices,
    operators,
    consoleSessions,
    authGuard,
    retention,
    metrics,
    async start() {
      await store.presence.resetOnline(Date.now());
      commands!.start();
      retention.start();
      await files.start();
    },
    async stop() {
      commands!.stop();
      files.stop();
      await retention.stop();
    },
  };
}
