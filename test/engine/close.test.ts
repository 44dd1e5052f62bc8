// Every way a session ends, over both transports, and what the client and
// the application each see.
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import type { EngineSocket } from '@sitehub/hub';
import { WsClient, poll, pollHeld, pollingHandshake, post, requestTaken, sleep, startEngine, withTimeout, wsHandshake, type TestEngine } from '../helpers/engine.js';

let t: TestEngine | undefined;
const clients: WsClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t?.close();
  t = undefined;
});

interface Opened {
  sid: string;
  socket: EngineSocket;
  closed: Promise<[string, string | undefined]>;
}

async function openPolling(t: TestEngine): Promise<Opened> {
  const connection = new Promise<EngineSocket>((resolve) => t.engine.once('connection', resolve));
  const { sid } = await pollingHandshake(t);
  const socket = await connection;
  const closed = new Promise<[string, string | undefined]>((resolve) => socket.once('close', (r, d) => resolve([r, d])));
  return { sid, socket, closed };
}

async function openWs(t: TestEngine): Promise<Opened & { client: WsClient }> {
  const connection = new Promise<EngineSocket>((resolve) => t.engine.once('connection', resolve));
  const { client, open } = await wsHandshake(t);
  clients.push(client);
  const socket = await connection;
  const closed = new Promise<[string, string | undefined]>((resolve) => socket.once('close', (r, d) => resolve([r, d])));
  return { sid: open.sid, socket, closed, client };
}

describe('client-initiated close', () => {
  it('a POSTed 1 ends the pending GET with 6 and closes the session', async () => {
    t = await startEngine();
    const { sid, socket, closed } = await openPolling(t);
    const pending = poll(t, sid);
    await pollHeld(socket);
    expect(await post(t, sid, '1')).toEqual({ status: 200, body: 'ok' });
    expect((await pending).body).toBe('6');
    expect((await closed)[0]).toBe('transport close');
    expect((await poll(t, sid)).status).toBe(400);
  });

  it('a 1 over WebSocket closes at once', async () => {
    t = await startEngine();
    const { client, closed } = await openWs(t);
    client.send('1');
    expect((await withTimeout(closed, 500, 'close'))[0]).toBe('transport close');
    expect(await client.waitClose(500)).toBe(1000);
  });

  it('a WebSocket going away closes the session', async () => {
    t = await startEngine();
    const { client, closed } = await openWs(t);
    client.ws.close();
    expect((await closed)[0]).toBe('transport close');
    expect(t.engine.clientsCount).toBe(0);
  });

  it('aborting the pending GET closes the session', async () => {
    t = await startEngine();
    const { sid, socket, closed } = await openPolling(t);
    const controller = new AbortController();
    const pending = fetch(t.url('polling', { sid }), { signal: controller.signal }).catch(() => 'aborted');
    await pollHeld(socket);
    controller.abort();
    expect(await pending).toBe('aborted');
    expect((await closed)[0]).toBe('transport error');
    expect((await poll(t, sid)).status).toBe(400);
  });
});

