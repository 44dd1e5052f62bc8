// Shared by the limits-* tests: raw Engine.IO WebSocket sessions from a
// chosen loopback address (attackers), a well-behaved device from another
// one, and /metrics readings.
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { ADMIN_TOKEN, connectClient, connected, registerDevice, readings, type TestHub } from '../iot/helpers.js';

/** The value of the /metrics line that starts with `line` (name and labels), 0 when absent. */
export async function metric(base: string, line: string): Promise<number> {
  const text = await (await fetch(base + '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

/** An Engine.IO session over a raw WebSocket that answers pings and records every message. */
export interface RawSession {
  ws: WebSocket;
  messages: string[];
  /** Resolves with the close code when the server ends the session. */
  closed: Promise<number>;
  /** Resolves with the next message (or rejects after `timeoutMs`). */
  next(timeoutMs?: number): Promise<string>;
}

/** Opens a WebSocket session; rejects with `Error(status)` when the upgrade is refused. */
export function openRawSession(base: string, opts: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<RawSession> {
  const url = base.replace(/^http/, 'ws') + '/socket.io/?EIO=4&transport=websocket';
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress: opts.localAddress, headers: opts.headers });
    const messages: string[] = [];
    const waiters: Array<(m: string) => void> = [];
    let opened = false;
    const closed = new Promise<number>((done) => ws.once('close', (code) => done(code)));
    ws.on('error', (err) => {
      if (!opened) reject(err);
    });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode }));
      ws.terminate();
    });
    ws.on('message', (data) => {
      const text = data.toString();
      if (text === '2') {
        ws.send('3');
        return;
      }
      if (!opened && text.startsWith('0')) {
        opened = true;
        resolve(session);
        return;
      }
      const waiter = waiters.shift();
      if (waiter) waiter(text);
      else messages.push(text);
    });
    const session: RawSession = {
      ws,
      messages,
      closed,
      next(timeoutMs = 5000) {
        const queued = messages.shift();
        if (queued !== undefined) return Promise.resolve(queued);
        return new Promise((done, fail) => {
          const timer = setTimeout(() => fail(new Error('no message within ' + timeoutMs + ' ms')), timeoutMs);
          waiters.push((m) => {
            clearTimeout(timer);
            done(m);
          });
        });
      },
    };
  });
}

/** Opens `n` sessions from `localAddress`, `parallel` at a time; returns the open ones and the refusal statuses. */
export async function openMany(base: string, n: number, localAddress: string, parallel = 50): Promise<{ open: RawSession[]; refused: number[] }> {
  const open: RawSession[] = [];
  const refused: number[] = [];
  let started = 0;
  const worker = async () => {
    while (started < n) {
      started++;
      try {
        open.push(await openRawSession(base, { localAddress }));
      } catch (err) {
        refused.push((err as { status?: number }).status ?? 0);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { open, refused };
}

/** GET `path` from `localAddress`; resolves with the status. */
export function getFrom(base: string, path: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, { localAddress, agent: false, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

let deviceCount = 0;

/** Registers a device, connects it from `localAddress` over WebSocket and has one telemetry batch acked; returns the socket. */
export async function wellBehavedDevice(t: TestHub, localAddress: string, classId = 'thermo') {
  const { deviceId, token } = await registerDevice(t.api, { classId, deviceId: `good-${++deviceCount}` });
  const socket = connectClient(t.base, `/devices/${classId}`, { deviceId, token }, { localAddress } as never);
  await connected(socket);
  const ack = await socket.timeout(5000).emitWithAck('telemetry', readings(1, 3));
  if (ack?.ok !== true) throw new Error('telemetry not acked: ' + JSON.stringify(ack));
  return socket;
}

/** One polling handshake from `localAddress` (through `agent` if given); resolves with the status and the body. */
export function pollingHandshake(
  base: string,
  opts: { localAddress?: string; headers?: Record<string, string>; agent?: import('node:http').Agent } = {},
): Promise<{ status: number; body: string; headers: import('node:http').IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(
      base + '/socket.io/?EIO=4&transport=polling',
      { localAddress: opts.localAddress, headers: opts.headers, agent: opts.agent ?? false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
