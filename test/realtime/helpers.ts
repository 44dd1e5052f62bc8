// Test helpers speaking the raw wire (Engine.IO v4 / Socket.IO v5) to our Server.
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import WebSocket from 'ws';
import type { Server, ServerOptions } from '@sitehub/hub';
import { startSitehubServer } from '../helpers/hub-server.js';

export interface Running {
  io: Server;
  httpServer: HttpServer;
  port: number;
  base: string;
  close(): Promise<void>;
}

const running = new Set<Running>();
const sockets = new Set<RawSocket>();

/** Starts a Server on 127.0.0.1, ephemeral port; `app` answers every other request. */
export async function startServer(
  opts: Partial<ServerOptions> = {},
  app?: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Running> {
  const started = await startSitehubServer(opts, app);
  const handle: Running = {
    ...started,
    base: `127.0.0.1:${started.port}`,
    async close() {
      running.delete(handle);
      await started.close();
    },
  };
  running.add(handle);
  return handle;
}

/** Closes every raw socket and server these helpers opened (call in afterEach). */
export async function cleanup(): Promise<void> {
  for (const socket of sockets) socket.terminate();
  sockets.clear();
  for (const handle of [...running]) await handle.close();
}

type Frame = string | Buffer;

/** A raw Engine.IO-over-WebSocket connection that answers pings and queues every other message. */
export class RawSocket {
  readonly ws: WebSocket;
  private readonly queue: Frame[] = [];
  private readonly waiters: Array<(frame: Frame) => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  isClosed = false;
  /** The Engine.IO session id, from the open packet. */
  sid = '';

  private constructor(url: string) {
    this.ws = new WebSocket(url);
    sockets.add(this);
    this.ws.on('error', () => {});
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame: Frame = isBinary ? data : data.toString();
      if (frame === '2') return void this.ws.send('3');
      const waiter = this.waiters.shift();
      if (waiter) waiter(frame);
      else this.queue.push(frame);
    });
    this.closed = new Promise((resolve) =>
      this.ws.on('close', (code, reason) => {
        this.isClosed = true;
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /** Opens a WebSocket session on `/socket.io/` and reads the open packet. */
  static async open(base: string, query = ''): Promise<RawSocket> {
    const socket = new RawSocket(`ws://${base}/socket.io/?EIO=4&transport=websocket${query}`);
    const open = (await socket.next()) as string;
    if (!open.startsWith('0')) throw new Error(`expected an open packet, got ${open}`);
    socket.sid = JSON.parse(open.slice(1)).sid;
    return socket;
  }

  /** Opens a session and joins `nsp` with `auth`; returns the socket and the CONNECT answer's payload. */
  static async connect(base: string, nsp = '/', auth?: object): Promise<{ socket: RawSocket; sid: string; pid?: string }> {
    const socket = await RawSocket.open(base);
    const answer = await socket.connectNsp(nsp, auth);
    return { socket, ...answer };
  }

  /** Sends a Socket.IO CONNECT for `nsp` and returns the `40` payload (throws on anything else). */
  async connectNsp(nsp = '/', auth?: object): Promise<{ sid: string; pid?: string }> {
    const prefix = nsp === '/' ? '' : `${nsp},`;
    this.send(`40${prefix}${auth ? JSON.stringify(auth) : ''}`);
    const answer = (await this.next()) as string;
    if (!answer.startsWith(`40${prefix}`)) throw new Error(`CONNECT refused: ${answer}`);
    return JSON.parse(answer.slice(2 + prefix.length));
  }

  send(frame: string | Buffer | Uint8Array): void {
    this.ws.send(frame);
  }

  /** The next non-ping message, within `ms`. */
  next(ms = 2000): Promise<Frame> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const waiter = (frame: Frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no message within ${ms} ms`));
      }, ms);
      this.waiters.push(waiter);
    });
  }

  /** Resolves if nothing arrives within `ms`; rejects with what arrived otherwise. */
  async nothingWithin(ms: number): Promise<void> {
    const frame = await this.next(ms).catch(() => undefined);
    if (frame !== undefined) throw new Error(`unexpected message ${String(frame)}`);
  }

  /** Resolves when the server closes the connection, within `ms`. */
  async closedWithin(ms = 2000): Promise<{ code: number; reason: string }> {
    return Promise.race([
      this.closed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms)),
    ]);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** Resolves once `cond()` holds (polling every 5 ms), rejects after `ms`. */
export async function until(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The arguments of the next `ev` on a Node emitter, within `ms`. */
export function nextEvent(emitter: NodeJS.EventEmitter, ev: string, ms = 2000): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${ev}" within ${ms} ms`)), ms);
    emitter.once(ev, (...args: any[]) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** HTTP long-polling: a GET or POST on the session `sid`. */
export async function poll(base: string, sid: string, body?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://${base}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
    method: body === undefined ? 'GET' : 'POST',
    body,
  });
  return { status: res.status, text: await res.text() };
}

/** Opens a polling session and returns its sid. */
export async function pollingHandshake(base: string): Promise<string> {
  const res = await fetch(`http://${base}/socket.io/?EIO=4&transport=polling`);
  const text = await res.text();
  return JSON.parse(text.slice(1)).sid;
}
