// MQTT -> hub: a publish on `.../cmd/{name}` becomes a hub command; its
// outcome goes to `.../cmd/{name}/result` and, with MQTT 5, to the request's
// response topic with its correlation data.
import type { IPublishPacket } from 'mqtt';
import type { Logger } from 'pino';
import type { TopicMap } from './topics.js';
import type { HubLink } from './hub-link.js';
import type { MqttLink, OutgoingMessage } from './mqtt-link.js';
import type { RecentKeys } from './dedup.js';

export interface CommandRouterOptions {
  topics: TopicMap;
  qos: 0 | 1 | 2;
  timeoutMs: number;
  origin: string | undefined;
  recent: RecentKeys;
}

/** The result payload published for a command request. */
export interface CommandResult {
  ok: boolean;
  deviceId: string;
  name: string;
  commandId?: number | string;
  status?: string;
  result?: unknown;
  error?: unknown;
  code?: string;
}

/** Handles command requests from the broker. */
export class CommandRouter {
  /** Requests handled, by outcome. */
  readonly counts = { ok: 0, failed: 0, rejected: 0, duplicate: 0 };

  constructor(
    private readonly opts: CommandRouterOptions,
    private readonly hub: HubLink,
    private readonly mqtt: MqttLink,
    private readonly log: Logger,
  ) {}

  /** Handles one incoming publish; topics that are not command requests are ignored. */
  async handle(topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const request = this.opts.topics.parseCommand(topic);
    if (!request) return;
    const correlation = packet.properties?.correlationData;
    let params: unknown;
    let parsed: any;
    const text = payload.toString('utf8');
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        return this.reply(topic, packet, { ok: false, deviceId: request.deviceId, name: request.name, error: 'params must be JSON', code: 'bad_request' });
      }
      // Our own marker on a 3.1.1 broker without No Local: never act on our own publish.
      if (this.opts.origin && parsed && parsed.origin === this.opts.origin) return;
      params = parsed;
    }
    // A QoS 1 redelivery (or a client retrying) must not run the command twice.
    const key = correlation ? `c:${topic}:${Buffer.from(correlation).toString('base64')}` : packet.dup ? `d:${topic}:${text}` : undefined;
    if (key && this.opts.recent.seen(key)) {
      this.counts.duplicate++;
      this.log.debug({ topic }, 'duplicate command request dropped');
      return;
    }
    if (!correlation && !packet.dup) this.opts.recent.seen(`d:${topic}:${text}`);
    if (!this.hub.connected) {
      this.counts.rejected++;
      return this.reply(topic, packet, { ok: false, deviceId: request.deviceId, name: request.name, error: 'hub unavailable', code: 'hub_unavailable' });
    }
    try {
      const answer = await this.hub.command({ deviceId: request.deviceId, name: request.name, ...(params !== undefined && { params }) }, this.opts.timeoutMs);
      const command = answer.command;
      const ok = answer.ok && command?.status === 'acked';
      ok ? this.counts.ok++ : this.counts.failed++;
      this.reply(topic, packet, {
        ok,
        deviceId: request.deviceId,
        name: request.name,
        ...(command && { commandId: command.id, status: command.status, result: command.result ?? null, error: command.error ?? null }),
        ...(!answer.ok && { error: answer.error, code: answer.code }),
      });
    } catch (err) {
      this.counts.failed++;
      this.reply(topic, packet, { ok: false, deviceId: request.deviceId, name: request.name, error: (err as Error).message, code: this.hub.connected ? 'timeout' : 'hub_unavailable' });
    }
  }

  private reply(requestTopic: string, packet: IPublishPacket, result: CommandResult): void {
    const body = JSON.stringify(this.opts.origin ? { ...result, origin: this.opts.origin } : result);
    const messages: OutgoingMessage[] = [{ topic: this.opts.topics.resultTopic(requestTopic), payload: body, qos: this.opts.qos, retain: false }];
    const responseTopic = packet.properties?.responseTopic;
    if (responseTopic) {
      const correlation = packet.properties?.correlationData;
      messages.push({
        topic: responseTopic,
        payload: body,
        qos: this.opts.qos,
        retain: false,
        ...(correlation && { props: { correlationData: Buffer.from(correlation).toString('base64') } }),
      });
    }
    this.log.info({ topic: requestTopic, ok: result.ok, code: result.code }, 'command result');
    this.mqtt.send(messages);
  }
}
