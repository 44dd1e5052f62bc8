// Test helpers for the Engine.IO server: a server on an ephemeral port, and
// raw clients written from the protocol spec (fetch, ws, plain TCP).
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import { EngineServer, type AttachOptions, type EngineServerOptions, type EngineSocket } from '@sitehub/hub';

export interface TestEngine {
  engine: EngineServer;
  http: HttpServer;
  port: number;
  /** http://127.0.0.1:port/engine.io/ */
  base: string;
  /** The Engine.IO URL for `transport` with optional sid and extra query. */
  url(transport: 'polling' | 'websocket', extra?: Record<string, string>): string;
  close(): Promise<void>;
}

/** Sessions echo every message back as received (text as text, binary as binary). */
export function echo(engine: EngineServer): void {
  engine.on('connection', (socket: EngineSocket) => {
    socket.on('message', (data: string | Buffer) => socket.send(data));
  });
}

/** Starts an EngineServer (echoing by default) on 127.0.0.1, port 0. */
export async function startEngine(
  opts: Partial<EngineServerOptions> = {},
  { attach = {}, withEcho = true, http = createServer() }: { attach?: AttachOptions; withEcho?: boolean; http?: HttpServer } = {},
): Promise<TestEngine> {
  const engine = new EngineServer(opts);
  engine.attach(http, attach);
  if (withEcho) echo(engine);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const path = (attach.path ?? '/engine.io').replace(/\/$/, '') + (attach.addTrailingSlash === false ? '' : '/');
  const base = `http://127.0.0.1:${port}${path}`;
  return {
    engine,
    http,
    port,
    base,
    url: (transport, extra = {}) => {
      const query = new URLSearchParams({ EIO: '4', transport, ...extra });
      const httpUrl = `${base}?${query}`;
      return transport === 'websocket' ? httpUrl.replace('http://', 'ws://') : httpUrl;
    },
    close: () => closeHttp(http, engine),
  };
}

/** Closes every session, every connection, then the server. */
export async function closeHttp(http: HttpServer, engine?: EngineServer): Promise<void> {
  engine?.close();
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
}

export interface OpenPacket {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

/** Opens a polling session; returns the sid and the open packet. */
export async function pollingHandshake(t: TestEngine, extra: Record<string, string> = {}): Promise<OpenPacket> {
  const res = await fetch(t.url('polling', extra));
  const text = await res.text();
  if (res.status !== 200 || text[0] !== '0') throw new Error(`handshake failed: ${res.status} ${text}`);
  return JSON.parse(text.slice(1)) as OpenPacket;
}

/** GET on a polling session. */
export async function poll(t: TestEngine, sid: string, init: RequestInit = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(t.url('polling', { sid }), init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** POST on a polling session. */
export async function post(t: TestEngine, sid: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(t.url('polling', { sid }), { method: 'POST', body, headers });
  return { status: res.status, body: await res.text() };
}

/** A raw WebSocket client that queues what it receives. */
export class WsClient {
  readonly ws: WebSocket;
  readonly messages: Array<{ data: string | Buffer; binary: boolean }> = [];
  closeCode: number | undefined;
  error: Error | undefined;
  private waiters: Array<() => void> = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(url: string, opts?: ConstructorParameters<typeof WebSocket>[2]) {
    this.ws = new WebSocket(url, opts);
    this.ws.on('message', (data: RawData, binary: boolean) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      this.messages.push({ data: binary ? buf : buf.toString(), binary });
      this.wake();
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.opened.catch(() => {});
    this.ws.on('error', (err) => {
      this.error = err;
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code) => {
        this.closeCode = code;
        this.wake();
        resolve(code);
      });
    });
  }

  /** The next message received, waiting up to `timeoutMs`. */
  async next(timeoutMs = 2000): Promise<{ data: string | Buffer; binary: boolean }> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length === 0) {
      if (this.closeCode !== undefined) throw new Error(`closed (${this.closeCode}) while waiting for a message`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a message');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages.shift()!;
  }

  /** The next text message. */
  async nextText(timeoutMs = 2000): Promise<string> {
    const msg = await this.next(timeoutMs);
    if (msg.binary) throw new Error('expected a text message, got binary');
    return msg.data as string;
  }

  send(data: string | Buffer | Uint8Array): void {
    this.ws.send(data);
  }

  /** Resolves with the close code, or rejects after `timeoutMs`. */
  waitClose(timeoutMs = 2000): Promise<number> {
    return withTimeout(this.closed, timeoutMs, 'WebSocket close');
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** Opens a WebSocket-only session and reads its open packet. */
export async function wsHandshake(t: TestEngine): Promise<{ client: WsClient; open: OpenPacket }> {
  const client = new WsClient(t.url('websocket'));
  const first = await client.nextText();
  if (first[0] !== '0') throw new Error(`expected an open packet, got ${first}`);
  return { client, open: JSON.parse(first.slice(1)) as OpenPacket };
}

/** Rejects if `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

/**
 * Holds the event loop for `ms` without yielding: what a long lap (a
 * reconnect storm) does to every timer. Data sent before the call waits,
 * unread, in the kernel's buffer meanwhile.
 */
export function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves once `check()` holds (looking every 2 ms); rejects after `ms`. */
export async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(2);
  }
}

/** Resolves once the server holds a GET for this polling session (its transport is writable). */
export function pollHeld(socket: EngineSocket): Promise<void> {
  return until(() => socket.transport.name === 'polling' && socket.transport.writable, `a pending GET for ${socket.id}`);
}

/**
 * Resolves once the HTTP server has taken a `method` request for session
 * `sid`: listeners run in order and the engine's comes first, so without
 * middlewares or CORS the engine has already routed it.
 */
export function requestTaken(t: TestEngine, method: string, sid: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const onRequest = (req: IncomingMessage) => {
      if (req.method !== method || !req.url?.includes(`sid=${sid}`)) return;
      t.http.off('request', onRequest);
      resolve();
    };
    t.http.on('request', onRequest);
  });
}

