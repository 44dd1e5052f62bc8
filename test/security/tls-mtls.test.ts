// Client certificates of devices (mTLS): with `tlsClientAuth`, a device needs
// a certificate signed by the configured CA whose subject CN is its device id,
// besides its token. Both device clients, each policy.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Agent } from '../../device-client/src/agent.js';
import { createBridge } from '../../bridge/src/bridge.js';
import { HubLink } from '../../bridge/src/hub-link.js';
import { agentConfig, waitFor } from '../agent/helpers.js';
import { ADMIN, closeSockets, device, httpsCall, metric, outcome, startTlsHub, type TlsHub } from './tls-helpers.js';
import { TestCerts, type Pem } from './tls-certs.js';

let certs: TestCerts;
let server: Pem;
let deviceCa: Pem;
let th1: Pem;
let th2: Pem;
let rogueTh1: Pem;

beforeAll(() => {
  certs = new TestCerts();
  server = certs.selfSignedServer();
  deviceCa = certs.ca('device-ca');
  th1 = certs.client(deviceCa, 'th-1');
  th2 = certs.client(deviceCa, 'th-2');
  // Same CN, but signed by a CA the hub does not trust.
  rogueTh1 = certs.client(certs.ca('rogue-ca'), 'th-1');
});
afterAll(() => certs?.remove());
afterEach(closeSockets);

const hubs: TlsHub[] = [];
afterAll(async () => {
  for (const h of hubs) await h.close();
});

async function start(tlsClientAuth: 'optional' | 'devices' | 'required'): Promise<TlsHub> {
  const hub = await startTlsHub({ tlsCert: server.certFile, tlsKey: server.keyFile, tlsCa: deviceCa.certFile, tlsClientAuth });
  hubs.push(hub);
  return hub;
}

const withCert = (pem: Pem | undefined) => ({ ca: server.cert, ...(pem && { cert: pem.cert, key: pem.key }) });

async function refusedCount(hub: TlsHub, code: string): Promise<number> {
  const res = await httpsCall(`${hub.base}/metrics`, withCert(th1));
  return metric(res.text, 'sitehub_refused_connections_total', `namespace="device",code="${code}"`);
}

for (const client of ['socket.io-client', 'device-client'] as const) {
  describe(`${client}, tlsClientAuth "devices"`, () => {
    let hub: TlsHub;
    beforeAll(async () => {
      hub = await start('devices');
    });

    const attempt = (deviceId: string, cert: Pem | undefined, token = hub.tokens[deviceId]!, transports: Array<'polling' | 'websocket'> = ['websocket']) =>
      outcome(device(client, `${hub.base}/devices/thermo`, { deviceId, token }, withCert(cert), transports));

    it('accepts a device with its own certificate and token, over WebSocket and polling', async () => {
      expect(await attempt('th-1', th1)).toBe('connected');
      expect(await attempt('th-2', th2, undefined, ['polling'])).toBe('connected');
    });

    it('refuses a device without a certificate, even with the right token, and counts it', async () => {
      const before = await refusedCount(hub, 'certificate_required');
      expect(await attempt('th-1', undefined)).toEqual({ message: 'client certificate required', data: { code: 'certificate_required' } });
      expect(await attempt('th-1', undefined, undefined, ['polling'])).toMatchObject({ data: { code: 'certificate_required' } });
      expect(await refusedCount(hub, 'certificate_required')).toBe(before + 2);
    });

    it("refuses another device's certificate (CN is not the device id)", async () => {
      expect(await attempt('th-1', th2)).toMatchObject({ data: { code: 'certificate_mismatch' } });
    });

    it('refuses a certificate from a CA the hub does not trust', async () => {
      expect(await attempt('th-1', rogueTh1)).toMatchObject({ data: { code: 'certificate_invalid' } });
    });

    it('refuses the right certificate with a wrong token', async () => {
      expect(await attempt('th-1', th1, 'wrong-token-wrong-token')).toMatchObject({ data: { code: 'invalid_credentials' } });
    });

    it('leaves REST and the console to their tokens: no certificate needed there', async () => {
      const res = await httpsCall(`${hub.base}/api/devices`, withCert(undefined), { headers: { authorization: `Bearer ${ADMIN}` } });
      expect(res.status).toBe(200);
      const consoleSocket = device(client, `${hub.base}/console`, { token: ADMIN }, withCert(undefined));
      expect(await outcome(consoleSocket)).toBe('connected');
    });
  });
}

