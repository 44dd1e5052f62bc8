// Messages both ways over polling (XHR and JSONP) and WebSocket: text,
// binary, batching, compression, send callbacks, prepared broadcasts and the
// bounded write buffer.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { gunzipSync, inflateSync } from 'node:zlib';
import { request as httpRequest } from 'node:http';
import type { EngineSocket } from '@sitehub/hub';
import {
  WsClient,
  poll,
  pollHeld,
  pollingHandshake,
  post,
  sleep,
  startEngine,
  until,
  withTimeout,
  wsHandshake,
  type TestEngine,
} from '../helpers/engine.js';

let t: TestEngine | undefined;
const clients: WsClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t?.close();
  t = undefined;
});

/** Resolves with the next session the server opens. */
function nextConnection(t: TestEngine): Promise<EngineSocket> {
  return new Promise((resolve) => t.engine.once('connection', resolve));
}

/** A GET with a raw body (fetch would decompress it for us). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('polling', () => {
  it('echoes a text message', async () => {
    t = await startEngine();
    const { sid } = await pollingHandshake(t);
    expect(await post(t, sid, '4hello')).toEqual({ status: 200, body: 'ok' });
    const got = await poll(t, sid);
    expect(got).toMatchObject({ status: 200, body: '4hello' });
    expect(got.headers.get('content-type')).toBe('text/plain; charset=UTF-8');
  });

  it('answers POST with ok as text/html', async () => {
    t = await startEngine();
    const { sid } = await pollingHandshake(t);
    const res = await fetch(t.url('polling', { sid }), { method: 'POST', body: '4x' });
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(await res.text()).toBe('ok');
  });

  it('delivers every packet of a batch in order and batches replies', async () => {
    t = await startEngine();
    const { sid } = await pollingHandshake(t);
    await post(t, sid, '4one\x1e4two\x1ebAQIDBA==\x1e4');
    expect((await poll(t, sid)).body).toBe('4one\x1e4two\x1ebAQIDBA==\x1e4');
  });

  it('hands binary messages to the application as Buffers, and base64-encodes binary replies', async () => {
    t = await startEngine({}, { withEcho: false });
    const received: unknown[] = [];
    t.engine.on('connection', (s: EngineSocket) => {
      s.on('message', (d) => received.push(d));
      s.send(Uint8Array.from([0xff, 0, 1]));
      s.send('text reply');
    });
    const { sid } = await pollingHandshake(t);
    await post(t, sid, 'b3q2+7w==\x1e4é☃');
    expect(received).toHaveLength(2);
    expect(Buffer.isBuffer(received[0])).toBe(true);
    expect([...(received[0] as Buffer)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(received[1]).toBe('é☃');
    expect((await poll(t, sid)).body).toBe('b/wAB\x1e4text reply');
  });

  it('holds a GET until there is something to send', async () => {
    t = await startEngine();
    const connection = nextConnection(t);
    const { sid } = await pollingHandshake(t);
    const socket = await connection;
    const pending = poll(t, sid);
    await pollHeld(socket);
    socket.send('late');
    expect((await pending).body).toBe('4late');
  });

  it('gzips or deflates large responses for clients that accept it, and only those', async () => {
    t = await startEngine({ httpCompression: { threshold: 100 } });
    const connection = nextConnection(t);
    const { sid } = await pollingHandshake(t);
    const socket = await connection;
    const big = 'x'.repeat(500);
    socket.send(big);
    const gz = await rawGet(t.url('polling', { sid }), { 'Accept-Encoding': 'gzip, deflate' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe('4' + big);
    socket.send(big);
    const df = await rawGet(t.url('polling', { sid }), { 'Accept-Encoding': 'deflate' });
    expect(df.headers['content-encoding']).toBe('deflate');
    expect(inflateSync(df.body).toString()).toBe('4' + big);
    socket.send(big);
    const plain = await rawGet(t.url('polling', { sid }), {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe('4' + big);
    socket.send('small');
    const small = await rawGet(t.url('polling', { sid }), { 'Accept-Encoding': 'gzip' });
    expect(small.headers['content-encoding']).toBeUndefined();
    socket.send(big, { compress: false });
    const opted = await rawGet(t.url('polling', { sid }), { 'Accept-Encoding': 'gzip' });
    expect(opted.headers['content-encoding']).toBeUndefined();
  });

  it('never compresses when httpCompression is false', async () => {
    t = await startEngine({ httpCompression: false });
    const connection = nextConnection(t);
    const { sid } = await pollingHandshake(t);
    (await connection).send('y'.repeat(5000));
    const res = await rawGet(t.url('polling', { sid }), { 'Accept-Encoding': 'gzip' });
    expect(res.headers['content-encoding']).toBeUndefined();
  });

  it('calls the send callback once the poll carrying the message is written', async () => {
    t = await startEngine();
    const connection = nextConnection(t);
    const { sid } = await pollingHandshake(t);
    const socket = await connection;
    const done: Array<Error | undefined> = [];
    socket.send('a', {}, (err) => done.push(err));
    expect(done).toEqual([]);
    await poll(t, sid);
    await until(() => done.length > 0, 'the send callback');
    expect(done).toEqual([undefined]);
  });
});

describe('JSONP polling', () => {
  it('answers GET with a script calling ___eio[j], escaped for JavaScript', async () => {
    t = await startEngine({}, { withEcho: false });
    const connection = nextConnection(t);
    const res = await fetch(t.url('polling', { j: '3' }));
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=UTF-8');
    const script = await res.text();
    const match = /^___eio\[3\]\((.*)\);$/s.exec(script);
    expect(match).not.toBeNull();
    const sid = JSON.parse(JSON.parse(match![1]!).slice(1)).sid;
    const socket = await connection;
    socket.send('quote " backslash \\ line\nsep\u2028para\u2029</script>');
    const next = await fetch(t.url('polling', { sid, j: '3' }));
    const body = await next.text();
    expect(body).toContain('\\u2028');
    expect(body).toContain('\\u2029');
    expect(body).not.toMatch(/[\u2028\u2029]/);
    // Run it the way a browser would.
    const calls: string[] = [];
    new Function('___eio', body)([, , , (payload: string) => calls.push(payload)]);
    expect(calls).toEqual(['4quote " backslash \\ line\nsep\u2028para\u2029</script>']);
  });

  it('keeps only digits of j in the script', async () => {
    t = await startEngine();
    const res = await fetch(t.url('polling', { j: '1);alert(1)//' }));
    expect(await res.text()).toMatch(/^___eio\[11\]\(/);
  });

  it('accepts POSTed forms with d=<payload>, unescaping newlines', async () => {
    t = await startEngine({}, { withEcho: false });
    const received: unknown[] = [];
    t.engine.on('connection', (s: EngineSocket) => s.on('message', (d) => received.push(d)));
    const first = await (await fetch(t.url('polling', { j: '0' }))).text();
    const sid = JSON.parse(JSON.parse(/^___eio\[0\]\((.*)\);$/s.exec(first)![1]!).slice(1)).sid;
    const form = new URLSearchParams({ d: '4line1\\nline2 \\\\n literal\x1e4second' }).toString();
    const res = await fetch(t.url('polling', { sid, j: '0' }), {
      method: 'POST',
      body: form,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(received).toEqual(['line1\nline2 \\n literal', 'second']);
  });

  it('refuses a form without d, closing the session', async () => {
    t = await startEngine();
    const first = await (await fetch(t.url('polling', { j: '0' }))).text();
    const sid = JSON.parse(JSON.parse(/^___eio\[0\]\((.*)\);$/s.exec(first)![1]!).slice(1)).sid;
    const res = await fetch(t.url('polling', { sid, j: '0' }), { method: 'POST', body: 'x=4hi' });
    expect(res.status).toBe(400);
    expect((await poll(t, sid)).status).toBe(400);
  });
});

describe('WebSocket', () => {
  it('echoes text as text and binary as binary, one packet per frame', async () => {
    t = await startEngine();
    const { client } = await wsHandshake(t);
    clients.push(client);
    client.send('4hello');
    expect(await client.next()).toEqual({ data: '4hello', binary: false });
    client.send(Uint8Array.from([1, 2, 3, 4]));
    expect(await client.next()).toEqual({ data: Buffer.from([1, 2, 3, 4]), binary: true });
    client.send('4');
    expect(await client.next()).toEqual({ data: '4', binary: false });
  });

  it('hands the application strings and Buffers', async () => {
    t = await startEngine({}, { withEcho: false });
    const received: unknown[] = [];
    t.engine.on('connection', (s: EngineSocket) => s.on('message', (d) => received.push(d)));
    const { client } = await wsHandshake(t);
    clients.push(client);
    client.send('4ünïcödé');
    client.send(Buffer.from([9, 8]));
    await withTimeout(
      (async () => {
        while (received.length < 2) await sleep(5);
      })(),
      1000,
      'messages',
    );
    expect(received[0]).toBe('ünïcödé');
    expect(Buffer.isBuffer(received[1])).toBe(true);
    expect([...(received[1] as Buffer)]).toEqual([9, 8]);
  });

  it('calls the send callback once written', async () => {
    t = await startEngine({}, { withEcho: false });
    const connection = nextConnection(t);
    const { client } = await wsHandshake(t);
    clients.push(client);
    const socket = await connection;
    const err = await new Promise<Error | undefined>((resolve) => socket.send('x', {}, resolve));
    expect(err).toBeUndefined();
    expect(await client.nextText()).toBe('4x');
  });

  it('answers WebSocket-level pings with pongs', async () => {
    t = await startEngine();
    const { client } = await wsHandshake(t);
    clients.push(client);
    const pong = new Promise<string>((resolve) => client.ws.once('pong', (data: Buffer) => resolve(data.toString())));
    client.ws.ping('are you there');
    expect(await withTimeout(pong, 1000, 'pong')).toBe('are you there');
  });

  it('stops answering pings from a client that never reads the pongs', async () => {
    t = await startEngine({ maxBufferedBytes: 64 * 1024 }, { withEcho: false });
    const connection = nextConnection(t);
    const { client } = await wsHandshake(t);
    clients.push(client);
    const socket = await connection;
    const reasons: string[] = [];
    socket.on('close', (reason: string) => reasons.push(reason));
    (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const payload = Buffer.alloc(125, 1);
    const deadline = Date.now() + 10_000;
    while (socket.readyState === 'open' && Date.now() < deadline) {
      for (let i = 0; i < 2000; i++) client.ws.ping(payload);
      await sleep(5);
    }
    expect(reasons).toEqual(['transport buffer full']);
  });

  it('supports permessage-deflate when enabled', async () => {
    t = await startEngine({ perMessageDeflate: { threshold: 0 } }, { withEcho: false });
    const connection = nextConnection(t);
    const client = new WsClient(t.url('websocket'), { perMessageDeflate: true });
    clients.push(client);
    await client.nextText();
    expect(client.ws.extensions).toContain('permessage-deflate');
    const socket = await connection;
    socket.send('z'.repeat(2000));
    const prepared = t.engine.prepare('prepared over deflate');
    socket.sendPrepared(prepared);
    expect(await client.nextText()).toBe('4' + 'z'.repeat(2000));
    expect(await client.nextText()).toBe('4prepared over deflate');
  });
});

describe('prepared messages (broadcast fast path)', () => {
  it('reach WebSocket and polling sessions alike, text and binary', async () => {
    t = await startEngine({}, { withEcho: false });
    const sockets: EngineSocket[] = [];
    t.engine.on('connection', (s: EngineSocket) => sockets.push(s));
    const ws1 = await wsHandshake(t);
    const ws2 = await wsHandshake(t);
    clients.push(ws1.client, ws2.client);
    const { sid } = await pollingHandshake(t);
    const text = t.engine.prepare('broadcast');
    const binary = t.engine.prepare(Uint8Array.from([7, 7, 7]));
    for (const s of sockets) s.sendPrepared(text).sendPrepared(binary);
    for (const { client } of [ws1, ws2]) {
      expect(await client.next()).toEqual({ data: '4broadcast', binary: false });
      expect(await client.next()).toEqual({ data: Buffer.from([7, 7, 7]), binary: true });
    }
    expect((await poll(t, sid)).body).toBe('4broadcast\x1ebBwcH');
  });

  it('keeps order with ordinary sends and builds the frame once', async () => {
    t = await startEngine({}, { withEcho: false });
    const sockets: EngineSocket[] = [];
    t.engine.on('connection', (s: EngineSocket) => sockets.push(s));
    const a = await wsHandshake(t);
    const b = await wsHandshake(t);
    clients.push(a.client, b.client);
    const prepared = t.engine.prepare('shared');
    for (const s of sockets) {
      s.send('before');
      s.sendPrepared(prepared);
      s.send('after');
    }
    const frame = prepared.webSocketFrame;
    expect(frame).toBeDefined();
    expect(prepared.webSocketFrame).toBe(frame);
    for (const { client } of [a, b]) {
      expect([await client.nextText(), await client.nextText(), await client.nextText()]).toEqual(['4before', '4shared', '4after']);
    }
  });

  it('writes the ready-made frame without going through ws.send, unless deflate is negotiated', async () => {
    t = await startEngine({ perMessageDeflate: true }, { withEcho: false });
    const sockets: EngineSocket[] = [];
    t.engine.on('connection', (s: EngineSocket) => sockets.push(s));
    const plain = new WsClient(t.url('websocket'), { perMessageDeflate: false });
    const deflate = new WsClient(t.url('websocket'), { perMessageDeflate: true });
    clients.push(plain, deflate);
    await plain.nextText();
    await deflate.nextText();
    const send = vi.spyOn(WebSocket.prototype, 'send');
    try {
      const prepared = t.engine.prepare('fast');
      for (const s of sockets) s.sendPrepared(prepared);
      // Only the deflate session needed ws.send.
      expect(send).toHaveBeenCalledTimes(1);
    } finally {
      send.mockRestore();
    }
    expect(await plain.nextText()).toBe('4fast');
    expect(await deflate.nextText()).toBe('4fast');
  });
});

describe('write buffer bound (slow consumers)', () => {
  it('closes a polling session whose client stops polling once too much is queued', async () => {
    t = await startEngine({ maxBufferedBytes: 10_000 }, { withEcho: false });
    const connection = nextConnection(t);
    const { sid } = await pollingHandshake(t);
    const socket = await connection;
    const reasons: string[] = [];
    socket.on('close', (reason: string) => reasons.push(reason));
    for (let i = 0; i < 20 && socket.readyState === 'open'; i++) socket.send('m'.repeat(1000));
    expect(reasons).toEqual(['transport buffer full']);
    expect(t.engine.metrics.slowConsumersClosed).toBe(1);
    expect((await poll(t, sid)).status).toBe(400);
  });

  it('always lets a single large message through', async () => {
    t = await startEngine({ maxBufferedBytes: 100 }, { withEcho: false });
    const connection = nextConnection(t);
    const { sid } = await pollingHandshake(t);
    (await connection).send('L'.repeat(5000));
    expect((await poll(t, sid)).body).toBe('4' + 'L'.repeat(5000));
  });

  it('drops a WebSocket client that does not read', async () => {
    t = await startEngine({ maxBufferedBytes: 256 * 1024 }, { withEcho: false });
    const connection = nextConnection(t);
    const { client } = await wsHandshake(t);
    clients.push(client);
    const socket = await connection;
    const reasons: string[] = [];
    socket.on('close', (reason: string) => reasons.push(reason));
    // Stop reading: the kernel buffers fill, then ws's, then ours is exceeded.
    (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const chunk = 'w'.repeat(64 * 1024);
    const deadline = Date.now() + 10_000;
    while (socket.readyState === 'open' && Date.now() < deadline) {
      for (let i = 0; i < 16 && socket.readyState === 'open'; i++) socket.send(chunk);
      await sleep(5);
    }
    expect(reasons).toEqual(['transport buffer full']);
    expect(t.engine.clientsCount).toBe(0);
  });
});
