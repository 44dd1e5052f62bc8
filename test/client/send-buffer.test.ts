// The bounded send buffer: packets emitted while disconnected.
import { describe, expect, it } from 'vitest';
import { client, next, sleep, startServer, until } from './helpers.js';

describe('send buffer while disconnected', () => {
  it('keeps the newest maxBufferedPackets, drops the oldest and fails their acks', async () => {
    const server = await startServer();
    const got: number[] = [];
    server.io.on('connection', (s) =>
      s.on('n', (n: number, ack?: () => void) => {
        got.push(n);
        ack?.();
      }),
    );
    const socket = client(server.url, { autoConnect: false, maxBufferedPackets: 3 });
    const first = socket.emitWithAck('n', 0);
    for (let n = 1; n < 5; n++) socket.emit('n', n);
    await expect(first).rejects.toThrow('send buffer overflow');
    expect(socket.droppedPackets).toBe(2);
    expect(socket.sendBuffer.length).toBe(3);
    socket.connect();
    await until(() => got.length === 3);
    expect(got).toEqual([2, 3, 4]);
    expect(socket.sendBuffer.length).toBe(0);
  });

  it('holds 1000 packets by default', async () => {
    const server = await startServer();
    const got: number[] = [];
    server.io.on('connection', (s) => s.on('n', (n: number) => got.push(n)));
    const socket = client(server.url, { autoConnect: false });
    for (let n = 0; n < 1010; n++) socket.emit('n', n);
    expect(socket.sendBuffer.length).toBe(1000);
    expect(socket.droppedPackets).toBe(10);
    socket.connect();
    await until(() => got.length === 1000);
    expect(got[0]).toBe(10);
    expect(got[999]).toBe(1009);
  });

  it('buffers nothing with maxBufferedPackets: 0', async () => {
    const server = await startServer();
    const got: string[] = [];
    server.io.on('connection', (s) => s.on('m', (x: string) => got.push(x)));
    const socket = client(server.url, { autoConnect: false, maxBufferedPackets: 0 });
    socket.emit('m', 'lost');
    expect(socket.droppedPackets).toBe(1);
    socket.connect();
    await next(socket, 'connect');
    socket.emit('m', 'sent');
    await until(() => got.length === 1);
    await sleep(50);
    expect(got).toEqual(['sent']);
  });

  it('bounds the retry queue too, keeping the message in flight', async () => {
    const server = await startServer();
    const socket = client(server.url, { autoConnect: false, retries: 1, ackTimeout: 500, maxBufferedPackets: 2 });
    const results = [0, 1, 2, 3].map((n) => socket.emitWithAck('n', n).catch((e: Error) => e.message));
    expect(await results[0]).toBe('send buffer overflow');
    expect(await results[1]).toBe('send buffer overflow');
    expect(socket.droppedPackets).toBe(2);
    server.io.on('connection', (s) => s.on('n', (n: number, ack: (x: number) => void) => ack(n * 10)));
    socket.connect();
    expect(await results[2]).toBe(20);
    expect(await results[3]).toBe(30);
  });
});
