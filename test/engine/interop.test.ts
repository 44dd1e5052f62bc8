// Interoperability with the official engine.io-client: polling only,
// WebSocket only, and polling upgraded to WebSocket; text and binary both
// ways; heartbeat and close.
import { afterEach, describe, expect, it } from 'vitest';
import { Socket as ClientSocket } from 'engine.io-client';
import type { EngineSocket } from '@sitehub/hub';
import { sleep, startEngine, withTimeout, type TestEngine } from '../helpers/engine.js';

let t: TestEngine | undefined;
const opened: ClientSocket[] = [];

afterEach(async () => {
  for (const c of opened.splice(0)) c.close();
  await t?.close();
  t = undefined;
});

type Mode = { name: string; transports: string[]; upgrade: boolean; expectTransport: 'polling' | 'websocket' };

const MODES: Mode[] = [
  { name: 'polling only', transports: ['polling'], upgrade: false, expectTransport: 'polling' },
  { name: 'WebSocket only', transports: ['websocket'], upgrade: false, expectTransport: 'websocket' },
  { name: 'polling upgraded to WebSocket', transports: ['polling', 'websocket'], upgrade: true, expectTransport: 'websocket' },
];

function bytes(data: unknown): number[] {
  if (data instanceof ArrayBuffer) return [...new Uint8Array(data)];
  if (ArrayBuffer.isView(data)) return [...new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
  throw new Error(`not binary: ${typeof data}`);
}

function connectClient(t: TestEngine, mode: Mode): { client: ClientSocket; messages: unknown[]; ready: Promise<void> } {
  const client = new ClientSocket(`http://127.0.0.1:${t.port}`, { transports: mode.transports, upgrade: mode.upgrade });
  opened.push(client);
  const messages: unknown[] = [];
  client.on('message', (data: unknown) => messages.push(data));
  const ready = new Promise<void>((resolve, reject) => {
    client.once('error', reject);
    if (mode.upgrade) client.once('upgrade', () => resolve());
    else client.once('open', () => resolve());
  });
  return { client, messages, ready };
}

async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  await withTimeout(
    (async () => {
      while (!check()) await sleep(5);
    })(),
    ms,
    what,
  );
}

describe.each(MODES)('engine.io-client, $name', (mode) => {
  it('exchanges text and binary messages both ways', async () => {
    t = await startEngine({}, { withEcho: false });
    const serverReceived: unknown[] = [];
    const sessions: EngineSocket[] = [];
    t.engine.on('connection', (s: EngineSocket) => {
      sessions.push(s);
      s.on('message', (d) => {
        serverReceived.push(d);
        s.send(d);
      });
    });
    const { client, messages, ready } = connectClient(t, mode);
    await withTimeout(ready, 3000, 'client ready');
    expect(client.transport.name).toBe(mode.expectTransport);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.id).toBe(client.id);
    await until(() => sessions[0]!.transport.name === mode.expectTransport, 'server transport');

    client.send('hello from client é☃');
    client.send(Uint8Array.from([4, 5, 6]));
    await until(() => messages.length >= 2, 'echoes');
    expect(serverReceived[0]).toBe('hello from client é☃');
    expect(bytes(serverReceived[1])).toEqual([4, 5, 6]);
    expect(messages[0]).toBe('hello from client é☃');
    expect(bytes(messages[1])).toEqual([4, 5, 6]);

    sessions[0]!.send('hello from server');
    sessions[0]!.send(Uint8Array.from([1, 2, 3]));
    sessions[0]!.sendPrepared(t.engine.prepare('prepared from server'));
    await until(() => messages.length >= 5, 'server messages');
    expect(messages[2]).toBe('hello from server');
    expect(bytes(messages[3])).toEqual([1, 2, 3]);
    expect(messages[4]).toBe('prepared from server');
  });

  it('keeps the session alive through heartbeats, and closes cleanly', async () => {
    t = await startEngine({ pingInterval: 100, pingTimeout: 200 }, { withEcho: false });
    const reasons: string[] = [];
    let heartbeats = 0;
    t.engine.on('connection', (s: EngineSocket) => {
      s.on('heartbeat', () => heartbeats++);
      s.on('close', (reason: string) => reasons.push(reason));
    });
    const { client, ready } = connectClient(t, mode);
    await withTimeout(ready, 3000, 'client ready');
    // Five heartbeats at pingInterval 100: past pingInterval + pingTimeout, so
    // a session the heartbeat wrongly gave up on would be closed by then.
    await until(() => heartbeats >= 5, 'five heartbeats');
    expect(reasons).toEqual([]);
    expect(t.engine.clientsCount).toBe(1);
    client.close();
    await until(() => reasons.length === 1, 'server close');
    expect(reasons).toEqual(['transport close']);
  });

  it('sees the server closing the session', async () => {
    t = await startEngine({}, { withEcho: false });
    const sessions: EngineSocket[] = [];
    t.engine.on('connection', (s: EngineSocket) => sessions.push(s));
    const { client, ready } = connectClient(t, mode);
    await withTimeout(ready, 3000, 'client ready');
    const closed = new Promise<string>((resolve) => client.once('close', (reason: string) => resolve(reason)));
    sessions[0]!.close();
    expect(await withTimeout(closed, 3000, 'client close')).toMatch(/transport close|forced close/);
  });
});
