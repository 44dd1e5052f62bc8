// A server that is silent or malformed must end the connection cleanly, with
// the right reason, and never throw out of the client.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { client, next } from './helpers.js';

const HANDSHAKE = '0{"sid":"fake","upgrades":[],"pingInterval":150,"pingTimeout":100,"maxPayload":1000000}';

let stop: (() => void) | undefined;

afterEach(() => {
  stop?.();
  stop = undefined;
});

/**
 * A minimal Engine.IO polling server: the n-th GET gets `bodies[n]` (a
 * string, or [status, body]); GETs past the list hang. POSTs get 'ok'.
 */
async function fakeServer(bodies: Array<string | [number, string]>): Promise<string> {
  let polls = 0;
  const http = createServer((req, res) => {
    if (req.method === 'POST') {
      req.resume();
      res.end('ok');
      return;
    }
    const body = bodies[polls++];
    if (body === undefined) return;
    const [status, text] = typeof body === 'string' ? [200, body] : body;
    res.writeHead(status, { 'content-type': 'text/plain; charset=UTF-8' }).end(text);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  stop = () => {
    http.closeAllConnections();
    http.close();
  };
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

describe('misbehaving server', () => {
  it('closes with "ping timeout" when no ping comes within pingInterval + pingTimeout', async () => {
    const url = await fakeServer([HANDSHAKE, '40{"sid":"s1"}']);
    const socket = client(url, { transports: ['polling'], reconnection: false });
    await next(socket, 'connect');
    const connectedAt = Date.now();
    const closeReason = next<[string]>(socket.io, 'close');
    const [reason] = await next<[string]>(socket, 'disconnect', 2000);
    expect(reason).toBe('ping timeout');
    expect((await closeReason)[0]).toBe('ping timeout');
    expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(200);
  });

  it('closes with "parse error" on a malformed Socket.IO packet', async () => {
    const url = await fakeServer([HANDSHAKE, '40{"sid":"s1"}', '42[{"toString":"x"}]']);
    const socket = client(url, { transports: ['polling'], reconnection: false });
    await next(socket, 'connect');
    const [reason] = await next<[string]>(socket, 'disconnect', 2000);
    expect(reason).toBe('parse error');
  });

  it('closes with "transport error" on a malformed Engine.IO payload', async () => {
    const url = await fakeServer([HANDSHAKE, '40{"sid":"s1"}', '9garbage']);
    const socket = client(url, { transports: ['polling'], reconnection: false });
    await next(socket, 'connect');
    const [reason] = await next<[string]>(socket, 'disconnect', 2000);
    expect(reason).toBe('transport error');
  });

  it('reports an unusable handshake as connect_error', async () => {
    const url = await fakeServer(['0{"sid":42}']);
    const socket = client(url, { transports: ['polling'], reconnection: false });
    const [err] = await next<[Error]>(socket, 'connect_error', 2000);
    expect(err.message).toBe('invalid handshake');
  });

  it('reports an HTTP error as connect_error and retries', async () => {
    const url = await fakeServer([[500, 'oops'], [503, 'busy'], HANDSHAKE, '40{"sid":"s1"}']);
    const socket = client(url, { transports: ['polling'], reconnectionDelay: 20, reconnectionDelayMax: 40 });
    const errors: Array<Error & { description?: unknown }> = [];
    socket.on('connect_error', (err) => errors.push(err));
    await next(socket, 'connect', 3000);
    expect(errors.map((e) => [e.message, e.description])).toEqual([
      ['fetch read error', 500],
      ['fetch read error', 503],
    ]);
  });
});
