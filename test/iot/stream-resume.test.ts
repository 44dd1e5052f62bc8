// The hub's side of resumable streams, seen by a plain socket.io-client on
// /bridge: positions on every streamed record, a replay filtered like the
// subscription and paged with acks, the live stream after it, the token's
// confirmed position kept in the database, and bad positions refused.
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket as ClientSocket } from 'socket.io-client';
import { ADMIN_TOKEN, closeAll, connected, readings, registerDevice, startHub, type TestHub } from './helpers.js';

afterEach(() => closeAll());

async function bridgeSocket(hub: TestHub): Promise<{ socket: ClientSocket; tokenId: string }> {
  const created = await hub.api('POST', '/api/bridge-tokens', { name: 'resume-unit' });
  expect(created.status).toBe(201);
  const socket = hub.connect('/bridge', { token: created.body.token });
  await connected(socket);
  return { socket, tokenId: created.body.bridgeToken.id };
}

/** Collects replay pages (acking each) and live events in arrival order. */
function record(socket: ClientSocket): Array<{ kind: string; payload: any }> {
  const seen: Array<{ kind: string; payload: any }> = [];
  socket.on('replay', (page: any, ack: (a: unknown) => void) => {
    seen.push({ kind: 'replay', payload: page });
    ack({ ok: true });
  });
  for (const kind of ['telemetry', 'state', 'event', 'presence', 'command', 'gap', 'resumed']) socket.on(kind, (payload: unknown) => seen.push({ kind, payload }));
  return seen;
}

const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 250 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
};

