// Client certificates of devices (mTLS): with `tlsClientAuth`, a device needs
// a certificate signed by the configured CA whose subject CN is its device id,
// besides its token. Both device clients, each policy.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
    for (const client of ['socket.io-client', 'device-client'] as const) {
      const result = await outcome(device(client, `${hub.base}/devices/thermo`, { deviceId: 'th-1', token: hub.tokens['th-1'] }, withCert(undefined)));
      expect(result).not.toBe('connected');
      const rogue = await outcome(device(client, `${hub.base}/devices/thermo`, { deviceId: 'th-1', token: hub.tokens['th-1'] }, withCert(rogueTh1)));
      expect(rogue).not.toBe('connected');
    }
    await expect(httpsCall(`${hub.base}/healthz`, withCert(undefined))).rejects.toThrow();
    await expect(httpsCall(`${hub.base}/healthz`, withCert(rogueTh1))).rejects.toThrow();
    expect((await httpsCall(`${hub.base}/healthz`, withCert(th1))).status).toBe(200);
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
