// BAD-INPUTS edge row "cross-origin console": a page of another origin
// (another port of the same host: the same site, so the SameSite=Strict
// cookie goes along) using the signed-in cookie on /console or on a REST call
// is refused and counted; the hub's own origin and configured origins work;
// bearer-token calls need no Origin check.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, closeAll, readings, registerDevice, startHub, type TestHub } from '../iot/helpers.js';
import { closeSockets, metric, outcome, socketFrom } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const servers = new Set<Server>();

afterEach(async () => {
  closeSockets();
  for (const s of servers) s.closeAllConnections(), s.close();
  servers.clear();
  await closeAll();
});

/** The "other origin": a page server on another port of 127.0.0.1. */
async function otherOrigin(html = '<!doctype html><title>elsewhere</title>'): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function signIn(t: TestHub): Promise<string> {
  const res = await fetch(`${t.base}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: ADMIN_TOKEN }) });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

function rest(t: TestHub, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Response> {
  return fetch(t.base + path, { method, headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });
}

function consoleWith(t: TestHub, headers: Record<string, string>): Promise<string> {
  return outcome(socketFrom('127.0.0.1', `${t.base}/console`, {}, { extraHeaders: headers }));
}

describe('cross-origin console', () => {
  it('refuses the session cookie from another origin on /console and on REST calls, and counts it', async () => {
    const elsewhere = await otherOrigin();
    const t = await startHub();
    const { deviceId, token } = await registerDevice(t.api);
    const device = socketFrom('127.0.0.2', `${t.base}/devices/thermo`, { deviceId, token });
    expect(await outcome(device)).toBe('connected');
    const cookie = await signIn(t);

    // /console: the cookie from the hub's own page, or from a client that is no browser, works; from another origin it does not.
    expect(await consoleWith(t, { cookie, origin: t.base })).toBe('connected');
    expect(await consoleWith(t, { cookie })).toBe('connected');
    expect(await consoleWith(t, { cookie, origin: elsewhere })).toBe('cross_origin');
    expect(await consoleWith(t, { cookie, origin: 'null' })).toBe('cross_origin');
    expect(await consoleWith(t, { cookie, 'sec-fetch-site': 'same-site' })).toBe('cross_origin');

    // REST: state-changing calls need the hub's own Origin; reads may omit it but not name another one.
    const refused = await rest(t, 'POST', '/api/sites', { cookie, origin: elsewhere }, { id: 'evil' });
    expect(refused.status).toBe(403);
    expect((await refused.json()).code).toBe('cross_origin');
    expect((await rest(t, 'POST', '/api/sites', { cookie }, { id: 'evil' })).status).toBe(403);
    expect((await rest(t, 'PATCH', `/api/sites/site-a`, { cookie, origin: elsewhere }, { name: 'evil' })).status).toBe(403);
    expect((await rest(t, 'POST', `/api/devices/${deviceId}/disable`, { cookie, origin: elsewhere }, {})).status).toBe(403);
    expect((await rest(t, 'GET', '/api/devices', { cookie, origin: elsewhere })).status).toBe(403);
    expect((await rest(t, 'GET', '/api/devices', { cookie, 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await t.api('GET', '/api/sites/evil')).status).toBe(404);
    expect((await t.api('GET', `/api/devices/${deviceId}`)).body.disabled).toBe(false);
    expect((await rest(t, 'GET', '/api/devices', { cookie })).status).toBe(200);
    expect((await rest(t, 'POST', '/api/sites', { cookie, origin: t.base }, { id: 'good' })).status).toBe(201);
    // Signing in or out from another origin is refused too (login CSRF, forced sign-out).
    expect((await rest(t, 'POST', '/auth/session', { origin: elsewhere }, { token: ADMIN_TOKEN })).status).toBe(403);
    await rest(t, 'DELETE', '/auth/session', { cookie, origin: elsewhere });
    expect((await rest(t, 'GET', '/auth/session', { cookie })).status).toBe(200);
    // A bearer token is no ambient browser credential: no Origin check.
    expect((await rest(t, 'POST', '/api/sites', { authorization: `Bearer ${ADMIN_TOKEN}`, origin: elsewhere }, { id: 'by-token' })).status).toBe(201);

    const m = await (await fetch(t.base + '/metrics')).text();
    expect(metric(m, 'sitehub_refused_connections_total{namespace="console",code="cross_origin"}')).toBe(3);
    expect(metric(m, 'sitehub_http_refused_total{reason="cross_origin"}')).toBe(6);
    expect(metric(m, 'sitehub_refused_connections_total{namespace="console_sign_in",code="cross_origin"}')).toBe(1);
    expect(await device.timeout(5000).emitWithAck('telemetry', readings(1, 3))).toMatchObject({ ok: true, stored: 3 });
    expect((await fetch(t.base + '/healthz')).status).toBe(200);
  });

  it('accepts the origins of allowedOrigins', async () => {
    const console2 = await otherOrigin();
    const elsewhere = await otherOrigin();
    const t = await startHub({ allowedOrigins: [console2] });
    const cookie = await signIn(t);
    expect(await consoleWith(t, { cookie, origin: console2 })).toBe('connected');
    expect(await consoleWith(t, { cookie, origin: elsewhere })).toBe('cross_origin');
    expect((await rest(t, 'POST', '/api/sites', { cookie, origin: console2 }, { id: 'from-console2' })).status).toBe(201);
    expect((await rest(t, 'POST', '/api/sites', { cookie, origin: elsewhere }, { id: 'from-elsewhere' })).status).toBe(403);
  });

  it('in Chromium: a page on another port of the same host sends the cookie, and the hub refuses it; the hub\'s own page is accepted', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing`).toBe(true);
    // What a hostile page does: a CORS-free "simple" POST and a WebSocket, both carrying the browser's cookies.
    const attack = `<!doctype html><script>
      window.attack = async (hub) => {
        await fetch(hub + '/api/sites', { method: 'POST', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"id":"evil"}' }).catch(() => {});
        return window.consoleHandshake(hub);
      };
      window.consoleHandshake = (hub) => new Promise((resolve) => {
        const ws = new WebSocket(hub.replace('http:', 'ws:') + '/socket.io/?EIO=4&transport=websocket');
        ws.onmessage = (e) => {
          if (e.data[0] === '0') ws.send('40/console,');
          else if (e.data.startsWith('4')) { ws.close(); resolve(e.data); }
        };
        ws.onerror = () => resolve('error');
      });
    </script>`;
    const elsewhere = await otherOrigin(attack);
    const t = await startHub();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, timeout: 30_000 });
    try {
      const page = await browser.newPage();
      // Sign in on the hub's own origin, as the console does.
      await page.goto(`${t.base}/healthz`);
      const signedIn = await page.evaluate(
        async (token) => (await fetch('/auth/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) })).status,
        ADMIN_TOKEN,
      );
      expect(signedIn).toBe(200);

      await page.goto(elsewhere);
      const answer: string = await page.evaluate((hub) => (window as any).attack(hub), t.base);
      // "cross_origin" (not "invalid_credentials") shows that the browser did send the cookie.
      expect(answer).toMatch(/^44\/console,.*"code":"cross_origin"/);
      expect((await t.api('GET', '/api/sites/evil')).status).toBe(404);

      // The same handshake from the hub's own origin is accepted: the refusal above is about the origin alone.
      await page.goto(`${t.base}/healthz`);
      await page.addScriptTag({ content: attack.replace(/^<!doctype html><script>|<\/script>$/g, '') });
      expect(await page.evaluate((hub) => (window as any).consoleHandshake(hub), t.base)).toMatch(/^40\/console,\{"sid"/);
    } finally {
      await browser.close();
    }
    const m = await (await fetch(t.base + '/metrics')).text();
    expect(metric(m, 'sitehub_refused_connections_total{namespace="console",code="cross_origin"}')).toBe(1);
    expect(metric(m, 'sitehub_http_refused_total{reason="cross_origin"}')).toBe(1);
  });
});
