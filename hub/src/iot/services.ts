// Assembles the IoT services around a Socket.IO Server and a Store.
import type { Logger } from 'pino';
import type { HubConfig } from '../config/index.js';
import type { Server } from '../realtime/index.js';
import { AlarmWebhook } from './alarm-webhook.js';
import { Alarms } from './alarms.js';
import { AuthGuard } from './auth-guard.js';
import { Commands } from './commands.js';
import { ConsoleSessions } from './console-sessions.js';
import type { IotContext } from './context.js';
import { DeviceSessions } from './device-namespace.js';
import { IngestHooks } from './ingest-hooks.js';
import { inputLimits } from './limits.js';
import { IotMetrics } from './metrics.js';
import { OperatorSessions } from './operator-namespaces.js';
import { People } from './people.js';
import { Presence } from './presence.js';
import { Registry } from './registry.js';
import { Retention } from './retention.js';
import type { Store } from './store/types.js';
import { Streams } from './streams.js';
import { hashToken } from './tokens.js';

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
  /** Alarm rules and alarms. */
  alarms: Alarms;
  /** Accounts, personal tokens, who a credential stands for, the audit log. */
  people: People;
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
  const consoleSessions = new ConsoleSessions(store.people);
  const people = new People(store, consoleSessions, hashToken(adminToken), log);
  const operators = new OperatorSessions(ctx, commands, people, authGuard, consoleSessions);
  registry.onCredentialsRevoked = (id) => {
    if (id.startsWith('bridge:')) operators.kickBridge(id.slice('bridge:'.length));
    else devices.kick(id);
  };
  devices.attach(io);
  operators.attach(io);
  const retention = new Retention(ctx);
  const alarms = createAlarms(ctx, devices, log);
  return {
    ctx,
    registry,
    commands,
    devices,
    operators,
    consoleSessions,
    authGuard,
    retention,
    metrics,
    alarms,
    people,
    async start() {
      await store.presence.resetOnline(Date.now());
      commands!.start();
      retention.start();
      await alarms.start();
    },
    async stop() {
      commands!.stop();
      await retention.stop();
      await alarms.stop();
    },
  };
}

/** The alarm rules, told of every reading and device event, with the webhook if one is configured. */
function createAlarms(ctx: IotContext, devices: DeviceSessions, log: Logger): Alarms {
  const { config } = ctx;
  const webhook =
    config.alarmWebhookUrl === undefined
      ? undefined
      : new AlarmWebhook(
          { url: config.alarmWebhookUrl, attempts: config.alarmWebhookAttempts, timeoutMs: config.alarmWebhookTimeoutMs, queueMax: config.alarmWebhookQueueMax },
          ctx.metrics,
          log,
        );
  const alarms = new Alarms(ctx, (id) => devices.socketOf(id) !== undefined, webhook);
  ctx.ingest = new IngestHooks(log);
  ctx.ingest.add(alarms);
  return alarms;
}