describe('tlsClientAuth "required"', () => {
  let hub: TlsHub;
  beforeAll(async () => {
    hub = await start('required');
  });

  it('refuses the TLS handshake itself without a certificate from the CA, for devices and REST alike', async () => {
    const failures = async () => {
      const text = (await httpsCall(`${hub.base}/metrics`, withCert(th1))).text;
      const lines = text.split('\n').filter((l) => l.startsWith('sitehub_tls_handshake_failures_total{'));
      return Object.fromEntries(lines.map((l) => [l.slice(l.indexOf('code="') + 6, l.indexOf('"}')), Number(l.split(' ').pop())]));
    };
    const before = await failures();
    for (const client of ['socket.io-client', 'device-client'] as const) {
      const result = await outcome(device(client, `${hub.base}/devices/thermo`, { deviceId: 'th-1', token: hub.tokens['th-1'] }, withCert(undefined)));
      expect(result).not.toBe('connected');
      const rogue = await outcome(device(client, `${hub.base}/devices/thermo`, { deviceId: 'th-1', token: hub.tokens['th-1'] }, withCert(rogueTh1)));
      expect(rogue).not.toBe('connected');
    }
    await expect(httpsCall(`${hub.base}/healthz`, withCert(undefined))).rejects.toThrow();
    await expect(httpsCall(`${hub.base}/healthz`, withCert(rogueTh1))).rejects.toThrow();
    expect((await httpsCall(`${hub.base}/healthz`, withCert(th1))).status).toBe(200);
    // Every refused handshake is counted: 2 clients x (none, rogue) + REST (none, rogue).
    const after = await failures();
    const added = (code: string) => (after[code] ?? 0) - (before[code] ?? 0);
    expect(added('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE')).toBe(3);
    expect(Object.keys(after).reduce((n, code) => n + added(code), 0)).toBe(6);
  });

  it("accepts a device with its certificate, still binding the CN to the device id", async () => {
    for (const client of ['socket.io-client', 'device-client'] as const) {
      expect(await outcome(device(client, `${hub.base}/devices/thermo`, { deviceId: 'th-1', token: hub.tokens['th-1'] }, withCert(th1)))).toBe('connected');
      expect(await outcome(device(client, `${hub.base}/devices/thermo`, { deviceId: 'th-1', token: hub.tokens['th-1'] }, withCert(th2)))).toMatchObject({
        data: { code: 'certificate_mismatch' },
      });
    }
  });
});

describe('tlsClientAuth "optional"', () => {
  let hub: TlsHub;
  beforeAll(async () => {
    hub = await start('optional');
  });

  it('lets a device without a certificate in on its token, but checks a certificate that is presented', async () => {
    const attempt = (deviceId: string, cert: Pem | undefined) =>
      outcome(device('device-client', `${hub.base}/devices/thermo`, { deviceId, token: hub.tokens[deviceId] }, withCert(cert)));
    expect(await attempt('th-1', undefined)).toBe('connected');
    expect(await attempt('th-2', th2)).toBe('connected');
    expect(await attempt('th-1', th2)).toMatchObject({ data: { code: 'certificate_mismatch' } });
    expect(await attempt('th-1', rogueTh1)).toMatchObject({ data: { code: 'certificate_invalid' } });
  });
});

