// The polling -> WebSocket upgrade: probe, noop to the poll, switch, flush;
// what happens to polling requests and other WebSockets afterwards; and how
// an upgrade is abandoned.
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineSocket } from '@sitehub/hub';
import { WsClient, poll, pollHeld, pollingHandshake, post, sleep, startEngine, until, withTimeout, type TestEngine } from '../helpers/engine.js';

let t: TestEngine | undefined;
const clients: WsClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t?.close();
  t = undefined;
});

async function openPollingSession(t: TestEngine): Promise<{ sid: string; socket: EngineSocket }> {
  const connection = new Promise<EngineSocket>((resolve) => t.engine.once('connection', resolve));
  const { sid } = await pollingHandshake(t);
  return { sid, socket: await connection };
}

function upgradeSocket(t: TestEngine, sid: string): WsClient {
  const client = new WsClient(t.url('websocket', { sid }));
  clients.push(client);
  return client;
}

describe('upgrade', () => {
  it('probes, ends the pending poll with a noop, switches on 5 and then carries messages', async () => {
    t = await startEngine();
    const { sid, socket } = await openPollingSession(t);
    const events: string[] = [];
    socket.on('upgrading', (tr: { name: string }) => events.push(`upgrading:${tr.name}`));
    socket.on('upgrade', (tr: { name: string }) => events.push(`upgrade:${tr.name}`));
    const pending = poll(t, sid);
    await pollHeld(socket);
    const ws = upgradeSocket(t, sid);
    await ws.opened;
    ws.send('2probe');
    expect(await ws.nextText()).toBe('3probe');
    expect((await pending).body).toBe('6');
    expect(socket.upgrading).toBe(true);
    ws.send('5');
    ws.send('4hello');
    expect(await ws.nextText()).toBe('4hello');
    expect(events).toEqual(['upgrading:websocket', 'upgrade:websocket']);
    expect(socket.transport.name).toBe('websocket');
    expect(socket.upgraded).toBe(true);
    expect(socket.upgrading).toBe(false);
  });

  it('answers the next poll with a noop when the probe came first', async () => {
    t = await startEngine();
    const { sid } = await openPollingSession(t);
    const ws = upgradeSocket(t, sid);
    await ws.opened;
    ws.send('2probe');
    expect(await ws.nextText()).toBe('3probe');
    expect((await poll(t, sid)).body).toBe('6');
    ws.send('5');
    ws.send(Buffer.from([1, 2]));
    expect(await ws.next()).toEqual({ data: Buffer.from([1, 2]), binary: true });
  });

  it('flushes what was queued during the upgrade over the WebSocket', async () => {
    t = await startEngine({}, { withEcho: false });
    const { sid, socket } = await openPollingSession(t);
    const ws = upgradeSocket(t, sid);
    await ws.opened;
    ws.send('2probe');
    expect(await ws.nextText()).toBe('3probe');
    expect((await poll(t, sid)).body).toBe('6');
    socket.send('queued 1');
    socket.send('queued 2');
    ws.send('5');
    expect(await ws.nextText()).toBe('4queued 1');
    expect(await ws.nextText()).toBe('4queued 2');
  });

  it('refuses polling requests for the sid afterwards with 400 code 3', async () => {
    t = await startEngine();
    const { sid, socket } = await openPollingSession(t);
    const ws = upgradeSocket(t, sid);
    await ws.opened;
    ws.send('2probe');
    await ws.nextText();
    ws.send('5');
    await until(() => socket.upgraded, 'the upgrade');
    const get = await fetch(t.url('polling', { sid }));
    expect(get.status).toBe(400);
    expect(await get.json()).toEqual({ code: 3, message: 'Bad request' });
    const posted = await fetch(t.url('polling', { sid }), { method: 'POST', body: '4x' });
    expect(posted.status).toBe(400);
    ws.send('4still');
    expect(await ws.nextText()).toBe('4still');
  });

  it('closes a second WebSocket for an upgraded sid, and one for a sid already upgrading', async () => {
    t = await startEngine();
    const { sid, socket } = await openPollingSession(t);
    const first = upgradeSocket(t, sid);
    await first.opened;
    first.send('2probe');
    await first.nextText();
    const duringUpgrade = upgradeSocket(t, sid);
    await duringUpgrade.waitClose();
    first.send('5');
    await until(() => socket.upgraded, 'the upgrade');
    const afterUpgrade = upgradeSocket(t, sid);
    await afterUpgrade.waitClose();
    first.send('4ok');
    expect(await first.nextText()).toBe('4ok');
    expect(t.engine.metrics.badInputs.get('duplicate_websocket')).toBe(2);
  });

  it('is abandoned after upgradeTimeout; the session stays on polling', async () => {
    t = await startEngine({ upgradeTimeout: 200 });
    const { sid, socket } = await openPollingSession(t);
    const ws = upgradeSocket(t, sid);
    await ws.opened;
    ws.send('2probe');
    await ws.nextText();
    expect((await poll(t, sid)).body).toBe('6');
    await ws.waitClose(1000);
    expect(socket.upgrading).toBe(false);
    expect(socket.transport.name).toBe('polling');
    await post(t, sid, '4back to polling');
    expect((await poll(t, sid)).body).toBe('4back to polling');
    // And a new attempt may follow.
    const retry = upgradeSocket(t, sid);
    await retry.opened;
    retry.send('2probe');
    expect(await retry.nextText()).toBe('3probe');
    expect((await poll(t, sid)).body).toBe('6');
    retry.send('5');
    retry.send('4upgraded');
    expect(await retry.nextText()).toBe('4upgraded');
  });

  it('is abandoned when anything but the probe or 5 arrives first', async () => {
    t = await startEngine();
    const { sid, socket } = await openPollingSession(t);
    const ws = upgradeSocket(t, sid);
    await ws.opened;
    ws.send('4too early');
    await ws.waitClose();
    expect(socket.transport.name).toBe('polling');
    expect(socket.readyState).toBe('open');
  });

  it('is abandoned when the WebSocket goes away; the session stays', async () => {
    t = await startEngine();
    const { sid, socket } = await openPollingSession(t);
    const ws = upgradeSocket(t, sid);
    await ws.opened;
    ws.send('2probe');
    await ws.nextText();
    ws.close();
    await withTimeout(
      (async () => {
        while (socket.upgrading) await sleep(5);
      })(),
      1000,
      'upgrade abandoned',
    );
    await post(t, sid, '4polling again');
    expect((await poll(t, sid)).body).toBe('4polling again');
  });

  it('closing the session during an upgrade closes the WebSocket too', async () => {
    t = await startEngine();
    const { sid, socket } = await openPollingSession(t);
    const ws = upgradeSocket(t, sid);
    await ws.opened;
    ws.send('2probe');
    await ws.nextText();
    socket.close(true);
    await ws.waitClose();
    expect(t.engine.clientsCount).toBe(0);
  });
});
