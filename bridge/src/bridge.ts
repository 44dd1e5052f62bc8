// The bridge: wires the hub link, the broker link, the durable outbox, the
// mapping, the command router and the status server together.
import type { Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type { BridgeConfig } from './config.js';
import { defaultConfig } from './config.js';
import { TopicMap, bridgeGapTopic, bridgeStatusTopic } from './topics.js';
import { Outbox } from './queue.js';
import { MqttLink } from './mqtt-link.js';
import { HubLink, type GapNotice, type HubStream } from './hub-link.js';
import { mapHubUpdate } from './mapping.js';
import { CommandRouter } from './commands.js';
import { DesiredRouter } from './desired.js';
import { RecentKeys } from './dedup.js';
import { startHealthServer } from './health.js';

/** What /healthz answers. */
export interface BridgeStatus {
  ok: boolean;
  bridgeId: string;
  /** `position`: last hub stream position handed on; `confirmed`: last one the hub was told; `gaps`: gap notices received. */
  hub: { connected: boolean; position: number | null; confirmed: number | null; gaps: number };
  mqtt: { connected: boolean; queued: number; dropped: number; published: number };
  commands: { ok: number; failed: number; rejected: number; duplicate: number };
}

/** A running bridge. */
export interface Bridge {
  readonly config: BridgeConfig;
  readonly mqtt: MqttLink;
  readonly hub: HubLink;
  /** Port of the status server, when it runs. */
  readonly healthPort: number | undefined;
  status(): BridgeStatus;
  /** Starts the status server (if configured); the links connect on their own. */
  start(): Promise<void>;
  /** Publishes `offline`, closes both links, the status server and the queue. */
  close(): Promise<void>;
}

/** Creates a bridge from a (partial) configuration; `hubToken` is required. */
export function createBridge(partial: Partial<BridgeConfig> & { hubToken: string }, options: { logger?: Logger } = {}): Bridge {
  const config: BridgeConfig = { ...defaultConfig(), ...partial };
  const log = options.logger ?? pino({ name: 'sitehub-bridge', level: config.logLevel });
  const hubTlsFiles = hubTls(config);
  const topics = new TopicMap(config.topicTemplate);
  const outbox = new Outbox({ file: config.queueFile, maxMessages: config.queueMaxMessages });
  const recent = new RecentKeys(config.dedupWindow);
  // MQTT 3.1.1 has neither user properties nor No Local: mark payloads instead.
  const payloadOrigin = config.mqttProtocolVersion === 5 ? undefined : config.bridgeId;
  const mqtt = new MqttLink(
    {
      url: config.mqttUrl,
      clientId: config.mqttClientId ?? `sitehub-bridge-${config.bridgeId}`,
      ...(config.mqttUsername !== undefined && { username: config.mqttUsername }),
      ...(config.mqttPassword !== undefined && { password: config.mqttPassword }),
      ...(config.mqttCaFile && { caFile: config.mqttCaFile }),
      ...(config.mqttCertFile && { certFile: config.mqttCertFile }),
      ...(config.mqttKeyFile && { keyFile: config.mqttKeyFile }),
      rejectUnauthorized: config.mqttRejectUnauthorized,
      protocolVersion: config.mqttProtocolVersion,
      keepaliveSec: config.mqttKeepaliveSec,
      sessionExpirySec: config.mqttSessionExpirySec,
      willDelaySec: config.mqttWillDelaySec,
      reconnectMs: config.mqttReconnectMs,
      closeTimeoutMs: config.mqttCloseTimeoutMs,
      statusTopic: bridgeStatusTopic(config.topicPrefix, config.bridgeId),
      ...(config.commands && { commandFilter: [topics.commandFilter, topics.twinFilter] }),
      origin: config.bridgeId,
      inflightWindow: config.inflightWindow,
    },
    outbox,
    log.child({ link: 'mqtt' }),
  );
  const hub = new HubLink(
    { url: config.hubUrl, token: config.hubToken, filter: config.hubFilter, reconnectDelayMaxMs: config.hubReconnectDelayMaxMs, tls: hubTlsFiles, position: () => outbox.position },
    log.child({ link: 'hub' }),
  );
  const qos = { telemetry: config.qosTelemetry, state: config.qosState, event: config.qosEvent, status: config.qosStatus, twin: config.qosState, alarm: config.qosEvent };
  // Set by close(): records that arrive then are not handed on, so the position stays before them.
  let stopping = false;
  hub.on('record', (kind: HubStream, update: unknown, pos: number | undefined) => {
    if (stopping) return;
    try {
      const messages = mapHubUpdate(kind, update, { topics, qos, origin: payloadOrigin, recent });
      log.debug({ kind, messages: messages.length, pos }, 'hub update');
      // A record that maps to nothing (a duplicate) still moves the position.
      if (messages.length || pos !== undefined) mqtt.send(messages, pos);
    } catch (err) {
      log.error({ err: (err as Error).message, kind }, 'could not forward a hub update');
    }
  });
  hub.on('position', (pos: number) => {
    if (!stopping) mqtt.send([], pos);
  });
  let gaps = 0;
  const gapTopic = bridgeGapTopic(config.topicPrefix, config.bridgeId);
  hub.on('gap', (notice: GapNotice) => {
    gaps++;
    log.warn({ ...notice }, 'the hub no longer holds part of the stream: gap published');
    mqtt.send([{ topic: gapTopic, payload: JSON.stringify({ bridgeId: config.bridgeId, after: notice.after, through: notice.through, reason: notice.reason, ts: Date.now() }), qos: 1, retain: false }], notice.through);
  });
  // The hub keeps the position the broker has acknowledged everything through:
  // where a bridge that lost its disk resumes.
  let confirmed: number | undefined;
  hub.on('up', () => (confirmed = undefined));
  const confirmTimer = setInterval(() => {
    const pos = outbox.acknowledgedPosition();
    if (pos === undefined || !hub.connected || (confirmed !== undefined && pos <= confirmed)) return;
    hub.confirm(pos);
    confirmed = pos;
  }, config.confirmIntervalMs);
  confirmTimer.unref();
  const router = new CommandRouter({ topics, qos: config.qosResult, timeoutMs: config.commandTimeoutMs, origin: payloadOrigin, recent }, hub, mqtt, log.child({ part: 'commands' }));
  const desired = new DesiredRouter({ topics, qos: config.qosResult, timeoutMs: config.commandTimeoutMs, origin: payloadOrigin, recent }, hub, mqtt, log.child({ part: 'desired' }));
  mqtt.on('command', (topic: string, payload: Buffer, packet) => {
    if (topics.parseTwinSet(topic)) {
      desired.handle(topic, payload, packet).catch((err: Error) => log.error({ err: err.message, topic }, 'desired-state request failed'));
      return;
    }
    router.handle(topic, payload, packet).catch((err: Error) => log.error({ err: err.message, topic }, 'command handling failed'));
  });

  let health: { server: Server; port: number } | undefined;
  const status = (): BridgeStatus => ({
    ok: hub.connected && mqtt.connected,
    bridgeId: config.bridgeId,
    hub: { connected: hub.connected, position: outbox.position ?? null, confirmed: confirmed ?? null, gaps },
    mqtt: { connected: mqtt.connected, queued: outbox.length, dropped: outbox.dropped, published: mqtt.published },
    commands: { ...router.counts },
  });
  return {
    config,
    mqtt,
    hub,
    get healthPort() {
      return health?.port;
    },
    status,
    async start() {
      if (config.healthPort !== undefined) health = await startHealthServer(config.healthPort, config.healthHost, status);
      log.info({ bridgeId: config.bridgeId, hub: config.hubUrl, mqtt: config.mqttUrl, healthPort: health?.port }, 'bridge started');
    },
    async close() {
      stopping = true;
      clearInterval(confirmTimer);
      // A stop may be followed by a new disk: tell the hub where the broker has
      // acknowledged everything (what is still queued then comes again, at least once).
      // The broker link stops publishing at once; the hub learns the position meanwhile.
      const pos = outbox.acknowledgedPosition();
      const mqttClosed = mqtt.close();
      if (pos !== undefined && hub.connected && (confirmed === undefined || pos > confirmed)) {
        await hub.confirmAndWait(pos, config.mqttCloseTimeoutMs).catch((err: Error) => log.warn({ err: err.message }, 'the hub did not take the last position'));
      }
      hub.close();
      await mqttClosed;
      outbox.close();
      if (health) await new Promise<void>((resolve) => health!.server.close(() => resolve()));
      log.info('bridge stopped');
    },
  };
}

/** The hub link's TLS files, read now so that a missing one stops the start with its setting named. */
function hubTls(config: BridgeConfig): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  const files = { ca: ['hubCaFile', config.hubCaFile], cert: ['hubCertFile', config.hubCertFile], key: ['hubKeyFile', config.hubKeyFile] } as const;
  for (const [name, [setting, file]] of Object.entries(files) as Array<[keyof typeof out, readonly [string, string | undefined]]>) {
    if (file === undefined) continue;
    try {
      out[name] = readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read ${setting} ${file}: ${(err as Error).message}`);
    }
  }
  return out;
}