describe('sitehub-agent with hub.tls', () => {
  it('delivers readings to a "devices" hub with its certificate, and is refused without one', async () => {
    const hub = await start('devices');
    const run = async (tls: Record<string, string>) => {
      const dir = mkdtempSync(join(certs.dir, 'agent-'));
      const agent = new Agent(
        agentConfig(
          {
            hub: { url: hub.base, deviceId: 'th-1', token: hub.tokens['th-1'], class: 'thermo', tls },
            simulate: { sensors: 1, intervalMs: 10, total: 20 },
            outbox: { path: join(dir, 'outbox.db') },
          },
          true,
        ),
      );
      agent.start();
      return agent;
    };
    const stored = async () => (await hub.hub.store.telemetry.query({ deviceId: 'th-1', from: 0, to: Date.now() + 3_600_000, limit: 1000 })).length;
    const before = await stored();
    const refusedBefore = await refusedCount(hub, 'certificate_required');

    const without = await run({ ca: server.certFile });
    try {
      await waitFor(async () => (await refusedCount(hub, 'certificate_required')) > refusedBefore, 5000, 'the agent refused');
    } finally {
      await without.stop();
    }
    expect(await stored()).toBe(before);

    const withCert = await run({ ca: server.certFile, cert: th1.certFile, key: th1.keyFile });
    try {
      await waitFor(async () => (await stored()) >= before + 20, 10_000, 'readings from the agent');
    } finally {
      await withCert.stop();
    }
  });

  it('refuses a certificate without its key, and names an unreadable file', () => {
    expect(() => agentConfig({ hub: { url: 'https://h:1', deviceId: 'd', token: 't', class: 'c', tls: { cert: 'a.crt' } } })).toThrow(/"cert" and "key" go together/);
    const config = agentConfig({ hub: { url: 'https://h:1', deviceId: 'd', token: 't', class: 'c', tls: { ca: join(certs.dir, 'absent.pem') } }, simulate: { sensors: 1 } }, true);
    expect(() => new Agent(config)).toThrow(/cannot read hub\.tls\.ca .*absent\.pem/);
  });
});

describe('the certificate commands of docs/security.md', () => {
  it('make a device CA and a certificate for th-1 that a "devices" hub accepts for th-1 only', async () => {
    const doc = readFileSync(fileURLToPath(new URL('../../docs/security.md', import.meta.url)), 'utf8');
    const script = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('openssl req -x509'));
    expect(script).toBeDefined();
    const dir = mkdtempSync(join(certs.dir, 'doc-'));
    execFileSync('bash', ['-e', '-c', script!], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const hub = await startTlsHub({ tlsCert: server.certFile, tlsKey: server.keyFile, tlsCa: join(dir, 'device-ca.crt'), tlsClientAuth: 'devices' });
    hubs.push(hub);
    const tls = { ca: server.cert, cert: readFileSync(join(dir, 'th-1.crt')), key: readFileSync(join(dir, 'th-1.key')) };
    expect(await outcome(device('device-client', `${hub.base}/devices/thermo`, { deviceId: 'th-1', token: hub.tokens['th-1'] }, tls))).toBe('connected');
    expect(await outcome(device('device-client', `${hub.base}/devices/thermo`, { deviceId: 'th-2', token: hub.tokens['th-2'] }, tls))).toMatchObject({
      data: { code: 'certificate_mismatch' },
    });
  });
});

describe('sitehub-bridge hub link with TLS files', () => {
  it('reaches a "required" hub with hubCaFile, hubCertFile and hubKeyFile, and not without the certificate', async () => {
    const hub = await start('required');
    const { token } = await hub.hub.services.registry.createBridgeToken('tls-bridge');
    const bridgeCert = certs.client(deviceCa, 'bridge-1');
    const link = (tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }) => new HubLink({ url: hub.base, token, filter: {}, reconnectDelayMaxMs: 1000, tls, position: () => undefined }, pino({ level: 'silent' }));

    const withCert = link({ ca: server.cert, cert: bridgeCert.cert, key: bridgeCert.key });
    try {
      await new Promise<void>((resolve) => withCert.once('up', () => resolve()));
    } finally {
      withCert.socket.close();
    }
    const without = link({ ca: server.cert });
    try {
      const error = await new Promise<Error>((resolve) => without.socket.once('connect_error', resolve));
      expect(error).toBeInstanceOf(Error);
      expect(without.subscribed).toBe(false);
    } finally {
      without.socket.close();
    }
  });

  it('names an unreadable file at start', () => {
    expect(() => createBridge({ hubToken: 'x'.repeat(20), hubCaFile: join(certs.dir, 'absent-ca.pem'), queueFile: ':memory:' })).toThrow(/cannot read hubCaFile .*absent-ca\.pem/);
  });
});
