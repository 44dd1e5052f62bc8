// Test helpers for the IoT hub: a hub on 127.0.0.1 port 0 with a temp data
// folder, a REST client with the admin token, socket.io-client sockets that
// are closed after each test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as ioClient, type Socket as ClientSocket, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { createHub, type Hub, type HubConfig } from '@sitehub/hub';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** A started hub with helpers bound to it. */
export interface TestHub {
  hub: Hub;
  base: string;
  dataDir: string;
  api: Api;
  /** A socket.io-client socket to `nsp`; closed by closeAll(). */
  connect(nsp: string, auth: Record<string, unknown>, opts?: Partial<ManagerOptions & SocketOptions>): ClientSocket;
  close(): Promise<void>;
}

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
}

export type Api = (method: string, path: string, body?: unknown, token?: string) => Promise<ApiAnswer>;

const hubs = new Set<TestHub>();
const clients = new Set<ClientSocket>();

/** A REST client for `base` with the admin token (or another one). */
export function apiFor(base: string, adminToken = ADMIN_TOKEN): Api {
  return async (method, path, body, token = adminToken) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  };
}

/** A socket.io-client socket, closed by closeClients(). */
export function connectClient(base: string, nsp: string, auth: Record<string, unknown>, opts: Partial<ManagerOptions & SocketOptions> = {}): ClientSocket {
  const socket = ioClient(base + nsp, { auth, transports: ['websocket'], forceNew: true, reconnection: false, ...opts });
  clients.add(socket);
  return socket;
}

/** Starts a hub with a fresh data folder. */
export async function startHub(config: Partial<HubConfig> = {}): Promise<TestHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sitehub-test-'));
  const hub = createHub({ dataDir, port: 0, host: '127.0.0.1', adminToken: ADMIN_TOKEN, logLevel: 'silent', ...config });
  const { port } = await hub.listen();
  const base = `http://127.0.0.1:${port}`;
  const handle: TestHub = {
    hub,
    base,
    dataDir,
    api: apiFor(base),
    connect: (nsp, auth, opts) => connectClient(base, nsp, auth, opts),
    async close() {
      hubs.delete(handle);
      await hub.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  hubs.add(handle);
  return handle;
}

/** Closes every client socket opened since the last call. */
export function closeClients(): void {
  for (const c of clients) c.close();
  clients.clear();
}

/** Closes every client and hub; use in afterEach. */
export async function closeAll(): Promise<void> {
  closeClients();
  await Promise.all([...hubs].map((h) => h.close()));
}

/** Resolves on `connect`, rejects with the connect_error (message, data) otherwise. */
export function connected(socket: ClientSocket, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no connect within ' + timeoutMs + ' ms')), timeoutMs);
    socket.once('connect', () => (clearTimeout(timer), resolve()));
    socket.once('connect_error', (err) => (clearTimeout(timer), reject(err)));
  });
}

/** Resolves with the connect_error the socket gets; fails if it connects. */
export function refused(socket: ClientSocket, timeoutMs = 5000): Promise<Error & { data?: any }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no connect_error within ' + timeoutMs + ' ms')), timeoutMs);
    socket.once('connect', () => (clearTimeout(timer), reject(new Error('connected, expected a refusal'))));
    socket.once('connect_error', (err) => (clearTimeout(timer), resolve(err)));
  });
}

/** Resolves with the next `event` on `socket` whose payload passes `match`. */
export function nextEvent<T = any>(socket: ClientSocket, event: string, match: (payload: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (socket.off(event, on), reject(new Error(`no matching "${event}" within ${timeoutMs} ms`))), timeoutMs);
    const on = (payload: T) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(payload);
    };
    socket.on(event, on);
  });
}

/** Creates a site and a class and registers a device in them; returns its id and token. */
export async function registerDevice(api: Api, opts: { siteId?: string; classId?: string; deviceId?: string } = {}): Promise<{ deviceId: string; token: string; siteId: string; classId: string }> {
  const siteId = opts.siteId ?? 'site-a';
  const classId = opts.classId ?? 'thermo';
  const site = await api('POST', '/api/sites', { id: siteId });
  if (site.status !== 201 && site.status !== 409) throw new Error(`site: ${site.status} ${JSON.stringify(site.body)}`);
  const cls = await api('POST', '/api/classes', { id: classId });
  if (cls.status !== 201 && cls.status !== 409) throw new Error(`class: ${cls.status} ${JSON.stringify(cls.body)}`);
  const dev = await api('POST', '/api/devices', { classId, siteId, ...(opts.deviceId && { id: opts.deviceId }) });
  if (dev.status !== 201) throw new Error(`device: ${dev.status} ${JSON.stringify(dev.body)}`);
  return { deviceId: dev.body.device.id, token: dev.body.token, siteId, classId };
}

/** Timestamps of test readings grow with seq from here (an hour ago), 10 ms apart. */
const T0 = Date.now() - 3_600_000;

/** `n` readings with seqs from `firstSeq`; ts grows with seq. */
export function readings(firstSeq: number, n: number): Array<{ seq: number; ts: number; values: Record<string, number> }> {
  return Array.from({ length: n }, (_, i) => ({ seq: firstSeq + i, ts: T0 + (firstSeq + i) * 10, values: { temp: 20 + ((firstSeq + i) % 10), rh: 40 } }));
}
