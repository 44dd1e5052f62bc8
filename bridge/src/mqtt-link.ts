// The broker side: one mqtt.js connection with the bridge's birth and last
// will, the durable outbox pumped in order with a bounded window of messages
// in flight, and the command subscription (No Local on MQTT 5).
import { readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type IClientPublishOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Outbox, type QueuedMessage, type StoredProperties } from './queue.js';

export interface MqttLinkOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  rejectUnauthorized: boolean;
  protocolVersion: 4 | 5;
  keepaliveSec: number;
  sessionExpirySec: number;
  willDelaySec: number;
  reconnectMs: number;
  /** How long close() waits for the broker to acknowledge `offline` before dropping the connection. */
  closeTimeoutMs: number;
  /** Retained birth/will topic. */
  statusTopic: string;
  /** Filters subscribed for MQTT -> hub requests (commands, desired state); none when undefined. */
  commandFilter?: string | string[];
  /** Marker put on everything the bridge publishes (MQTT 5 user property `sitehub-origin`). */
  origin: string;
  /** Messages published and not yet acknowledged, at most. */
  inflightWindow: number;
}

/** An outgoing message before it is queued. */
export interface OutgoingMessage {
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  props?: StoredProperties;
}

/** The broker link; emits `command` (topic, payload, packet) and `connect`/`close`. */
export class MqttLink extends EventEmitter {
  readonly client: MqttClient;
  private lastSentId = 0;
  private inflight = 0;
  private pumping = false;
  /** Set by close(): what is still queued stays for the next start. */
  private closing = false;
  /** Set when mqtt.js refused a publish; sending resumes after the next CONNACK. */
  private sendRefused = false;
  private pendingRemovals: number[] = [];
  private removalScheduled = false;
  /** Messages acknowledged by the broker since start. */
  published = 0;

  constructor(
    private readonly opts: MqttLinkOptions,
    private readonly outbox: Outbox,
    private readonly log: Logger,
  ) {
    super();
    const v5 = opts.protocolVersion === 5;
    const options: IClientOptions = {
      clientId: opts.clientId,
      protocolVersion: opts.protocolVersion,
      // A persistent session keeps the command subscription and the commands
      // sent while the bridge was away.
      clean: false,
      keepalive: opts.keepaliveSec,
      reconnectPeriod: opts.reconnectMs,
      connectTimeout: 10_000,
      resubscribe: true,
      queueQoSZero: false,
      rejectUnauthorized: opts.rejectUnauthorized,
      ...(opts.username !== undefined && { username: opts.username }),
      ...(opts.password !== undefined && { password: opts.password }),
      ...(opts.caFile && { ca: readFileSync(opts.caFile) }),
      ...(opts.certFile && { cert: readFileSync(opts.certFile) }),
      ...(opts.keyFile && { key: readFileSync(opts.keyFile) }),
      ...(v5 && { properties: { sessionExpiryInterval: opts.sessionExpirySec } }),
      will: {
        topic: opts.statusTopic,
        payload: Buffer.from('offline'),
        qos: 1,
        retain: true,
        // A reconnect within the delay cancels the will, so a quick restart
        // never flips the status to offline at all.
        ...(v5 && { properties: { willDelayInterval: opts.willDelaySec } }),
      },
    };
    this.client = mqtt.connect(opts.url, options);
    this.client.on('connect', (connack) => this.onConnect(connack.sessionPresent));
    this.client.on('close', () => this.emit('close'));
    this.client.on('error', (err) => this.log.warn({ err: err.message }, 'mqtt error'));
    this.client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
  }

  /** True while the broker connection is up. */
  get connected(): boolean {
    return this.client.connected;
  }

  /**
   * Queues messages (QoS 1+ durably) and publishes them in order when the
   * broker is there; `pos`, the hub stream position they came from, is kept
   * in the same commit.
   */
  send(messages: OutgoingMessage[], pos?: number): void {
    const durable = messages.filter((m) => m.qos > 0);
    if (durable.length || pos !== undefined) {
      const dropped = this.outbox.push(durable, pos);
      if (dropped) this.log.warn({ dropped, max: this.outbox.length }, 'outgoing queue full, oldest messages dropped');
    }
    // QoS 0 is fire-and-forget by definition: sent only while connected.
    if (this.connected) for (const m of messages) if (m.qos === 0) this.client.publish(m.topic, m.payload, this.publishOptions(m));
    this.pump();
  }

