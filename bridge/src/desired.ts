// MQTT -> hub desired state: a publish on `.../twin/desired/set` with
// `{ "desired": {...}, "version"?: n }` merges desired properties into the
// device's twin (`twin:set` on /bridge); the outcome goes to the request
// topic + `/result`, and with MQTT 5 to the response topic with its
// correlation data, like command results.
import type { IPublishPacket } from 'mqtt';
import type { Logger } from 'pino';
import type { RecentKeys } from './dedup.js';
import type { HubLink } from './hub-link.js';
import type { MqttLink, OutgoingMessage } from './mqtt-link.js';
import type { TopicMap } from './topics.js';

export interface DesiredRouterOptions {
  topics: TopicMap;
  qos: 0 | 1 | 2;
  timeoutMs: number;
  origin: string | undefined;
  recent: RecentKeys;
}

/** Handles desired-state requests from the broker. */
export class DesiredRouter {
  constructor(
    private readonly opts: DesiredRouterOptions,
    private readonly hub: HubLink,
    private readonly mqtt: MqttLink,
    private readonly log: Logger,
  ) {}

  /** Handles one publish on a desired-state topic. */
  async handle(topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const subject = this.opts.topics.parseTwinSet(topic);
    if (!subject) return;
    const text = payload.toString('utf8');
    let parsed: any;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.reply(topic, packet, { ok: false, deviceId: subject.deviceId, error: 'payload must be JSON { desired, version? }', code: 'bad_request' });
    }
    if (this.opts.origin && parsed && parsed.origin === this.opts.origin) return;
    if (parsed === null || typeof parsed !== 'object' || parsed.desired === undefined) {
      return this.reply(topic, packet, { ok: false, deviceId: subject.deviceId, error: 'payload must be JSON { desired, version? }', code: 'bad_request' });
    }
    // A QoS 1 redelivery must not apply the change twice (it would raise the version twice).
    const correlation = packet.properties?.correlationData;
    const key = correlation ? `t:${topic}:${Buffer.from(correlation).toString('base64')}` : packet.dup ? `td:${topic}:${text}` : undefined;
    if (key && this.opts.recent.seen(key)) return;
    if (!correlation && !packet.dup) this.opts.recent.seen(`td:${topic}:${text}`);
    if (!this.hub.connected) return this.reply(topic, packet, { ok: false, deviceId: subject.deviceId, error: 'hub unavailable', code: 'hub_unavailable' });
    try {
      const answer = await this.hub.setDesired({ deviceId: subject.deviceId, desired: parsed.desired, ...(parsed.version !== undefined && { version: parsed.version }) }, this.opts.timeoutMs);
      this.reply(topic, packet, { deviceId: subject.deviceId, ...answer });
    } catch (err) {
      this.reply(topic, packet, { ok: false, deviceId: subject.deviceId, error: (err as Error).message, code: this.hub.connected ? 'timeout' : 'hub_unavailable' });
    }
  }

  private reply(requestTopic: string, packet: IPublishPacket, result: Record<string, unknown>): void {
    const body = JSON.stringify(this.opts.origin ? { ...result, origin: this.opts.origin } : result);
    const messages: OutgoingMessage[] = [{ topic: this.opts.topics.resultTopic(requestTopic), payload: body, qos: this.opts.qos, retain: false }];
    const responseTopic = packet.properties?.responseTopic;
    if (responseTopic) {
      const correlation = packet.properties?.correlationData;
      messages.push({ topic: responseTopic, payload: body, qos: this.opts.qos, retain: false, ...(correlation && { props: { correlationData: Buffer.from(correlation).toString('base64') } }) });
    }
    this.log.info({ topic: requestTopic, ok: result.ok, code: result.code }, 'desired-state result');
    this.mqtt.send(messages);
  }
}
