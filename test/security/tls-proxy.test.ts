// The HAProxy configurations of docs/security.md, run as written (only the
// listening address, the certificate path and the hub's port substituted):
// TLS terminated at HAProxy in front of a loopback hub, with Socket.IO
// polling, the WebSocket upgrade and REST through it; and TLS passed through
// to a hub that checks device certificates itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeSockets, device, httpsCall, outcome, startTlsHub, type TlsHub } from './tls-helpers.js';
import { TestCerts, type Pem } from './tls-certs.js';

const DOC = fileURLToPath(new URL('../../docs/security.md', import.meta.url));
const HAPROXY = '/usr/sbin/haproxy';

/** The ```haproxy blocks of docs/security.md, in order. */
function docBlocks(): string[] {
  return [...readFileSync(DOC, 'utf8').matchAll(/```haproxy\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 250; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`haproxy is not listening on ${port}`);
}

const proxies: ChildProcess[] = [];
/** Runs HAProxy in the foreground on `config`; stopped by PID after the tests. */
async function startHaproxy(dir: string, name: string, config: string, port: number): Promise<void> {
  const file = join(dir, `${name}.cfg`);
  writeFileSync(file, config);
  const check = spawn(HAPROXY, ['-c', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  check.stdout!.on('data', (c: Buffer) => (out += c));
  check.stderr!.on('data', (c: Buffer) => (out += c));
  const code = await new Promise((r) => check.once('exit', r));
  if (code !== 0 || out.includes('[WARNING]')) throw new Error(`haproxy -c finds fault with the documented configuration:\n${out}`);
  const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: 'ignore' });
  proxies.push(child);
  await waitListening(port);
}

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
  for (const p of proxies) {
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  }
  for (const h of hubs) await h.close();
  certs?.remove();
});

describe('the documented HAProxy setups', () => {
  it('finds the two configurations in docs/security.md', () => {
    expect(docBlocks()).toHaveLength(2);
  });

  it('TLS terminated at HAProxy: polling, the upgrade and REST reach a loopback hub', async () => {
    const hub = await startTlsHub({}, (port) => `http://127.0.0.1:${port}`);
    hubs.push(hub);
    const pem = join(certs.dir, 'haproxy.pem');
    writeFileSync(pem, Buffer.concat([server.cert, server.key]));
    const port = await freePort();
    const config = docBlocks()[0]!
      .replace('bind :443 ssl crt /etc/haproxy/hub.pem', `bind 127.0.0.1:${port} ssl crt ${pem}`)
      .replace('server hub1 127.0.0.1:3000', `server hub1 127.0.0.1:${hub.port}`);
    await startHaproxy(certs.dir, 'terminate', config, port);
    const base = `https://localhost:${port}`;

    const polling = io(`${base}/devices/thermo`, { auth: { deviceId: 'th-1', token: hub.tokens['th-1'] }, ca: server.cert.toString(), transports: ['polling', 'websocket'], forceNew: true, reconnection: false });
    sockets.push(polling);
    const upgraded = new Promise<string>((resolve) => polling.io.engine.once('upgrade', (t: { name: string }) => resolve(t.name)));
    expect(await outcome(polling)).toBe('connected');
    expect(await upgraded).toBe('websocket');
    expect(await polling.timeout(5000).emitWithAck('telemetry', [{ seq: 1, ts: Date.now(), values: { v: 1 } }])).toMatchObject({ ok: true, stored: 1 });

    const ws = device('device-client', `${base}/devices/thermo`, { deviceId: 'th-2', token: hub.tokens['th-2'] }, { ca: server.cert });
    expect(await outcome(ws)).toBe('connected');
    expect(await ws.timeout(5000).emitWithAck('telemetry', [{ seq: 1, ts: Date.now(), values: { v: 1 } }])).toMatchObject({ ok: true });
    expect((await httpsCall(`${base}/healthz`, { ca: server.cert })).status).toBe(200);
  });

  it('TLS passed through: the hub itself checks device certificates', async () => {
    const deviceCa = certs.ca('proxy-device-ca');
    const th1 = certs.client(deviceCa, 'th-1');
    const hub = await startTlsHub({ tlsCert: server.certFile, tlsKey: server.keyFile, tlsCa: deviceCa.certFile, tlsClientAuth: 'devices' });
    hubs.push(hub);
    const port = await freePort();
    const config = docBlocks()[1]!.replace('bind :443', `bind 127.0.0.1:${port}`).replace('server hub1 127.0.0.1:3000', `server hub1 127.0.0.1:${hub.port}`);
    await startHaproxy(certs.dir, 'passthrough', config, port);
    const base = `https://localhost:${port}`;
    for (const client of ['socket.io-client', 'device-client'] as const) {
      const auth = { deviceId: 'th-1', token: hub.tokens['th-1'] };
      expect(await outcome(device(client, `${base}/devices/thermo`, auth, { ca: server.cert, cert: th1.cert, key: th1.key }))).toBe('connected');
      expect(await outcome(device(client, `${base}/devices/thermo`, auth, { ca: server.cert }))).toMatchObject({ data: { code: 'certificate_required' } });
    }
  });
});
