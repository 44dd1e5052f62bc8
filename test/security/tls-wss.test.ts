// TLS served by the hub itself: devices over WSS and HTTPS polling with a
// self-signed certificate made at test time, the session cookie `Secure`
// over TLS, certificates reloaded without a restart, and half-configured TLS
// refused at start.
import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../hub/src/config/index.js';
import { ADMIN, closeSockets, device, httpsCall, outcome, startTlsHub, type TlsHub } from './tls-helpers.js';
import { TestCerts, type Pem } from './tls-certs.js';

const MAIN = fileURLToPath(new URL('../../hub/dist/main.js', import.meta.url));

/** The SHA-256 fingerprint of the certificate the hub on `port` presents now. */
function fingerprintAt(port: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}

const reading = (seq: number) => ({ seq, ts: Date.now(), values: { temp: 21 } });

let certs: TestCerts;
let server: Pem;
let hub: TlsHub;

beforeAll(async () => {
  certs = new TestCerts();
  server = certs.selfSignedServer();
  // The hub reads copies, so that the reload test can replace them.
  copyFileSync(server.certFile, join(certs.dir, 'live.crt'));
  copyFileSync(server.keyFile, join(certs.dir, 'live.key'));
  hub = await startTlsHub({ tlsCert: join(certs.dir, 'live.crt'), tlsKey: join(certs.dir, 'live.key') });
});
afterAll(async () => {
  await hub?.close();
  certs?.remove();
});
afterEach(closeSockets);

describe('a hub with tlsCert and tlsKey', () => {
  for (const client of ['socket.io-client', 'device-client'] as const) {
    for (const transports of [['websocket'], ['polling', 'websocket']] as Array<Array<'polling' | 'websocket'>>) {
      it(`${client} (${transports.join(' then ')}) connects with the certificate as its CA and gets acks`, async () => {
        const socket = device(client, `${hub.base}/devices/thermo`, { deviceId: 'th-1', token: hub.tokens['th-1'] }, { ca: server.cert }, transports);
        expect(await outcome(socket)).toBe('connected');
        const ack = await socket.timeout(5000).emitWithAck('telemetry', [reading(Date.now())]);
        expect(ack).toMatchObject({ ok: true, stored: 1 });
        if (transports.length === 1) expect((socket.io as unknown as { engine: { transport: { name: string } } }).engine.transport.name).toBe('websocket');
      });
    }
    it(`${client} refuses the hub's self-signed certificate without it as CA (the port really speaks TLS)`, async () => {
      const socket = device(client, `${hub.base}/devices/thermo`, { deviceId: 'th-1', token: hub.tokens['th-1'] }, {});
      const result = await outcome(socket);
      expect(result).not.toBe('connected');
    });
  }

  it('refuses clear HTTP on the TLS port, and counts it', async () => {
    const counted = () => hub.hub.services.metrics.tlsHandshakeFailures.get('ERR_SSL_HTTP_REQUEST');
    const before = counted();
    const answer = await fetch(`http://127.0.0.1:${hub.port}/healthz`).then((r) => r.status, (err: Error) => err.message);
    expect(answer).not.toBe(200);
    expect(counted()).toBe(before + 1);
  });

  it('sets the console session cookie Secure over HTTPS', async () => {
    const res = await httpsCall(`${hub.base}/auth/session`, { ca: server.cert }, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: ADMIN }),
    });
    expect(res.status).toBe(200);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/HttpOnly/);
  });

  it('reloads the certificate without a restart; an unusable one changes nothing', async () => {
    const fingerprint = () => fingerprintAt(hub.port);
    const before = await fingerprint();
    expect(before).toBe(new X509Certificate(server.cert).fingerprint256);

    const renewed = certs.selfSignedServer('renewed');
    // A device that is connected before the reload stays connected.
    const kept = device('device-client', `${hub.base}/devices/thermo`, { deviceId: 'th-2', token: hub.tokens['th-2'] }, { ca: server.cert });
    expect(await outcome(kept)).toBe('connected');

    copyFileSync(renewed.keyFile, join(certs.dir, 'live.key')); // key renewed, certificate not yet: a mismatch
    expect(() => hub.hub.reloadTls()).toThrow();
    expect(await fingerprint()).toBe(before);

    copyFileSync(renewed.certFile, join(certs.dir, 'live.crt'));
    hub.hub.reloadTls();
    expect(await fingerprint()).toBe(new X509Certificate(renewed.cert).fingerprint256);
    const fresh = device('socket.io-client', `${hub.base}/devices/thermo`, { deviceId: 'th-1', token: hub.tokens['th-1'] }, { ca: renewed.cert });
    expect(await outcome(fresh)).toBe('connected');
    expect(kept.connected).toBe(true);
    expect(await kept.timeout(5000).emitWithAck('telemetry', [reading(Date.now())])).toMatchObject({ ok: true });

    // Back to the first certificate for the other tests.
    copyFileSync(server.certFile, join(certs.dir, 'live.crt'));
    copyFileSync(server.keyFile, join(certs.dir, 'live.key'));
    hub.hub.reloadTls();
  });
});

