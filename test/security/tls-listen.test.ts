// Where the hub listens: loopback only by default, on 127.0.0.1 and ::1, with
// Socket.IO polling, the WebSocket upgrade and REST working on every bound
// address (with and without TLS); opened to the network by one setting; the
// start-up log naming every address, TLS, and how to change host and port.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../hub/src/config/index.js';
import { closeSockets, device, httpsCall, outcome, startTlsHub, type TlsHub } from './tls-helpers.js';
import { TestCerts, type Pem } from './tls-certs.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(root, 'hub/dist/main.js');

let certs: TestCerts;
let server: Pem;
const hubs: TlsHub[] = [];
const sockets: Socket[] = [];

beforeAll(() => {
  certs = new TestCerts();
  server = certs.selfSignedServer();
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
  closeSockets();
});
afterAll(async () => {
  for (const h of hubs) await h.close();
  certs?.remove();
});

/** socket.io-client over polling that must upgrade to WebSocket; resolves with the transport after the upgrade. */
async function pollThenUpgrade(url: string, auth: Record<string, unknown>, tls: object = {}): Promise<string> {
  const socket = io(url, { auth, transports: ['polling', 'websocket'], forceNew: true, reconnection: false, timeout: 5000, ...tls });
  sockets.push(socket);
  const upgraded = new Promise<string>((resolve, reject) => {
    socket.io.engine.once('upgrade', (t: { name: string }) => resolve(t.name));
    socket.once('connect_error', reject);
    setTimeout(() => reject(new Error(`no upgrade on ${url}`)), 5000).unref();
  });
  upgraded.catch(() => {}); // awaited below, once connected; a refusal is reported by the line after

  expect(await outcome(socket)).toBe('connected');
  expect(socket.io.engine.transport.name === 'polling' || socket.io.engine.transport.name === 'websocket').toBe(true);
  const name = await upgraded;
  expect(await socket.timeout(5000).emitWithAck('telemetry', [{ seq: Date.now(), ts: Date.now(), values: { v: 1 } }])).toMatchObject({ ok: true });
  return name;
}

const hostOf = (address: string) => (address.includes(':') ? `[${address}]` : address);

describe('the default bind', () => {
  it('is localhost: loopback only', () => {
    expect(DEFAULT_CONFIG.host).toBe('localhost');
  });

  for (const tls of [false, true]) {
    it(`listens on 127.0.0.1 and ::1, and polling, the upgrade and REST work on each (${tls ? 'TLS' : 'clear'})`, async () => {
      const hub = await startTlsHub({ host: 'localhost', ...(tls && { tlsCert: server.certFile, tlsKey: server.keyFile }) });
      hubs.push(hub);
      const { bound, skipped } = hub.hub.addresses;
      expect(bound[0]).toBe('127.0.0.1');
      // ::1 is present on this machine; where IPv6 is off it is skipped, not fatal.
      expect([...bound, ...skipped.map((s) => s.address)]).toEqual(['127.0.0.1', '::1']);
      expect(bound).toContain('::1');
      const scheme = tls ? 'https' : 'http';
      const clientTls = tls ? { ca: server.cert } : {};
      for (const address of bound) {
        const base = `${scheme}://${hostOf(address)}:${hub.port}`;
        for (const id of ['th-1', 'th-2']) {
          // A new session per device, so each address is tried by both.
          expect(await pollThenUpgrade(`${base}/devices/thermo`, { deviceId: id, token: hub.tokens[id] }, clientTls)).toBe('websocket');
        }
        const ws = device('device-client', `${base}/devices/thermo`, { deviceId: 'th-1', token: hub.tokens['th-1'] }, clientTls, ['websocket']);
        expect(await outcome(ws)).toBe('connected');
        const health = tls ? (await httpsCall(`${base}/healthz`, clientTls)).status : (await fetch(`${base}/healthz`)).status;
        expect(health).toBe(200);
      }
      // Not a wildcard: another loopback address of this machine is not served.
      await expect(fetch(`http://127.0.0.2:${hub.port}/healthz`)).rejects.toThrow();
    });
  }

  it('opens to every interface with --host 0.0.0.0', async () => {
    const hub = await startTlsHub({ host: '0.0.0.0' });
    hubs.push(hub);
    expect(hub.hub.addresses.bound).toEqual(['0.0.0.0']);
    expect(await pollThenUpgrade(`http://127.0.0.2:${hub.port}/devices/thermo`, { deviceId: 'th-1', token: hub.tokens['th-1'] })).toBe('websocket');
  });

  it('takes a list of addresses', async () => {
    const hub = await startTlsHub({ host: '127.0.0.3, ::1' });
    hubs.push(hub);
    expect(hub.hub.addresses.bound).toEqual(['127.0.0.3', '::1']);
    expect((await fetch(`http://127.0.0.3:${hub.port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://[::1]:${hub.port}/healthz`)).status).toBe(200);
    // Not the rest of loopback (127.0.0.4: an address no other test listens on).
    await expect(fetch(`http://127.0.0.4:${hub.port}/healthz`)).rejects.toThrow();
  });
});

