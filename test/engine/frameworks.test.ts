// Attaching next to an application: Express, Koa, fastify and a plain
// handler keep their routes, other WebSocket servers keep their upgrades,
// and the engine serves only its own path.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import { EngineServer } from '@sitehub/hub';
import {
  WsClient,
  closeHttp,
  echo,
  expectStillServing,
  pollingHandshake,
  rawExchange,
  startEngine,
  upgradeRequest,
  type TestEngine,
} from '../helpers/engine.js';

let t: TestEngine | undefined;
let fastify: FastifyInstance | undefined;
const cleanups: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await t?.close();
  t = undefined;
  await fastify?.close();
  fastify = undefined;
});

function ws(url: string): WsClient {
  const client = new WsClient(url);
  cleanups.push(() => client.close());
  return client;
}

async function expectEngineWorks(t: TestEngine): Promise<void> {
  await expectStillServing(t);
}

describe('next to frameworks', () => {
  it('Express: routes and 404s still answer, the engine path works', async () => {
    const app = express();
    app.get('/hello', (_req, res) => {
      res.send('express world');
    });
    t = await startEngine({}, { http: createServer(app) });
    const hello = await fetch(`http://127.0.0.1:${t.port}/hello`);
    expect(await hello.text()).toBe('express world');
    expect((await fetch(`http://127.0.0.1:${t.port}/missing`)).status).toBe(404);
    await expectEngineWorks(t);
  });

  it('Koa: routes still answer, the engine path works', async () => {
    const app = new Koa();
    app.use((ctx) => {
      if (ctx.path === '/hello') ctx.body = 'koa world';
    });
    t = await startEngine({}, { http: createServer(app.callback()) });
    expect(await (await fetch(`http://127.0.0.1:${t.port}/hello`)).text()).toBe('koa world');
    await expectEngineWorks(t);
  });

  it("fastify: attached to fastify's .server, routes still answer", async () => {
    fastify = Fastify();
    fastify.get('/hello', async () => 'fastify world');
    const engine = new EngineServer();
    echo(engine);
    engine.attach(fastify.server);
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const port = (fastify.server.address() as AddressInfo).port;
    cleanups.push(() => {
      engine.close();
      fastify?.server.closeAllConnections();
    });
    expect(await (await fetch(`http://127.0.0.1:${port}/hello`)).text()).toBe('fastify world');
    expect((await fetch(`http://127.0.0.1:${port}/missing`)).status).toBe(404);
    const base = `http://127.0.0.1:${port}/engine.io/`;
    await expectEngineWorks({
      engine,
      http: fastify.server,
      port,
      base,
      url: (transport, extra = {}) => {
        const url = `${base}?${new URLSearchParams({ EIO: '4', transport, ...extra })}`;
        return transport === 'websocket' ? url.replace('http://', 'ws://') : url;
      },
      close: async () => {},
    });
  });

  it('plain http handler: other paths still answer', async () => {
    t = await startEngine({}, { http: createServer((_req, res) => res.end('plain world')) });
    expect(await (await fetch(`http://127.0.0.1:${t.port}/anything`)).text()).toBe('plain world');
    await expectEngineWorks(t);
  });
});

