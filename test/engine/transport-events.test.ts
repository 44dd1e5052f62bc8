// The transport objects' own events, as engine.io's transports emit them
// (issue 15): `close` when the session is done with a transport or its
// connection closed, `error` (a TransportError) when it fails, and on
// polling `headers` before each response, with an object a listener may
// change. The emitter is allocated on the first listener only.
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineSocket } from '@sitehub/hub';
import { WsClient, poll, pollHeld, pollingHandshake, post, startEngine, withTimeout, type TestEngine } from '../helpers/engine.js';

let t: TestEngine | undefined;
const clients: WsClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t?.close();
  t = undefined;
});

function nextConnection(t: TestEngine): Promise<EngineSocket> {
  return new Promise<EngineSocket>((resolve) => t.engine.once('connection', resolve));
}

function once(emitter: { once(event: string, fn: (...args: any[]) => void): unknown }, event: string): Promise<unknown[]> {
  return withTimeout(new Promise<unknown[]>((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args))), 3000, `transport ${event}`);
}

async function openPolling(t: TestEngine, extra: Record<string, string> = {}): Promise<{ sid: string; socket: EngineSocket }> {
  const connection = nextConnection(t);
  const { sid } = await pollingHandshake(t, extra);
  return { sid, socket: await connection };
}

async function openWebSocket(t: TestEngine): Promise<{ client: WsClient; socket: EngineSocket }> {
  const connection = nextConnection(t);
  const client = new WsClient(t.url('websocket'));
  clients.push(client);
  await client.nextText();
  return { client, socket: await connection };
}

const IE8 = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; SLCC2)';
const IE11 = 'Mozilla/5.0 (Windows NT 6.3; Trident/7.0; rv:11.0) like Gecko';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

describe('polling transport events', () => {
  it('emits headers (headers, req) before a poll answer; what a listener sets is sent', async () => {
    t = await startEngine({}, { withEcho: false });
    const { sid, socket } = await openPolling(t);
    const seen: Array<Record<string, unknown>> = [];
    socket.transport.on('headers', (headers: Record<string, unknown>, req: { method: string }) => {
      seen.push({ ...headers, method: req.method });
      headers['x-site'] = 'north';
    });
    const answer = poll(t, sid);
    await pollHeld(socket);
    socket.send('hi');
    const res = await answer;
    expect(res.body).toBe('4hi');
    expect(res.headers.get('x-site')).toBe('north');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ 'cache-control': 'no-store', method: 'GET' });
    expect(seen[0]).not.toHaveProperty('X-XSS-Protection');
  });

  it('emits headers before the answer to a POST', async () => {
    t = await startEngine({}, { withEcho: false });
    const { sid, socket } = await openPolling(t);
    const headers = once(socket.transport, 'headers');
    expect((await post(t, sid, '4hello')).body).toBe('ok');
    const [sent, req] = await headers;
    expect((req as { method: string }).method).toBe('POST');
    expect(sent).toMatchObject({ 'cache-control': 'no-store', 'Content-Type': 'text/html' });
  });

  it.each([
    ['IE8', IE8, '0'],
    ['IE11', IE11, '0'],
    ['Firefox', FIREFOX, null],
  ])('sends X-XSS-Protection: 0 to Internet Explorer only (%s)', async (_name, userAgent, expected) => {
    t = await startEngine({}, { withEcho: false });
    const connection = nextConnection(t);
    const handshake = await fetch(t.url('polling'), { headers: { 'user-agent': userAgent } });
    expect(handshake.headers.get('x-xss-protection')).toBe(expected);
    const { sid } = JSON.parse((await handshake.text()).slice(1)) as { sid: string };
    const socket = await connection;
    const answer = poll(t, sid, { headers: { 'user-agent': userAgent } });
    await pollHeld(socket);
    socket.send('hi');
    expect((await answer).headers.get('x-xss-protection')).toBe(expected);
  });

  it('emits close when the session closes it (a parse error)', async () => {
    t = await startEngine({}, { withEcho: false });
    const { sid, socket } = await openPolling(t);
    const closed = once(socket.transport, 'close');
    const sessionClosed = once(socket, 'close');
    expect((await post(t, sid, 'invalid')).status).toBe(400);
    await closed;
    expect((await sessionClosed)[0]).toBe('parse error');
  });

  it('emits close upon ping timeout, the pending poll answered with a close packet', async () => {
    t = await startEngine({ pingInterval: 50, pingTimeout: 30 }, { withEcho: false });
    const { sid, socket } = await openPolling(t);
    const closed = once(socket.transport, 'close');
    // Polls without ever answering the ping.
    expect((await poll(t, sid)).body).toBe('2');
    const last = poll(t, sid);
    await closed;
    expect((await last).body).toBe('1');
  });

  it('emits error (a TransportError) then close for a poll that overlaps another', async () => {
    t = await startEngine({}, { withEcho: false });
    const { sid, socket } = await openPolling(t);
    const events: string[] = [];
    socket.transport.on('error', (err: Error & { type?: string }) => events.push(`error:${err.type}:${err.message}`));
    const closed = once(socket.transport, 'close');
    socket.transport.on('close', () => events.push('close'));
    const first = poll(t, sid);
    await pollHeld(socket);
    expect((await poll(t, sid)).status).toBe(400);
    await closed;
    expect(events).toEqual(['error:TransportError:overlap from client', 'close']);
    await first;
  });

  it('emits close to the old polling transport when an upgrade completes', async () => {
    t = await startEngine({}, { withEcho: false });
    const { sid, socket } = await openPolling(t);
    const polling = socket.transport;
    const closed = once(polling, 'close');
    const ws = new WsClient(t.url('websocket', { sid }));
    clients.push(ws);
    await ws.opened;
    ws.send('2probe');
    expect(await ws.nextText()).toBe('3probe');
    ws.send('5');
    await closed;
    expect(socket.transport).not.toBe(polling);
  });
});

