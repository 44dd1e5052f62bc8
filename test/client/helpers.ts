// Shared helpers of the client tests: a real socket.io 4.8.4 server on an
// ephemeral loopback port, and clients that are closed after each test.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type ServerOptions } from 'socket.io';
import { afterEach } from 'vitest';
import { io, type IoOptions, type Socket } from '@sitehub/device-client';

export interface TestServer {
  io: Server;
  http: HttpServer;
  port: number;
  url: string;
  /** Stops the server (clients see their transport close). */
  close(): Promise<void>;
}

const openServers = new Set<TestServer>();
const openClients = new Set<Socket>();

/** Starts a socket.io server on 127.0.0.1; `port` 0 picks a free one. */
export async function startServer(opts: Partial<ServerOptions> = {}, port = 0): Promise<TestServer> {
  const http = createServer();
  const server = new Server(http, opts);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (http.address() as AddressInfo).port;
  const handle: TestServer = {
    io: server,
    http,
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        openServers.delete(handle);
        http.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  openServers.add(handle);
  return handle;
}

/** io() with a fresh Manager and short reconnection delays, closed after the test. */
export function client(url: string, opts: IoOptions = {}): Socket {
  const socket = io(url, { forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 100, ...opts });
  return track(socket);
}

/** Closes `socket` after the test. */
export function track<S extends Socket>(socket: S): S {
  openClients.add(socket);
  return socket;
}

afterEach(async () => {
  for (const socket of openClients) {
    socket.io.reconnection(false);
    socket.disconnect();
  }
  openClients.clear();
  await Promise.all([...openServers].map((s) => s.close()));
});

/** Resolves with the arguments of the next `event`, or rejects after `ms`. */
export function next<T extends unknown[] = unknown[]>(
  emitter: { once(event: string, fn: (...args: any[]) => void): unknown },
  event: string,
  ms = 5000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms);
    emitter.once(event, ((...args: T) => {
      clearTimeout(timer);
      resolve(args);
    }) as never);
  });
}

/** Waits until `condition()` holds, polling every 10 ms, at most `ms`. */
export async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
