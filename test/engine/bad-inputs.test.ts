// Every Engine.IO row of /work/shared/BAD-INPUTS.md: the answer the row asks
// for, the bad input counted in server.metrics.badInputs (and the
// 'bad_input' event), and afterwards a fresh client still served.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import type { EngineSocket } from '@sitehub/hub';
import {
  WsClient,
  expectStillServing,
  poll,
  pollingHandshake,
  post,
  rawExchange,
  sleep,
  startEngine,
  until,
  upgradeRequest,
  wsHandshake,
  type TestEngine,
} from '../helpers/engine.js';

let t: TestEngine;
const clients: WsClient[] = [];
let events: string[];

beforeEach(() => {
  events = [];
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t?.close();
});

async function start(opts: Parameters<typeof startEngine>[0] = {}) {
  t = await startEngine(opts);
  t.engine.on('bad_input', (kind: string) => events.push(kind));
  return t;
}

const count = (kind: string) => t.engine.metrics.badInputs.get(kind) ?? 0;

function closeReason(): Promise<string> {
  return new Promise((resolve) => t.engine.once('connection', (s: EngineSocket) => s.once('close', resolve)));
}

async function ws(): Promise<WsClient> {
  const { client } = await wsHandshake(t);
  clients.push(client);
  return client;
}

