// A broadcast that arrives from Redis is encoded once for all the local
// recipients, however many there are.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient } from 'redis';
import { Emitter } from '@socket.io/redis-emitter';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { createRedisAdapter } from '@sitehub/hub';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startSitehubServer, type StartedServer } from '../helpers/hub-server.js';
import { until } from './helpers.js';

// The client type createClient({ url }) infers (ReturnType of the generic function would take its defaults).
const newClient = (url: string) => createClient({ url });
type Client = ReturnType<typeof newClient>;
let redis: TestRedis;
let server: StartedServer;
const redisClients: Client[] = [];
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  redis = await startRedis();
  for (let i = 0; i < 3; i++) {
    const c = newClient(redis.url);
    c.on('error', () => {});
    await c.connect();
    redisClients.push(c);
  }
  server = await startSitehubServer({ adapter: createRedisAdapter(redisClients[0]!, redisClients[1]!) });
  for (let i = 0; i < 5; i++) {
    const s = connect(server.url, { transports: ['websocket'], forceNew: true, reconnection: false });
    await new Promise<void>((r) => s.once('connect', () => r()));
    sockets.push(s);
  }
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server?.close();
  for (const c of redisClients) await c.quit().catch(() => {});
  await redis?.stop();
});

describe('delivery of a broadcast from Redis', () => {
  it('encodes it once for all five local recipients', async () => {
    const encode = vi.spyOn(server.io.encoder, 'encode');
    const got: unknown[] = [];
    for (const s of sockets) s.on('news', (n: unknown) => got.push(n));
    new Emitter(redisClients[2]!).emit('news', 1);
    await until(() => got.length === 5, 'five deliveries');
    expect(encode).toHaveBeenCalledTimes(1);
    encode.mockRestore();
  });
});
