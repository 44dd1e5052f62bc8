// Engine.IO v3 (allowEIO3) at the wire: our v3 codec against engine.io's own
// v3 parser (shipped inside the engine.io devDependency), and raw v3
// sessions over polling (text, binary and JSONP bodies) and WebSocket.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineSocket } from '@sitehub/hub';
import { decodePayloadV3, encodePayloadV3, type EnginePacket } from '@sitehub/protocol';
import { WsClient, busyWait, startEngine, withTimeout, type TestEngine } from '../helpers/engine.js';

interface ReferenceV3 {
  encodePayload(packets: unknown[], supportsBinary: boolean, cb: (out: string | Buffer) => void): void;
  decodePayload(data: string | Buffer, cb: (packet: { type: string; data?: unknown }, index: number, total: number) => unknown): void;
}
// Not an exported subpath of engine.io: loaded by file, next to its main module.
const require = createRequire(import.meta.url);
const reference = require(join(dirname(require.resolve('engine.io')), 'parser-v3', 'index.js')) as ReferenceV3;

function referenceEncode(packets: EnginePacket[], supportsBinary: boolean): string | Buffer {
  let out: string | Buffer = '';
  reference.encodePayload(packets.map((p) => ({ ...p, data: p.data instanceof Uint8Array ? Buffer.from(p.data) : p.data })), supportsBinary, (o) => (out = o));
  return out;
}

function referenceDecode(data: string | Uint8Array): Array<{ type: string; data?: unknown }> {
  const out: Array<{ type: string; data?: unknown }> = [];
  reference.decodePayload(typeof data === 'string' ? data : Buffer.from(data), (packet) => void out.push(packet));
  return out;
}

// Bytes as arrays; an empty message decodes without data in both parsers.
const plain = (packets: Array<{ type: string; data?: unknown }>) =>
  packets.map((p) => (p.data instanceof Uint8Array ? { type: p.type, data: [...p.data] } : p.data === '' ? { type: p.type } : p));

const PACKETS: EnginePacket[] = [
  { type: 'message', data: 'héllo ✓ 😀' },
  { type: 'message', data: new Uint8Array([0, 1, 254, 255]) },
  { type: 'ping', data: 'probe' },
  { type: 'noop' },
  { type: 'message', data: '' },
];

describe('the v3 codec against engine.io’s v3 parser', () => {
  for (const supportsBinary of [true, false]) {
    it(`encodes payloads the reference decodes (supportsBinary ${supportsBinary})`, () => {
      const ours = encodePayloadV3(PACKETS, supportsBinary);
      expect(typeof ours === 'string').toBe(!supportsBinary);
      expect(plain(referenceDecode(ours))).toEqual(plain(PACKETS.map((p) => ({ ...p }))));
    });

    it(`decodes the payloads the reference encodes (supportsBinary ${supportsBinary})`, () => {
      const theirs = referenceEncode(PACKETS, supportsBinary);
      expect(plain(decodePayloadV3(typeof theirs === 'string' ? theirs : new Uint8Array(theirs)))).toEqual(plain(PACKETS));
    });
  }

  it('ends a malformed payload with a parser error, never a throw', () => {
    const bad: Array<string | Uint8Array> = [
      '',
      '5:4ab',
      'x:4a',
      '3:4ab2',
      '99999999999999999999:4',
      '2:b9AAAA',
      new Uint8Array([0, 1, 255]),
      new Uint8Array([2, 1, 255, 52]),
      new Uint8Array([0, 12, 255, 52]),
      new Uint8Array([1, 1]),
      new Uint8Array([0, 2, 255, 0xc3, 0x28]),
    ];
    for (const payload of bad) expect(decodePayloadV3(payload).at(-1)).toEqual({ type: 'error', data: 'parser error' });
  });
});

let t: TestEngine | undefined;
const wsClients: WsClient[] = [];

afterEach(async () => {
  for (const c of wsClients.splice(0)) c.close();
  await t?.close();
  t = undefined;
});