describe('the sitehub command', () => {
  it('reloads its certificate on SIGHUP and keeps serving', async () => {
    const dir = mkdtempSync(join(certs.dir, 'sighup-'));
    copyFileSync(server.certFile, join(dir, 'hub.crt'));
    copyFileSync(server.keyFile, join(dir, 'hub.key'));
    const child = spawn(process.execPath, [MAIN, '--data-dir', join(dir, 'data'), '--port', '0', '--host', '127.0.0.1', '--admin-token', ADMIN,
      '--tls-cert', join(dir, 'hub.crt'), '--tls-key', join(dir, 'hub.key')], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let log = '';
    child.stdout!.on('data', (c: Buffer) => (log += c));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.on('message', (m: { type?: string; port?: number }) => m.type === 'ready' && resolve(m.port!));
        child.once('exit', (code) => reject(new Error(`sitehub exited with ${code}: ${log}`)));
      });
      expect(await fingerprintAt(port)).toBe(new X509Certificate(server.cert).fingerprint256);
      const renewed = certs.selfSignedServer('sighup-renewed');
      copyFileSync(renewed.certFile, join(dir, 'hub.crt'));
      copyFileSync(renewed.keyFile, join(dir, 'hub.key'));
      child.kill('SIGHUP');
      for (let i = 0; i < 100 && !log.includes('TLS certificates reloaded'); i++) await new Promise((r) => setTimeout(r, 20));
      expect(log).toContain('TLS certificates reloaded');
      expect(await fingerprintAt(port)).toBe(new X509Certificate(renewed.cert).fingerprint256);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});

describe('TLS settings', () => {
  const problem = (argv: string[]) => {
    try {
      loadConfig(argv, {});
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    return 'accepted';
  };

  it('refuses half a TLS configuration, naming the settings', () => {
    expect(problem(['--tls-cert', 'a.crt'])).toContain('"tlsCert" (flag --tls-cert) needs "tlsKey" too');
    expect(problem(['--tls-key', 'a.key'])).toContain('"tlsKey" (flag --tls-key) needs "tlsCert" too');
    expect(problem(['--tls-cert', 'a.crt', '--tls-key', 'a.key', '--tls-client-auth', 'devices'])).toContain('"tlsCa" is unset');
    expect(problem(['--tls-client-auth', 'required', '--tls-ca', 'ca.crt'])).toContain('TLS is off');
    expect(problem(['--tls-cert', 'a.crt', '--tls-key', 'a.key', '--tls-ca', 'ca.crt'])).toContain('"tlsClientAuth" is "off"');
    expect(problem(['--tls-client-auth', 'sometimes'])).toContain('must be one of off, optional, devices, required');
    expect(problem(['--tls-cert', 'a.crt', '--tls-key', 'a.key', '--tls-client-auth', 'devices', '--tls-ca', 'ca.crt'])).toBe('accepted');
  });

  it('refuses to start when a file cannot be read, naming it', async () => {
    await expect(startTlsHub({ tlsCert: join(certs.dir, 'absent.crt'), tlsKey: server.keyFile })).rejects.toThrow(/cannot read tlsCert .*absent\.crt/);
  });
});
