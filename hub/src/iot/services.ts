// Assembles the IoT services around a Socket.IO Server and a Store. The
// services learn of each other's changes through one event bus (iot-events.ts),
// each event with one owner; in a cluster the node bus (node-bus.ts) carries
// what other nodes must hear.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { HubConfig } from '../config/index.js';
import type { Server } from '../realtime/index.js';
import { AlarmWebhook } from './alarm-webhook.js';
import { Alarms } from './alarms.js';
import { AuthGuard } from './auth-guard.js';
import { BridgeFeed } from './bridge-feed.js';
import { Commands } from './commands.js';
import { ConsoleSessions } from './console-sessions.js';
import type { IotContext } from './context.js';
import { DeviceSessions } from './device-namespace.js';
import { IotEvents } from './iot-events.js';
import { IngestHooks } from './ingest-hooks.js';
import { inputLimits } from './limits.js';
import { IotMetrics } from './metrics.js';
import { NodeBus } from './node-bus.js';
import { NodeWatch } from './node-watch.js';
import { OperatorSessions } from './operator-namespaces.js';
import { People } from './people.js';
import { Presence } from './presence.js';
import { Registry } from './registry.js';
import { Retention } from './retention.js';
import type { Store } from './store/types.js';
import { Streams } from './streams.js';
import { WatcherCensus } from './watchers.js';
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
  /** The services' event bus. */
  events: IotEvents;
  /** This node's id (in presence, /metrics and /readyz). */
  nodeId: string;
  /** Whether this hub is one node of several (a cluster adapter). */
  clustered: boolean;
  /** The URL another live node gave for itself (advertiseUrl), if known. */
  nodeUrl(node: string): Promise<string | undefined>;
  /** Alarm rules and alarms. */
  alarms: Alarms;
  /** Accounts, personal tokens, who a credential stands for, the audit log. */
  people: People;
  /** Starts timers (command expiry, retention); marks offline the devices this hub held before (every device, on one node). */
  start(): Promise<void>;
  /** Stops the timers. */
  stop(): Promise<void>;
}

/** How the services run: alone, or as one node of a cluster. */
export interface ServiceOptions {
  /** This node's id; a random one when not given. */
  nodeId?: string;
  /** One node of several sharing the store and a cluster adapter. */
  clustered?: boolean;
  /** How the other nodes reach this one. */
  advertiseUrl?: string;
}

/** Wires the device, console and bridge namespaces into `io`. */
export function createIotServices(io: Server, store: Store, config: HubConfig, adminToken: string, log: Logger, opts: ServiceOptions = {}): IotServices {
  const clustered = opts.clustered === true;
  const nodeId = opts.nodeId ?? `node-${randomBytes(4).toString('hex')}`;
  const metrics = new IotMetrics();
  const events = new IotEvents();
  const bus = clustered ? new NodeBus(io, metrics) : undefined;
  const registry = new Registry(store, config.enrollmentKey, events);
  const census = bus ? new WatcherCensus([io.of('/console'), io.of('/bridge')], bus, nodeId) : undefined;
  const feed = bus ? new BridgeFeed(store.stream, bus, log) : undefined;
  const streams = new Streams(io, metrics, log, census && (() => census.anyone()), feed);
  const ctx: IotContext = { config, limits: inputLimits(config), store, registry, streams, metrics, log };
  const authGuard = new AuthGuard({
    windowMs: config.authFailureWindowMs,
    throttleAfter: config.authThrottleAfter,
    throttleIntervalMs: config.authThrottleIntervalMs,
    banAfter: config.authBanAfter,
    banMs: config.authBanMs,
    maxTracked: config.authTrackedMax,
  });
  const devices = new DeviceSessions(ctx, events, authGuard);
  const presence = new Presence(ctx, events, devices, nodeId, bus);
  const commands = new Commands(ctx, devices, events, bus, nodeId);
  const consoleSessions = new ConsoleSessions(store.people);
  const people = new People(store, consoleSessions, hashToken(adminToken), log);
  const operators = new OperatorSessions(ctx, commands, people, authGuard, events, consoleSessions);
  if (bus) {
    // A revocation ends the sessions it opened on every node.
    events.on('credentials-revoked', (who, reason, origin) => origin === 'local' && bus.send('revoked', who, reason));
    bus.on('revoked', (who, reason) => events.emit('credentials-revoked', who, reason, 'remote'));
  }
  const watch = clustered ? new NodeWatch(ctx, nodeId, presence, devices, opts.advertiseUrl !== undefined ? { url: opts.advertiseUrl } : {}) : undefined;
  devices.attach(io);
  operators.attach(io);
  const retention = new Retention(ctx);
  const twins = new Twins(ctx, devices);
  events.on('session-open', ({ socket, device }) => {
    socket.on('reported', (...args: unknown[]) => void twins.handleReport(device, args));
    void twins.deliverOnConnect(socket, device).catch((err: unknown) => log.error({ err, deviceId: device.id }, 'desired state not delivered'));
  });
  operators.onSession((socket, kind, source) => attachTwinHandlers(ctx, twins, socket, kind, source));
  const files = new Files(ctx, devices);
  events.on('session-open', ({ socket, device }) => files.attach(socket, device));
  const alarms = createAlarms(ctx, devices, log);
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
    events,
    nodeId,
    clustered,
    nodeUrl: async (node) => watch?.urlOf(node),
    alarms,
    people,
    async start() {
      // Alone, nobody is connected after a restart; in a cluster only this node's former devices are gone.
      if (watch) await watch.start();
      else await store.presence.resetOnline(Date.now());
      commands.start();
      retention.start();
      await files.start();
      await alarms.start();
    },
    async stop() {
      commands.stop();
      files.stop();
      census?.close();
      feed?.close();
      await watch?.stop();
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
