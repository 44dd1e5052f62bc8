// Topic templates, configuration precedence and the outbox bound.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, Outbox, TopicMap, loadConfig } from '@sitehub/bridge';

describe('TopicMap', () => {
  it('fills the template, makes ids safe, and reads command topics back', () => {
    const map = new TopicMap('factory/{site}/x/{class}/{device}/{kind}');
    expect(map.topic({ siteId: 'p1', classId: 'thermo', deviceId: 'a/b+#' }, 'telemetry')).toBe('factory/p1/x/thermo/a_b__/telemetry');
    expect(map.commandFilter).toBe('factory/+/x/+/+/cmd/+');
    expect(map.parseCommand('factory/p1/x/thermo/th-1/cmd/reboot')).toEqual({ siteId: 'p1', classId: 'thermo', deviceId: 'th-1', name: 'reboot' });
    expect(map.parseCommand('factory/p1/x/thermo/th-1/cmd/reboot/result')).toBeUndefined();
    expect(new TopicMap('{kind}/{device}').parseCommand('cmd/ping/d1')).toMatchObject({ deviceId: 'd1', name: 'ping' });
    expect(() => new TopicMap('sitehub/{site}/{kind}')).toThrow(/\{device\}/);
    expect(() => new TopicMap('sitehub/#/{device}/{kind}')).toThrow(/wildcards/);
  });
});

describe('config', () => {
  it('file < env < flags, with named errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-config-'));
    try {
      const file = join(dir, 'c.json');
      writeFileSync(file, JSON.stringify({ hubToken: 'from-file', mqttUrl: 'mqtt://file:1883', qosTelemetry: 0 }));
      const c = loadConfig(['--config', file, '--mqtt-url', 'mqtt://flag:1883'], { SITEHUB_BRIDGE_MQTT_URL: 'mqtt://env:1883', SITEHUB_BRIDGE_QOS_STATE: '2' });
      expect(c).toMatchObject({ hubToken: 'from-file', mqttUrl: 'mqtt://flag:1883', qosTelemetry: 0, qosState: 2, healthPort: undefined });
      expect(() => loadConfig(['--hub-token', 'x', '--qos-event', '3'], {})).toThrow(/qosEvent \(flag --qos-event\)/);
      expect(() => loadConfig([], {})).toThrow(ConfigError);
      expect(() => loadConfig(['--hub-token', 'x', '--nope', '1'], {})).toThrow(/unknown flag --nope/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Outbox', () => {
  it('keeps order, survives reopening, and drops the oldest past its bound', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-outbox-'));
    try {
      const file = join(dir, 'q.db');
      const q = new Outbox({ file, maxMessages: 3 });
      const msg = (n: number) => ({ topic: 't', payload: String(n), qos: 1 as const, retain: false });
      expect(q.push([msg(1), msg(2)])).toBe(0);
      expect(q.push([msg(3), msg(4)])).toBe(1);
      q.close();
      const again = new Outbox({ file, maxMessages: 3 });
      const rows = again.after(0, 10);
      expect(rows.map((r) => r.payload)).toEqual(['2', '3', '4']);
      again.remove([rows[0]!.id]);
      expect(again.length).toBe(2);
      expect(again.after(rows[0]!.id, 10).map((r) => r.payload)).toEqual(['3', '4']);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
