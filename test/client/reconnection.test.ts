// Reconnection with backoff, its events, and connection state recovery.
import { describe, expect, it } from 'vitest';
import type { Socket as ServerSocket } from 'socket.io';
import { client, next, startServer, until } from './helpers.js';

describe('reconnection', () => {
  it('reconnects after the transport drops, with the Manager events in order', async () => {
    const server = await startServer();
    const socket = client(server.url);
    const [first] = await next<[ServerSocket]>(server.io, 'connection');
    await next(socket, 'connect');
    const firstId = socket.id;
    const events: string[] = [];
    socket.io.on('close', (reason: string) => events.push(`close:${reason}`));
    socket.io.on('reconnect_attempt', (n: number) => events.push(`attempt:${n}`));
    socket.io.on('reconnect', (n: number) => events.push(`reconnect:${n}`));
    socket.on('disconnect', (reason) => events.push(`disconnect:${reason}`));
    socket.on('connect', () => events.push('connect'));
    first.conn.close();
    await next(socket, 'connect');
    // The socket heard the Manager's 'close' before this test's listener did.
    expect(events).toEqual(['disconnect:transport close', 'close:transport close', 'attempt:1', 'reconnect:1', 'connect']);
    expect(socket.id).not.toBe(firstId);
    expect(socket.recovered).toBe(false);
  });

  it('reconnects to a server restarted on the same port', async () => {
    const server = await startServer();
    const port = server.port;
    const socket = client(server.url, { reconnectionDelay: 100, reconnectionDelayMax: 200 });
    await next(socket, 'connect');
    const errors: Error[] = [];
    socket.io.on('reconnect_error', (err: Error) => errors.push(err));
    const disconnected = next<[string]>(socket, 'disconnect');
    await server.close();
    // Depending on the transport and timing, the drop shows as a close or an error.
    expect(['transport close', 'transport error']).toContain((await disconnected)[0]);
    await until(() => errors.length >= 1); // at least one attempt hits the closed port
    const restarted = await startServer({}, port);
    restarted.io.on('connection', (s) => s.on('ping?', (cb: (x: string) => void) => cb('pong!')));
    const [attempts] = await next<[number]>(socket.io, 'reconnect');
    expect(attempts).toBeGreaterThanOrEqual(2);
    await until(() => socket.connected);
    await expect(socket.emitWithAck('ping?')).resolves.toBe('pong!');
  });

  it('gives up after reconnectionAttempts with reconnect_failed', async () => {
    const server = await startServer();
    const socket = client(server.url, { reconnectionAttempts: 2, reconnectionDelay: 20, reconnectionDelayMax: 40 });
    await next(socket, 'connect');
    const attempts: number[] = [];
    socket.io.on('reconnect_attempt', (n: number) => attempts.push(n));
    const failed = next(socket.io, 'reconnect_failed');
    await server.close();
    await failed;
    expect(attempts).toEqual([1, 2]);
    expect(socket.connected).toBe(false);
  });

  it('spaces attempts with exponential backoff and jitter within the configured bounds', async () => {
    const server = await startServer();
    const socket = client(server.url, {
      reconnectionAttempts: 4,
      reconnectionDelay: 40,
      reconnectionDelayMax: 200,
      randomizationFactor: 0.5,
    });
    await next(socket, 'connect');
    const times: number[] = [];
    socket.io.on('close', () => times.push(Date.now()));
    socket.io.on('reconnect_attempt', () => times.push(Date.now()));
    const failed = next(socket.io, 'reconnect_failed');
    await server.close();
    await failed;
    // times: close, attempt 1, attempt 2, ... (each failed attempt is quick on loopback)
    const delays = times.slice(1).map((t, i) => t - times[i]!);
    expect(delays).toHaveLength(4);
    const bounds = [40, 80, 160, 200].map((base) => [Math.floor(base * 0.5), Math.min(base * 1.5, 200)]);
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(bounds[i]![0]! - 2);
      expect(delay).toBeLessThanOrEqual(bounds[i]![1]! + 60);
    });
  });

  it('emits connect_error and retries when the first connection fails', async () => {
    const server = await startServer();
    const port = server.port;
    await server.close();
    const socket = client(`http://127.0.0.1:${port}`, { reconnectionDelay: 50 });
    const [err] = await next<[Error]>(socket, 'connect_error');
    expect(err.message).toMatch(/error/);
    const restarted = await startServer({}, port);
    await next(socket, 'connect');
    expect(restarted.io.engine.clientsCount).toBe(1);
  });

  it('does not reconnect with reconnection: false', async () => {
    const server = await startServer();
    const socket = client(server.url, { reconnection: false });
    const [serverSocket] = await next<[ServerSocket]>(server.io, 'connection');
    await next(socket, 'connect');
    let attempts = 0;
    socket.io.on('reconnect_attempt', () => attempts++);
    serverSocket.conn.close();
    await next(socket, 'disconnect');
    await new Promise((r) => setTimeout(r, 200));
    expect(attempts).toBe(0);
    expect(server.io.engine.clientsCount).toBe(0);
  });
});

describe('connection state recovery', () => {
  it('restores the session and delivers the events missed while disconnected', async () => {
    const server = await startServer({
      connectionStateRecovery: { maxDisconnectionDuration: 10_000, skipMiddlewares: true },
    });
    const socket = client(server.url);
    const received: number[] = [];
    socket.on('tick', (n: number) => received.push(n));
    const [first] = await next<[ServerSocket]>(server.io, 'connection');
    await next(socket, 'connect');
    const firstId = socket.id;
    first.join('site:7');
    server.io.to('site:7').emit('tick', 1);
    server.io.emit('tick', 2);
    await until(() => received.length === 2);

    first.conn.close(); // transport drops; the server keeps the session
    await next(socket, 'disconnect');
    server.io.to('site:7').emit('tick', 3); // missed while away
    server.io.emit('tick', 4);

    const [second] = await next<[ServerSocket]>(server.io, 'connection');
    await until(() => socket.connected);
    expect(second.recovered).toBe(true);
    expect(socket.recovered).toBe(true);
    expect(socket.id).toBe(firstId);
    expect(second.rooms.has('site:7')).toBe(true);
    await until(() => received.length === 4);
    expect(received).toEqual([1, 2, 3, 4]);

    // A later new session (after disconnect()) is not a recovery.
    socket.disconnect();
    socket.connect();
    await next(socket, 'connect');
    expect(socket.recovered).toBe(false);
  });
});