  /** Publishes the retained `offline` status and closes the connection cleanly (no will). */
  async close(): Promise<void> {
    this.closing = true;
    // A broker that stopped answering must not hold the stop forever: past the
    // bound the connection is dropped, and the delayed will reports `offline`.
    let acknowledged = !this.connected;
    if (this.connected) {
      acknowledged = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), this.opts.closeTimeoutMs);
        this.client.publish(this.opts.statusTopic, 'offline', { qos: 1, retain: true }, () => (clearTimeout(timer), resolve(true)));
      });
      if (!acknowledged) this.log.warn({ timeoutMs: this.opts.closeTimeoutMs }, 'broker did not acknowledge offline status; dropping the connection');
    }
    await new Promise<void>((resolve) => this.client.end(!acknowledged, {}, () => resolve()));
    this.flushRemovals();
  }

  private onConnect(sessionPresent: boolean): void {
    this.log.info({ url: this.opts.url, sessionPresent }, 'mqtt connected');
    // Birth after every CONNACK: the broker sends an earlier connection's will
    // (same client id, taken over) before it accepts this one, so the birth
    // always lands after any will of ours.
    this.client.publish(this.opts.statusTopic, 'online', { qos: 1, retain: true });
    if (this.opts.commandFilter) {
      this.client.subscribe(this.opts.commandFilter, { qos: 1, ...(this.opts.protocolVersion === 5 && { nl: true }) }, (err) => {
        if (err) this.log.error({ err: err.message }, 'command subscription failed');
      });
    }
    // mqtt.js resends what was in flight; continue after it.
    this.sendRefused = false;
    this.emit('connect');
    this.pump();
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const origin = packet.properties?.userProperties?.['sitehub-origin'];
    if (origin === this.opts.origin) return; // our own message come back (No Local unavailable)
    this.emit('command', topic, payload, packet);
  }

  private publishOptions(m: { qos: 0 | 1 | 2; retain: boolean; props?: StoredProperties }): IClientPublishOptions {
    if (this.opts.protocolVersion !== 5) return { qos: m.qos, retain: m.retain };
    return {
      qos: m.qos,
      retain: m.retain,
      properties: {
        userProperties: { ...m.props?.userProperties, 'sitehub-origin': this.opts.origin },
        ...(m.props?.correlationData && { correlationData: Buffer.from(m.props.correlationData, 'base64') }),
        contentType: 'application/json',
      },
    };
  }

  /** Feeds queued messages to mqtt.js, in order, while connected and below the window. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      // mqtt.js still reports `connected` while it is ending, and then refuses a
      // publish synchronously; without these checks the loop would pick the same
      // message again forever.
      while (this.connected && !this.client.disconnecting && !this.closing && !this.sendRefused && this.inflight < this.opts.inflightWindow) {
        const batch = this.outbox.after(this.lastSentId, this.opts.inflightWindow - this.inflight);
        if (!batch.length) break;
        for (const m of batch) this.publishQueued(m);
      }
    } finally {
      this.pumping = false;
    }
  }

  private publishQueued(m: QueuedMessage): void {
    this.lastSentId = m.id;
    this.inflight++;
    this.client.publish(m.topic, m.payload, this.publishOptions(m), (err) => {
      this.inflight--;
      if (err) {
        // Not sent at all (the client is ending or the connection closed): it
        // stays queued and goes again after the next CONNACK.
        this.lastSentId = Math.min(this.lastSentId, m.id - 1);
        if (!this.sendRefused && !this.closing) this.log.warn({ err: err.message }, 'publish refused; resending after the next connect');
        this.sendRefused = true;
        return;
      }
      this.published++;
      this.pendingRemovals.push(m.id);
      if (!this.removalScheduled) {
        this.removalScheduled = true;
        setImmediate(() => {
          this.flushRemovals();
          this.pump();
        });
      }
    });
  }

  private flushRemovals(): void {
    this.removalScheduled = false;
    const ids = this.pendingRemovals;
    this.pendingRemovals = [];
    try {
      this.outbox.remove(ids);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'outbox remove failed');
    }
  }
}
