// A device that slept (timers throttled or frozen) past the server's ping
// deadline: an emit must not be written into the dead connection but
// buffered, and sent once the client has reconnected, as socket.io-client
// does (its test of the same case reads a private field; this one moves the
// clock instead).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { client, next, startServer } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('a ping deadline passed while timers were throttled', () => {
  it('buffers the emit, reconnects, then sends it', async () => {
    const server = await startServer();
    server.io.on('connection', (s) => s.on('echo', (v: unknown, ack: (v: unknown) => void) => ack(v)));
    const socket = client(server.url, { reconnectionDelay: 10, reconnectionDelayMax: 10 });
    await next(socket, 'connect');
    let reconnected = false;
    socket.io.once('reconnect', () => {
      reconnected = true;
    });
    // Only the wall clock jumps (as after a sleep); timers keep running.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 10 * 60_000 });
    const answer = await new Promise<unknown>((resolve) => socket.emit('echo', '123', resolve));
    expect(reconnected).toBe(true);
    expect(answer).toBe('123');
  });
});
