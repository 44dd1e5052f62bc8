// Events, acknowledgements and binary payloads in both directions.
import assert from 'node:assert/strict';
import { connected, next, nextConnection, sleep, type Scenario, type ServerHandle, type ScenarioContext } from './harness.js';

/** A started server plus one connected client and its server-side socket. */
async function pair(ctx: ScenarioContext, clientOpts: Record<string, unknown> = {}, serverOpts?: Record<string, unknown>) {
  const handle: ServerHandle = await ctx.startServer(serverOpts);
  const serverSide = nextConnection(handle.io);
  const socket = await connected(ctx.client(handle.url, clientOpts));
  return { ...handle, socket, server: await serverSide };
}

const bytes = (b: unknown) => [...new Uint8Array(b as ArrayBuffer)];

export const eventScenarios: Scenario[] = [
  {
    name: 'delivers client events with arguments of every JSON type',
    async run(ctx) {
      const { socket, server } = await pair(ctx);
      const got = next(server, 'data');
      socket.emit('data', 1, 'two', { three: [true, null] }, [4.5]);
      assert.deepEqual(await got, [1, 'two', { three: [true, null] }, [4.5]]);
    },
  },
  {
    name: 'acknowledges a client emit (client -> server ack)',
    async run(ctx) {
      const { socket, server } = await pair(ctx);
      server.on('sum', (a: number, b: number, ack: (r: number) => void) => ack(a + b));
      assert.equal(await socket.emitWithAck('sum', 2, 3), 5);
      const viaCallback = await new Promise((resolve) => socket.emit('sum', 10, 5, resolve));
      assert.equal(viaCallback, 15);
    },
  },
  {
    name: 'gets the client ack of a server emit (server -> client ack)',
    async run(ctx) {
      const { socket, server } = await pair(ctx);
      socket.on('question', (q: string, ack: (a: string) => void) => ack(q.toUpperCase()));
      const answer = await new Promise((resolve) => server.emit('question', 'why', resolve));
      assert.equal(answer, 'WHY');
      assert.equal(await server.emitWithAck('question', 'how'), 'HOW');
    },
  },
  {
    name: 'times out a server emit the client never acknowledges',
    async run(ctx) {
      const { socket, server } = await pair(ctx);
      socket.on('ignored', () => {});
      const started = Date.now();
      const [err] = await new Promise<unknown[]>((resolve) => server.timeout(150).emit('ignored', (...args: unknown[]) => resolve(args)));
      assert.ok(err instanceof Error);
      assert.ok(Date.now() - started >= 140);
      await assert.rejects(server.timeout(100).emitWithAck('ignored'), /timed out/);
      // An ack that arrives in time gives (null, value).
      socket.on('fast', (ack: (v: string) => void) => ack('ok'));
      assert.equal(await server.timeout(1000).emitWithAck('fast'), 'ok');
    },
  },
  {
    name: 'times out a client emitWithAck the server never answers',
    async run(ctx) {
      const { socket, server } = await pair(ctx);
      server.on('silent', () => {});
      await assert.rejects(socket.timeout(150).emitWithAck('silent'));
    },
  },
  {
    name: 'carries binary nested in objects from client to server',
    async run(ctx) {
      const { socket, server } = await pair(ctx);
      const got = next(server, 'upload');
      socket.emit('upload', { meta: { name: 'a.bin' }, parts: [Buffer.from([1, 2, 3]), { inner: Buffer.from([4]) }] });
      const [payload] = await got;
      assert.equal(payload.meta.name, 'a.bin');
      assert.deepEqual(bytes(payload.parts[0]), [1, 2, 3]);
      assert.deepEqual(bytes(payload.parts[1].inner), [4]);
    },
  },
  {
    name: 'carries binary nested in objects from server to client',
    async run(ctx) {
      const { socket, server } = await pair(ctx);
      const got = next(socket, 'download');
      server.emit('download', { file: { body: Buffer.from([9, 8, 7]) }, list: [new Uint8Array([6])] }, 'tail');
      const [payload, tail] = await got;
      assert.deepEqual(bytes(payload.file.body), [9, 8, 7]);
      assert.deepEqual(bytes(payload.list[0]), [6]);
      assert.equal(tail, 'tail');
    },
  },
  {
    name: 'carries binary in acknowledgements both ways',
    async run(ctx) {
      const { socket, server } = await pair(ctx);
      server.on('reverse', (buf: Buffer, ack: (b: unknown) => void) => ack({ out: Buffer.from(bytes(buf).reverse()) }));
      const reply = await socket.emitWithAck('reverse', Buffer.from([1, 2, 3]));
      assert.deepEqual(bytes(reply.out), [3, 2, 1]);
      socket.on('give', (ack: (b: unknown) => void) => ack([Buffer.from([5, 5])]));
      const fromClient = await server.emitWithAck('give');
      assert.deepEqual(bytes(fromClient[0]), [5, 5]);
    },
  },
  {
    name: 'runs onAny and onAnyOutgoing on the server socket',
    async run(ctx) {
      const { socket, server } = await pair(ctx);
      const incoming: unknown[][] = [];
      const outgoing: unknown[][] = [];
      server.onAny((...args: unknown[]) => incoming.push(args));
      server.onAnyOutgoing((...args: unknown[]) => outgoing.push(args));
      const echoed = next(socket, 'echo');
      server.on('hello', (n: number) => server.emit('echo', n));
      socket.emit('hello', 7);
      await echoed;
      assert.deepEqual(incoming, [['hello', 7]]);
      assert.equal(outgoing[0]![0], 'echo');
      assert.equal(outgoing[0]![1], 7);
    },
  },
  {
    name: 'stops an event in a per-socket middleware and reports it as a socket error',
    async run(ctx) {
      const handle = await ctx.startServer();
      const delivered: string[] = [];
      const errors: string[] = [];
      handle.io.on('connection', (s: any) => {
        s.use(([ev]: [string], nextFn: (err?: Error) => void) => nextFn(ev === 'forbidden' ? new Error('no way') : undefined));
        s.on('error', (err: Error) => errors.push(err.message));
        s.on('forbidden', () => delivered.push('forbidden'));
        s.on('allowed', (ack: () => void) => {
          delivered.push('allowed');
          ack();
        });
      });
      const socket = await connected(ctx.client(handle.url));
      socket.emit('forbidden');
      await socket.emitWithAck('allowed');
      assert.deepEqual(delivered, ['allowed']);
      assert.deepEqual(errors, ['no way']);
    },
  },
  {
    name: 'survives an event named "error" with no listener (CVE-2024-38355)',
    async run(ctx) {
      const { socket, server } = await pair(ctx);
      server.on('after', (ack: (v: string) => void) => ack('still here'));
      socket.emit('error', 'boom');
      await sleep(50);
      assert.equal(await socket.emitWithAck('after'), 'still here');
      assert.equal(server.connected, true);
    },
  },
  {
    name: 'delivers uncompressed and compressed emits alike',
    async run(ctx) {
      const { socket, server } = await pair(ctx, {}, { perMessageDeflate: { threshold: 0 } });
      const got = Promise.all([next(socket, 'plain'), next(socket, 'packed')]);
      server.compress(false).emit('plain', 'x'.repeat(2000));
      server.compress(true).emit('packed', 'y'.repeat(2000));
      const [[plain], [packed]] = await got;
      assert.equal(plain.length + packed.length, 4000);
    },
  },
];
