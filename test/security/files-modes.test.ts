// Owner-only files: the hub's data folder (0700) and everything in it (0600:
// admin token, database, -wal, -shm), the agent's outbox and the bridge's
// queue, whatever the process umask; loose files left by an older version
// are tightened at start.
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub } from '@sitehub/hub';
import { Outbox as AgentOutbox } from '../../device-client/src/outbox.js';
import { Outbox as BridgeQueue } from '../../bridge/src/queue.js';

const mode = (path: string) => statSync(path).mode & 0o777;
const dirs: string[] = [];
let savedUmask: number | undefined;

/** A temp folder; the test runs with umask 000, so nothing is private unless the code makes it so. */
function looseWorld(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-files-'));
  dirs.push(dir);
  chmodSync(dir, 0o777);
  savedUmask ??= process.umask(0);
  return dir;
}

afterEach(() => {
  if (savedUmask !== undefined) process.umask(savedUmask);
  savedUmask = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the hub data folder', () => {
  it('is 0700 with the admin token, the database and its -wal and -shm files 0600', async () => {
    const root = looseWorld();
    const dataDir = join(root, 'nested', 'data');
    const hub = createHub({ dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    expect(hub.adminTokenCreated).toBe(true);
    try {
      const { port } = await hub.listen();
      const registry = hub.services.registry;
      await registry.createSite({ id: 's' });
      await registry.createClass({ id: 'c' });
      const { token } = await registry.registerDevice({ id: 'd1', classId: 'c', siteId: 's' });
      const socket = io(`http://127.0.0.1:${port}/devices/c`, { auth: { deviceId: 'd1', token }, transports: ['websocket'], forceNew: true, reconnection: false });
      try {
        // A committed write: SQLite has now created the -wal and -shm files.
        expect(await socket.timeout(5000).emitWithAck('telemetry', [{ seq: 1, ts: Date.now(), values: { v: 1 } }])).toMatchObject({ ok: true });
      } finally {
        socket.close();
      }
      expect(mode(join(root, 'nested'))).toBe(0o700);
      expect(mode(dataDir)).toBe(0o700);
      for (const file of ['admin-token', 'sitehub.db', 'sitehub.db-wal', 'sitehub.db-shm']) {
        expect([file, mode(join(dataDir, file)).toString(8)]).toEqual([file, '600']);
      }
    } finally {
      await hub.close();
    }
  });

  it('tightens an admin token and a database left world-readable', async () => {
    const dataDir = looseWorld();
    writeFileSync(join(dataDir, 'admin-token'), 'an-old-admin-token-0123\n', { mode: 0o644 });
    const first = createHub({ dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    await first.close();
    chmodSync(join(dataDir, 'sitehub.db'), 0o644);
    const again = createHub({ dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    try {
      expect(again.adminToken).toBe('an-old-admin-token-0123');
      expect(mode(join(dataDir, 'admin-token'))).toBe(0o600);
      expect(mode(join(dataDir, 'sitehub.db'))).toBe(0o600);
    } finally {
      await again.close();
    }
  });
});

describe('the agent outbox and the bridge queue', () => {
  it('are created 0600, -wal and -shm included', () => {
    const dir = looseWorld();
    const outbox = new AgentOutbox(join(dir, 'outbox.db'));
    outbox.append([{ ts: Date.now(), values: { v: 1 } }]);
    const queue = new BridgeQueue({ file: join(dir, 'queue.db'), maxMessages: 10 });
    queue.push([{ topic: 't', payload: 'p', qos: 1, retain: false }]);
    try {
      for (const file of ['outbox.db', 'outbox.db-wal', 'outbox.db-shm', 'queue.db', 'queue.db-wal', 'queue.db-shm']) {
        expect([file, mode(join(dir, file)).toString(8)]).toEqual([file, '600']);
      }
    } finally {
      outbox.close();
      queue.close();
    }
  });
});