describe('serving only its own path', () => {
  it('leaves /engine.io (no slash) to the application, and serves everything under /engine.io/ as engine.io does', async () => {
    t = await startEngine({}, { http: createServer((req, res) => res.end(`app:${req.url}`)) });
    expect(await (await fetch(`http://127.0.0.1:${t.port}/engine.io?EIO=4&transport=polling`)).text()).toBe('app:/engine.io?EIO=4&transport=polling');
    expect(await (await fetch(`http://127.0.0.1:${t.port}/engine.io/client.js`)).json()).toEqual({ code: 0, message: 'Transport unknown' });
    // Prefixes such as /engine.io/default/ (socket.io's own tests use them) reach the engine.
    expect((await (await fetch(`http://127.0.0.1:${t.port}/engine.io/default/?EIO=4&transport=polling`)).text())[0]).toBe('0');
    expect((await pollingHandshake(t)).sid).toBeTruthy();
  });

  it('with addTrailingSlash false serves both /path and /path/', async () => {
    t = await startEngine({}, { attach: { path: '/rt', addTrailingSlash: false }, http: createServer((_req, res) => res.end('app')) });
    for (const path of ['/rt', '/rt/']) {
      const text = await (await fetch(`http://127.0.0.1:${t.port}${path}?EIO=4&transport=polling`)).text();
      expect(text[0], path).toBe('0');
    }
    expect(await (await fetch(`http://127.0.0.1:${t.port}/rtx?EIO=4&transport=polling`)).text()).toBe('app');
  });

  it('serves a custom path', async () => {
    t = await startEngine({}, { attach: { path: '/socket.io' } });
    expect(t.base).toMatch(/\/socket\.io\/$/);
    await expectEngineWorks(t);
  });
});

describe('upgrades for other paths', () => {
  async function otherWsServer(http: HttpServer): Promise<void> {
    const other = new WebSocketServer({ noServer: true });
    other.on('connection', (socket) => socket.send('other server'));
    http.on('upgrade', (req, socket, head) => {
      if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => other.emit('connection', ws, req));
    });
    cleanups.push(() => other.close());
  }

  it('another WebSocket server attached before keeps its upgrades', async () => {
    const http = createServer();
    await otherWsServer(http);
    t = await startEngine({}, { http });
    const client = ws(`ws://127.0.0.1:${t.port}/other`);
    expect(await client.nextText()).toBe('other server');
    await expectEngineWorks(t);
  });

  it('another WebSocket server attached after keeps its upgrades', async () => {
    t = await startEngine();
    await otherWsServer(t.http);
    const client = ws(`ws://127.0.0.1:${t.port}/other`);
    expect(await client.nextText()).toBe('other server');
    await expectEngineWorks(t);
  });

  it('with no other upgrade listener, a foreign upgrade reaches the application as Node would deliver it', async () => {
    const app = express();
    app.get('/plain', (req, res) => {
      res.send(`plain route, upgrade header ${req.headers.upgrade}`);
    });
    t = await startEngine({}, { http: createServer(app) });
    const { status, text, closedByPeer } = await rawExchange(t.port, upgradeRequest('/plain'));
    expect(status).toBe(200);
    expect(text).toContain('plain route, upgrade header websocket');
    expect(closedByPeer).toBe(true);
    await expectEngineWorks(t);
  });

  it('destroyUpgrade: true ends foreign upgrades nobody answered', async () => {
    t = await startEngine({}, { attach: { destroyUpgrade: true, destroyUpgradeTimeout: 100 } });
    const started = Date.now();
    const { text, closedByPeer } = await rawExchange(t.port, upgradeRequest('/elsewhere'), { timeoutMs: 2000 });
    expect(text).toBe('');
    expect(closedByPeer).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('two engines on one server, each on its own path', async () => {
    const http = createServer((_req, res) => res.end('app'));
    const second = new EngineServer();
    second.attach(http, { path: '/second' });
    echo(second);
    t = await startEngine({}, { http });
    cleanups.push(() => {
      second.close();
    });
    await expectEngineWorks(t);
    const text = await (await fetch(`http://127.0.0.1:${t.port}/second/?EIO=4&transport=polling`)).text();
    expect(text[0]).toBe('0');
    expect(second.clientsCount).toBe(1);
    expect(await (await fetch(`http://127.0.0.1:${t.port}/else`)).text()).toBe('app');
    const client = ws(`ws://127.0.0.1:${t.port}/second/?EIO=4&transport=websocket`);
    expect((await client.nextText())[0]).toBe('0');
    await closeHttp(http, second);
  });
});