describe('websocket transport events', () => {
  it('emits close once the connection is closed after a parse error', async () => {
    t = await startEngine({}, { withEcho: false });
    const { client, socket } = await openWebSocket(t);
    const closed = once(socket.transport, 'close');
    client.send('invalid');
    await closed;
    expect(await client.closed).toBe(1002);
    expect(socket.readyState).toBe('closed');
  });

  it('emits close upon ping timeout', async () => {
    t = await startEngine({ pingInterval: 50, pingTimeout: 30 }, { withEcho: false });
    const { socket } = await openWebSocket(t);
    const sessionClosed = once(socket, 'close');
    await once(socket.transport, 'close');
    expect((await sessionClosed)[0]).toBe('ping timeout');
  });

  it('emits close, then the session closes, when the client goes away', async () => {
    t = await startEngine({}, { withEcho: false });
    const { client, socket } = await openWebSocket(t);
    const events: string[] = [];
    socket.transport.on('close', () => events.push(`transport close (session ${socket.readyState})`));
    const sessionClosed = once(socket, 'close');
    client.close();
    expect((await sessionClosed)[0]).toBe('transport close');
    expect(events).toEqual(['transport close (session open)']);
  });

  it('emits error (a TransportError) for a frame over maxHttpBufferSize', async () => {
    t = await startEngine({ maxHttpBufferSize: 100 }, { withEcho: false });
    const { client, socket } = await openWebSocket(t);
    const error = once(socket.transport, 'error');
    const closed = once(socket.transport, 'close');
    client.send('4' + 'x'.repeat(200));
    const [err] = (await error) as [Error & { type: string; description: unknown }];
    expect(err.type).toBe('TransportError');
    expect(err.description).toBeInstanceOf(Error);
    await closed;
  });

  it('emits close to an upgrading WebSocket upon upgrade timeout and upon session close', async () => {
    t = await startEngine({ upgradeTimeout: 100 }, { withEcho: false });
    for (const end of ['timeout', 'session close'] as const) {
      const { sid, socket } = await openPolling(t);
      const upgrading = once(socket, 'upgrading');
      const ws = new WsClient(t.url('websocket', { sid }));
      clients.push(ws);
      await ws.opened;
      ws.send('2probe');
      const [transport] = (await upgrading) as [EngineSocket['transport']];
      const closed = once(transport, 'close');
      if (end === 'session close') socket.close();
      await closed;
      expect(socket.transport.name).toBe('polling');
    }
  });
});

describe('transport emitter', () => {
  it('allocates no listener table until someone listens, and works as an EventEmitter after', async () => {
    t = await startEngine({}, { withEcho: false });
    const { socket } = await openPolling(t);
    const transport = socket.transport;
    // The per-connection cost: no own property for events before a listener.
    expect(Object.keys(transport).filter((k) => k.startsWith('_events'))).toEqual([]);
    expect(transport.listenerCount('close')).toBe(0);
    const calls: string[] = [];
    const fn = () => calls.push('on');
    transport.once('x', () => calls.push('once'));
    transport.on('x', fn);
    transport.prependListener('x', () => calls.push('first'));
    expect(transport.emit('x')).toBe(true);
    transport.off('x', fn);
    transport.emit('x');
    expect(calls).toEqual(['first', 'once', 'on', 'first']);
    expect(Object.keys(transport)).toContain('_events');
  });
});
