// ackTimeout + retries: at-least-once, in order, one message in flight.
import { describe, expect, it } from 'vitest';
import type { Socket as ServerSocket } from 'socket.io';
import { client, next, startServer, until } from './helpers.js';

interface Reading {
  seq: number;
}

describe('ackTimeout with retries', () => {
  it('delivers every message exactly once to a deduplicating receiver when the first acks are lost', async () => {
    const server = await startServer();
    const arrivals: number[] = []; // every copy that reached the server, in order
    const delivered: number[] = []; // what the application acted on
    server.io.on('connection', (s) => {
      const tries = new Map<number, number>();
      s.on('reading', (reading: Reading, ack: (r: unknown) => void) => {
        arrivals.push(reading.seq);
        const n = (tries.get(reading.seq) ?? 0) + 1;
        tries.set(reading.seq, n);
        if (!delivered.includes(reading.seq)) delivered.push(reading.seq);
        // The first ack of every message, and the first two of message 2, get lost.
        if (n === 1 || (reading.seq === 2 && n === 2)) return;
        ack({ ok: true, seq: reading.seq });
      });
    });
    const socket = client(server.url, { ackTimeout: 150, retries: 3 });
    const answers: unknown[][] = [];
    for (let seq = 0; seq < 5; seq++) {
      socket.emit('reading', { seq }, (...args: unknown[]) => answers.push(args));
    }
    await until(() => answers.length === 5, 8000);
    expect(delivered).toEqual([0, 1, 2, 3, 4]);
    // One in flight at a time: message k+1 only after message k was
    // acknowledged, so copies arrive in order. (A slow ack can add a copy.)
    expect(arrivals).toEqual([...arrivals].sort((a, b) => a - b));
    const copies = [0, 1, 2, 3, 4].map((seq) => arrivals.filter((a) => a === seq).length);
    copies.forEach((n, seq) => expect(n).toBeGreaterThanOrEqual(seq === 2 ? 3 : 2));
    expect(answers).toEqual([0, 1, 2, 3, 4].map((seq) => [null, { ok: true, seq }]));
  });

  it('gives up after retries + 1 tries and hands the error to the ack, then goes on with the next', async () => {
    const server = await startServer();
    const arrivals: string[] = [];
    server.io.on('connection', (s) => {
      s.on('cmd', (name: string, ack: (r: string) => void) => {
        arrivals.push(name);
        if (name !== 'doomed') ack(`done ${name}`);
      });
    });
    const socket = client(server.url, { ackTimeout: 50, retries: 2 });
    const doomed = socket.emitWithAck('cmd', 'doomed');
    const after = socket.emitWithAck('cmd', 'after');
    await expect(doomed).rejects.toThrow('operation has timed out');
    await expect(after).resolves.toBe('done after');
    expect(arrivals).toEqual(['doomed', 'doomed', 'doomed', 'after']);
  });

  it('keeps queued messages across a reconnection and sends them in order', async () => {
    const server = await startServer();
    const arrivals: number[] = [];
    let dropped = false;
    server.io.on('connection', (s: ServerSocket) => {
      s.on('n', (n: number, ack: () => void) => {
        arrivals.push(n);
        if (n === 1 && !dropped) {
          dropped = true;
          s.conn.close(); // the transport drops before the ack goes out
          return;
        }
        ack();
      });
    });
    const socket = client(server.url, { ackTimeout: 1000, retries: 5 });
    await next(socket, 'connect');
    const acks = [0, 1, 2, 3].map((n) => socket.emitWithAck('n', n));
    await Promise.all(acks);
    expect(arrivals).toEqual([0, 1, 1, 2, 3]);
  });
});
