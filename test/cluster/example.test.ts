// docs/examples/cluster-node.js, as docs/scaling.md tells to run it: two
// nodes on one Redis, a client on each, talking through a room.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
const nodes: { port: number; close(): Promise<void> }[] = [];
const clients: ClientSocket[] = [];

beforeAll(async () => {
  redis = await startRedis();
  const { start } = await import('../../docs/examples/cluster-node.js');
  for (let i = 0; i < 2; i++) nodes.push(await start({ port: 0, host: '127.0.0.1', redisUrl: redis.url }));
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const n of nodes) await n.close();
  await redis?.stop();
});

describe('docs/examples/cluster-node.js', () => {
  it('two nodes share a room: a message from one node reaches the member on the other, and who counts both', async () => {
    for (const n of nodes) clients.push(connect(`http://127.0.0.1:${n.port}`, { forceNew: true, reconnection: false, transports: ['websocket'] }));
    const [ada, bob] = clients as [ClientSocket, ClientSocket];
    expect(await ada.emitWithAck('join', 'lobby')).toBe('ok');
    expect(await bob.emitWithAck('join', 'lobby')).toBe('ok');
    const heard = new Promise((resolve) => bob.once('said', resolve));
    ada.emit('say', 'lobby', 'hello from node 1');
    expect(await heard).toEqual({ room: 'lobby', text: 'hello from node 1' });
    expect(await bob.emitWithAck('who', 'lobby')).toEqual({ count: 2, missingNodes: [] });
  });
});
