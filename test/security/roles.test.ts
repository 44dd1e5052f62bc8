// People and roles on every REST route and both streams: a viewer reads and
// changes nothing; an operator limited to one site neither sees, streams nor
// commands another site's devices; sign-ins with a password, personal tokens,
// the audit log; console sessions kept in the store (a restart keeps them,
// sign-out and a disabled account end them).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '@sitehub/hub';
import { ADMIN_TOKEN, apiFor, closeClients, connected, connectClient, nextEvent, type Api } from '../iot/helpers.js';
import { waitUntil } from '../bridge/helpers.js';

let hub: Hub;
let base: string;
let dataDir: string;
let admin: Api;
let viewer: Api;
let opA: Api;
const table: Array<{ method: string; url: string; auth: string }> = [];
const ids: Record<string, string> = {};
const tokens: Record<string, string> = {};
const PASSWORD = 'correct horse battery staple';
/** Routes a viewer may call that change something: its own personal tokens. */
const OWN_TOKEN_ROUTES = new Set(['POST /api/me/tokens', 'DELETE /api/me/tokens/:tokenId']);

/** Signs in with a name and password; returns the status and the session cookie. */
async function signIn(name: string, password = PASSWORD): Promise<{ status: number; cookie?: string }> {
  const res = await fetch(`${base}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ name, password }) });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  return { status: res.status, ...(cookie && { cookie }) };
}

/** A request with a session cookie (and this hub as the Origin). */
async function withCookie(cookie: string, method: string, path: string, body?: unknown, target = base): Promise<{ status: number; body: any }> {
  const res = await fetch(target + path, {
    method,
    headers: { cookie, origin: target, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function startRoleHub(): Promise<void> {
  hub = createHub({ dataDir, port: 0, host: '127.0.0.1', adminToken: ADMIN_TOKEN, logLevel: 'silent', authThrottleAfter: 1_000_000, authBanAfter: 1_000_000 });
  if (table.length === 0) {
    hub.app.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) if (method !== 'HEAD') table.push({ method, url: route.url, auth: String((route.config as { auth?: unknown } | undefined)?.auth) });
    });
  }
  const { port } = await hub.listen();
  base = `http://127.0.0.1:${port}`;
  admin = apiFor(base);
  if (tokens.vera) viewer = apiFor(base, tokens.vera);
  if (tokens.otto) opA = apiFor(base, tokens.otto);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sitehub-roles-'));
  await startRoleHub();
  for (const site of ['site-a', 'site-b']) await admin('POST', '/api/sites', { id: site });
  await admin('POST', '/api/classes', { id: 'thermo' });
  for (const [id, site] of [['a1', 'site-a'], ['b1', 'site-b']]) tokens[id!] = (await admin('POST', '/api/devices', { id, classId: 'thermo', siteId: site })).body.token;
  ids.ruleId = (await admin('POST', '/api/rules', { name: 'hot', scope: { kind: 'class', id: 'thermo' }, metric: 'temp', condition: 'above', threshold: 30 })).body.id;
  for (const d of ['a1', 'b1']) {
    ids[`cmd-${d}`] = (await admin('POST', '/api/commands', { deviceId: d, name: 'reboot' })).body.id;
    const alarm = { deviceId: d, ruleId: null, source: 'device', kind: 'alarm', key: 'device:door', severity: 'error', message: `${d} door`, value: null, ts: Date.now() } as const;
    ids[`alarm-${d}`] = String((await hub.store.alarms.raise(alarm))!.id);
  }
  ids.vera = (await admin('POST', '/api/accounts', { name: 'vera', password: PASSWORD, role: 'viewer' })).body.id;
  ids.otto = (await admin('POST', '/api/accounts', { name: 'otto', password: PASSWORD, role: 'operator', sites: ['site-a'] })).body.id;
  // Each person makes a personal token from a console session.
  for (const name of ['vera', 'otto']) {
    const { cookie } = await signIn(name);
    const made = await withCookie(cookie!, 'POST', '/api/me/tokens', { name: 'cli' });
    expect(made.status).toBe(201);
    tokens[name] = made.body.token;
  }
  viewer = apiFor(base, tokens.vera);
  opA = apiFor(base, tokens.otto);
});