/** A raw HTTP exchange over TCP: writes `request`, collects everything until the peer closes or `timeoutMs`. */
export function rawExchange(
  port: number,
  request: string | Buffer | Array<string | Buffer>,
  { timeoutMs = 2000, endAfterWrite = false }: { timeoutMs?: number; endAfterWrite?: boolean } = {},
): Promise<{ text: string; status: number | undefined; closedByPeer: boolean }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closedByPeer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ text, status: match ? Number(match[1]) : undefined, closedByPeer });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      for (const part of Array.isArray(request) ? request : [request]) socket.write(part);
      if (endAfterWrite) socket.end();
    });
  });
}

/** An HTTP/1.1 WebSocket upgrade request for `path`. */
export function upgradeRequest(path: string, extraHeaders: string[] = []): string {
  return (
    `GET ${path} HTTP/1.1\r\n` +
    'Host: 127.0.0.1\r\n' +
    'Connection: Upgrade\r\n' +
    'Upgrade: websocket\r\n' +
    'Sec-WebSocket-Version: 13\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
    extraHeaders.map((h) => h + '\r\n').join('') +
    '\r\n'
  );
}

/**
 * Checks that the server still serves a fresh client: a new polling session
 * echoes a message, and so does a new WebSocket session.
 */
export async function expectStillServing(t: TestEngine): Promise<void> {
  const { sid } = await pollingHandshake(t);
  const sent = await post(t, sid, '4still-alive');
  if (sent.status !== 200) throw new Error(`POST on a fresh session failed: ${sent.status}`);
  const got = await poll(t, sid);
  if (!got.body.split('\x1e').includes('4still-alive')) throw new Error(`fresh polling session did not echo: ${got.status} ${got.body}`);
  const { client } = await wsHandshake(t);
  try {
    client.send('4ws-alive');
    let reply = await client.nextText();
    // A short test pingInterval may slip a ping in first.
    for (let i = 0; i < 3 && reply === '2'; i++) {
      client.send('3');
      reply = await client.nextText();
    }
    if (reply !== '4ws-alive') throw new Error(`fresh WebSocket session did not echo: ${reply}`);
  } finally {
    client.close();
  }
}
