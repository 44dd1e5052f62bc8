// BAD-INPUTS edge row "auth bypass": every route of the served OpenAPI
// document and of fastify's route table, under every spelling of its path
// (percent-encoded letters, doubled slashes, case, trailing slashes, dot
// segments, absolute-form targets) and of the Authorization header, answers
// 401 (or 404 when the router matches nothing) without a valid credential,
// and the valid token does reach it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '@sitehub/hub';
import { closeSockets, metric, outcome, rawRequest, socketFrom, type RawAnswer } from './helpers.js';

const ADMIN_TOKEN = 'bypass-test-admin-token-0123456789';
/** Routes anyone may call; every other route must need a credential. */
const PUBLIC_ROUTES = new Set(['/', '/*', '/healthz', '/readyz', '/metrics', '/openapi.json', '/auth/session']);

let hub: Hub;
let dataDir: string;
let port: number;
const table: Array<{ method: string; url: string }> = [];
const ids: Record<string, string> = {};

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
  return res.json();
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sitehub-bypass-'));
  // Thousands of wrong tokens from one address: the guard would throttle them (429), which is not what this test is about.
  hub = createHub({ dataDir, port: 0, host: '127.0.0.1', adminToken: ADMIN_TOKEN, logLevel: 'silent', authThrottleAfter: 1_000_000, authBanAfter: 1_000_000 });
  hub.app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) table.push({ method, url: route.url });
  });
  ({ port } = await hub.listen());
  await admin('POST', '/api/sites', { id: 'site-a' });
  await admin('POST', '/api/classes', { id: 'thermo' });
  const device = await admin('POST', '/api/devices', { id: 'dev-1', classId: 'thermo', siteId: 'site-a' });
  ids.deviceToken = device.token;
  ids.commandId = (await admin('POST', '/api/commands', { deviceId: 'dev-1', name: 'reboot' })).id;
  ids.tokenId = (await admin('POST', '/api/bridge-tokens', { name: 'b' })).bridgeToken.id;
  ids.ruleId = (await admin('POST', '/api/rules', { name: 'hot', scope: { kind: 'class', id: 'thermo' }, metric: 'temp', condition: 'above', threshold: 30 })).id;
  const alarm = { deviceId: 'dev-1', ruleId: null, source: 'device', kind: 'alarm', key: 'device:door', severity: 'error', message: 'door', value: null, ts: Date.now() } as const;
  ids.alarmId = String((await hub.store.alarms.raise(alarm))!.id);
  await admin('POST', '/api/devices', { id: 'dev-doomed', classId: 'thermo', siteId: 'site-a' });
  ids.accountId = (await admin('POST', '/api/accounts', { name: 'ana', password: 'correct horse battery', role: 'viewer' })).id;
  const upload = await fetch(`http://127.0.0.1:${port}/api/files?name=a.txt&deviceId=dev-1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/octet-stream' },
    body: 'hello',
  });
  if (upload.status !== 201) throw new Error(`POST /api/files: ${upload.status}`);
  ids.fileId = ((await upload.json()) as { file: { id: string } }).file.id;
});

afterAll(async () => {
  closeSockets();
  await hub?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A concrete path of a route pattern, with real ids for its parameters (and the query a route requires). */
function concrete(pattern: string, method = 'GET'): string {
  // Deleting a device for real would take dev-1 from the routes tested after it: a device of its own.
  if (method === 'DELETE' && pattern === '/api/devices/:deviceId') return '/api/devices/dev-doomed';
  const values: Record<string, string> = { siteId: 'site-a', classId: 'thermo', deviceId: 'dev-1', commandId: ids.commandId!, tokenId: ids.tokenId!, ruleId: ids.ruleId!, alarmId: ids.alarmId!, accountId: ids.accountId!, fileId: ids.fileId! };
  return pattern.replace(/:([A-Za-z]+)/g, (_, name: string) => values[name] ?? 'x');
}

const REQUIRED_QUERY: Record<string, string> = { '/api/devices/:deviceId/telemetry/aggregate': 'metric=temp&interval=60000' };

/** Spellings of `path` (which starts with /api/) that a router or a proxy might treat as it. */
function spellings(path: string, query = ''): Array<{ name: string; target: string; routes: boolean }> {
  return pathSpellings(path).map((s) => ({ ...s, target: s.target + (query && (s.target.endsWith('?') ? query : `?${query}`)) }));
}

function pathSpellings(path: string): Array<{ name: string; target: string; routes: boolean }> {
  const rest = path.slice('/api'.length);
  const encodeLetters = (s: string) => s.replace(/[a-z]/gi, (c) => '%' + c.charCodeAt(0).toString(16));
  const host = `127.0.0.1:${port}`;
  return [
    { name: 'plain', target: path, routes: true },
    { name: 'percent-encoded first letter', target: `/%61pi${rest}`, routes: true },
    { name: 'percent-encoded upper-case hex', target: `/%41PI${rest}`, routes: false },
    { name: 'every letter percent-encoded', target: encodeLetters(path), routes: true },
    { name: 'encoded slash', target: `/api%2F${rest.slice(1)}`, routes: false },
    { name: 'doubled leading slash', target: `/${path}`, routes: false },
    { name: 'doubled inner slash', target: `/api/${rest}`, routes: false },
    { name: 'upper case', target: path.toUpperCase(), routes: false },
    { name: 'mixed case', target: `/Api${rest}`, routes: false },
    { name: 'trailing slash', target: `${path}/`, routes: false },
    { name: 'dot segment', target: `/api/.${rest}`, routes: false },
    { name: 'leading dot segment', target: `/.${path}`, routes: false },
    { name: 'dot-dot segment', target: `/x/..${path}`, routes: false },
    { name: 'encoded dot-dot segment', target: `/x/%2e%2e${path}`, routes: false },
    { name: 'trailing dot', target: `${path}/.`, routes: false },
    { name: 'empty query', target: `${path}?`, routes: true },
    { name: 'absolute-form', target: `http://${host}${path}`, routes: true },
    { name: 'absolute-form, other host, upper-case scheme, encoded', target: `HTTP://elsewhere.example/%61pi${rest}`, routes: true },
  ];
}

