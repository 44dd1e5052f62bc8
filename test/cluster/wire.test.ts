// Byte for byte: the messages a sitehub node publishes are the ones
// @socket.io/redis-adapter publishes for the same call, apart from the node
// id and request id (random, and of the same length in both). Both servers
// run here on one Redis; a raw subscriber records every message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { Server as SioServer } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { decode, encode } from 'notepack.io';
import { createRedisAdapter, Server } from '@sitehub/hub';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { until } from './helpers.js';

// The client type createClient({ url }) infers (ReturnType of the generic function would take its defaults).
const newClient = (url: string) => createClient({ url });
type Client = ReturnType<typeof newClient>;
let redis: TestRedis;
const clients: Client[] = [];
let sio: SioServer;
let hub: Server;
let hubUid: string;
let hubFactory: ReturnType<typeof createRedisAdapter>;
let publisher: Client;
let sioUid: string;
const captured: { channel: string; message: Buffer }[] = [];

async function client(): Promise<Client> {
  const c = newClient(redis.url);
  c.on('error', () => {});
  await c.connect();
  clients.push(c);
  return c;
}

/** The next message published by node `uid` on a channel starting with `prefix`, after running `act`. */
async function next(uid: string, prefix: string, act: () => void): Promise<{ channel: string; message: Buffer }> {
  const from = captured.length;
  act();
  let found: { channel: string; message: Buffer } | undefined;
  await until(() => {
    found = captured.slice(from).find((m) => m.channel.startsWith(prefix) && m.message.includes(Buffer.from(uid)));
    return found !== undefined;
  }, `a message from ${uid} on ${prefix}`);
  return found!;
}

/** Replaces every occurrence of the random ids with a fixed marker of the same length. */
function masked(message: Buffer, ids: string[]): string {
  let hex = message.toString('hex');
  for (const id of ids) hex = hex.split(Buffer.from(id).toString('hex')).join('2a'.repeat(id.length));
  return hex;
}

beforeAll(async () => {
  redis = await startRedis();
  const recorder = await client();
  await recorder.pSubscribe('*', (message, channel) => void captured.push({ channel: channel.toString(), message }), true);
  const factory = createRedisAdapter(await client(), await client());
  hubUid = factory.uid;
  hubFactory = factory;
  publisher = await client();
  hub = new Server({ adapter: factory });
  sio = new SioServer({ adapter: createAdapter(await client(), await client()) });
  sioUid = (sio.of('/').adapter as unknown as { uid: string }).uid;
  await until(async () => (await hub.of('/').adapter.serverCount()) === 2, 'two nodes');
});

afterAll(async () => {
  // No http server was attached, so socket.io's close() would throw: close its adapter only.
  await (sio?.of('/').adapter as unknown as { close(): Promise<void> } | undefined)?.close();
  await hub?.close();
  for (const c of clients) await c.quit().catch(() => {});
  await redis?.stop();
});

describe('the wire, against @socket.io/redis-adapter', () => {
  it('uses node ids of the same length as the anchor', () => {
    expect(hubUid).toHaveLength(sioUid.length);
  });

  const cases: [string, string, (io: { to(r: string): any; in(r: string | string[]): any; except(r: string): any; serverSideEmit(...a: any[]): any }) => void][] = [
    ['a broadcast to one room (MessagePack, room channel)', 'socket.io#/#room1#', (io) => io.to('room1').emit('ev', 1, 'two', { three: [3, 3.5, null, true] }, Buffer.from([1, 2, 3]))],
    ['a broadcast to all but a room', 'socket.io#/#', (io) => io.except('x').emit('ev', -1, 2 ** 40, 'é')],
    ['a broadcast with ack (MessagePack request)', 'socket.io-request#/#', (io) => io.to('r').timeout(50).emit('ask', 'q', () => {})],
    ['socketsJoin (JSON request)', 'socket.io-request#/#', (io) => io.in('a').socketsJoin(['b', 'c'])],
    ['socketsLeave', 'socket.io-request#/#', (io) => io.in(['a', 'b']).socketsLeave('c')],
    ['disconnectSockets', 'socket.io-request#/#', (io) => io.except('a').disconnectSockets(true)],
    ['serverSideEmit', 'socket.io-request#/#', (io) => io.serverSideEmit('hello', 1, { two: 2 })],
  ];
  for (const [name, prefix, act] of cases) {
    it(`${name}: same bytes`, async () => {
      const theirs = await next(sioUid, prefix, () => act(sio));
      const ours = await next(hubUid, prefix, () => act(hub));
      expect(ours.channel).toBe(theirs.channel);
      const requestIds = [theirs, ours].flatMap((m) => {
        const decoded = m.message[0] === 0x7b ? JSON.parse(m.message.toString()) : decode(m.message);
        return typeof decoded?.requestId === 'string' ? [decoded.requestId] : [];
      });
      expect(masked(ours.message, [hubUid, ...requestIds])).toBe(masked(theirs.message, [sioUid, ...requestIds]));
    });
  }

  it('fetchSockets and serverSideEmit with ack: same request bytes', async () => {
    for (const act of [(io: any) => void io.fetchSockets().catch(() => {}), (io: any) => void io.serverSideEmitWithAck('hello', 1).catch(() => {})]) {
      const theirs = await next(sioUid, 'socket.io-request#/#', () => act(sio));
      const ours = await next(hubUid, 'socket.io-request#/#', () => act(hub));
      const ids = [theirs, ours].map((m) => JSON.parse(m.message.toString()).requestId as string);
      expect(masked(ours.message, [hubUid, ...ids])).toBe(masked(theirs.message, [sioUid, ...ids]));
    }
  });

  it('refuses malformed messages from Redis, counts them, and keeps working; a throwing listener is counted, not fatal', async () => {
    const before = hubFactory.counters.malformed;
    await publisher.publish('socket.io#/#', Buffer.from([0xc1, 0xff, 0x00])); // not MessagePack
    await publisher.publish('socket.io#/#', Buffer.from(encode(['x', { type: 2, data: [{ not: 'an event name' }] }, { rooms: [] }])));
    await publisher.publish('socket.io-request#/#', '{"type":5,"requestId":"abcdef","opts":{"rooms":[42]}}');
    await publisher.publish('socket.io-request#/#', '{not json');
    await until(() => hubFactory.counters.malformed >= before + 4, 'four malformed messages counted');

    hub.of('/').on('boom', () => {
      throw new Error('listener failure');
    });
    const errors = hubFactory.counters.handlerErrors;
    await publisher.publish('socket.io-request#/#', JSON.stringify({ uid: 'other', type: 6, data: ['boom'] }));
    await until(() => hubFactory.counters.handlerErrors === errors + 1, 'the throwing listener counted');
    // Still serving: a request from the anchor node is answered.
    expect(await sio.fetchSockets()).toEqual([]);
  });
});