async function v3Handshake(t: TestEngine, extra: Record<string, string> = {}): Promise<{ sid: string; url: string; socket: EngineSocket }> {
  const connected = new Promise<EngineSocket>((resolve) => t.engine.once('connection', resolve));
  const res = await fetch(t.url('polling', { EIO: '3', ...extra }));
  const text = await res.text();
  // A JSONP answer is `___eio[j]("<payload as a JS string>");`.
  const body = extra.j === undefined ? text : JSON.parse(text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')));
  const packets = decodePayloadV3(body);
  expect(packets[0]!.type).toBe('open');
  const { sid } = JSON.parse(packets[0]!.data as string);
  return { sid, url: t.url('polling', { EIO: '3', sid, ...extra }), socket: await connected };
}

describe('v3 sessions over polling', () => {
  it('opens with a length-prefixed open packet, and answers client pings with pongs', async () => {
    t = await startEngine({ allowEIO3: true });
    const { url, socket } = await v3Handshake(t);
    expect(socket.protocol).toBe(3);
    const post = await fetch(url, { method: 'POST', body: '6:2probe1:2', headers: { 'content-type': 'text/plain;charset=UTF-8' } });
    expect(await post.text()).toBe('ok');
    expect(await (await fetch(url)).text()).toBe('6:3probe1:3');
  });

  it('takes binary POST bodies and answers binary when the client takes binary', async () => {
    t = await startEngine({ allowEIO3: true }, { withEcho: false });
    const { url, socket } = await v3Handshake(t);
    const received: unknown[] = [];
    socket.on('message', (data: unknown) => received.push(data instanceof Uint8Array ? [...data] : data));
    const body = referenceEncode([{ type: 'message', data: new Uint8Array([1, 2, 3]) }, { type: 'message', data: 'ü' }], true) as Buffer;
    const post = await fetch(url, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/octet-stream' } });
    expect(post.status).toBe(200);
    expect(received).toEqual([[1, 2, 3], 'ü']);

    socket.send(new Uint8Array([9, 9]));
    socket.send('text');
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const decoded = referenceDecode(Buffer.from(await res.arrayBuffer()));
    expect(plain(decoded)).toEqual([
      { type: 'message', data: [9, 9] },
      { type: 'message', data: 'text' },
    ]);
  });

  it('sends binary as base64 text to a b64 client, and wraps JSONP sessions', async () => {
    t = await startEngine({ allowEIO3: true }, { withEcho: false });
    const b64 = await v3Handshake(t, { b64: '1' });
    b64.socket.send(new Uint8Array([255]));
    expect(await (await fetch(b64.url)).text()).toBe('6:b4/w==');

    const jsonp = await v3Handshake(t, { j: '0' });
    jsonp.socket.send(new Uint8Array([255]));
    const res = await fetch(jsonp.url);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=UTF-8');
    expect(await res.text()).toBe('___eio[0]("6:b4/w==");');
  });

  it('closes a session whose client stops pinging with "ping timeout"', async () => {
    t = await startEngine({ allowEIO3: true, pingInterval: 100, pingTimeout: 100 });
    const { socket } = await v3Handshake(t);
    const reason = await withTimeout(new Promise((resolve) => socket.once('close', resolve)), 2000, 'close');
    expect(reason).toBe('ping timeout');
  });

  it('closes a session whose client sends a pong (wrong heartbeat direction), counted', async () => {
    t = await startEngine({ allowEIO3: true });
    const { url, socket } = await v3Handshake(t);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await fetch(url, { method: 'POST', body: '1:3' });
    expect(await closed).toBe('transport error');
    expect(t.engine.metrics.badInputs.get('client_pong')).toBe(1);
  });

  it('refuses a malformed v3 body with 400 and a counted parse error', async () => {
    t = await startEngine({ allowEIO3: true });
    const { url, socket } = await v3Handshake(t);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const res = await fetch(url, { method: 'POST', body: '9:4short' });
    expect(res.status).toBe(400);
    expect(await closed).toBe('parse error');
    expect(t.engine.metrics.badInputs.get('parse_error')).toBe(1);
  });

  it('still refuses binary POST bodies on v4 sessions', async () => {
    t = await startEngine({ allowEIO3: true });
    const open = await (await fetch(t.url('polling'))).text();
    const { sid } = JSON.parse(open.slice(1));
    const res = await fetch(t.url('polling', { sid }), { method: 'POST', body: new Uint8Array([0, 1, 255, 52]), headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(400);
    expect(t.engine.metrics.badInputs.get('binary_post')).toBe(1);
  });
});

describe('v3 sessions over WebSocket', () => {
  it('keeps a session whose ping arrived before a late watchdog timer ran (a long event-loop lap)', async () => {
    t = await startEngine({ allowEIO3: true, pingInterval: 100, pingTimeout: 100 });
    let reason: string | undefined;
    t.engine.once('connection', (s: EngineSocket) => s.once('close', (r: string) => (reason = r)));
    const client = new WsClient(t.url('websocket', { EIO: '3' }));
    wsClients.push(client);
    expect((await client.nextText())[0]).toBe('0');
    client.send('2');
    // The ping waits, unread, while the watchdog's 200 ms pass.
    busyWait(300);
    expect(await client.nextText(1000)).toBe('3');
    expect(reason).toBeUndefined();
  });

  it('frames binary with a leading type byte, both ways', async () => {
    t = await startEngine({ allowEIO3: true }, { withEcho: false });
    const connected = new Promise<EngineSocket>((resolve) => t!.engine.once('connection', resolve));
    const client = new WsClient(t.url('websocket', { EIO: '3' }));
    wsClients.push(client);
    const socket = await connected;
    expect((await client.nextText())[0]).toBe('0');
    expect(socket.protocol).toBe(3);
    const got = new Promise<unknown>((resolve) => socket.once('message', resolve));
    client.send(Buffer.from([4, 7, 8]));
    expect([...((await got) as Uint8Array)]).toEqual([7, 8]);
    socket.send(new Uint8Array([5, 6]));
    const frame = await client.next();
    expect(frame.binary).toBe(true);
    expect([...(frame.data as Buffer)]).toEqual([4, 5, 6]);
  });
});

describe('without allowEIO3', () => {
  it('refuses a v3 WebSocket with 400 and code 5', async () => {
    t = await startEngine();
    const res = await fetch(t.url('polling', { EIO: '3' }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: 5, message: 'Unsupported protocol version' });
    const client = new WsClient(t.url('websocket', { EIO: '3' }));
    wsClients.push(client);
    await expect(client.opened).rejects.toThrow(/400/);
    expect(t.engine.metrics.badInputs.get('unsupported_protocol_version')).toBe(2);
  });
});
