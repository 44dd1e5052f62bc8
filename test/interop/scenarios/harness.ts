// What a scenario needs, independent of which client and which server run it.
import type { Server as HttpServer } from 'node:http';

/** The subset of a socket.io-client Socket the scenarios use. */
export interface ClientSocket {
  id: string | undefined;
  connected: boolean;
  recovered: boolean;
  auth: unknown;
  io: any;
  on(ev: string, fn: (...args: any[]) => void): this;
  once(ev: string, fn: (...args: any[]) => void): this;
  off(ev?: string, fn?: (...args: any[]) => void): this;
  emit(ev: string, ...args: any[]): this;
  emitWithAck(ev: string, ...args: any[]): Promise<any>;
  timeout(ms: number): ClientSocket;
  get volatile(): ClientSocket;
  connect(): this;
  disconnect(): this;
}

/** socket.io-client's io(), or a compatible one. */
export type ClientFactory = (url: string, opts?: Record<string, unknown>) => ClientSocket;

/** A running server: `io` is a socket.io-compatible Server. */
export interface ServerHandle {
  io: any;
  url: string;
  httpServer: HttpServer;
}

/** Given to each scenario by the runner; everything it creates is closed after the scenario. */
export interface ScenarioContext {
  /** Starts a Socket.IO server with `opts` on 127.0.0.1, ephemeral port. */
  startServer(opts?: Record<string, unknown>): Promise<ServerHandle>;
  /** A client from the factory under test (forceNew unless told otherwise). */
  client(url: string, opts?: Record<string, unknown>): ClientSocket;
}

export interface Scenario {
  name: string;
  /** Per-scenario time budget in ms (the runner's default otherwise). */
  timeout?: number;
  run(ctx: ScenarioContext): Promise<void>;
}

interface Once {
  once(ev: string, fn: (...args: any[]) => void): unknown;
  off?(ev: string, fn: (...args: any[]) => void): unknown;
  removeListener?(ev: string, fn: (...args: any[]) => void): unknown;
}

/** Resolves with the arguments of the next `ev` on `emitter`, rejects after `ms`. */
export function next(emitter: Once, ev: string, ms = 4000): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: any[]) => {
      clearTimeout(timer);
      resolve(args);
    };
    const timer = setTimeout(() => {
      (emitter.off ?? emitter.removeListener)?.call(emitter, ev, listener);
      reject(new Error(`no "${ev}" within ${ms} ms`));
    }, ms);
    emitter.once(ev, listener);
  });
}

/** Resolves once `cond()` holds, polling every 10 ms; rejects after `ms`. */
export async function until(cond: () => boolean, ms = 4000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Connects a client and resolves with it once 'connect' fired (rejects on connect_error). */
export async function connected(socket: ClientSocket, ms = 4000): Promise<ClientSocket> {
  if (socket.connected) return socket;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connect within ${ms} ms`)), ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return socket;
}

/** The next server-side 'connection' of namespace `nsp` (default the main one). */
export function nextConnection(io: any, nsp = '/', ms = 4000): Promise<any> {
  return next(io.of(nsp), 'connection', ms).then(([socket]) => socket);
}