/** Authorization headers that carry no valid credential. */
const WRONG_CREDENTIALS: Array<Record<string, string>> = [
  {},
  { authorization: 'Bearer wrong-token-0123456789' },
  { authorization: 'bearer wrong-token-0123456789' },
  { authorization: 'BEARER wrong-token-0123456789' },
  { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
  { authorization: `Bearer${ADMIN_TOKEN}` },
  { authorization: 'Bearer' },
  { authorization: '' },
  { cookie: 'sitehub_session=forged' },
  // The console's static files answer HTML GETs with index.html: never for an API path, however spelt.
  { accept: 'text/html' },
];

function send(method: string, target: string, headers: Record<string, string>): Promise<RawAnswer> {
  const body = method === 'GET' || method === 'HEAD' ? undefined : '{}';
  return rawRequest(port, method, target, headers, body);
}

/** What a refused answer may be: 401, or the router's 404 that names no data. */
function expectRefused(answer: RawAnswer, what: string, mustRoute: boolean): void {
  if (answer.status === 401) return;
  expect(mustRoute, `${what}: expected 401, got ${answer.status} ${answer.body}`).toBe(false);
  expect(answer.status, `${what}: ${answer.body}`).toBe(404);
  if (answer.body) expect(JSON.parse(answer.body), what).toMatchObject({ code: 'not_found', error: expect.stringMatching(/^no route /) });
}

describe('auth bypass', () => {
  it('fastify route table and OpenAPI document agree, and every route declares its caller', async () => {
    const doc = await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json();
    const fromDoc = Object.entries<Record<string, unknown>>(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{([A-Za-z]+)\}/g, ':$1')}`),
    );
    const fromTable = new Set(table.map((r) => `${r.method} ${r.url}`));
    expect(fromDoc.length).toBeGreaterThan(20);
    for (const route of fromDoc) expect(fromTable, route).toContain(route);
    // The document tells clients the same: the admin token everywhere but on public routes.
    expect(doc.security).toEqual([{ adminToken: [] }]);
    for (const [path, ops] of Object.entries<Record<string, { security?: unknown[] }>>(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) expect(op.security === undefined ? 'admin' : op.security.length === 0 ? 'public' : op.security, `${m} ${path}`).toBe(PUBLIC_ROUTES.has(path) ? 'public' : 'admin');
    }
    const needsCredential = table.filter((r) => !PUBLIC_ROUTES.has(r.url));
    expect(new Set(needsCredential.map((r) => r.method))).toEqual(new Set(['GET', 'HEAD', 'POST', 'PATCH', 'DELETE']));
  });

  it('answers 401 (or 404 when nothing routes) for every protected route, spelling and wrong credential; the valid token reaches each', async () => {
    const doc = await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json();
    const routes = new Map<string, { method: string; url: string }>();
    for (const r of table) routes.set(`${r.method} ${r.url}`, r);
    for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const m of Object.keys(ops)) {
        const url = path.replace(/\{([A-Za-z]+)\}/g, ':$1');
        routes.set(`${m.toUpperCase()} ${url}`, { method: m.toUpperCase(), url });
      }
    }
    const protectedRoutes = [...routes.values()].filter((r) => !PUBLIC_ROUTES.has(r.url));
    expect(protectedRoutes.length).toBeGreaterThan(40);

    let refusals = 0;
    const before = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const { method, url } of protectedRoutes) {
      const path = concrete(url, method);
      expect(path.startsWith('/api/'), url).toBe(true);
      const checks: Array<Promise<void>> = [];
      for (const { name, target, routes: mustRoute } of spellings(path, REQUIRED_QUERY[url])) {
        for (const headers of WRONG_CREDENTIALS) {
          const what = `${method} ${target} (${name}) with ${JSON.stringify(headers)}`;
          checks.push(send(method, target, headers).then((answer) => expectRefused(answer, what, mustRoute)));
          refusals++;
        }
      }
      await Promise.all(checks);
    }
    const after = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const counted = (t: string) => metric(t, 'sitehub_http_refused_total{reason="missing_credentials"}') + metric(t, 'sitehub_http_refused_total{reason="invalid_credentials"}');
    expect(counted(after) - counted(before)).toBeGreaterThan(refusals / 4);

    // The valid token, in each spelling that routes and with a lower-case scheme, reaches every route (so the refusals above mean something).
    for (const { method, url } of protectedRoutes) {
      const path = concrete(url, method);
      for (const { name, target, routes: mustRoute } of spellings(path, REQUIRED_QUERY[url])) {
        if (!mustRoute) continue;
        for (const authorization of [`Bearer ${ADMIN_TOKEN}`, `bearer ${ADMIN_TOKEN}`, `BEARER   ${ADMIN_TOKEN}`]) {
          const answer = await send(method, target, { authorization });
          const what = `${method} ${target} (${name}) with ${authorization.split(' ')[0]}: ${answer.status} ${answer.body}`;
          expect([401, 403, 429], what).not.toContain(answer.status);
          // Reached the route's handler or its validation (a `{}` body may be refused as 400), never "no route".
          if (answer.status === 404) expect(JSON.parse(answer.body).error, what).not.toMatch(/^no route/);
          if (method === 'GET') expect(answer.status, what).toBe(200);
        }
      }
    }

    // The process survived and a well-behaved device still works.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await admin('POST', '/api/devices/dev-1/enable');
    const token = (await admin('POST', '/api/devices/dev-1/rotate-token')).token;
    const device = socketFrom('127.0.0.1', `http://127.0.0.1:${port}/devices/thermo`, { deviceId: 'dev-1', token });
    expect(await outcome(device)).toBe('connected');
    expect(await device.timeout(5000).emitWithAck('state', { ok: 1 })).toEqual({ ok: true });
  });

  it('refuses to start with a route that does not declare who may call it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-bypass-undeclared-'));
    const bad = createHub({ dataDir: dir, port: 0, host: '127.0.0.1', adminToken: ADMIN_TOKEN, logLevel: 'silent' });
    expect(() => bad.app.get('/api/forgotten', async () => ({ secret: true }))).toThrow(/does not declare who may call it/);
    expect(() => bad.app.get('/api/misspelt', { config: { auth: 'Admin' as never } }, async () => ({ secret: true }))).toThrow(/does not declare/);
    await bad.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