describe('resumable streams on /bridge', () => {
  it('replays what matches the filter after a position, then goes live; every record carries its position', async () => {
    const hub = await startHub();
    const a = await registerDevice(hub.api, { deviceId: 'ra-1', siteId: 'site-a', classId: 'thermo' });
    const b = await registerDevice(hub.api, { deviceId: 'rb-1', siteId: 'site-b', classId: 'thermo' });
    const devA = hub.connect('/devices/thermo', { deviceId: a.deviceId, token: a.token });
    const devB = hub.connect('/devices/thermo', { deviceId: b.deviceId, token: b.token });
    await Promise.all([connected(devA), connected(devB)]);
    for (let i = 0; i < 3; i++) {
      await devA.emitWithAck('telemetry', readings(1 + i * 2, 2));
      await devB.emitWithAck('telemetry', readings(1 + i * 2, 2));
    }
    expect(await devA.emitWithAck('state', { mode: 'eco' })).toEqual({ ok: true });
    expect(await devA.emitWithAck('event', { kind: 'alarm', message: 'hot' })).toMatchObject({ ok: true });
    // The device's alarm event also raises an alarm (issue 20), stored just after the event: wait for it.
    for (let i = 0; i < 250 && (await hub.api('GET', '/api/alarms')).body.items.length === 0; i++) await new Promise((r) => setTimeout(r, 20));

    const { socket } = await bridgeSocket(hub);
    const seen = record(socket);
    const answer = await socket.emitWithAck('subscribe', { siteId: 'site-a', after: 0 });
    expect(answer).toMatchObject({ ok: true, rooms: ['site:site-a'], from: 0 });
    await until(() => seen.some((s) => s.kind === 'resumed'), 'the end of the replay');
    const replayed = seen.filter((s) => s.kind === 'replay').flatMap((s) => s.payload.records as Array<[string, any]>);
    expect(replayed.every(([, p]) => p.siteId === 'site-a' && p.deviceId === 'ra-1')).toBe(true);
    expect(replayed.map(([e]) => e)).toEqual(['presence', 'telemetry', 'telemetry', 'telemetry', 'state', 'event', 'alarm']);
    expect(replayed.filter(([e]) => e === 'telemetry').flatMap(([, p]) => p.readings.map((r: any) => r.seq))).toEqual([1, 2, 3, 4, 5, 6]);
    const positions = replayed.map(([, p]) => p.pos as number);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    const resumed = seen.find((s) => s.kind === 'resumed')!.payload;
    expect(resumed).toMatchObject({ from: 0, records: 7 });
    expect(resumed.through).toBe(await hub.hub.store.stream.head());

    // Live now, with positions after the replay's, for site-a only.
    await devB.emitWithAck('telemetry', readings(100, 1));
    await devA.emitWithAck('telemetry', readings(100, 1));
    await until(() => seen.some((s) => s.kind === 'telemetry'), 'a live reading');
    const live = seen.filter((s) => s.kind === 'telemetry');
    expect(live).toHaveLength(1);
    expect(live[0]!.payload).toMatchObject({ deviceId: 'ra-1', readings: [{ seq: 100 }] });
    expect(live[0]!.payload.pos).toBeGreaterThan(resumed.through);
  });

  it('keeps the confirmed position per token and resumes a fresh session from it', async () => {
    const hub = await startHub();
    const d = await registerDevice(hub.api, { deviceId: 'rc-1', siteId: 'site-c', classId: 'thermo' });
    const dev = hub.connect('/devices/thermo', { deviceId: d.deviceId, token: d.token });
    await connected(dev);
    await dev.emitWithAck('telemetry', readings(1, 5));
    const created = await hub.api('POST', '/api/bridge-tokens', { name: 'confirming' });
    const first = hub.connect('/bridge', { token: created.body.token });
    await connected(first);
    const head = await hub.hub.store.stream.head();
    expect(await first.emitWithAck('subscribe', { after: 'confirmed' })).toMatchObject({ ok: true, head });
    expect(await first.emitWithAck('confirm', { pos: head + 1000 })).toMatchObject({ ok: false, code: 'invalid_position' });
    expect(await first.emitWithAck('confirm', { pos: 'x' })).toMatchObject({ ok: false, code: 'invalid_position' });
    expect(await first.emitWithAck('confirm', { pos: head, final: true })).toEqual({ ok: true, pos: head });
    expect(await hub.hub.store.stream.bridgePosition(created.body.bridgeToken.id)).toBe(head);
    // A lower position never moves the kept one back.
    expect(await first.emitWithAck('confirm', { pos: 1, final: true })).toEqual({ ok: true, pos: 1 });
    expect(await hub.hub.store.stream.bridgePosition(created.body.bridgeToken.id)).toBe(head);
    first.close();

    await dev.emitWithAck('telemetry', readings(6, 3));
    const second = hub.connect('/bridge', { token: created.body.token });
    const seen = record(second);
    await connected(second);
    expect(await second.emitWithAck('subscribe', { after: 'confirmed' })).toMatchObject({ ok: true, from: head });
    await until(() => seen.some((s) => s.kind === 'resumed'), 'the end of the replay');
    const replayed = seen.filter((s) => s.kind === 'replay').flatMap((s) => s.payload.records as Array<[string, any]>);
    expect(replayed.map(([e, p]) => [e, p.readings?.map((r: any) => r.seq)])).toEqual([['telemetry', [6, 7, 8]]]);
  });

  it('splits a large replay into messages the bridge acks one by one, in order', async () => {
    const hub = await startHub();
    const d = await registerDevice(hub.api, { deviceId: 'rl-1', siteId: 'site-l', classId: 'thermo' });
    const dev = hub.connect('/devices/thermo', { deviceId: d.deviceId, token: d.token });
    await connected(dev);
    const note = 'x'.repeat(300);
    for (let first = 1; first <= 3000; first += 100) {
      const batch = readings(first, 100).map((r) => ({ ...r, values: { ...r.values, note } }));
      expect(await dev.emitWithAck('telemetry', batch)).toMatchObject({ ok: true, stored: 100 });
    }
    const { socket } = await bridgeSocket(hub);
    const seen = record(socket);
    await socket.emitWithAck('subscribe', { after: 0 });
    await until(() => seen.some((s) => s.kind === 'resumed'), 'the end of the replay');
    const pages = seen.filter((s) => s.kind === 'replay').map((s) => s.payload);
    expect(pages.length).toBeGreaterThan(3); // about 1 MB of readings, at most about 256 KiB a message
    const seqs = pages.flatMap((p) => p.records.filter(([e]: [string]) => e === 'telemetry').flatMap(([, p]: [string, any]) => p.readings.map((r: any) => r.seq)));
    expect(seqs).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    const throughs = pages.map((p) => p.through);
    expect([...throughs].sort((a, b) => a - b)).toEqual(throughs);
  });

  it('refuses bad positions, and a resume on /console', async () => {
    const hub = await startHub();
    const { socket } = await bridgeSocket(hub);
    for (const after of [-1, 1.5, 'latest', {}]) {
      expect(await socket.emitWithAck('subscribe', { after })).toMatchObject({ ok: false, code: 'invalid_position' });
    }
    const operator = hub.connect('/console', { token: ADMIN_TOKEN });
    await connected(operator);
    expect(await operator.emitWithAck('subscribe', { after: 0 })).toMatchObject({ ok: false, code: 'invalid_filter' });
    const metrics = await (await fetch(`${hub.base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    expect(metrics).toMatch(/bridge_subscribe"?\}? 4/);
  });
});

describe('acks after the commit', () => {
  it('a stream publish that fails after the commit never turns a stored state, event or reading into a failure', async () => {
    const hub = await startHub();
    const d = await registerDevice(hub.api, { deviceId: 'ak-1', siteId: 'site-k', classId: 'thermo' });
    const operator = hub.connect('/console', { token: ADMIN_TOKEN });
    await connected(operator);
    // Someone watches, and sending to them breaks.
    hub.hub.services.ctx.streams.console.to = () => {
      throw new Error('broken stream');
    };
    const dev = hub.connect('/devices/thermo', { deviceId: d.deviceId, token: d.token });
    await connected(dev);
    expect(await dev.emitWithAck('state', { mode: 'eco' })).toEqual({ ok: true });
    expect(await dev.emitWithAck('event', { kind: 'alarm' })).toMatchObject({ ok: true });
    expect(await dev.emitWithAck('telemetry', readings(1, 2))).toMatchObject({ ok: true, stored: 2 });
    expect((await hub.api('GET', `/api/devices/${d.deviceId}/state`)).body.attrs).toMatchObject({ mode: 'eco' });
    const metrics = await (await fetch(`${hub.base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    expect(metrics).not.toMatch(/acks_sent_total\{event="(state|event|telemetry)",outcome="error"\}/);
    expect(metrics).toMatch(/events_out_total\{namespace="stream",event="state_failed"\} 1/);
  });
});
