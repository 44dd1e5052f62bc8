// CONNECT, DISCONNECT and namespace routing on the raw wire (Socket.IO v5 spec).
import { afterEach, describe, expect, it } from 'vitest';
import { busyWait } from '../helpers/engine.js';
import { cleanup, nextEvent, poll, pollingHandshake, RawSocket, startServer, until } from './helpers.js';

afterEach(cleanup);

describe('CONNECT', () => {
  it('answers 40 with a Socket.IO sid distinct from the Engine.IO sid, auth defaulting to {}', async () => {
    const { io, base } = await startServer();
    const connection = nextEvent(io, 'connection');
    const socket = await RawSocket.open(base);
    const answer = await socket.connectNsp('/');
    const [serverSocket] = await connection;
    expect(Object.keys(answer)).toEqual(['sid']);
    expect(answer.sid).toBe(serverSocket.id);
    expect(answer.sid).not.toBe(socket.sid);
    expect(serverSocket.conn.id).toBe(socket.sid);
    expect(serverSocket.handshake.auth).toEqual({});
    expect(serverSocket.connected).toBe(true);
  });

  it('joins a custom namespace with an auth payload and fills the handshake', async () => {
    const { io, base } = await startServer();
    const connection = nextEvent(io.of('/admin'), 'connection');
    const socket = await RawSocket.open(base, '&site=north&tag=a&tag=b');
    socket.send('40/admin,{"token":"t"}');
    const answer = (await socket.next()) as string;
    expect(answer).toMatch(/^40\/admin,\{"sid":"[\w-]+"\}$/);
    const [s] = await connection;
    expect(s.nsp.name).toBe('/admin');
    expect(s.handshake).toMatchObject({
      auth: { token: 't' },
      address: '127.0.0.1',
      secure: false,
      xdomain: false,
      // A repeated key keeps its last value, and the query is the engine's own object, as socket.io.
      query: { EIO: '4', transport: 'websocket', site: 'north', tag: 'b' },
    });
    expect(s.handshake.query).toBe((s.request as unknown as { _query: unknown })._query);
    expect(s.handshake.url).toContain('/socket.io/?EIO=4');
    expect(s.handshake.headers.host).toBe(base);
    expect(Math.abs(s.handshake.issued - Date.now())).toBeLessThan(5000);
    expect(typeof s.handshake.time).toBe('string');
  });

  it('refuses an unknown namespace with 44 "Invalid namespace" and keeps the connection', async () => {
    const { io, base } = await startServer();
    const socket = await RawSocket.open(base);
    socket.send('40/nope,');
    expect(await socket.next()).toBe('44/nope,{"message":"Invalid namespace"}');
    expect(io.metrics.invalidNamespaces).toBe(1);
    await socket.connectNsp('/');
  });

  it('sends a middleware error as 44 with message and data', async () => {
    const { io, base } = await startServer();
    io.use((socket, next) => {
      const err = Object.assign(new Error('unauthorized'), { data: { code: 'E_AUTH' } });
      next(socket.handshake.auth.ok ? undefined : err);
    });
    io.of('/plain').use((_socket, next) => next(new Error('closed for today')));
    const socket = await RawSocket.open(base);
    socket.send('40');
    expect(await socket.next()).toBe('44{"message":"unauthorized","data":{"code":"E_AUTH"}}');
    socket.send('40/plain,');
    expect(await socket.next()).toBe('44/plain,{"message":"closed for today"}');
    expect(io.metrics.middlewareRejections).toBe(2);
    // Refused CONNECTs leave nothing behind and may be retried.
    expect(io.sockets.sockets.size).toBe(0);
    await socket.connectNsp('/', { ok: true });
  });

  it('runs middlewares in order, asynchronously, and only then emits connection', async () => {
    const { io, base } = await startServer();
    const order: string[] = [];
    io.use((_s, next) => {
      order.push('a');
      setTimeout(next, 20);
    });
    io.use((socket, next) => {
      order.push('b');
      socket.data.ready = true;
      next();
    });
    io.on('connection', (s) => order.push(`connection:${s.data.ready}`));
    await RawSocket.connect(base);
    expect(order).toEqual(['a', 'b', 'connection:true']);
  });

  it('closes a connection that joins no namespace within connectTimeout', async () => {
    const { io, base } = await startServer({ connectTimeout: 150 });
    const idle = await RawSocket.open(base);
    const busy = await RawSocket.open(base);
    await busy.connectNsp('/');
    await idle.closedWithin(1000);
    expect(io.metrics.connectTimeouts).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(busy.isClosed).toBe(false);
  });

  it('keeps a connection whose CONNECT arrived before a late connectTimeout timer ran (a long event-loop lap)', async () => {
    const { io, base } = await startServer({ connectTimeout: 150 });
    const socket = await RawSocket.open(base);
    socket.send('40');
    // Timers run before the poll phase: the deadline's timer fires while the CONNECT waits, unread.
    busyWait(300);
    expect(await socket.next()).toMatch(/^40\{"sid":/);
    expect(io.metrics.connectTimeouts).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(socket.isClosed).toBe(false);
  });

  it('lets a CONNECT still in its middlewares at the deadline decide: accepted stays, refused closes', async () => {
    const { io, base } = await startServer({ connectTimeout: 150 });
    io.of('/slow').use((socket, next) => {
      setTimeout(() => next(socket.handshake.auth.ok ? undefined : new Error('no')), 250);
    });
    const accepted = await RawSocket.open(base);
    const refused = await RawSocket.open(base);
    accepted.send('40/slow,{"ok":true}');
    refused.send('40/slow,{}');
    expect(await accepted.next()).toMatch(/^40\/slow,\{"sid":/);
    expect(await refused.next()).toBe('44/slow,{"message":"no"}');
    await refused.closedWithin(1000);
    expect(io.metrics.connectTimeouts).toBe(1);
    expect(accepted.isClosed).toBe(false);
  });

  it('closes a polling connection without CONNECT too; the pending GET ends with a close packet', async () => {
    const { base } = await startServer({ connectTimeout: 150 });
    const sid = await pollingHandshake(base);
    const pending = await poll(base, sid);
    expect(pending.text.split('\x1e').at(-1)).toBe('1');
    expect((await poll(base, sid)).status).toBe(400);
  });

  it('creates dynamic namespaces with a function, announces them and can clean them up', async () => {
    const { io, base } = await startServer({ cleanupEmptyChildNamespaces: true });
    const created: string[] = [];
    io.on('new_namespace', (nsp) => created.push(nsp.name));
    const parent = io.of((name, auth, next) => next(null, name.startsWith('/dyn-') && auth.key === 'k'));
    const connected: string[] = [];
    parent.on('connection', (s) => connected.push(s.nsp.name));
    const socket = await RawSocket.open(base);
    socket.send('40/dyn-1,{"key":"k"}');
    expect(await socket.next()).toMatch(/^40\/dyn-1,/);
    socket.send('40/dyn-2,{"key":"bad"}');
    expect(await socket.next()).toBe('44/dyn-2,{"message":"Invalid namespace"}');
    expect(created).toEqual(['/dyn-1']);
    expect(connected).toEqual(['/dyn-1']);
    socket.send('41/dyn-1,');
    await until(() => !io._nsps.has('/dyn-1'), 1000, 'empty child removed');
  });

  it('gives a child namespace created by a RegExp the parent middlewares', async () => {
    const { io, base } = await startServer();
    const parent = io.of(/^\/team-\d+$/g);
    parent.use((_s, next) => next(Object.assign(new Error('nope'), { data: 1 })));
    const socket = await RawSocket.open(base);
    socket.send('40/team-1,');
    expect(await socket.next()).toBe('44/team-1,{"message":"nope","data":1}');
    // A global RegExp keeps lastIndex; matching twice in a row must still work.
    socket.send('40/team-2,');
    expect(await socket.next()).toBe('44/team-2,{"message":"nope","data":1}');
  });
});

describe('protocol violations close the whole connection', () => {
  it.each([
    ['a second CONNECT for the same namespace', '40'],
    ['a packet for a namespace not joined', '42/admin,["x"]'],
    ['a CONNECT_ERROR from the client', '44{"message":"x"}'],
  ])('%s', async (_name, frame) => {
    const { io, base } = await startServer();
    io.of('/admin');
    const { socket } = await RawSocket.connect(base);
    const serverSocket = [...io.sockets.sockets.values()][0]!;
    const reason = nextEvent(serverSocket, 'disconnect');
    socket.send(frame);
    await socket.closedWithin();
    expect((await reason)[0]).toBe('forced server close');
    expect(io.metrics.protocolViolations).toBe(1);
  });

  it('a second CONNECT while the first is still in its middleware', async () => {
    const { io, base } = await startServer();
    io.use((_s, next) => setTimeout(next, 100));
    const socket = await RawSocket.open(base);
    socket.send('40');
    socket.send('40');
    await socket.closedWithin();
    expect(io.metrics.protocolViolations).toBe(1);
  });
});

describe('DISCONNECT', () => {
  it('client 41 disconnects the socket, gets no answer, and the session stays usable', async () => {
    const { io, base } = await startServer();
    const { socket, sid } = await RawSocket.connect(base);
    const serverSocket = io.sockets.sockets.get(sid)!;
    const reason = nextEvent(serverSocket, 'disconnect');
    socket.send('41');
    expect((await reason)[0]).toBe('client namespace disconnect');
    await socket.nothingWithin(100);
    expect(io.engine.clientsCount).toBe(1);
    const again = await socket.connectNsp('/');
    expect(again.sid).not.toBe(sid);
  });

  it('socket.disconnect() sends 1<nsp> and keeps the session; disconnect(true) closes it', async () => {
    const { io, base } = await startServer();
    io.of('/admin');
    const socket = await RawSocket.open(base);
    const main = await socket.connectNsp('/');
    const admin = await socket.connectNsp('/admin');
    io.of('/admin').sockets.get(admin.sid)!.disconnect();
    expect(await socket.next()).toBe('41/admin,');
    expect(io.engine.clientsCount).toBe(1);
    const serverMain = io.sockets.sockets.get(main.sid)!;
    const reason = nextEvent(serverMain, 'disconnect');
    serverMain.disconnect(true);
    expect(await socket.next()).toBe('41');
    await socket.closedWithin();
    expect((await reason)[0]).toBe('server namespace disconnect');
  });

  it('emits disconnecting while the rooms are still there, then disconnect', async () => {
    const { io, base } = await startServer();
    const { socket, sid } = await RawSocket.connect(base);
    const s = io.sockets.sockets.get(sid)!;
    s.join('r');
    const seen: string[] = [];
    s.on('disconnecting', (reason) => seen.push(`disconnecting:${reason}:${[...s.rooms].join('|')}`));
    s.on('disconnect', (reason) => seen.push(`disconnect:${reason}:${s.rooms.size}`));
    socket.terminate();
    await until(() => seen.length === 2);
    expect(seen).toEqual([`disconnecting:transport close:${sid}|r`, 'disconnect:transport close:0']);
  });

  it('io.close() disconnects every socket with "server shutting down" and closes the sessions', async () => {
    const handle = await startServer();
    const { socket, sid } = await RawSocket.connect(handle.base);
    const reason = nextEvent(handle.io.sockets.sockets.get(sid)!, 'disconnect');
    await handle.close();
    expect((await reason)[0]).toBe('server shutting down');
    await socket.closedWithin();
  });
});
