// The server-driven heartbeat: ping every pingInterval from the handshake,
// close on a missing pong after pingTimeout, next ping pingInterval after
// the pong; a ping from the client is a protocol error.
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineSocket } from '@sitehub/hub';
import { WsClient, busyWait, poll, pollingHandshake, post, sleep, startEngine, withTimeout, wsHandshake, type TestEngine } from '../helpers/engine.js';

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
// Timers are not exact on a loaded machine; allow this much early/late.
const SLACK = 60;

let t: TestEngine | undefined;
const clients: WsClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t?.close();
  t = undefined;
});

function closeReason(t: TestEngine): Promise<string> {
  return new Promise((resolve) => t.engine.once('connection', (s: EngineSocket) => s.once('close', resolve)));
}

describe('heartbeat over polling', () => {
  it('pings pingInterval after the handshake and after each pong', async () => {
    t = await startEngine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
    let heartbeats = 0;
    t.engine.on('connection', (s: EngineSocket) => s.on('heartbeat', () => heartbeats++));
    const start = Date.now();
    const { sid } = await pollingHandshake(t);
    let last = start;
    for (let i = 0; i < 3; i++) {
      const got = await poll(t, sid);
      expect(got.body).toBe('2');
      expect(Date.now() - last).toBeGreaterThanOrEqual(PING_INTERVAL - SLACK);
      expect((await post(t, sid, '3')).status).toBe(200);
      last = Date.now();
    }
    expect(heartbeats).toBe(3);
  });

  it('closes with ping timeout when no pong comes', async () => {
    t = await startEngine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
    const reason = closeReason(t);
    const start = Date.now();
    const { sid } = await pollingHandshake(t);
    expect(await withTimeout(reason, 2000, 'close')).toBe('ping timeout');
    expect(Date.now() - start).toBeGreaterThanOrEqual(PING_INTERVAL + PING_TIMEOUT - SLACK);
    expect((await poll(t, sid)).status).toBe(400);
    expect(t.engine.clientsCount).toBe(0);
  });

  it('ends a pending GET with a close packet on ping timeout', async () => {
    t = await startEngine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
    const { sid } = await pollingHandshake(t);
    expect((await poll(t, sid)).body).toBe('2');
    // Do not answer; the next poll is pending when the timeout strikes.
    expect((await poll(t, sid)).body).toBe('1');
  });

  it('an unsolicited pong does not postpone the next ping', async () => {
    t = await startEngine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
    const start = Date.now();
    const { sid } = await pollingHandshake(t);
    await sleep(250);
    await post(t, sid, '3');
    expect((await poll(t, sid)).body).toBe('2');
    // On time: ~300 ms after the handshake; postponed it would be ~550 ms.
    expect(Date.now() - start).toBeLessThan(PING_INTERVAL + 150);
  });
});

describe('heartbeat over WebSocket', () => {
  it('pings, and schedules the next ping pingInterval after the pong', async () => {
    t = await startEngine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
    const { client } = await wsHandshake(t);
    clients.push(client);
    for (let i = 0; i < 3; i++) {
      expect(await client.nextText(1000)).toBe('2');
      // Answer late: the next ping must still be a full interval after the pong.
      await sleep(100);
      client.send('3');
      const ponged = Date.now();
      if (i < 2) {
        expect(await client.nextText(1000)).toBe('2');
        expect(Date.now() - ponged).toBeGreaterThanOrEqual(PING_INTERVAL - SLACK);
        client.send('3');
      }
    }
  });

  it('closes the WebSocket with ping timeout when no pong comes', async () => {
    t = await startEngine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
    const reason = closeReason(t);
    const { client } = await wsHandshake(t);
    clients.push(client);
    expect(await client.nextText(1000)).toBe('2');
    expect(await withTimeout(reason, 1000, 'close')).toBe('ping timeout');
    await client.waitClose(1000);
  });
});

describe('heartbeat after a long event-loop lap', () => {
  // Timers run before the poll phase: a pong timer that fires after a stall
  // must not give up a session whose pong already waits, unread, in the
  // kernel's buffer.
  it('keeps a session whose pong arrived before a late pong timer ran', async () => {
    t = await startEngine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
    let reason: string | undefined;
    t.engine.once('connection', (s: EngineSocket) => s.once('close', (r: string) => (reason = r)));
    const { client } = await wsHandshake(t);
    clients.push(client);
    expect(await client.nextText(1000)).toBe('2');
    client.send('3');
    busyWait(PING_TIMEOUT + 150);
    // The pong counted: the next ping comes, a full interval after it.
    expect(await client.nextText(PING_INTERVAL + 1000)).toBe('2');
    expect(reason).toBeUndefined();
    expect(t.engine.clientsCount).toBe(1);
  });

  it('still closes a session with no pong after the lap', async () => {
    t = await startEngine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
    const reason = closeReason(t);
    const { client } = await wsHandshake(t);
    clients.push(client);
    expect(await client.nextText(1000)).toBe('2');
    busyWait(PING_TIMEOUT + 150);
    expect(await withTimeout(reason, 1000, 'close')).toBe('ping timeout');
  });
});

describe('ping from the client', () => {
  it('closes a polling session', async () => {
    t = await startEngine();
    const reason = closeReason(t);
    const { sid } = await pollingHandshake(t);
    expect((await post(t, sid, '2')).status).toBe(400);
    expect(await reason).toBe('transport error');
    expect((await poll(t, sid)).status).toBe(400);
  });

  it('closes a WebSocket session', async () => {
    t = await startEngine();
    const reason = closeReason(t);
    const { client } = await wsHandshake(t);
    clients.push(client);
    client.send('2');
    expect(await reason).toBe('transport error');
    expect(await client.waitClose()).toBe(1002);
  });
});
