// What a socket.io user meets (issue 15): one 5 MB message each way over
// polling and over WebSocket once maxHttpBufferSize allows it, volatile emits
// dropped while the transport is busy, and the Engine.IO socket's send()
// taking what engine.io's takes. With the official socket.io-client.
import { afterEach, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import type { EngineSocket, Socket } from '@sitehub/hub';
import { startSitehubServer, type StartedServer } from '../helpers/hub-server.js';
import { WsClient, startEngine, type TestEngine } from '../helpers/engine.js';

let server: StartedServer | undefined;
let engine: TestEngine | undefined;
const clients: ClientSocket[] = [];
const wsClients: WsClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const c of wsClients.splice(0)) c.close();
  await server?.close();
  await engine?.close();
  server = engine = undefined;
});

const FIVE_MB = 5 * 1024 * 1024;

async function pair(transports: string[], opts: Record<string, unknown> = {}): Promise<{ client: ClientSocket; socket: Socket }> {
  server = await startSitehubServer(opts);
  const connection = new Promise<Socket>((resolve) => server!.io.once('connection', resolve));
  const client = ioClient(server.url, { transports, upgrade: false, forceNew: true, reconnection: false });
  clients.push(client);
  const socket = await connection;
  if (!client.connected) await new Promise((resolve) => client.once('connect', () => resolve(undefined)));
  return { client, socket };
}

describe.each([['polling'], ['websocket']])('one 5 MB message over %s', (transport) => {
  // Over polling, binary travels as base64 (4/3 of its size): the limit leaves room for it.
  const maxHttpBufferSize = 7.5e6;

  it('goes through both ways, text and binary, with maxHttpBufferSize raised', async () => {
    const { client, socket } = await pair([transport], { maxHttpBufferSize });
    const text = 'x'.repeat(FIVE_MB);
    const bytes = Buffer.alloc(FIVE_MB, 0xab);

    const upText = new Promise<string>((resolve) => socket.once('text', resolve));
    client.emit('text', text);
    expect((await upText) === text).toBe(true);
    const upBytes = new Promise<Buffer>((resolve) => socket.once('bytes', resolve));
    client.emit('bytes', bytes);
    expect(Buffer.from(await upBytes).equals(bytes)).toBe(true);

    const downText = new Promise<string>((resolve) => client.once('text', resolve));
    socket.emit('text', text);
    expect((await downText) === text).toBe(true);
    // Header and attachment are two Engine.IO packets: the second waits behind 5 MB.
    const downBytes = new Promise<[string, ArrayBuffer]>((resolve) => client.once('bytes', (label: string, b: ArrayBuffer) => resolve([label, b])));
    socket.emit('bytes', 'x'.repeat(FIVE_MB), bytes);
    const [label, received] = await downBytes;
    expect(label.length).toBe(FIVE_MB);
    expect(Buffer.from(received).equals(bytes)).toBe(true);
    expect(socket.connected).toBe(true);
  });

  it('is refused with the default maxHttpBufferSize (1 MB)', async () => {
    const { client, socket } = await pair([transport]);
    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    client.emit('text', 'x'.repeat(FIVE_MB));
    expect(await closed).toBe('transport error');
  });
});

describe('default limits', () => {
  it('deliver a 1.1 MB message from the server over polling (no 1 MiB buffer ending the session)', async () => {
    const { client, socket } = await pair(['polling']);
    const text = 'y'.repeat(1_100_000);
    const received = new Promise<string>((resolve) => client.once('big', resolve));
    socket.emit('big', text);
    expect((await received) === text).toBe(true);
    expect(socket.connected).toBe(true);
  });
});

describe('volatile emits', () => {
  it('are dropped while the WebSocket transport is busy writing, and delivered when it is idle', async () => {
    const { client, socket } = await pair(['websocket']);
    const seen: number[] = [];
    client.on('tick', (n: number) => seen.push(n));
    const done = new Promise((resolve) => client.once('done', resolve));
    // A large frame first: until ws reports it written, volatile packets are dropped.
    socket.emit('big', 'b'.repeat(2 * 1024 * 1024));
    for (let i = 0; i < 100; i++) socket.volatile.emit('tick', i);
    await new Promise((resolve) => client.once('big', resolve));
    socket.emit('done');
    await done;
    expect(seen).toEqual([]);

    // Idle again: a volatile emit goes out.
    const idle = new Promise((resolve) => client.once('tick', resolve));
    socket.volatile.emit('tick', 1000);
    expect(await idle).toBe(1000);
  });

  it('are dropped over polling while no poll is pending', async () => {
    const { client, socket } = await pair(['polling']);
    const seen: number[] = [];
    client.on('tick', (n: number) => seen.push(n));
    // The answer to the pending poll is being written: the next volatile ones find no poll.
    socket.emit('first');
    for (let i = 0; i < 10; i++) socket.volatile.emit('tick', i);
    await new Promise((resolve) => client.once('first', resolve));
    const last = new Promise((resolve) => client.once('last', resolve));
    socket.emit('last');
    await last;
    expect(seen).toEqual([]);
  });
});

describe('the Engine.IO socket send()', () => {
  it('writes a number as text ("47") and null as an empty message, without throwing', async () => {
    engine = await startEngine({}, { withEcho: false });
    const connection = new Promise<EngineSocket>((resolve) => engine!.engine.once('connection', resolve));
    const client = new WsClient(engine.url('websocket'));
    wsClients.push(client);
    await client.nextText();
    const socket = await connection;
    socket.send(7 as unknown as string);
    expect(() => socket.send(null as unknown as string)).not.toThrow();
    expect(await client.nextText()).toBe('47');
    expect(await client.nextText()).toBe('4');
    expect(socket.readyState).toBe('open');
  });
});
