// Namespaces over one Engine.IO connection and io()'s Manager cache rules.
import { describe, expect, it } from 'vitest';
import type { Socket as ServerSocket } from 'socket.io';
import { io, Manager } from '@sitehub/device-client';
import { client, next, startServer, track, until } from './helpers.js';

describe('multiplexing', () => {
  it('carries several namespaces over one Engine.IO connection', async () => {
    const server = await startServer();
    const engineIds = new Map<string, string>();
    for (const nsp of ['/', '/admin', '/devices/sensor']) {
      server.io.of(nsp).on('connection', (s: ServerSocket) => {
        engineIds.set(nsp, (s.conn as unknown as { id: string }).id); // private in engine.io's types, public on ours
        s.on('whoami', (cb: (n: string) => void) => cb(nsp));
      });
    }
    // Without forceNew: io() shares the Manager of the same server.
    const root = track(io(server.url));
    const admin = track(io(`${server.url}/admin`));
    const sensor = track(io(`${server.url}/devices/sensor`));
    expect(admin.io).toBe(root.io);
    expect(sensor.io).toBe(root.io);
    await until(() => root.connected && admin.connected && sensor.connected);
    expect(server.io.engine.clientsCount).toBe(1);
    expect(new Set(engineIds.values()).size).toBe(1);
    expect(await admin.emitWithAck('whoami')).toBe('/admin');
    expect(await sensor.emitWithAck('whoami')).toBe('/devices/sensor');
    expect(await root.emitWithAck('whoami')).toBe('/');
    expect(new Set([root.id, admin.id, sensor.id]).size).toBe(3);

    // One namespace leaving keeps the connection for the others.
    admin.disconnect();
    expect(await sensor.emitWithAck('whoami')).toBe('/devices/sensor');
    expect(server.io.engine.clientsCount).toBe(1);
    // The last one leaving closes it.
    root.disconnect();
    sensor.disconnect();
    await until(() => server.io.engine.clientsCount === 0);
  });

  it('creates a new Manager for forceNew, multiplex: false, or a namespace already in use', async () => {
    const server = await startServer();
    const first = track(io(`${server.url}/cache-a`));
    expect(track(io(`${server.url}/cache-b`)).io).toBe(first.io);
    expect(track(io(`${server.url}/cache-c`, { forceNew: true })).io).not.toBe(first.io);
    expect(track(io(`${server.url}/cache-d`, { multiplex: false })).io).not.toBe(first.io);
    const again = track(io(`${server.url}/cache-a`));
    expect(again.io).not.toBe(first.io);
    expect(again).not.toBe(first);
    // A different engine path is a different server.
    const otherPath = track(io(`${server.url}/cache-e`, { path: '/elsewhere' }));
    expect(otherPath.io).not.toBe(first.io);
    otherPath.io.reconnection(false);
  });

  it('Manager.socket() returns one Socket per namespace', async () => {
    const server = await startServer();
    const manager = new Manager(server.url, { reconnectionDelay: 50 });
    const a = track(manager.socket('/'));
    const b = track(manager.socket('/room'));
    server.io.of('/room');
    expect(manager.socket('/')).toBe(a);
    await until(() => a.connected && b.connected);
    expect(a.io).toBe(manager);
    expect(manager.engine?.id).toBeTruthy();
  });

  it('a namespace the server refuses gets connect_error without hurting the others', async () => {
    const server = await startServer();
    const root = client(server.url);
    await next(root, 'connect');
    const stranger = track(root.io.socket('/nope'));
    const [err] = await next<[Error]>(stranger, 'connect_error');
    expect(err.message).toBe('Invalid namespace');
    expect(stranger.active).toBe(false);
    expect(root.connected).toBe(true);
  });
});
