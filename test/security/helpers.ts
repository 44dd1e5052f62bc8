// Helpers of the security tests: raw HTTP/1.1 requests whose request target is
// sent byte for byte (fetch would normalise it), requests and Socket.IO clients
// from a chosen loopback address, and reading one figure from /metrics.
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { io as ioClient, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { WebSocket } from 'ws';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends one request with `target` exactly as given (absolute-form, dot segments, doubled slashes…) and reads the answer to the end. */
export function rawRequest(port: number, method: string, target: string, headers: Record<string, string> = {}, body?: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const lines = [`${method} ${target} HTTP/1.1`, `host: 127.0.0.1:${port}`, 'connection: close'];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    if (body !== undefined) lines.push('content-type: application/json', `content-length: ${Buffer.byteLength(body)}`);
    // Written, not ended: an HTTP client does not half-close, and Node's server drops a response still being streamed (a file) once the client's side has ended.
    socket.on('connect', () => socket.write(lines.join('\r\n') + '\r\n\r\n' + (body ?? '')));
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${method} ${target}`)));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split === -1 ? text.length : split).split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
      const out: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) out[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status, headers: out, body: split === -1 ? '' : text.slice(split + 4) });
    });
  });
}

const agents = new Map<string, Agent>();

/** A keep-alive agent whose connections leave from `localAddress` (127.0.0.2, …). */
export function agentFrom(localAddress: string): Agent {
  let agent = agents.get(localAddress);
  if (!agent) agents.set(localAddress, (agent = new Agent({ keepAlive: true, localAddress, maxSockets: 512 })));
  return agent;
}

/** Closes the agents' idle connections. */
export function destroyAgents(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

/** A JSON request to `base` from `localAddress`. */
export function requestFrom(localAddress: string, base: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(base + path, { method, agent: agentFrom(localAddress), headers: { ...headers, ...(data !== undefined && { 'content-type': 'application/json' }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, body: text && String(res.headers['content-type']).includes('json') ? JSON.parse(text) : text });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

const sockets = new Set<Socket>();

/** A socket.io-client socket over WebSocket from `localAddress`; closed by closeSockets(). */
export function socketFrom(localAddress: string, url: string, auth: Record<string, unknown>, opts: Partial<ManagerOptions & SocketOptions> = {}): Socket {
  const socket = ioClient(url, { auth, transports: ['websocket'], forceNew: true, reconnection: false, localAddress, ...opts } as Partial<ManagerOptions & SocketOptions>);
  sockets.add(socket);
  return socket;
}

/** Closes every socket made by socketFrom(). */
export function closeSockets(): void {
  for (const s of sockets) s.close();
  sockets.clear();
}

/** The outcome of connecting: 'connected', or the connect_error's `data.code` (its message when it has none). */
export function outcome(socket: Socket, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (cleanup(), reject(new Error(`no connect or connect_error within ${timeoutMs} ms`))), timeoutMs);
    const onConnect = () => (cleanup(), resolve('connected'));
    const onError = (err: Error & { data?: { code?: string } }) => (cleanup(), resolve(err.data?.code ?? err.message));
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('connect_error', onError);
    };
    socket.on('connect', onConnect);
    socket.on('connect_error', onError);
    if (!socket.active) socket.connect();
  });
}

/** One sample of /metrics (0 when absent), e.g. metric(text, 'sitehub_auth_failures_total{kind="device"}'). */
export function metric(text: string, sample: string): number {
  for (const line of text.split('\n')) if (line.startsWith(sample + ' ')) return Number(line.slice(sample.length + 1));
  return 0;
}

/**
 * An attacker's Socket.IO connection over a raw WebSocket from `localAddress`: it sends CONNECT packets one
 * after another on one Engine.IO session (as a guessing script would) and reads each answer.
 */
export class RawGuesser {
  private readonly ws: WebSocket;
  private waiting: ((packet: string) => void) | undefined;
  readonly opened: Promise<void>;

  constructor(port: number, localAddress: string) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { localAddress });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('error', reject);
      this.ws.on('message', (data) => {
        const text = String(data);
        if (text[0] === '0') return resolve();
        if (text === '2') return this.ws.send('3');
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting?.(text);
      });
    });
  }

  /** Sends CONNECT to `nsp` with `auth`; resolves 'connected' or the refusal's `data.code` (its message when it has none). */
  async guess(nsp: string, auth: Record<string, unknown>): Promise<string> {
    await this.opened;
    const answer = new Promise<string>((resolve) => (this.waiting = resolve));
    this.ws.send(`40${nsp},${JSON.stringify(auth)}`);
    const packet = await answer;
    if (packet.startsWith(`40${nsp},`)) return 'connected';
    const body = JSON.parse(packet.slice(packet.indexOf(',') + 1)) as { message: string; data?: { code?: string } };
    return body.data?.code ?? body.message;
  }

  close(): void {
    this.ws.close();
  }
}
