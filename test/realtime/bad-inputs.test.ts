// Every Socket.IO row of BAD-INPUTS.md: the answer, the counter, and a
// bystander client that keeps being served.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from '@sitehub/hub';
import { cleanup, RawSocket, startServer, until, type Running } from './helpers.js';

let server: Running;
let bystander: RawSocket;

beforeEach(async () => {
  server = await startServer({ maxHttpBufferSize: 100_000 });
  server.io.on('connection', (s: Socket) => s.on('ping', (ack: (v: string) => void) => ack('pong')));
  bystander = await RawSocket.open(server.base);
  await bystander.connectNsp('/');
});

afterEach(async () => {
  // Whatever happened to the offender, the bystander is still served.
  bystander.send('4299["ping"]');
  expect(await bystander.next()).toBe('4399["pong"]');
  await cleanup();
});

async function offender(): Promise<RawSocket> {
  const socket = await RawSocket.open(server.base);
  await socket.connectNsp('/');
  return socket;
}

describe('closed with a parse error', () => {
  it.each([
    ['CVE-2023-32695: an event name that is an object', '42[{"toString":"x"}]'],
    ['CVE-2022-2421: a placeholder with a non-integer num', '451-["a",{"_placeholder":true,"num":"splice"}]'],
    ['CVE-2026-33151: an attachment count over the cap', `4511-["a",${Array.from({ length: 11 }, (_, i) => `{"_placeholder":true,"num":${i}}`).join(',')}]`],
    ['a binary packet announcing 0 attachments', '450-["a"]'],
    ['an event named disconnect', '42["disconnect"]'],
    ['an event named connect', '42["connect"]'],
    ['a non-integer ack id', '42abc["a"]'],
    ['an unknown packet type', '47["a"]'],
    ['invalid JSON', '42["a"'],
    ['an empty Socket.IO packet', '4'],
    ['an EVENT with an empty array', '42[]'],
    ['an EVENT that is not an array', '42{"a":1}'],
    ['a DISCONNECT with a payload', '41["x"]'],
  ])('%s', async (_name, frame) => {
    const socket = await offender();
    socket.send(frame);
    await socket.closedWithin();
    expect(server.io.metrics.parseErrors).toBe(1);
  });

  it('a binary frame with no header', async () => {
    const socket = await offender();
    socket.send(Buffer.from([1, 2, 3]));
    await socket.closedWithin();
    expect(server.io.metrics.parseErrors).toBe(1);
  });

  it('GHSA-2m8v-j782-fhvr: text while attachments are awaited', async () => {
    const socket = await offender();
    socket.send('451-["a",{"_placeholder":true,"num":0}]');
    socket.send('42["b"]');
    await socket.closedWithin();
    expect(server.io.metrics.parseErrors).toBe(1);
  });

  it('reports the parse error to the socket and its disconnect reason', async () => {
    const socket = await offender();
    const s = [...server.io.sockets.sockets.values()].find((x) => x.conn.id === socket.sid)!;
    const seen: string[] = [];
    s.on('error', (err: Error) => seen.push(`error:${err.name}`));
    s.on('disconnect', (reason: string) => seen.push(`disconnect:${reason}`));
    socket.send('42[{}]');
    await until(() => seen.length === 2);
    expect(seen).toEqual(['error:DecodeError', 'disconnect:parse error']);
  });
});

describe('survived without closing', () => {
  it('CVE-2024-38355: an event named "error" with no listener is dropped and counted', async () => {
    const socket = await offender();
    socket.send('42["error","boom"]');
    await until(() => server.io.metrics.unhandledErrorEvents === 1);
    socket.send('421["ping"]');
    expect(await socket.next()).toBe('431["pong"]');
  });

  it('CVE-2024-38355: an event named "error" reaches a listener when there is one', async () => {
    const socket = await offender();
    const s = [...server.io.sockets.sockets.values()].find((x) => x.conn.id === socket.sid)!;
    const got = new Promise((resolve) => s.on('error', resolve));
    socket.send('42["error","boom"]');
    expect(await got).toBe('boom');
  });

  it('GHSA-2m8v-j782-fhvr: attachments that never come; the state goes with the connection', async () => {
    const socket = await offender();
    socket.send('452-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    socket.send(Buffer.from([1]));
    socket.terminate();
    await until(() => server.io.engine.clientsCount === 1 && server.io.sockets.sockets.size === 1);
  });

  it('CVE-2020-36049: a large packet is parsed in linear time', async () => {
    const socket = await offender();
    const s = [...server.io.sockets.sockets.values()].find((x) => x.conn.id === socket.sid)!;
    const got = new Promise<unknown[]>((resolve) => s.on('big', (...args: unknown[]) => resolve(args)));
    const started = Date.now();
    const items = Array.from({ length: 8000 }, (_, i) => ({ i }));
    socket.send(`42["big",${JSON.stringify(items)}]`);
    const [payload] = await got;
    expect(payload).toHaveLength(8000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('CVE-2020-36048: a WebSocket message over maxHttpBufferSize closes with 1009', async () => {
    const socket = await offender();
    socket.send(`42["big","${'x'.repeat(150_000)}"]`);
    expect((await socket.closedWithin()).code).toBe(1009);
  });

  it('a CONNECT to an unknown namespace is refused with 44 and counted', async () => {
    const socket = await offender();
    socket.send('40/unknown,');
    expect(await socket.next()).toBe('44/unknown,{"message":"Invalid namespace"}');
    expect(server.io.metrics.invalidNamespaces).toBe(1);
  });
});

describe('limits are options', () => {
  it('maxAttachments lowers the attachment cap', async () => {
    const strict = await startServer({ maxAttachments: 1 });
    const socket = await RawSocket.open(strict.base);
    await socket.connectNsp('/');
    socket.send('452-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    await socket.closedWithin();
    expect(strict.io.metrics.parseErrors).toBe(1);
  });
});
