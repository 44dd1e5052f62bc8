// The outbox on its own (seq across reopen, acks, size and age limits with
// drop counts) and the agent's commands, state and drop reports through a hub.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
// The agent is not part of the package's main entry (that one is also the browser bundle).
import { Agent } from '../../device-client/src/agent.js';
import { ConfigError, validateConfig } from '../../device-client/src/config.js';
import { Outbox } from '../../device-client/src/outbox.js';
import { closeAll, registerDevice, startHub } from '../iot/helpers.js';
import { agentConfig, killPtys, startPty, storedReadings, waitFor } from './helpers.js';

const dirs: string[] = [];
const agents: Agent[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'sitehub-agent-'));
  dirs.push(d);
  return d;
};

afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await killPtys();
  await closeAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('outbox', () => {
  it('keeps seq and unacked readings across a reopen; acked ones are gone', () => {
    const file = join(tempDir(), 'o.db');
    const a = new Outbox(file);
    const first = a.append([{ ts: 1, values: { x: 1 } }, { ts: 2, values: { x: 2 } }, { ts: 3, values: { x: 3 } }]);
    expect(first.map((r) => r.seq)).toEqual([1, 2, 3]);
    a.ack([1, 2]);
    a.close();
    const b = new Outbox(file);
    expect(b.depth).toBe(1);
    expect(b.peek(0, 10)).toEqual([{ seq: 3, ts: 3, values: { x: 3 } }]);
    b.ack([3]);
    b.close();
    // Even with every row acked, the next seq does not go back.
    const c = new Outbox(file);
    expect(c.append([{ ts: 4, values: { x: 4 } }])[0].seq).toBe(4);
    c.close();
  });

  it('drops the oldest readings over the size and age limits and counts them', () => {
    const o = new Outbox(join(tempDir(), 'o.db'), { maxReadings: 5, maxAgeMs: 1000 });
    const now = Date.now();
    o.append(Array.from({ length: 8 }, (_, i) => ({ ts: now - 5000 + i, values: { i } })));
    expect(o.depth).toBe(5);
    expect(o.peek(0, 10).map((r) => r.seq)).toEqual([4, 5, 6, 7, 8]);
    expect(o.dropped).toEqual({ size: 3, age: 0 });
    o.append([{ ts: now, values: { i: 99 } }]);
    expect(o.pruneByAge(now)).toBe(4);
    expect(o.peek(0, 10).map((r) => r.seq)).toEqual([9]);
    expect(o.dropped).toEqual({ size: 4, age: 4 });
    expect(o.unreportedDrops).toEqual({ size: 4, age: 4 });
    o.markReported({ size: 4, age: 1 });
    expect(o.unreportedDrops).toEqual({ size: 0, age: 3 });
    o.close();
  });
});

