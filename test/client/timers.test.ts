// Lifecycle timers: they end with the socket, and optionally pause while it
// is disconnected.
import { describe, expect, it } from 'vitest';
import type { Socket as ServerSocket } from 'socket.io';
import { client, next, sleep, startServer, until } from './helpers.js';

describe('lifecycle timers', () => {
  it('setTimeout, setInterval and setLoop stop on disconnect()', async () => {
    const server = await startServer();
    const socket = client(server.url);
    await next(socket, 'connect');
    let intervalTicks = 0;
    let loopRuns = 0;
    let timeoutFired = false;
    let loopSignal: AbortSignal | undefined;
    const interval = socket.setInterval(() => intervalTicks++, 20);
    const loop = socket.setLoop(
      async (signal) => {
        loopRuns++;
        loopSignal = signal;
        await sleep(10);
      },
      { minInterval: 20 },
    );
    const timeout = socket.setTimeout(() => (timeoutFired = true), 300);
    await until(() => intervalTicks >= 3 && loopRuns >= 3);
    socket.disconnect();
    const [ticksAtClose, runsAtClose] = [intervalTicks, loopRuns];
    expect(interval.active).toBe(false);
    expect(loop.active).toBe(false);
    expect(timeout.active).toBe(false);
    expect(loopSignal?.aborted).toBe(true);
    await sleep(400);
    expect(intervalTicks).toBe(ticksAtClose);
    expect(loopRuns).toBe(runsAtClose);
    expect(timeoutFired).toBe(false);
    // A timer asked for on a socket closed for good never starts...
    expect(socket.setInterval(() => intervalTicks++, 10).active).toBe(false);
    // ...until the socket is connected again.
    socket.connect();
    const again = socket.setInterval(() => intervalTicks++, 10);
    expect(again.active).toBe(true);
    await until(() => intervalTicks > ticksAtClose);
    again.clear();
    expect(again.active).toBe(false);
  });

  it('stop when reconnection is given up', async () => {
    const server = await startServer();
    const socket = client(server.url, { reconnectionAttempts: 2, reconnectionDelay: 20, reconnectionDelayMax: 40 });
    await next(socket, 'connect');
    let ticks = 0;
    const interval = socket.setInterval(() => ticks++, 10);
    const failed = next(socket.io, 'reconnect_failed');
    await server.close();
    await next(socket, 'disconnect');
    const ticksAtDisconnect = ticks;
    await failed;
    await sleep(0);
    // By default timers run on while the client is reconnecting...
    expect(ticks).toBeGreaterThan(ticksAtDisconnect);
    // ...and end when it gives up.
    expect(interval.active).toBe(false);
    const ticksAtGiveUp = ticks;
    await sleep(100);
    expect(ticks).toBe(ticksAtGiveUp);
  });

  it('stop when the server disconnects the socket, unless the application reconnects it', async () => {
    const server = await startServer();
    server.io.on('connection', (s) => s.on('kick', () => s.disconnect()));
    const socket = client(server.url);
    await next(socket, 'connect');
    const kept = socket.setInterval(() => undefined, 50);
    // The documented socket.io-client pattern: reconnect by hand after a kick.
    socket.once('disconnect', (reason) => {
      if (reason === 'io server disconnect') socket.connect();
    });
    socket.emit('kick');
    await next(socket, 'connect');
    expect(kept.active).toBe(true);
    // A second kick without a handler ends them.
    socket.emit('kick');
    await next(socket, 'disconnect');
    await sleep(0);
    expect(kept.active).toBe(false);
  });

  it('with pauseWhileDisconnected, pause while reconnecting and resume after', async () => {
    const server = await startServer();
    const socket = client(server.url, {
      timers: { pauseWhileDisconnected: true },
      reconnectionDelay: 300,
      reconnectionDelayMax: 300,
      randomizationFactor: 0,
    });
    let serverSocket: ServerSocket | undefined;
    server.io.on('connection', (s) => (serverSocket = s));
    let ticks = 0;
    let loopRuns = 0;
    socket.setInterval(() => ticks++, 10);
    socket.setLoop(() => void loopRuns++, { minInterval: 10 });
    await until(() => socket.connected);
    await until(() => ticks >= 3 && loopRuns >= 3);
    serverSocket!.conn.close();
    await next(socket, 'disconnect');
    const [ticksAtDrop, runsAtDrop] = [ticks, loopRuns];
    await sleep(200); // reconnection is 300 ms away
    expect(socket.connected).toBe(false);
    expect(ticks).toBe(ticksAtDrop);
    expect(loopRuns).toBe(runsAtDrop);
    await next(socket, 'connect');
    await until(() => ticks > ticksAtDrop && loopRuns > runsAtDrop);
  });

  it('do not tick before the first connect with pauseWhileDisconnected', async () => {
    const server = await startServer();
    const socket = client(server.url, { autoConnect: false, timers: { pauseWhileDisconnected: true } });
    let fired = 0;
    socket.setTimeout(() => fired++, 20);
    await sleep(100);
    expect(fired).toBe(0);
    socket.connect();
    await until(() => fired === 1);
  });

  it('setLoop runs the next time only after the previous run settled, never overlapping', async () => {
    const server = await startServer();
    const socket = client(server.url);
    let running = 0;
    let overlaps = 0;
    const starts: number[] = [];
    const errors: unknown[] = [];
    socket.setLoop(
      async () => {
        starts.push(Date.now());
        if (running++ > 0) overlaps++;
        await sleep(15);
        running--;
        if (starts.length === 2) throw new Error('sensor read failed');
      },
      { onError: (err) => errors.push(err) },
    );
    await until(() => starts.length >= 6);
    expect(overlaps).toBe(0);
    // A failed run is reported and the loop goes on.
    expect(errors).toHaveLength(1);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(14);
  });
});
