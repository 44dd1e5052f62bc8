// The hub's console routes without a browser: static files with types,
// ETags and SPA fallback; sign-in to an httpOnly SameSite cookie that opens
// /api and /console; wrong tokens refused; sign-out ends the session.
import { io as ioClient } from 'socket.io-client';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, buildConsole, startTestHub, type TestHub } from './hub-console.js';

let consoleDir: string;
let t: TestHub;

beforeAll(async () => {
  consoleDir = await buildConsole();
  t = await startTestHub(consoleDir);
}, 60_000);
afterAll(async () => {
  await t?.close();
  await rm(consoleDir, { recursive: true, force: true });
});

async function signIn(token: string): Promise<Response> {
  return fetch(`${t.url}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
}

function cookieOf(res: Response): string {
  return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
}

function consoleConnect(headers: Record<string, string>): Promise<string> {
  const socket = ioClient(`${t.url}/console`, { extraHeaders: headers, transports: ['polling'], reconnection: false, forceNew: true });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.disconnect();
      resolve('connected');
    });
    socket.once('connect_error', (err) => {
      socket.disconnect();
      resolve(err.message);
    });
  });
}

describe('console static files', () => {
  it('serves index.html with CSP, assets with their types, ETag revalidation and a year of caching', async () => {
    const index = await fetch(`${t.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(t.url + asset);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    const again = await fetch(t.url + asset, { headers: { 'if-none-match': js.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('answers console paths with index.html, but unknown API paths and files with 404 JSON', async () => {
    const page = await fetch(`${t.url}/devices/th-1`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');
    const api = await fetch(`${t.url}/api/nothing`, { headers: { accept: 'text/html', authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(api.status).toBe(404);
    const file = await fetch(`${t.url}/missing.js`, { headers: { accept: 'text/html' } });
    expect(file.status).toBe(404);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});

describe('console sign-in', () => {
  it('refuses a wrong token: 401, no cookie, and counts it', async () => {
    const res = await signIn('not-the-admin-token');
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect((await res.json()).code).toBe('invalid_credentials');
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/sitehub_refused_connections_total\{namespace="console_sign_in",code="invalid_credentials"\} [1-9]/);
  });

  it('signs in to an httpOnly SameSite=Strict cookie that opens /api and /console, and signs out', async () => {
    const res = await signIn(ADMIN_TOKEN);
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^sitehub_session=[A-Za-z0-9_-]{40,};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).not.toContain(ADMIN_TOKEN);
    const cookie = cookieOf(res);

    expect((await fetch(`${t.url}/api/sites`)).status).toBe(401);
    expect((await fetch(`${t.url}/api/sites`, { headers: { cookie } })).status).toBe(200);
    // A page on another origin cannot use the cookie.
    expect((await fetch(`${t.url}/api/sites`, { headers: { cookie, origin: 'http://evil.example' } })).status).toBe(403);
    expect(await consoleConnect({ cookie })).toBe('connected');
    expect(await consoleConnect({ cookie: 'sitehub_session=forged' })).toBe('authentication failed');

    const out = await fetch(`${t.url}/auth/session`, { method: 'DELETE', headers: { cookie } });
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await fetch(`${t.url}/api/sites`, { headers: { cookie } })).status).toBe(401);
    expect(await (await fetch(`${t.url}/auth/session`, { headers: { cookie } })).json()).toEqual({ signedIn: false });
    expect(await consoleConnect({ cookie })).toBe('authentication failed');
  });
});