describe('CVE-2020-36048: oversized messages', () => {
  it('a polling POST over maxHttpBufferSize gets 413 and closes the session', async () => {
    await start({ maxHttpBufferSize: 1000 });
    const reason = closeReason();
    const { sid } = await pollingHandshake(t);
    expect((await post(t, sid, '4' + 'x'.repeat(1000))).status).toBe(413);
    expect(await reason).toBe('transport error');
    expect(count('payload_too_large')).toBe(1);
    expect(events).toContain('payload_too_large');
    await expectStillServing(t);
  });

  it('also when the body is streamed without a Content-Length', async () => {
    await start({ maxHttpBufferSize: 1000 });
    const { sid } = await pollingHandshake(t);
    const chunk = '4' + 'y'.repeat(400);
    const { status } = await rawExchange(t.port, [
      `POST /engine.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`,
      ...Array.from({ length: 4 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`),
      '0\r\n\r\n',
    ]);
    expect(status).toBe(413);
    expect(count('payload_too_large')).toBe(1);
    await expectStillServing(t);
  });

  it('a WebSocket message over maxPayload closes with 1009', async () => {
    await start({ maxHttpBufferSize: 1000 });
    const reason = closeReason();
    const client = await ws();
    client.send('4' + 'z'.repeat(1000));
    expect(await client.waitClose()).toBe(1009);
    expect(await reason).toBe('transport error');
    expect(count('payload_too_large')).toBe(1);
    await expectStillServing(t);
  });
});

describe('CVE-2022-21676 / CVE-2022-41940 / CVE-2023-31125: crafted HTTP', () => {
  it('a connection reset during the upgrade never becomes an uncaught exception', async () => {
    // allowRequest answers late, after the reset; every answer must land harmlessly.
    let asked = 0;
    let answered = 0;
    await start({
      allowRequest: (_req, cb) => {
        asked++;
        setTimeout(() => {
          cb(null, true);
          answered++;
        }, 30);
      },
    });
    const { sid } = await pollingHandshake(t);
    for (const path of ['/engine.io/?EIO=4&transport=websocket', `/engine.io/?EIO=4&transport=websocket&sid=${sid}`, '/engine.io/?EIO=4&transport=nope']) {
      for (const delay of [0, 5, 40]) {
        const socket = connect(t.port, '127.0.0.1');
        socket.on('error', () => {});
        await new Promise<void>((resolve) => socket.once('connect', resolve));
        socket.write(upgradeRequest(path));
        if (delay) await sleep(delay);
        socket.resetAndDestroy();
      }
    }
    // The requests arrived before the resets, so each was still judged.
    await until(() => count('transport_unknown') >= 3 && answered === asked, 'every request judged and every allowRequest answered');
    expect(count('transport_unknown')).toBe(3);
    expect(asked).toBeGreaterThan(1);
    await expectStillServing(t);
  });

  it('an unknown transport gets 400 code 0, over HTTP and on upgrade', async () => {
    await start();
    const res = await fetch(`${t.base}?EIO=4&transport=flash`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: 0, message: 'Transport unknown' });
    const { status, text } = await rawExchange(t.port, upgradeRequest('/engine.io/?EIO=4&transport=flash'));
    expect(status).toBe(400);
    expect(text).toContain('{"code":0,"message":"Transport unknown"}');
    expect(count('transport_unknown')).toBe(2);
    await expectStillServing(t);
  });

  it('a transport mismatch gets 400 code 3, over HTTP and on upgrade', async () => {
    await start();
    const { open } = await wsHandshake(t).then((r) => (clients.push(r.client), r));
    const res = await fetch(t.url('polling', { sid: open.sid }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: 3, message: 'Bad request' });
    const { sid } = await pollingHandshake(t);
    const upgrade = await rawExchange(t.port, upgradeRequest(`/engine.io/?EIO=4&transport=polling&sid=${sid}`));
    expect(upgrade.status).toBe(400);
    expect(upgrade.text).toContain('{"code":3,"message":"Bad request"}');
    expect(count('bad_request')).toBe(2);
    await expectStillServing(t);
  });
});

describe('CVE-2026-59725: binary polling POST', () => {
  it('gets 400, the response closes the connection, the session closes', async () => {
    await start();
    const reason = closeReason();
    const { sid } = await pollingHandshake(t);
    const { status, text, closedByPeer } = await rawExchange(
      t.port,
      `POST /engine.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\n\x01\x02\x03\x04`,
    );
    expect(status).toBe(400);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(closedByPeer).toBe(true);
    expect(await reason).toBe('transport error');
    expect((await poll(t, sid)).status).toBe(400);
    expect(count('binary_post')).toBe(1);
    await expectStillServing(t);
  });
});

describe('CVE-2026-59724: sids that name Object.prototype members', () => {
  it('are unknown sessions (400 code 1), over HTTP and on upgrade', async () => {
    await start();
    await pollingHandshake(t);
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    for (const sid of names) {
      for (const method of ['GET', 'POST']) {
        const res = await fetch(t.url('polling', { sid }), { method, body: method === 'POST' ? '4x' : undefined });
        expect(res.status, `${method} sid=${sid}`).toBe(400);
        expect(await res.json()).toEqual({ code: 1, message: 'Session ID unknown' });
      }
      const { status, text } = await rawExchange(t.port, upgradeRequest(`/engine.io/?EIO=4&transport=websocket&sid=${sid}`));
      expect(status).toBe(400);
      expect(text).not.toContain('101 Switching');
    }
    expect(count('session_id_unknown')).toBe(names.length * 3);
    await expectStillServing(t);
  });
});

describe('CVE-2026-102599: upgrade with EIO missing or different from the session', () => {
  it('gets a clean 400 before any 101, and the session can still upgrade properly', async () => {
    await start();
    const { sid } = await pollingHandshake(t);
    for (const eio of ['', 'EIO=3&', 'EIO=&', 'EIO=40&']) {
      const { status, text } = await rawExchange(t.port, upgradeRequest(`/engine.io/?${eio}transport=websocket&sid=${sid}`));
      expect(status, eio).toBe(400);
      expect(text).not.toContain('101 Switching');
      expect(text).toContain('"code":5');
    }
    expect(count('unsupported_protocol_version')).toBe(4);
    const upgrade = new WsClient(t.url('websocket', { sid }));
    clients.push(upgrade);
    await upgrade.opened;
    upgrade.send('2probe');
    expect(await upgrade.nextText()).toBe('3probe');
    await expectStillServing(t);
  });
});

describe('CVE-2020-28481: cross-origin request without CORS configured', () => {
  // Nothing to count: a cross-origin request is legitimate, it is just not
  // granted anything.
  it('grants no Access-Control-Allow-Origin', async () => {
    await start();
    for (const init of [{}, { method: 'OPTIONS' }]) {
      const res = await fetch(t.url('polling'), { ...init, headers: { Origin: 'https://attacker.example' } });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    }
    await expectStillServing(t);
  });
});

describe('CVE-2021-32640: Sec-WebSocket-Protocol with thousands of spaces', () => {
  it('is handled in linear time, valid or not', async () => {
    await start();
    const spaces = ' '.repeat(12_000);
    const started = Date.now();
    const valid = await rawExchange(t.port, upgradeRequest('/engine.io/?EIO=4&transport=websocket', [`Sec-WebSocket-Protocol: a,${spaces}b`]), {
      timeoutMs: 300,
    });
    const invalid = await rawExchange(t.port, upgradeRequest('/engine.io/?EIO=4&transport=websocket', [`Sec-WebSocket-Protocol: a${spaces}b`]));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(valid.status).toBe(101);
    expect(invalid.status).toBe(400);
    expect(count('invalid_upgrade')).toBe(1);
    await expectStillServing(t);
  });
});

describe("CVE-2024-37890: upgrade with more headers than Node's limit", () => {
  it('does not crash; the request is refused', async () => {
    await start();
    const extra = Array.from({ length: 2100 }, (_, i) => `a${i % 10}:b`);
    const request =
      'GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
      extra.join('\r\n') +
      '\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
    const { status } = await rawExchange(t.port, request);
    expect(status).toBe(400);
    expect(count('invalid_upgrade')).toBe(1);
    await expectStillServing(t);
  });
});

describe('CVE-2026-48779: flood of tiny or empty WebSocket fragments', () => {
  it('empty fragments: closed with 1008', async () => {
    await start();
    const reason = closeReason();
    const client = await ws();
    client.ws.send('4', { fin: false });
    for (let i = 0; i < 3000 && client.ws.readyState === client.ws.OPEN; i++) client.ws.send('', { fin: false });
    expect(await client.waitClose(5000)).toBe(1008);
    expect(await reason).toBe('transport error');
    expect(count('websocket_fragment_flood')).toBe(1);
    await expectStillServing(t);
  });

  it('one-byte fragments: closed with 1008 long before maxPayload is reached', async () => {
    await start({ maxWebSocketFragments: 100 });
    const client = await ws();
    client.ws.send('4', { fin: false });
    for (let i = 0; i < 500 && client.ws.readyState === client.ws.OPEN; i++) client.ws.send('x', { fin: false });
    expect(await client.waitClose(5000)).toBe(1008);
    expect(count('websocket_fragment_flood')).toBe(1);
    await expectStillServing(t);
  });

  it('a message in a reasonable number of fragments is still accepted', async () => {
    await start();
    const client = await ws();
    client.ws.send('4', { fin: false });
    for (let i = 0; i < 100; i++) client.ws.send('ab', { fin: false });
    client.ws.send('!', { fin: true });
    expect(await client.nextText()).toBe('4' + 'ab'.repeat(100) + '!');
  });
});

describe('reference behaviour', () => {
  it('a ping from the client closes the session (polling and WebSocket)', async () => {
    await start();
    const { sid } = await pollingHandshake(t);
    expect((await post(t, sid, '2')).status).toBe(400);
    expect((await poll(t, sid)).status).toBe(400);
    const client = await ws();
    client.send('2');
    expect(await client.waitClose()).toBe(1002);
    expect(count('client_ping')).toBe(2);
    await expectStillServing(t);
  });

  it('an empty frame or empty POST closes the session', async () => {
    await start();
    const { sid } = await pollingHandshake(t);
    expect((await post(t, sid, '')).status).toBe(400);
    expect((await poll(t, sid)).status).toBe(400);
    const client = await ws();
    client.send('');
    expect(await client.waitClose()).toBe(1002);
    expect(count('parse_error')).toBe(2);
    await expectStillServing(t);
  });

  it('an unknown packet type closes the session', async () => {
    await start();
    for (const packet of ['7', '9hello', '/x', 'z']) {
      const { sid } = await pollingHandshake(t);
      expect((await post(t, sid, packet)).status, packet).toBe(400);
      const client = await ws();
      client.send(packet);
      expect(await client.waitClose()).toBe(1002);
    }
    expect(count('parse_error')).toBe(8);
    await expectStillServing(t);
  });

  it('an invalid packet (bad base64, garbage, bad separator use) closes the session', async () => {
    await start();
    for (const body of ['b!!!!', 'bQQ=Q', '4ok\x1e\x1e4x', '\x1e']) {
      const reason = closeReason();
      const { sid } = await pollingHandshake(t);
      expect((await post(t, sid, body)).status, JSON.stringify(body)).toBe(400);
      expect(await reason).toBe('parse error');
    }
    expect(count('parse_error')).toBe(4);
    await expectStillServing(t);
  });
});
