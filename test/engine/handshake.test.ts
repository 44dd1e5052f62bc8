// Handshake over both transports, every request error code, and the options
// that shape the handshake (transports, allowUpgrades, allowRequest, cookie,
// cors, generateId, initialPacket, header events).
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import type { EngineSocket } from '@sitehub/hub';
import {
  WsClient,
  pollingHandshake,
  rawExchange,
  startEngine,
  upgradeRequest,
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

async function errorOf(res: Response) {
  return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
}

describe('handshake over polling', () => {
  it('answers an open packet with the session parameters', async () => {
    t = await startEngine({ pingInterval: 1234, pingTimeout: 567, maxHttpBufferSize: 4321 });
    const res = await fetch(t.url('polling'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=UTF-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    expect(text[0]).toBe('0');
    const open = JSON.parse(text.slice(1));
    expect(Object.keys(open).sort()).toEqual(['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
    expect(open).toMatchObject({ upgrades: ['websocket'], pingInterval: 1234, pingTimeout: 567, maxPayload: 4321 });
    expect(open.sid).toMatch(/^[\w-]{10,}$/);
  });

  it('uses the Engine.IO defaults', async () => {
    t = await startEngine();
    const open = await pollingHandshake(t);
    expect(open).toMatchObject({ pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6, upgrades: ['websocket'] });
  });

  it('emits connection with a registered socket, and gives every session its own sid', async () => {
    t = await startEngine();
    const seen: EngineSocket[] = [];
    t.engine.on('connection', (s: EngineSocket) => seen.push(s));
    const a = await pollingHandshake(t);
    const b = await pollingHandshake(t);
    expect(a.sid).not.toBe(b.sid);
    expect(seen.map((s) => s.id)).toEqual([a.sid, b.sid]);
    expect(seen[0]!.transport.name).toBe('polling');
    expect(seen[0]!.readyState).toBe('open');
    expect(seen[0]!.protocol).toBe(4);
    expect(seen[0]!.remoteAddress).toMatch(/127\.0\.0\.1/);
    expect(t.engine.clientsCount).toBe(2);
    // A plain object keyed by id, as engine.io's.
    expect(t.engine.clients[a.sid]).toBe(seen[0]);
    expect(Object.keys(t.engine.clients)).toEqual([a.sid, b.sid]);
  });

  it('sends initialPacket right after the open packet', async () => {
    t = await startEngine({ initialPacket: 'welcome' });
    const text = await (await fetch(t.url('polling'))).text();
    expect(text.split('\x1e')[1]).toBe('4welcome');
  });

  it('uses a custom id generator, sync or async', async () => {
    let n = 0;
    t = await startEngine({ generateId: () => Promise.resolve(`custom-${++n}`) });
    expect((await pollingHandshake(t)).sid).toBe('custom-1');
    const { client, open } = await wsHandshake(t);
    clients.push(client);
    expect(open.sid).toBe('custom-2');
  });
});

describe('handshake over WebSocket', () => {
  it('answers an open packet with no upgrades', async () => {
    t = await startEngine({ pingInterval: 300, pingTimeout: 200 });
    const seen: EngineSocket[] = [];
    t.engine.on('connection', (s: EngineSocket) => seen.push(s));
    const { client, open } = await wsHandshake(t);
    clients.push(client);
    expect(Object.keys(open).sort()).toEqual(['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
    expect(open).toMatchObject({ upgrades: [], pingInterval: 300, pingTimeout: 200, maxPayload: 1e6 });
    expect(seen[0]!.id).toBe(open.sid);
    expect(seen[0]!.transport.name).toBe('websocket');
  });
});

describe('request errors', () => {
  it('code 0: missing, unknown or disabled transport', async () => {
    t = await startEngine({ transports: ['websocket'] });
    for (const query of ['EIO=4', 'EIO=4&transport=abc', 'EIO=4&transport=polling', 'EIO=4&transport=constructor']) {
      const res = await fetch(`${t.base}?${query}`);
      expect(await errorOf(res)).toEqual({ status: 400, type: 'application/json', body: { code: 0, message: 'Transport unknown' } });
    }
  });

  it('code 1: unknown sid', async () => {
    t = await startEngine();
    const res = await fetch(t.url('polling', { sid: 'nope' }));
    expect(await errorOf(res)).toEqual({ status: 400, type: 'application/json', body: { code: 1, message: 'Session ID unknown' } });
  });

  it('code 2: a handshake that is not a GET', async () => {
    t = await startEngine();
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await fetch(t.url('polling'), { method });
      expect(await errorOf(res)).toEqual({ status: 400, type: 'application/json', body: { code: 2, message: 'Bad handshake method' } });
    }
  });

  it('code 3: websocket transport without an upgrade, and transport mismatch', async () => {
    t = await startEngine();
    const noUpgrade = await fetch(`${t.base}?EIO=4&transport=websocket`);
    expect(await errorOf(noUpgrade)).toEqual({ status: 400, type: 'application/json', body: { code: 3, message: 'Bad request' } });
    const { client, open } = await wsHandshake(t);
    clients.push(client);
    const mismatch = await fetch(t.url('polling', { sid: open.sid }));
    expect(await errorOf(mismatch)).toEqual({ status: 400, type: 'application/json', body: { code: 3, message: 'Bad request' } });
  });

  it('code 5: EIO missing or not 4', async () => {
    t = await startEngine();
    for (const query of ['transport=polling', 'EIO=3&transport=polling', 'EIO=abc&transport=polling', 'EIO=5&transport=polling']) {
      const res = await fetch(`${t.base}?${query}`);
      expect(await errorOf(res)).toEqual({
        status: 400,
        type: 'application/json',
        body: { code: 5, message: 'Unsupported protocol version' },
      });
    }
  });

  it('emits connection_error with the request, code, message and context', async () => {
    t = await startEngine();
    const errors: Array<{ req: IncomingMessage; code: number; message: string; context?: Record<string, unknown> }> = [];
    t.engine.on('connection_error', (e) => errors.push(e));
    await fetch(`${t.base}?EIO=4&transport=carrier-pigeon`);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe(0);
    expect(errors[0]!.message).toBe('Transport unknown');
    expect(errors[0]!.context).toMatchObject({ transport: 'carrier-pigeon' });
    expect(errors[0]!.req.url).toContain('carrier-pigeon');
  });

  it('failed WebSocket upgrades get a plain 400 before any 101', async () => {
    t = await startEngine();
    for (const path of ['/engine.io/?transport=websocket', '/engine.io/?EIO=4', '/engine.io/?EIO=4&transport=polling', '/engine.io/?EIO=4&transport=websocket&sid=nope']) {
      const { text, status } = await rawExchange(t.port, upgradeRequest(path));
      expect(status, path).toBe(400);
      expect(text).not.toContain('101');
      expect(text.split('\r\n\r\n')[1]).toMatch(/^\{"code":\d,"message":"[^"]+"\}$/);
    }
  });
});

describe('allowRequest', () => {
  it('refuses with 403 code 4, or with the message given', async () => {
    t = await startEngine({ allowRequest: (req, cb) => cb(req.headers['x-reason'] as string | undefined, false) });
    const plain = await fetch(t.url('polling'));
    expect(await errorOf(plain)).toEqual({ status: 403, type: 'application/json', body: { code: 4, message: 'Forbidden' } });
    const withReason = await fetch(t.url('polling'), { headers: { 'x-reason': 'no entry' } });
    expect(await errorOf(withReason)).toEqual({ status: 403, type: 'application/json', body: { code: 4, message: 'no entry' } });
    const { status } = await rawExchange(t.port, upgradeRequest('/engine.io/?EIO=4&transport=websocket'));
    expect(status).toBe(400);
    expect(t.engine.clientsCount).toBe(0);
  });

  it('lets an accepted request through, even when it answers later', async () => {
    const asked: string[] = [];
    t = await startEngine({
      allowRequest: (req, cb) => {
        asked.push(req.url!);
        setTimeout(() => cb(null, true), 20);
      },
    });
    await pollingHandshake(t);
    const { client } = await wsHandshake(t);
    clients.push(client);
    expect(asked).toHaveLength(2);
  });
});

describe('transports and allowUpgrades', () => {
  it('a polling-only server refuses WebSocket upgrades and advertises no upgrade', async () => {
    t = await startEngine({ transports: ['polling'] });
    expect((await pollingHandshake(t)).upgrades).toEqual([]);
    const { status } = await rawExchange(t.port, upgradeRequest('/engine.io/?EIO=4&transport=websocket'));
    expect(status).toBe(400);
  });

  it('allowUpgrades false advertises [] and refuses an upgrade for a polling sid', async () => {
    t = await startEngine({ allowUpgrades: false });
    const { sid, upgrades } = await pollingHandshake(t);
    expect(upgrades).toEqual([]);
    const { status } = await rawExchange(t.port, upgradeRequest(`/engine.io/?EIO=4&transport=websocket&sid=${sid}`));
    expect(status).toBe(400);
    // A WebSocket-only session is still possible.
    const { client } = await wsHandshake(t);
    clients.push(client);
  });
});

describe('cookie', () => {
  it('sets no cookie by default', async () => {
    t = await startEngine();
    const res = await fetch(t.url('polling'));
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('sets io=<sid> on the polling and WebSocket handshakes only', async () => {
    t = await startEngine({ cookie: true });
    const res = await fetch(t.url('polling'));
    const sid = JSON.parse((await res.text()).slice(1)).sid;
    expect(res.headers.get('set-cookie')).toBe(`io=${sid}; Path=/; HttpOnly; SameSite=Lax`);
    const next = await fetch(t.url('polling', { sid }), { method: 'POST', body: '4x' });
    expect(next.headers.get('set-cookie')).toBeNull();

    const { text } = await rawExchange(t.port, upgradeRequest('/engine.io/?EIO=4&transport=websocket'), { timeoutMs: 300 });
    expect(text).toMatch(/^HTTP\/1\.1 101/);
    expect(text).toMatch(/\r\nSet-Cookie: io=[\w-]+; Path=\/; HttpOnly; SameSite=Lax\r\n/);
  });

  it('honours a custom cookie name and attributes', async () => {
    t = await startEngine({ cookie: { name: 'sticky', path: '/rt', httpOnly: false, sameSite: 'strict', secure: true, maxAge: 60 } });
    const res = await fetch(t.url('polling'));
    const sid = JSON.parse((await res.text()).slice(1)).sid;
    expect(res.headers.get('set-cookie')).toBe(`sticky=${sid}; Max-Age=60; Path=/rt; Secure; SameSite=Strict`);
  });
});

describe('header events', () => {
  it('initial_headers edits the handshake response, headers every polling response', async () => {
    t = await startEngine();
    t.engine.on('initial_headers', (headers: Record<string, string>) => {
      headers['X-Initial'] = 'yes';
    });
    t.engine.on('headers', (headers: Record<string, string>) => {
      headers['X-Every'] = 'yes';
    });
    const first = await fetch(t.url('polling'));
    const sid = JSON.parse((await first.text()).slice(1)).sid;
    expect(first.headers.get('x-initial')).toBe('yes');
    expect(first.headers.get('x-every')).toBe('yes');
    const second = await fetch(t.url('polling', { sid }), { method: 'POST', body: '4x' });
    expect(second.headers.get('x-initial')).toBeNull();
    expect(second.headers.get('x-every')).toBe('yes');
    const { text } = await rawExchange(t.port, upgradeRequest('/engine.io/?EIO=4&transport=websocket'), { timeoutMs: 300 });
    expect(text).toContain('\r\nX-Initial: yes\r\n');
  });
});

describe('CORS', () => {
  it('grants nothing when the cors option is not set', async () => {
    t = await startEngine();
    const res = await fetch(t.url('polling'), { headers: { Origin: 'https://evil.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const preflight = await fetch(t.url('polling'), { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } });
    expect(preflight.status).toBe(400);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("origin '*' grants every origin and answers preflights with 204", async () => {
    t = await startEngine({ cors: { origin: '*' } });
    const res = await fetch(t.url('polling'), { headers: { Origin: 'https://a.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const preflight = await fetch(t.url('polling'), {
      method: 'OPTIONS',
      headers: { Origin: 'https://a.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET,HEAD,PUT,PATCH,POST,DELETE');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type');
  });

  it('a list of origins reflects allowed ones only, with credentials', async () => {
    t = await startEngine({ cors: { origin: ['https://good.example', /\.trusted\.example$/], credentials: true, maxAge: 600 } });
    const good = await fetch(t.url('polling'), { headers: { Origin: 'https://good.example' } });
    expect(good.headers.get('access-control-allow-origin')).toBe('https://good.example');
    expect(good.headers.get('access-control-allow-credentials')).toBe('true');
    expect(good.headers.get('vary')).toContain('Origin');
    const matched = await fetch(t.url('polling'), { headers: { Origin: 'https://x.trusted.example' } });
    expect(matched.headers.get('access-control-allow-origin')).toBe('https://x.trusted.example');
    const bad = await fetch(t.url('polling'), { headers: { Origin: 'https://evil.example' } });
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(t.url('polling'), { method: 'OPTIONS', headers: { Origin: 'https://good.example' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-max-age')).toBe('600');
  });

  it('an origin callback decides per request', async () => {
    t = await startEngine({ cors: { origin: (origin, cb) => cb(null, origin === 'https://ok.example') } });
    const ok = await fetch(t.url('polling'), { headers: { Origin: 'https://ok.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://ok.example');
    const no = await fetch(t.url('polling'), { headers: { Origin: 'https://no.example' } });
    expect(no.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('WebSocket upgrades are not affected by a client origin', async () => {
    t = await startEngine();
    const client = new WsClient(t.url('websocket'), { headers: { Origin: 'https://elsewhere.example' } });
    clients.push(client);
    expect((await client.nextText())[0]).toBe('0');
  });
});