describe('server-initiated close', () => {
  it('socket.close() ends a pending GET with 1, else sends what is queued and then 6, 1 on the next polls', async () => {
    t = await startEngine();
    const { sid, socket, closed } = await openPolling(t);
    const pending = poll(t, sid);
    await pollHeld(socket);
    socket.close();
    expect((await pending).body).toBe('1');
    expect((await closed)[0]).toBe('forced close');
    const second = await openPolling(t);
    second.socket.send('a');
    second.socket.send('b');
    second.socket.close();
    expect(second.socket.readyState).toBe('closing');
    expect((await poll(t, second.sid)).body).toBe('4a\x1e4b');
    expect((await poll(t, second.sid)).body).toBe('6\x1e1');
    expect((await second.closed)[0]).toBe('forced close');
    // Nothing queued and no poll pending: the next poll reads 6, 1.
    const third = await openPolling(t);
    third.socket.close();
    expect((await poll(t, third.sid)).body).toBe('6\x1e1');
    expect((await third.closed)[0]).toBe('forced close');
    expect((await poll(t, third.sid)).status).toBe(400);
  });

  it('socket.close() gives up on a client that stops polling with "ping timeout", as engine.io', async () => {
    t = await startEngine({ pingInterval: 100, pingTimeout: 100 });
    const { socket, closed } = await openPolling(t);
    socket.send('never polled');
    socket.close();
    // No ping goes out while closing, so the heartbeat ends it within pingInterval + pingTimeout.
    expect((await withTimeout(closed, 1000, 'close'))[0]).toBe('ping timeout');
  });

  it('socket.close() over WebSocket sends what was queued, then closes', async () => {
    t = await startEngine();
    const { socket, client, closed } = await openWs(t);
    socket.send('last words');
    socket.close();
    expect(await client.nextText()).toBe('4last words');
    expect(await client.waitClose()).toBe(1000);
    expect((await closed)[0]).toBe('forced close');
  });

  it('send after close sends nothing and never calls its callback, as engine.io', async () => {
    t = await startEngine();
    const { socket, client } = await openWs(t);
    socket.close();
    const calls: unknown[] = [];
    socket.send('too late', {}, (...args) => calls.push(args));
    await client.waitClose();
    await sleep(20);
    expect(calls).toEqual([]);
    expect(client.messages.map((m) => m.data)).not.toContain('4too late');
  });

  it('engine.close() closes every session with server shutting down', async () => {
    t = await startEngine();
    const polling = await openPolling(t);
    const ws = await openWs(t);
    const pending = poll(t, polling.sid);
    await pollHeld(polling.socket);
    t.engine.close();
    expect((await polling.closed)[0]).toBe('server shutting down');
    expect((await ws.closed)[0]).toBe('server shutting down');
    expect((await pending).body).toBe('1');
    expect(await ws.client.waitClose()).toBe(1001);
    expect(t.engine.clientsCount).toBe(0);
  });
});

describe('protocol violations', () => {
  it('a second concurrent GET gets 400, the first gets 1, the session closes', async () => {
    t = await startEngine();
    const { sid, socket, closed } = await openPolling(t);
    const first = poll(t, sid);
    await pollHeld(socket);
    const second = await poll(t, sid);
    expect(second.status).toBe(400);
    expect((await first).body).toBe('1');
    expect((await closed)[0]).toBe('transport error');
  });

  it('a second concurrent POST gets 400 and the session closes', async () => {
    t = await startEngine();
    const { sid, closed } = await openPolling(t);
    // A POST whose body never finishes arriving.
    const slow = connect(t.port, '127.0.0.1');
    slow.on('error', () => {});
    await new Promise<void>((resolve) => slow.once('connect', resolve));
    const taken = requestTaken(t, 'POST', sid);
    slow.write(`POST /engine.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n4part`);
    await taken;
    const second = await post(t, sid, '4x');
    expect(second.status).toBe(400);
    expect((await closed)[0]).toBe('transport error');
    slow.destroy();
  });

  it('a POST cut off mid-body closes the session without crashing anything', async () => {
    t = await startEngine();
    const { sid, closed } = await openPolling(t);
    const cut = connect(t.port, '127.0.0.1');
    cut.on('error', () => {});
    await new Promise<void>((resolve) => cut.once('connect', resolve));
    const taken = requestTaken(t, 'POST', sid);
    cut.write(`POST /engine.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n4par`);
    await taken;
    cut.resetAndDestroy();
    expect((await withTimeout(closed, 1000, 'close'))[0]).toBe('transport error');
    expect((await pollingHandshake(t)).sid).toBeTruthy();
  });

  it('an unparsable polling payload answers 400 and closes with parse error', async () => {
    t = await startEngine();
    const { sid, closed } = await openPolling(t);
    for (const body of ['abc']) expect((await post(t, sid, body)).status).toBe(400);
    expect((await closed)[0]).toBe('parse error');
  });

  it('valid packets before a bad one are still delivered', async () => {
    t = await startEngine({}, { withEcho: false });
    const received: unknown[] = [];
    t.engine.on('connection', (s: EngineSocket) => s.on('message', (d) => received.push(d)));
    const { sid } = await pollingHandshake(t);
    expect((await post(t, sid, '4good\x1e9bad\x1e4never')).status).toBe(400);
    expect(received).toEqual(['good']);
  });

  it('an unparsable WebSocket frame closes with 1002', async () => {
    t = await startEngine();
    const { client, closed } = await openWs(t);
    client.send('abc');
    expect((await closed)[0]).toBe('parse error');
    expect(await client.waitClose()).toBe(1002);
  });

  it('an open packet from the client closes the session', async () => {
    t = await startEngine();
    const { client, closed } = await openWs(t);
    client.send('0');
    expect((await closed)[0]).toBe('transport error');
  });
});
