// Server construction, attachment, options and shutdown.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Adapter, EngineServer, Server, SessionAwareAdapter, setClientBundleHandler } from '@sitehub/hub';
import { cleanup, RawSocket, startServer, until } from './helpers.js';

const toClose: Server[] = [];
afterEach(async () => {
  setClientBundleHandler(undefined);
  for (const io of toClose.splice(0)) await io.close();
  await cleanup();
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('Server', () => {
  it('has socket.io defaults and exposes the EngineServer as io.engine', () => {
    const io = new Server({ serveClient: false });
    toClose.push(io);
    expect(io.path()).toBe('/socket.io');
    expect(io.connectTimeout()).toBe(45000);
    expect(io.serveClient()).toBe(false);
    expect(io.adapter()).toBe(Adapter);
    expect(io.engine).toBeInstanceOf(EngineServer);
    expect(io.engine.opts.pingInterval).toBe(25000);
    expect(io.sockets.name).toBe('/');
    expect(io.of('admin')).toBe(io.of('/admin'));
  });

  it('uses the session-aware adapter when connectionStateRecovery is on, with defaults filled in', () => {
    const io = new Server({ connectionStateRecovery: {} });
    toClose.push(io);
    expect(io.adapter()).toBe(SessionAwareAdapter);
    expect(io.opts.connectionStateRecovery).toMatchObject({ maxDisconnectionDuration: 120000, skipMiddlewares: true });
  });

  it('passes engine options through: the open packet shows them', async () => {
    const { base } = await startServer({ pingInterval: 1234, pingTimeout: 567, maxHttpBufferSize: 4321 });
    const res = await fetch(`http://${base}/socket.io/?EIO=4&transport=polling`);
    const open = JSON.parse((await res.text()).slice(1));
    expect(open).toMatchObject({ pingInterval: 1234, pingTimeout: 567, maxPayload: 4321 });
  });

  it('new Server(port) creates and listens, and close() closes that http server', async () => {
    const port = await freePort();
    const io = new Server(port);
    await until(() => io.httpServer?.listening === true, 2000, 'listening');
    const socket = await RawSocket.open(`127.0.0.1:${port}`);
    await socket.connectNsp('/');
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    await io.close();
    await socket.closedWithin();
    await expect(fetch(`http://127.0.0.1:${port}/other`)).rejects.toThrow();
  });

  it('listen(port) and attach(httpServer, { path }) work like the constructor', async () => {
    const port = await freePort();
    const io = new Server({ path: '/rt' });
    io.listen(port);
    toClose.push(io);
    await until(() => io.httpServer?.listening === true, 2000, 'listening');
    const ok = await fetch(`http://127.0.0.1:${port}/rt/?EIO=4&transport=polling`);
    expect(ok.status).toBe(200);
    expect((await ok.text()).startsWith('0{')).toBe(true);
  });

  it('leaves the app routes alone, and close() closes the attached http server as socket.io does', async () => {
    const httpServer = createServer((_req, res) => res.end('app'));
    const io = new Server(httpServer);
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const { port } = httpServer.address() as AddressInfo;
    expect(await (await fetch(`http://127.0.0.1:${port}/hello`)).text()).toBe('app');
    let closeError: Error | undefined | null = null;
    await io.close((err) => (closeError = err));
    expect(closeError).toBeUndefined();
    expect(httpServer.listening).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/hello`)).rejects.toThrow();
  });

  it('close(cb) on an http server that is not running passes ERR_SERVER_NOT_RUNNING, as socket.io', async () => {
    const stopped = createServer();
    const io = new Server(stopped);
    await new Promise<void>((resolve) => stopped.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => stopped.close(() => resolve()));
    let closeError: (Error & { code?: string }) | undefined | null = null;
    await io.close((err) => (closeError = err));
    expect(closeError!.code).toBe('ERR_SERVER_NOT_RUNNING');

    const neverListened = new Server(createServer());
    closeError = null;
    await neverListened.close((err) => (closeError = err));
    expect(closeError!.code).toBe('ERR_SERVER_NOT_RUNNING');
  });

  it('refuses an express-style request handler in attach()', () => {
    const io = new Server();
    toClose.push(io);
    expect(() => io.attach((() => {}) as never)).toThrow(/http.Server/);
  });

  it('serves the client bundle through the registered hook only when serveClient is on', async () => {
    setClientBundleHandler((_req, res, file) => {
      res.setHeader('content-type', 'application/javascript');
      res.end(`// ${file}`);
      return true;
    });
    const notFound = (_req: unknown, res: { statusCode: number; end(): void }) => {
      res.statusCode = 404;
      res.end();
    };
    const on = await startServer({}, notFound);
    const off = await startServer({ serveClient: false }, notFound);
    expect(await (await fetch(`http://${on.base}/socket.io/socket.io.js`)).text()).toBe('// socket.io.js');
    // Everything else under the path is the engine's, as in socket.io: a 400, never a hang.
    for (const url of [`http://${off.base}/socket.io/socket.io.js`, `http://${on.base}/socket.io/other.js`]) {
      const res = await fetch(url);
      expect(res.status, url).toBe(400);
      expect(await res.json()).toEqual({ code: 0, message: 'Transport unknown' });
    }
  });

  it('delegates listener methods to the main namespace', async () => {
    const { io } = await startServer();
    const listener = () => {};
    io.on('connection', listener);
    expect(io.sockets.listeners('connection')).toContain(listener);
    expect(io.listenerCount('connection')).toBe(1);
    io.off('connection', listener);
    expect(io.sockets.listenerCount('connection')).toBe(0);
  });

  it('exposes counters as io.metrics', async () => {
    const { io } = await startServer();
    expect(io.metrics.toJSON()).toEqual({
      parseErrors: 0,
      invalidNamespaces: 0,
      protocolViolations: 0,
      connectTimeouts: 0,
      attachmentTimeouts: 0,
      tooDeepMessages: 0,
      unhandledErrorEvents: 0,
      middlewareRejections: 0,
      unknownAcks: 0,
      recoveredSessions: 0,
    });
  });
});
