// Shared set-up of the console tests: a hub on 127.0.0.1:0 with a temp data
// dir serving a console built into a temp dir, and simulated devices.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io as ioClient, type Socket } from 'socket.io-client';
import { build } from 'vite';
import { createHub, type Hub } from '@sitehub/hub';

export const ADMIN_TOKEN = 'console-test-admin-token-0123456789';
const consoleRoot = fileURLToPath(new URL('../../web-console/', import.meta.url));

/** Builds the console into a temp dir and returns it (the hub reads SITEHUB_CONSOLE_DIR). */
export async function buildConsole(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'sitehub-console-dist-'));
  await build({ root: consoleRoot, configFile: join(consoleRoot, 'vite.config.js'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  return outDir;
}

export interface TestHub {
  hub: Hub;
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestHub(consoleDir: string): Promise<TestHub> {
  process.env.SITEHUB_CONSOLE_DIR = consoleDir;
  const dataDir = await mkdtemp(join(tmpdir(), 'sitehub-console-data-'));
  const hub = createHub({ dataDir, port: 0, host: '127.0.0.1', adminToken: ADMIN_TOKEN, logLevel: 'silent', commandAckTimeoutMs: 5000 });
  await hub.listen();
  return {
    hub,
    url: `http://127.0.0.1:${hub.port}`,
    dataDir,
    async close() {
      await hub.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A JSON request with the admin token. */
export async function adminApi<T = any>(url: string, path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST'): Promise<T> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A simulated device: sends a reading every `intervalMs`, answers every command with `{ ok: true, result }`. */
export interface SimDevice {
  socket: Socket;
  id: string;
  stop(): void;
}

export async function connectDevice(url: string, classId: string, id: string, token: string, intervalMs = 200): Promise<SimDevice> {
  const socket = ioClient(`${url}/devices/${classId}`, { auth: { deviceId: id, token }, transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  socket.on('command', (cmd: { name: string; params: unknown }, ack: (a: unknown) => void) => ack({ ok: true, result: { echoed: cmd.name, params: cmd.params, by: id } }));
  let seq = 0;
  await socket.emitWithAck('state', { firmware: '1.4.2', mode: 'eco', 'outbox.depth': 0 });
  await socket.emitWithAck('event', { kind: 'alarm', severity: 'warning', message: `${id} door open` });
  const timer = setInterval(() => {
    seq++;
    socket.emit('telemetry', { seq, ts: Date.now(), values: { temp: 20 + Math.sin(seq / 5) * 2, rh: 40 + (seq % 7) } }, () => {});
  }, intervalMs);
  return {
    socket,
    id,
    stop() {
      clearInterval(timer);
      socket.disconnect();
    },
  };
}
