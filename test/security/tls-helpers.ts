// A hub with TLS on a temp data folder, a device registered on it, HTTPS
// requests with chosen TLS options, and both device clients (the official
// socket.io-client and ours) with TLS options.
import { request } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as officialIo, type Socket as OfficialSocket } from 'socket.io-client';
import { io as ourIo, type Socket as OurSocket } from '@sitehub/device-client';
import { createHub, type Hub, type HubConfig } from '@sitehub/hub';

export const ADMIN = 'tls-test-admin-token-0123';

/** TLS options a client passes (node:https / ws names). */
export interface ClientTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
}

/** One HTTPS request; resolves with status, headers and text, or rejects with the TLS error. */
export function httpsCall(url: string, tls: ClientTls, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, ...tls, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A started TLS hub with one class, one site and devices th-1 and th-2. */
export interface TlsHub {
  hub: Hub;
  port: number;
  base: string;
  tokens: Record<string, string>;
  close(): Promise<void>;
}

export async function startTlsHub(config: Partial<HubConfig>, base = (port: number) => `https://localhost:${port}`): Promise<TlsHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sitehub-tls-hub-'));
  let hub: Hub;
  try {
    hub = createHub({ dataDir, port: 0, host: '127.0.0.1', adminToken: ADMIN, logLevel: 'silent', ...config });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  let port: number;
  try {
    ({ port } = await hub.listen());
  } catch (err) {
    await hub.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const registry = hub.services.registry;
  await registry.createSite({ id: 'plant' });
  await registry.createClass({ id: 'thermo' });
  const tokens: Record<string, string> = {};
  for (const id of ['th-1', 'th-2']) tokens[id] = (await registry.registerDevice({ id, classId: 'thermo', siteId: 'plant' })).token;
  return {
    hub,
    port,
    base: base(port),
    tokens,
    async close() {
      await hub.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

type AnySocket = OfficialSocket | OurSocket;
const open = new Set<AnySocket>();

/** A device socket from either client, closed by closeSockets(). */
export function device(client: 'socket.io-client' | 'device-client', url: string, auth: Record<string, unknown>, tls: ClientTls, transports: Array<'polling' | 'websocket'> = ['websocket']): AnySocket {
  const opts = { auth, transports, forceNew: true, reconnection: false, timeout: 5000, ...tls };
  // socket.io-client's types say string for ca/cert/key; Node's TLS takes Buffers as well.
  const socket = client === 'socket.io-client' ? officialIo(url, opts as Parameters<typeof officialIo>[1]) : (ourIo(url, opts) as unknown as AnySocket);
  open.add(socket);
  return socket;
}

export function closeSockets(): void {
  for (const s of open) s.close();
  open.clear();
}

/** Resolves 'connected', or the connect_error's message and data. */
export function outcome(socket: AnySocket): Promise<'connected' | { message: string; data?: unknown }> {
  return new Promise((resolve) => {
    (socket as OfficialSocket).once('connect', () => resolve('connected'));
    (socket as OfficialSocket).once('connect_error', (err: Error & { data?: unknown }) => resolve({ message: err.message, data: err.data }));
  });
}

/** The value of one labelled counter in the hub's /metrics text (0 when absent). */
export function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}