describe('configuration', () => {
  it('reports every mistake with its path', () => {
    let error: ConfigError | undefined;
    try {
      validateConfig({ hub: { url: 'ftp://x', deviceId: 'd' }, sources: [{ parser: { type: 'xml' }, baudRate: -1 }], batch: { size: 0 }, bogus: 1 });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = error!.problems.join('\n');
    for (const expected of ['bogus: unknown setting', 'hub.url', 'hub.token: required', 'hub.class: required', 'sources[0].: give exactly one of path or match', 'sources[0].parser.type', 'sources[0].baudRate', 'batch.size']) {
      expect(text).toContain(expected);
    }
  });
});

describe('agent with a hub', () => {
  it('answers commands, reports state on connect, reports outbox drops as an event', async () => {
    const hub = await startHub();
    const dir = tempDir();
    const pty = await startPty(dir, 'cmd');
    const { deviceId, token } = await registerDevice(hub.api);
    // A tiny outbox filled before the first connect: drops must be reported once connected.
    const outboxPath = join(dir, 'outbox.db');
    const pre = new Outbox(outboxPath, { maxReadings: 3 });
    pre.append(Array.from({ length: 5 }, (_, i) => ({ ts: Date.now(), values: { i } })));
    pre.close();
    const agent = new Agent(
      agentConfig({
        hub: { url: hub.base, deviceId, token, class: 'thermo' },
        outbox: { path: outboxPath, maxReadings: 3 },
        sources: [{ name: 'arduino', path: pty.device, parser: { type: 'json-lines' } }],
      }),
    );
    agents.push(agent);
    agent.start();
    await waitFor(() => agent.sourceInfos()[0].status === 'open', 5000, 'port open');
    const stored = await waitFor(async () => {
      const r = await storedReadings(hub.api, deviceId);
      return r.length === 3 ? r : null;
    }, 5000, 'backlog sent');
    expect(stored.map((r) => r.seq)).toEqual([3, 4, 5]);

    const state = await waitFor(async () => {
      const res = await hub.api('GET', `/api/devices/${deviceId}/state`);
      return res.status === 200 && res.body.attrs?.['agent.version'] ? res.body.attrs : null;
    }, 5000, 'state');
    expect(state).toMatchObject({ 'agent.version': '0.1.0', 'port.arduino.path': pty.device, 'dropped.size': 2 });
    expect(typeof state['agent.uptimeS']).toBe('number');

    const events = await waitFor(async () => {
      const res = await hub.api('GET', `/api/devices/${deviceId}/events?kind=outbox-drop`);
      return res.body.items?.length ? res.body.items : null;
    }, 5000, 'drop event');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ severity: 'warning', data: { size: 2, age: 0 } });

    const run = async (name: string, params?: unknown) => {
      const created = await hub.api('POST', '/api/commands', { deviceId, name, params });
      expect(created.status).toBe(201);
      const done = await hub.api('GET', `/api/commands/${created.body.id ?? created.body.command?.id}?waitMs=5000`);
      return done.body.command ?? done.body;
    };
    expect(await run('ping')).toMatchObject({ status: 'acked', result: { pong: true } });
    const unknown = await run('reboot-everything');
    expect(unknown.status).toBe('failed');
    expect(unknown.error).toMatch(/unknown command/);
    expect(await run('set-interval', { target: 'batch', ms: 200 })).toMatchObject({ status: 'acked', result: { target: 'batch', ms: 200 } });
    expect((await run('set-interval', { target: 'batch', ms: -1 })).status).toBe('failed');
    expect(await run('get-state')).toMatchObject({ status: 'acked', result: { 'batch.intervalMs': 200, 'port.arduino.status': 'open' } });

    // serial-write: the line comes out at the sensor end of the pty.
    const { open } = await import('node:fs/promises');
    const sensor = await open(pty.sensor, 'r');
    const received = (async () => {
      const buf = Buffer.alloc(64);
      const { bytesRead } = await sensor.read(buf, 0, 64, null);
      return buf.subarray(0, bytesRead).toString();
    })();
    expect(await run('serial-write', { source: 'arduino', line: 'LED ON' })).toMatchObject({ status: 'acked', result: { written: 7 } });
    expect(await received).toBe('LED ON\n');
    await sensor.close();
    expect((await run('serial-write', { source: 'nope', line: 'x' })).error).toMatch(/no source/);
  });
});

describe('backlog replay', () => {
  it('replays oldest first at the bounded rate, with progress in the log', async () => {
    const hub = await startHub();
    const { deviceId, token } = await registerDevice(hub.api);
    const outboxPath = join(tempDir(), 'outbox.db');
    const pre = new Outbox(outboxPath);
    pre.append(Array.from({ length: 3000 }, (_, i) => ({ ts: Date.now(), values: { i } })));
    pre.close();
    const lines: Array<{ msg: string; backlog?: number; acked?: number }> = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
    const agent = new Agent(
      agentConfig({
        hub: { url: hub.base, deviceId, token, class: 'thermo' },
        outbox: { path: outboxPath, replayRatePerSec: 2000 },
        batch: { size: 100, intervalMs: 50, ackTimeoutMs: 3000 },
      }, true),
      { logger },
    );
    // Only the backlog: no synthetic readings.
    agent.simulator!.start = () => undefined;
    agents.push(agent);
    const started = Date.now();
    agent.start();
    const stored = await waitFor(async () => {
      const r = await storedReadings(hub.api, deviceId);
      return r.length === 3000 ? r : null;
    }, 10_000, 'backlog replayed');
    const elapsed = Date.now() - started;
    // 3000 readings at 2000/s: the first 2000 may go at once (the bucket), the rest take >= 0.5 s.
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(stored.map((r) => r.values.i)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    await waitFor(() => lines.some((l) => l.msg === 'outbox backlog replayed'), 3000, 'replayed log line');
    expect(lines.find((l) => l.msg === 'replaying outbox backlog')?.backlog).toBe(3000);
    expect(lines.find((l) => l.msg === 'outbox backlog replayed')?.acked).toBeGreaterThanOrEqual(2900);
  });
});
