// Hub updates -> MQTT messages: one message per reading, state update, event
// or presence change, on the templated topic, with the configured QoS/retain.
import type { Reading } from '@sitehub/protocol/iot';
import type { DeviceKind, TopicMap, TopicSubject } from './topics.js';
import type { OutgoingMessage } from './mqtt-link.js';
import type { RecentKeys } from './dedup.js';

export interface MappingOptions {
  topics: TopicMap;
  qos: Record<DeviceKind, 0 | 1 | 2>;
  /** Added to each payload as `origin` for MQTT 3.1.1 consumers (no user properties there). */
  origin: string | undefined;
  recent: RecentKeys;
}


const RETAINED: Record<DeviceKind, boolean> = { telemetry: false, state: true, event: false, status: true, twin: true, alarm: false };

/** Turns one hub stream event into the messages to publish (duplicates already seen are left out). */
export function mapHubUpdate(kind: 'telemetry' | 'state' | 'event' | 'presence' | 'twin' | 'alarm', update: any, opts: MappingOptions): OutgoingMessage[] {
  if (!update || typeof update.deviceId !== 'string') return [];
  const subject: TopicSubject = { deviceId: update.deviceId, siteId: String(update.siteId ?? '_'), classId: String(update.classId ?? '_') };
  const message = (k: DeviceKind, body: Record<string, unknown>): OutgoingMessage => ({
    topic: opts.topics.topic(subject, k),
    payload: JSON.stringify(opts.origin ? { ...body, origin: opts.origin } : body),
    qos: opts.qos[k],
    retain: RETAINED[k],
  });
  switch (kind) {
    case 'telemetry': {
      const readings: Reading[] = Array.isArray(update.readings) ? update.readings : [];
      return readings
        .filter((r) => !opts.recent.seen(`t:${subject.deviceId}:${r.seq}`))
        .map((r) => message('telemetry', { deviceId: subject.deviceId, seq: r.seq, ts: r.ts, values: r.values }));
    }
    case 'state':
      if (opts.recent.seen(`s:${subject.deviceId}:${update.updatedAt}:${JSON.stringify(update.changed)}`)) return [];
      return [message('state', { deviceId: subject.deviceId, attrs: update.attrs, changed: update.changed, ts: update.ts, updatedAt: update.updatedAt })];
    case 'event':
      if (opts.recent.seen(`e:${update.id}`)) return [];
      return [
        message('event', {
          deviceId: subject.deviceId,
          id: update.id,
          ts: update.ts,
          kind: update.kind,
          severity: update.severity,
          message: update.message,
          data: update.data,
          receivedAt: update.receivedAt,
        }),
      ];
    case 'twin':
      // Retained: a consumer that subscribes later still finds the whole twin.
      return [
        message('twin', {
          deviceId: subject.deviceId,
          desired: update.desired,
          desiredVersion: update.desiredVersion,
          reported: update.reported,
          reportedVersion: update.reportedVersion,
          appliedVersion: update.appliedVersion,
          updatedAt: update.updatedAt,
        }),
      ];
    case 'alarm': {
      // One message per step of the alarm's life (raised, acknowledged, cleared), each once.
      if (opts.recent.seen(`a:${update.id}:${update.state}`)) return [];
      const { siteId: _s, classId: _c, pos: _p, ...alarm } = update;
      return [message('alarm', { ...alarm, deviceId: subject.deviceId })];
    }
    case 'presence':
      return [message('status', { deviceId: subject.deviceId, online: update.online === true, ts: update.ts, reason: update.reason, transport: update.transport })];
  }
}
