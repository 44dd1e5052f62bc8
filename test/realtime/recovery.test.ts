// Connection state recovery on the raw wire.
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerOptions } from '@sitehub/hub';
import { cleanup, nextEvent, RawSocket, startServer, until } from './helpers.js';

afterEach(cleanup);

/** Last argument of a `42[...]` frame: the offset. */
function offsetOf(frame: string): string {
  const args = JSON.parse(frame.slice(frame.indexOf('[')));
  return args[args.length - 1];
}

async function recoverable(opts: Partial<ServerOptions> = {}) {
  const server = await startServer({ connectionStateRecovery: {}, ...opts });
  const socket = await RawSocket.open(server.base);
  const answer = await socket.connectNsp('/');
  const s = server.io.sockets.sockets.get(answer.sid)!;
  return { ...server, socket, s, ...answer };
}

describe('connection state recovery', () => {
  it('adds pid to the CONNECT answer and an offset to events without ack, not to volatile or ack ones', async () => {
    const { socket, s, pid } = await recoverable();
    expect(typeof pid).toBe('string');
    s.emit('a', 1);
    const first = (await socket.next()) as string;
    expect(first).toMatch(/^42\["a",1,"[\w-]+"\]$/);
    s.emit('b');
    const second = (await socket.next()) as string;
    expect(offsetOf(second)).not.toBe(offsetOf(first));
    s.volatile.emit('v');
    expect(await socket.next()).toBe('42["v"]');
    s.emit('q', () => {});
    expect(await socket.next()).toBe('420["q"]');
  });

  it('restores sid, rooms and data after a transport close and replays missed packets before 40', async () => {
    const { io, base, socket, s, sid, pid } = await recoverable();
    let middlewareRuns = 0;
    io.use((_s, next) => {
      middlewareRuns++;
      next();
    });
    s.join('site:7');
    s.data = { user: 'ada' };
    io.emit('seen');
    const offset = offsetOf((await socket.next()) as string);
    const gone = nextEvent(s, 'disconnect');
    socket.terminate();
    expect((await gone)[0]).toBe('transport close');
    io.to('site:7').emit('missed', 1);
    io.to('elsewhere').emit('not-for-you');
    io.except('site:7').emit('not-for-you-either');
    io.emit('missed', 2);
    const connection = nextEvent(io, 'connection');
    const again = await RawSocket.open(base);
    again.send(`40${JSON.stringify({ pid, offset, token: 'x' })}`);
    expect(await again.next()).toMatch(/^42\["missed",1,"[\w-]+"\]$/);
    expect(await again.next()).toMatch(/^42\["missed",2,"[\w-]+"\]$/);
    const answer = JSON.parse(((await again.next()) as string).slice(2));
    expect(answer).toEqual({ sid, pid });
    const [restored] = await connection;
    expect(restored.recovered).toBe(true);
    expect(restored.id).toBe(sid);
    expect(restored.data).toEqual({ user: 'ada' });
    expect([...restored.rooms].sort()).toEqual([sid, 'site:7'].sort());
    expect(restored.handshake.auth).toEqual({ pid, offset, token: 'x' });
    expect(middlewareRuns).toBe(0);
    expect(io.metrics.recoveredSessions).toBe(1);
  });

  it('replays a missed binary event exactly as it was sent', async () => {
    const { io, base, socket, s, pid } = await recoverable();
    s.emit('x');
    const offset = offsetOf((await socket.next()) as string);
    socket.terminate();
    await until(() => io.sockets.sockets.size === 0);
    io.emit('bin', Buffer.from([1, 2, 3]));
    const again = await RawSocket.open(base);
    again.send(`40${JSON.stringify({ pid, offset })}`);
    expect(await again.next()).toMatch(/^451-\["bin",\{"_placeholder":true,"num":0\},"[\w-]+"\]$/);
    expect([...((await again.next()) as Buffer)]).toEqual([1, 2, 3]);
    expect(((await again.next()) as string).startsWith('40{')).toBe(true);
  });

  it('runs the middlewares on recovery when skipMiddlewares is false', async () => {
    const { io, base, socket, s, pid } = await recoverable({ connectionStateRecovery: { skipMiddlewares: false } });
    let middlewareRuns = 0;
    io.use((_s, next) => {
      middlewareRuns++;
      next();
    });
    s.emit('x');
    const offset = offsetOf((await socket.next()) as string);
    socket.terminate();
    await until(() => io.sockets.sockets.size === 0);
    const again = await RawSocket.open(base);
    again.send(`40${JSON.stringify({ pid, offset })}`);
    expect(JSON.parse(((await again.next()) as string).slice(2)).sid).toBe(s.id);
    expect(middlewareRuns).toBe(1);
  });

  it.each([
    ['after a client namespace disconnect (41)', (socket: RawSocket) => socket.send('41')],
    ['after a server namespace disconnect', (_socket: RawSocket, s: any) => s.disconnect()],
  ])('gives a new session %s', async (_name, end) => {
    const { io, base, socket, s, sid, pid } = await recoverable();
    s.emit('x');
    const offset = offsetOf((await socket.next()) as string);
    end(socket, s);
    await until(() => io.sockets.sockets.size === 0);
    const again = await RawSocket.open(base);
    const answer = await again.connectNsp('/', { pid, offset });
    expect(answer.sid).not.toBe(sid);
    expect(answer.pid).not.toBe(pid);
  });

  it('gives a new session once maxDisconnectionDuration has passed', async () => {
    const { io, base, socket, s, sid, pid } = await recoverable({ connectionStateRecovery: { maxDisconnectionDuration: 50 } });
    s.emit('x');
    const offset = offsetOf((await socket.next()) as string);
    socket.terminate();
    await until(() => io.sockets.sockets.size === 0);
    await new Promise((r) => setTimeout(r, 80));
    const again = await RawSocket.open(base);
    expect((await again.connectNsp('/', { pid, offset })).sid).not.toBe(sid);
  });

  it('gives a new session for an unknown offset, a dropped offset, or a pid used twice', async () => {
    const { io, base, socket, s, sid, pid } = await recoverable({ connectionStateRecovery: { maxStoredPackets: 2 } });
    s.emit('x');
    const offset = offsetOf((await socket.next()) as string);
    socket.terminate();
    await until(() => io.sockets.sockets.size === 0);
    const forged = await RawSocket.open(base);
    expect((await forged.connectNsp('/', { pid, offset: 'forged' })).sid).not.toBe(sid);
    // The failed attempt consumed the session: the right offset no longer helps.
    const late = await RawSocket.open(base);
    expect((await late.connectNsp('/', { pid, offset })).sid).not.toBe(sid);

    const second = await recoverable({ connectionStateRecovery: { maxStoredPackets: 2 } });
    second.s.emit('x');
    const oldOffset = offsetOf((await second.socket.next()) as string);
    second.socket.terminate();
    await until(() => second.io.sockets.sockets.size === 0);
    for (let i = 0; i < 3; i++) second.io.emit('flood', i);
    const tooLate = await RawSocket.open(second.base);
    expect((await tooLate.connectNsp('/', { pid: second.pid, offset: oldOffset })).sid).not.toBe(second.sid);
  });

  it('keeps no session when recovery is off', async () => {
    const { io, base } = await startServer();
    const socket = await RawSocket.open(base);
    const answer = await socket.connectNsp('/');
    expect(answer.pid).toBeUndefined();
    io.emit('plain');
    expect(await socket.next()).toBe('42["plain"]');
  });
});
