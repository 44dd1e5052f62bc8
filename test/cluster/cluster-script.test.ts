// `npm run cluster` (scripts/cluster.mjs, as docs/scaling.md tells readers to
// run it): it prints the console's address and the admin token, the address
// serves the console and the API through HAProxy, and Ctrl-C (SIGINT) stops
// every process it started: nothing answers on any of its ports afterwards.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../scripts/cluster.mjs', import.meta.url));

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('npm run cluster', () => {
  it('starts Redis, PostgreSQL, three nodes and HAProxy, prints the console address, and stops them all on Ctrl-C', async () => {
    // A process group of its own, as in a terminal: Ctrl-C signals the whole foreground group.
    const child = spawn(process.execPath, [SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!out.includes('Ctrl-C stops everything') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('sitehub cluster ready');
    const url = /console and API \(through HAProxy\): (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)![1]!;
    const token = /admin token: +(\S+)/.exec(out)![1]!;
    const ports = [...out.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
    expect(new Set(ports).size).toBeGreaterThanOrEqual(6); // HAProxy, three nodes, Redis, PostgreSQL

    // Through the balancer: the console page, the API with the token, and every node behind it.
    expect((await fetch(url + '/')).status).toBe(200);
    expect((await fetch(url + '/api/sites', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const nodes = new Set<string>();
    for (let i = 0; i < 6; i++) nodes.add(((await (await fetch(url + '/readyz')).json()) as { node: string }).node);
    expect([...nodes].sort()).toEqual(['node-1', 'node-2', 'node-3']);

    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped');
    // In order: the nodes close their sessions while Redis and PostgreSQL still answer.
    expect(out).not.toMatch(/database connection lost|redis: /);
    for (const port of new Set(ports)) expect(await answers(port), `port ${port} still answers`).toBe(false);
  }, 90_000);
});