afterAll(async () => {
  closeClients();
  await hub?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A path of a route pattern with the ids of one side (a: site-a, b: site-b). */
function concrete(url: string, side: 'a' | 'b'): string {
  const values: Record<string, string> = {
    siteId: `site-${side}`,
    classId: 'thermo',
    deviceId: `${side}1`,
    commandId: ids[`cmd-${side}1`]!,
    alarmId: ids[`alarm-${side}1`]!,
    ruleId: ids.ruleId!,
    accountId: ids.vera!,
    tokenId: 'tok_unknown',
  };
  const path = url.replace(/:([A-Za-z]+)/g, (_, name: string) => values[name] ?? 'x');
  // The one route with a required query.
  return url.endsWith('/telemetry/aggregate') ? `${path}?metric=temp&interval=60000` : path;
}

/** The API routes that need a credential. */
const apiRoutes = () => table.filter((r) => r.auth !== 'public');

describe('a viewer', () => {
  it('reads every route it is allowed to and is refused (403) on every route that changes something', async () => {
    expect(apiRoutes().length).toBeGreaterThan(35);
    const before = await admin('GET', '/api/commands?limit=1000');
    for (const { method, url, auth } of apiRoutes()) {
      const answer = await viewer(method, concrete(url, 'a'), method === 'GET' || method === 'DELETE' ? undefined : {});
      const what = `${method} ${url}: ${answer.status} ${JSON.stringify(answer.body)}`;
      if (auth === 'viewer') {
        expect(answer.status, what).not.toBe(403);
        if (method === 'GET') expect(answer.status, what).toBe(200);
        else expect(OWN_TOKEN_ROUTES.has(`${method} ${url}`), what).toBe(true);
      } else {
        expect(answer.status, what).toBe(403);
        expect(answer.body.code, what).toBe('forbidden');
      }
    }
    // Nothing changed behind the refusals.
    expect((await admin('GET', '/api/commands?limit=1000')).body.items).toEqual(before.body.items);
    expect((await admin('GET', `/api/alarms/${ids['alarm-a1']}`)).body.state).toBe('active');
  });

  it('streams on /console but cannot command there', async () => {
    const socket = connectClient(base, '/console', { token: tokens.vera });
    await connected(socket);
    expect(await socket.timeout(2000).emitWithAck('subscribe', {})).toMatchObject({ ok: true, rooms: ['all'] });
    expect(await socket.timeout(2000).emitWithAck('command', { deviceId: 'a1', name: 'reboot', wait: false })).toMatchObject({ ok: false, code: 'forbidden' });
  });
});

describe('an operator limited to site-a', () => {
  it("answers every route naming site-b, its device, command or alarm as if they did not exist (admin routes: 403)", async () => {
    const scoped = apiRoutes().filter((r) => /:(siteId|deviceId|commandId|alarmId)/.test(r.url));
    expect(scoped.length).toBeGreaterThan(15);
    for (const { method, url, auth } of scoped) {
      const body = method === 'GET' || method === 'DELETE' ? undefined : {};
      const other = await opA(method, concrete(url, 'b'), body);
      const what = `${method} ${concrete(url, 'b')}: ${other.status} ${JSON.stringify(other.body)}`;
      if (auth === 'admin') expect(other.status, what).toBe(403);
      else expect(other.status, what).toBe(404);
      if (method === 'GET' && auth !== 'admin') {
        const own = await opA(method, concrete(url, 'a'));
        expect(own.status, `${method} ${concrete(url, 'a')}: ${own.status}`).toBe(200);
      }
    }
  });

  it('lists only its sites, devices, commands and alarms, and commands and acknowledges only there', async () => {
    expect((await opA('GET', '/api/sites')).body.items.map((s: any) => s.id)).toEqual(['site-a']);
    expect((await opA('GET', '/api/devices')).body.items.map((d: any) => d.id)).toEqual(['a1']);
    expect((await opA('GET', '/api/devices?classId=thermo')).body.items.map((d: any) => d.id)).toEqual(['a1']);
    expect((await opA('GET', '/api/devices?siteId=site-b')).status).toBe(404);
    expect((await opA('GET', '/api/commands')).body.items.every((c: any) => c.deviceId === 'a1')).toBe(true);
    expect((await opA('GET', '/api/commands?deviceId=b1')).status).toBe(404);
    expect((await opA('GET', '/api/alarms')).body.items.map((a: any) => a.deviceId)).toEqual(['a1']);
    expect((await opA('GET', '/api/alarms?siteId=site-b')).status).toBe(404);
    expect((await opA('POST', '/api/commands', { deviceId: 'b1', name: 'reboot' })).status).toBe(404);
    expect((await opA('POST', '/api/commands', { deviceId: 'a1', name: 'reboot' })).status).toBe(201);
    expect((await opA('POST', `/api/alarms/${ids['alarm-b1']}/ack`)).status).toBe(404);
    expect((await opA('POST', `/api/alarms/${ids['alarm-a1']}/ack`)).body).toMatchObject({ state: 'acknowledged', ackedBy: 'otto' });
    // The admin still sees both sites.
    expect((await admin('GET', '/api/devices')).body.items.map((d: any) => d.id)).toEqual(['a1', 'b1']);
  });

  it("never streams another site's devices on /console, and cannot subscribe to them or command them", async () => {
    const { cookie } = await signIn('otto');
    // Both ways in: the personal token and the console's session cookie.
    for (const open of [
      () => connectClient(base, '/console', { token: tokens.otto }),
      () => connectClient(base, '/console', {}, { extraHeaders: { cookie: cookie!, origin: base } }),
    ]) {
      const socket = open();
      await connected(socket).catch((err) => {
        throw new Error(`console socket: ${err.message}`);
      });
      expect(await socket.timeout(2000).emitWithAck('subscribe', {})).toMatchObject({ ok: true, rooms: ['site:site-a'] });
      for (const filter of [{ siteId: 'site-b' }, { classId: 'thermo' }, { deviceId: 'b1' }, { deviceId: 'nope' }]) {
        expect(await socket.timeout(2000).emitWithAck('subscribe', filter), JSON.stringify(filter)).toMatchObject({ ok: false, code: 'forbidden' });
      }
      const heard: string[] = [];
      socket.on('telemetry', (m: any) => heard.push(m.deviceId));
      for (const d of ['b1', 'a1']) {
        const device = connectClient(base, '/devices/thermo', { deviceId: d, token: tokens[d] });
        await connected(device).catch((err) => {
          throw new Error(`device ${d}: ${err.message}`);
        });
        await device.timeout(3000).emitWithAck('telemetry', { seq: Date.now() + heard.length, ts: Date.now() - 1000, values: { temp: 20 } });
        device.close();
      }
      await waitUntil(() => heard.includes('a1'), 5000, 'site-a telemetry');
      expect(heard).toEqual(['a1']);
      expect(await socket.timeout(2000).emitWithAck('command', { deviceId: 'b1', name: 'reboot', wait: false })).toMatchObject({ ok: false, code: 'not_found' });
      expect(await socket.timeout(2000).emitWithAck('command', { deviceId: 'a1', name: 'reboot', wait: false })).toMatchObject({ ok: true });
      socket.close();
    }
  });
});

describe('accounts and sessions', () => {
  it('refuses a wrong password and a disabled account, ends the sessions and sockets of an account when it changes', async () => {
    expect((await signIn('vera', 'wrong password!!')).status).toBe(401);
    expect((await signIn('nobody')).status).toBe(401);
    const { cookie } = await signIn('vera');
    expect(await withCookie(cookie!, 'GET', '/auth/session')).toMatchObject({ body: { signedIn: true, name: 'vera', role: 'viewer', sites: null } });
    const socket = connectClient(base, '/console', {}, { extraHeaders: { cookie: cookie!, origin: base } });
    await connected(socket);
    const gone = nextEvent(socket, 'disconnect');
    expect((await admin('PATCH', `/api/accounts/${ids.vera}`, { disabled: true })).body.disabled).toBe(true);
    await gone;
    expect((await withCookie(cookie!, 'GET', '/api/devices')).status).toBe(401);
    expect((await viewer('GET', '/api/devices')).status).toBe(401);
    expect((await signIn('vera')).status).toBe(401);
    await admin('PATCH', `/api/accounts/${ids.vera}`, { disabled: false });
    expect((await viewer('GET', '/api/devices')).status).toBe(200);
  });

  it('a deleted personal token stops working at once, on REST and on its live /console socket', async () => {
    const { cookie } = await signIn('otto');
    const made = await withCookie(cookie!, 'POST', '/api/me/tokens', { name: 'short-lived' });
    const spare = apiFor(base, made.body.token);
    expect((await spare('GET', '/api/me')).body).toMatchObject({ name: 'otto', role: 'operator', sites: ['site-a'] });
    const socket = connectClient(base, '/console', { token: made.body.token });
    await connected(socket);
    const gone = nextEvent(socket, 'disconnect');
    expect((await withCookie(cookie!, 'GET', '/api/me/tokens')).body.items.map((x: any) => x.name)).toEqual(['cli', 'short-lived']);
    expect((await withCookie(cookie!, 'DELETE', `/api/me/tokens/${made.body.apiToken.id}`)).status).toBe(204);
    await gone;
    expect((await spare('GET', '/api/me')).status).toBe(401);
    expect((await opA('GET', '/api/me')).status).toBe(200);
  });

  it('keeps console sessions in the store: a restarted hub accepts the cookie; sign-out ends it', async () => {
    const { cookie } = await signIn('otto');
    const admins = await fetch(`${base}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ token: ADMIN_TOKEN }) });
    const adminCookie = admins.headers.get('set-cookie')!.split(';')[0]!;
    closeClients();
    await hub.close();
    await startRoleHub();
    expect((await withCookie(cookie!, 'GET', '/api/devices')).body.items.map((d: any) => d.id)).toEqual(['a1']);
    expect((await withCookie(adminCookie, 'GET', '/api/devices')).body.items.map((d: any) => d.id)).toEqual(['a1', 'b1']);
    expect((await withCookie(cookie!, 'DELETE', '/auth/session')).status).toBe(200);
    expect((await withCookie(cookie!, 'GET', '/api/devices')).status).toBe(401);
    expect((await withCookie(adminCookie, 'GET', '/api/devices')).status).toBe(200);
    // The store holds hashes, never the cookie value.
    const raw = (hub.store as unknown as { db: { prepare(sql: string): { all(): Array<{ id_hash: Buffer }> } } }).db.prepare('SELECT id_hash FROM console_sessions').all();
    expect(raw.length).toBeGreaterThan(0);
    for (const row of raw) expect(adminCookie).not.toContain(row.id_hash.toString('base64url'));
  });

  it('keeps who did what in the audit log: sign-ins, commands, changes', async () => {
    const audit = (await admin('GET', '/api/audit?limit=1000')).body.items as Array<{ actor: string; action: string; target: string; outcome: string }>;
    const has = (actor: string, action: string, outcome: string, target?: string) =>
      audit.some((e) => e.actor === actor && e.action === action && e.outcome === outcome && (target === undefined || e.target.includes(target)));
    const seen = audit.map((e) => `${e.actor} ${e.action} ${e.outcome} ${e.target}`).join('\n');
    expect(has('vera', 'sign_in', 'ok'), seen).toBe(true);
    expect(has('vera', 'sign_in', 'invalid_credentials'), seen).toBe(true);
    expect(has('otto', 'POST /api/commands', '201', 'deviceId=a1'), seen).toBe(true);
    expect(has('otto', 'POST /api/commands', '404', 'deviceId=b1'), seen).toBe(true);
    expect(has('otto', 'command', 'ok', 'a1 reboot'), seen).toBe(true);
    expect(has('otto', 'command', 'not_found', 'b1 reboot'), seen).toBe(true);
    expect(has('admin', 'PATCH /api/accounts/:accountId', '200', `accountId=${ids.vera}`), seen).toBe(true);
    expect(has('vera', 'POST /api/devices', '403'), seen).toBe(true);
    // No password ever reaches the log.
    expect(JSON.stringify(audit)).not.toContain(PASSWORD);
    expect((await viewer('GET', '/api/audit')).status).toBe(403);
  });
});
