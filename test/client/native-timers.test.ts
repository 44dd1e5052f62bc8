// useNativeTimers (socket.io-client's option): the client's own timers
// ignore a fake clock installed after the client module was loaded; without
// it they follow the clock, as in socket.io-client.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Socket as ServerSocket } from 'socket.io';
import { client, next, startServer } from './helpers.js';

const realSetTimeout = globalThis.setTimeout;
const realWait = (ms: number) => new Promise((resolve) => realSetTimeout(resolve, ms));

afterEach(() => {
  vi.useRealTimers();
});

async function dropAndCountAttempts(useNativeTimers: boolean): Promise<{ attemptsAfterRealWait: number; attempts: () => number }> {
  const server = await startServer();
  const connection = next<[ServerSocket]>(server.io, 'connection');
  const socket = client(server.url, { useNativeTimers, reconnectionDelay: 50, reconnectionDelayMax: 50, randomizationFactor: 0 });
  await next(socket, 'connect');
  const [serverSocket] = await connection;
  let attempts = 0;
  socket.io.on('reconnect_attempt', () => attempts++);
  // Only setTimeout/clearTimeout: the network stack keeps its real timers.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  serverSocket.conn.close();
  // Well past the 50 ms reconnection delay in real time; the fake clock has not moved.
  await realWait(400);
  return { attemptsAfterRealWait: attempts, attempts: () => attempts };
}

describe('useNativeTimers', () => {
  it('true: the reconnection delay runs on the real clock while a fake one is installed', async () => {
    const { attemptsAfterRealWait } = await dropAndCountAttempts(true);
    expect(attemptsAfterRealWait).toBe(1);
  });

  it('false (default): the reconnection delay follows the fake clock', async () => {
    const { attemptsAfterRealWait, attempts } = await dropAndCountAttempts(false);
    expect(attemptsAfterRealWait).toBe(0);
    vi.advanceTimersByTime(50);
    expect(attempts()).toBe(1);
  });
});
