// The people tables on both backends (accounts, personal tokens, console
// sessions, audit log), and console sessions shared by two hubs on one
// PostgreSQL database: signed in on one node, accepted on the other;
// signed out on one, refused on both.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '@sitehub/hub';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, apiFor } from './helpers.js';
import { BACKENDS, closeStores, postgresCluster, stopPostgresCluster } from './store-backends.js';

afterEach(closeStores);
afterAll(stopPostgresCluster);

const account = (id: string, name: string) => ({ id, name, role: 'operator' as const, sites: ['s1'], disabled: false, createdAt: 1, updatedAt: 1 });

describe.each(BACKENDS)('people in the store on $name', (backend) => {
  it('keeps accounts with their hash, changes and deletes them (tokens and sessions go with them)', async () => {
    const { store } = await backend.open();
    await store.people.createAccount(account('a1', 'ana'), 'scrypt$hash-a');
    await expect(store.people.createAccount(account('a2', 'ana'), 'x')).rejects.toThrow();
    expect(await store.people.findAccount('ana')).toEqual({ account: account('a1', 'ana'), passwordHash: 'scrypt$hash-a' });
    const changed = await store.people.updateAccount('a1', { role: 'viewer', sites: null, disabled: true, passwordHash: 'scrypt$hash-b' }, 5);
    expect(changed).toEqual({ ...account('a1', 'ana'), role: 'viewer', sites: null, disabled: true, updatedAt: 5 });
    expect((await store.people.findAccount('ana'))!.passwordHash).toBe('scrypt$hash-b');
    await store.people.createApiToken({ id: 't1', accountId: 'a1', name: 'cli', createdAt: 2 }, Buffer.alloc(32, 1));
    expect((await store.people.findApiToken(Buffer.alloc(32, 1)))?.token).toEqual({ id: 't1', accountId: 'a1', name: 'cli', createdAt: 2 });
    expect(await store.people.findApiToken(Buffer.alloc(32, 2))).toBeUndefined();
    await store.people.createSession(Buffer.alloc(32, 3), { accountId: 'a1', createdAt: 3, expiresAt: 100 }, 3);
    expect(await store.people.deleteAccount('a1')).toBe(true);
    expect(await store.people.listAccounts()).toEqual([]);
    expect(await store.people.findApiToken(Buffer.alloc(32, 1))).toBeUndefined();
    expect(await store.people.getSession(Buffer.alloc(32, 3))).toBeUndefined();
  });

  it('keeps sessions by hash until they expire or are deleted, and trims the oldest beyond a count', async () => {
    const { store } = await backend.open();
    const key = (n: number) => Buffer.alloc(32, n);
    await store.people.createSession(key(1), { accountId: null, createdAt: 10, expiresAt: 50 }, 10);
    await store.people.createSession(key(2), { accountId: 'x', createdAt: 20, expiresAt: 200 }, 20);
    expect(await store.people.getSession(key(1))).toEqual({ accountId: null, createdAt: 10, expiresAt: 50 });
    // A new session sweeps the expired ones.
    await store.people.createSession(key(3), { accountId: 'x', createdAt: 60, expiresAt: 300 }, 60);
    expect(await store.people.getSession(key(1))).toBeUndefined();
    expect(await store.people.countSessions()).toBe(2);
    expect(await store.people.trimSessions(1)).toBe(1);
    expect(await store.people.getSession(key(2))).toBeUndefined();
    expect(await store.people.deleteSessionsOf('x')).toBe(1);
    expect(await store.people.countSessions()).toBe(0);
  });

  it('keeps the audit log newest first, filtered by actor and time', async () => {
    const { store } = await backend.open();
    for (const [ts, actor] of [[1, 'ana'], [2, 'bob'], [3, 'ana']] as const) {
      await store.people.appendAudit({ ts, actor, action: 'command', target: 'd1 reboot', outcome: 'ok', address: '127.0.0.1' });
    }
    expect((await store.people.listAudit({ limit: 10 })).map((e) => e.ts)).toEqual([3, 2, 1]);
    expect((await store.people.listAudit({ actor: 'ana', limit: 10 })).map((e) => e.ts)).toEqual([3, 1]);
    expect((await store.people.listAudit({ from: 2, to: 2, limit: 10 })).map((e) => e.actor)).toEqual(['bob']);
    // Retention prunes the audit log like the rest of the history.
    await store.prune(3);
    expect((await store.people.listAudit({ limit: 10 })).map((e) => e.ts)).toEqual([3]);
  });
});

describe('console sessions on two hubs sharing PostgreSQL', () => {
  it('a session made on one node is accepted on the other, and signing out on one ends it on both', async () => {
    const database = await (await postgresCluster()).createDatabase();
    const hubs: Hub[] = [];
    const dirs: string[] = [];
    try {
      const bases: string[] = [];
      for (let i = 0; i < 2; i++) {
        const dataDir = mkdtempSync(join(tmpdir(), 'sitehub-shared-sessions-'));
        dirs.push(dataDir);
        const hub = createHub({ dataDir, port: 0, host: '127.0.0.1', adminToken: ADMIN_TOKEN, logLevel: 'silent', database });
        hubs.push(hub);
        bases.push(`http://127.0.0.1:${(await hub.listen()).port}`);
      }
      const [one, two] = bases as [string, string];
      await apiFor(one)('POST', '/api/accounts', { name: 'ana', password: 'correct horse battery', role: 'viewer' });
      const res = await fetch(`${one}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: one }, body: JSON.stringify({ name: 'ana', password: 'correct horse battery' }) });
      expect(res.status).toBe(200);
      const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
      const me = (base: string) => fetch(`${base}/api/me`, { headers: { cookie } });
      expect((await me(two)).status).toBe(200);
      expect(await (await me(two)).json()).toMatchObject({ name: 'ana', role: 'viewer' });
      expect((await fetch(`${one}/auth/session`, { method: 'DELETE', headers: { cookie, origin: one } })).status).toBe(200);
      expect((await me(two)).status).toBe(401);
      expect((await me(one)).status).toBe(401);
    } finally {
      for (const hub of hubs) await hub.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
});