describe('an address the machine lacks', () => {
  it('stops the start when it was named explicitly', async () => {
    // 192.0.2.1 is TEST-NET-1: no machine has it.
    await expect(startTlsHub({ host: '127.0.0.1,192.0.2.1' })).rejects.toThrow(/cannot listen on 192\.0\.2\.1:\d+/);
  });
});

/** Runs the `sitehub` command until it reports ready; returns its log lines. */
async function startupLog(args: string[]): Promise<string[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sitehub-startlog-'));
  const child = spawn(process.execPath, [MAIN, '--data-dir', dataDir, '--port', '0', '--admin-token', 'startup-log-token', ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c));
  child.stderr!.on('data', (c: Buffer) => (out += c));
  try {
    await new Promise<void>((resolve, reject) => {
      child.on('message', (m: { type?: string }) => m.type === 'ready' && resolve());
      child.on('exit', (code) => reject(new Error(`sitehub exited with ${code}: ${out}`)));
    });
    await new Promise((r) => setTimeout(r, 50)); // the lines written just before 'ready'
    return out.split('\n').filter(Boolean).map((l) => (l.startsWith('{') ? (JSON.parse(l) as { msg: string }).msg : l));
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('the start-up log', () => {
  it('names every address, says TLS is off, and how to open the hub to the network', async () => {
    const lines = await startupLog([]);
    const listening = lines.find((l) => l.startsWith('sitehub listening on'));
    expect(listening).toMatch(/^sitehub listening on http:\/\/127\.0\.0\.1:(\d+), http:\/\/\[::1\]:\1; TLS off/);
    expect(lines.some((l) => l.startsWith('loopback only') && l.includes('--host 0.0.0.0') && l.includes('--host ::') && l.includes('--port'))).toBe(true);
  });

  it('says TLS and client certificates are on, and warns when the network is reached without TLS', async () => {
    const ca = certs.ca('log-ca');
    const tls = await startupLog(['--tls-cert', server.certFile, '--tls-key', server.keyFile, '--tls-ca', ca.certFile, '--tls-client-auth', 'devices']);
    expect(tls.find((l) => l.startsWith('sitehub listening on'))).toMatch(/https:\/\/127\.0\.0\.1:\d+, https:\/\/\[::1\]:\d+; TLS on \(HTTPS and WSS\), client certificates: devices/);
    const open = await startupLog(['--host', '0.0.0.0']);
    expect(open.find((l) => l.startsWith('sitehub listening on'))).toMatch(/http:\/\/0\.0\.0\.0:\d+; TLS off/);
    expect(open.some((l) => l.startsWith('listening beyond loopback without TLS'))).toBe(true);
  });
});
