// Chaos on a whole cluster: three hub nodes behind HAProxy, one Redis, one
// PostgreSQL, 200 devices (socket.io-client ones, some on long-polling with
// HAProxy's affinity cookie, and agent processes) streaming acked telemetry
// and answering commands, and an operator on /console. Then, one after the
// other: a node SIGKILLed (its devices must be back through the balancer
// within 10 s), Redis restarted, PostgreSQL restarted. After each: no acked
// reading missing and none stored twice, every command created so far acked
// and received exactly once, presence right for every device, and the
// console has seen every device's telemetry since the fault.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { io as ioc, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubCluster } from '../helpers/hub-cluster.mjs';
import { apiFor, type Api } from '../iot/helpers.js';
import { sleep, waitFor } from '../agent/helpers.js';

const AGENT_MAIN = fileURLToPath(new URL('../../device-client/dist/main.js', import.meta.url));
const DEVICES = 200;
const AGENTS = 4;
const POLLING = 20;
const AGENT_READINGS = 240;
const CLASS = 'chaos';
const SITE = 'chaos-site';
/** Readings are timed from here (recent: retention, run by a node at start, drops old day partitions). */
const T0 = Date.now() - 600_000;

/** A socket.io-client device: one telemetry batch in flight at a time, resent with the same seq until acked. */
class SimDevice {
  readonly socket: ClientSocket;
  readonly acked = new Set<number>();
  readonly commands = new Map<string, number>();
  connectedAt = 0;
  private seq = 0;
  private inFlight = false;
  private timer: NodeJS.Timeout;

  constructor(
    readonly id: string,
    token: string,
    base: string,
    polling: boolean,
  ) {
    this.socket = ioc(`${base}/devices/${CLASS}`, {
      auth: { deviceId: id, token },
      transports: polling ? ['polling'] : ['websocket'],
      // Polling needs the balancer's affinity cookie on every request.
      withCredentials: polling,
      forceNew: true,
      reconnectionDelay: 200,
      reconnectionDelayMax: 1000,
      timeout: 5000,
    });
    this.socket.on('connect', () => (this.connectedAt = Date.now()));
    this.socket.on('command', (cmd: { id: string }, ack: (a: unknown) => void) => {
      this.commands.set(cmd.id, (this.commands.get(cmd.id) ?? 0) + 1);
      ack({ ok: true });
    });
    this.timer = setInterval(() => this.send(), 400);
  }

  private send(): void {
    if (this.inFlight || !this.socket.connected) return;
    this.inFlight = true;
    const seq = this.seq + 1;
    // ts from seq: a resend is the same reading, so it lands in the same partition and is found there.
    const reading = { seq, ts: T0 + seq * 10, values: { v: seq } };
    this.socket.timeout(3000).emit('telemetry', reading, (err: Error | null, ack?: { ok: boolean }) => {
      this.inFlight = false;
      if (!err && ack?.ok) {
        this.acked.add(seq);
        this.seq = seq;
      }
    });
  }

  close(): void {
    clearInterval(this.timer);
    this.socket.disconnect();
  }
}

let cluster: Awaited<ReturnType<typeof startHubCluster>>;
let api: Api;
let db: pg.Client;
let dir: string;
const sims: SimDevice[] = [];
const agents: Array<{ id: string; child: ChildProcess }> = [];
const agentIds = new Set<string>();
const created: Array<{ id: string; deviceId: string }> = [];
/** What the operator on /console saw: last telemetry time and last presence per device. */
const seenTelemetry = new Map<string, number>();
const seenOnline = new Map<string, boolean>();
let operator: ClientSocket;

async function registerAll(): Promise<Array<{ id: string; token: string }>> {
  expect((await api('POST', '/api/sites', { id: SITE })).status).toBe(201);
  expect((await api('POST', '/api/classes', { id: CLASS })).status).toBe(201);
  const out = [];
  for (let i = 0; i < DEVICES; i++) {
    const res = await api('POST', '/api/devices', { id: `dev-${String(i).padStart(3, '0')}`, classId: CLASS, siteId: SITE });
    expect(res.status).toBe(201);
    out.push({ id: res.body.device.id as string, token: res.body.token as string });
  }
  return out;
}

function startAgent(id: string, token: string): ChildProcess {
  const configFile = join(dir, `${id}.json`);
  writeFileSync(
    configFile,
    JSON.stringify({
      hub: { url: cluster.url, deviceId: id, token, class: CLASS, transports: ['websocket'] },
      simulate: { sensors: 1, intervalMs: 150, total: AGENT_READINGS },
      batch: { size: 20, intervalMs: 200, maxInFlight: 2, ackTimeoutMs: 3000 },
      outbox: { path: join(dir, `${id}.db`) },
      reconnect: { delayMs: 200, delayMaxMs: 1000 },
      logLevel: 'error',
    }),
  );
  return fork(AGENT_MAIN, ['--config', configFile, '--simulate'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
}

async function onlineIn(node?: string): Promise<string[]> {
  const { rows } = node
    ? await db.query<{ id: string }>('SELECT id FROM devices WHERE online AND presence_node = $1', [node])
    : await db.query<{ id: string }>('SELECT id FROM devices WHERE online');
  return rows.map((r) => r.id);
}

/** Creates `n` commands spread over `deviceIds` through `via`, retrying a refusal of the balancer (a node just lost). */
async function createCommands(via: Api, deviceIds: string[]): Promise<void> {
  for (const deviceId of deviceIds) {
    for (let attempt = 0; ; attempt++) {
      const res = await via('POST', '/api/commands', { deviceId, name: 'ping', ttlMs: 120_000 }).catch(() => ({ status: 0, body: null }));
      if (res.status === 201) {
        created.push({ id: res.body.id, deviceId });
        break;
      }
      if (attempt > 20) throw new Error(`command for ${deviceId} refused: ${res.status} ${JSON.stringify(res.body)}`);
      await sleep(250);
    }
  }
}

/** Every node's /readyz, asked directly (not through the balancer). */
async function readiness(): Promise<Array<{ status: number; body: { db?: boolean; adapter?: { link?: string } } }>> {
  return Promise.all(
    cluster.nodes.map((n: { url: string }) =>
      fetch(`${n.url}/readyz`).then(
        async (r) => ({ status: r.status, body: await r.json() }),
        () => ({ status: 0, body: {} }),
      ),
    ),
  );
}

/** The checks run after every fault. */
async function checkEverything(phase: string, faultAt: number): Promise<void> {
  // Presence: every device online, in the store and on the console.
  await waitFor(async () => (await onlineIn()).length === DEVICES, 20_000, `${phase}: all ${DEVICES} devices online in the store`);
  await waitFor(() => [...sims, ...agents].every((d) => seenOnline.get(d.id) === true), 10_000, `${phase}: the console shows every device online`);
  // The console saw every device stream since the fault (an agent that has sent all its readings streams no more).
  const agentCounts = new Map(
    (await db.query<{ device_id: string; n: string }>('SELECT device_id, count(*) AS n FROM telemetry WHERE device_id = ANY($1) GROUP BY device_id', [[...agentIds]])).rows.map((r) => [r.device_id, Number(r.n)]),
  );
  const streaming = [...sims, ...agents.filter((a) => (agentCounts.get(a.id) ?? 0) < AGENT_READINGS)];
  await waitFor(() => streaming.every((d) => (seenTelemetry.get(d.id) ?? 0) > faultAt), 15_000, `${phase}: the console saw every device's telemetry`);
  // Commands: all acked, each received exactly once by its device.
  await waitFor(
    async () => {
      const { rows } = await db.query<{ n: string }>("SELECT count(*) AS n FROM commands WHERE status = 'acked' AND id = ANY($1)", [created.map((c) => c.id)]);
      return Number(rows[0]!.n) === created.length;
    },
    20_000,
    `${phase}: all ${created.length} commands acked`,
  ).catch(async (err) => {
    const open = await db.query("SELECT c.id, c.device_id, c.status, c.attempts, c.delivery_epoch, d.presence_epoch, d.presence_node, d.online FROM commands c JOIN devices d ON d.id = c.device_id WHERE c.status <> 'acked'");
    console.log(`${phase}: commands not acked`, open.rows, sims.filter((sm) => open.rows.some((r) => r.device_id === sm.id)).map((sm) => [sm.id, sm.socket.connected, sm.socket.io.engine?.transport?.name]));
    throw err;
  });
  for (const sim of sims) for (const c of created.filter((x) => x.deviceId === sim.id)) expect(sim.commands.get(c.id), `${phase}: ${c.id} on ${sim.id}`).toBe(1);
  // Telemetry: nothing acked is missing, nothing is stored twice. The acks are taken before the read:
  // a reading acked after it would look missing.
  const ackedBefore = new Map(sims.map((sim) => [sim.id, [...sim.acked]]));
  const { rows } = await db.query<{ device_id: string; seq: number }>('SELECT device_id, seq::int AS seq FROM telemetry WHERE device_id = ANY($1)', [sims.map((s) => s.id)]);
  const stored = new Map<string, Set<number>>();
  for (const r of rows) {
    const set = stored.get(r.device_id) ?? new Set();
    stored.set(r.device_id, set);
    set.add(r.seq);
  }
  for (const sim of sims) {
    const missing = ackedBefore.get(sim.id)!.filter((seq) => !stored.get(sim.id)?.has(seq));
    expect(missing, `${phase}: acked readings of ${sim.id} not stored`).toEqual([]);
  }
  const dupes = await db.query('SELECT device_id, seq FROM telemetry GROUP BY device_id, seq HAVING count(*) > 1');
  expect(dupes.rows, `${phase}: readings stored twice`).toEqual([]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sitehub-cluster-chaos-'));
  cluster = await startHubCluster({
    nodes: 3,
    // Every client reaches the nodes from HAProxy's address: the per-address limits are for the Internet, not for this.
    nodeArgs: ['--handshake-rate-per-address', '5000', '--handshake-burst-per-address', '5000', '--max-sessions-per-address', '5000', '--command-ack-timeout-ms', '10000'],
  });
  api = apiFor(cluster.url, cluster.adminToken);
  db = new pg.Client({ connectionString: cluster.databaseUrl });
  db.on('error', () => {});
  await db.connect();
}, 90_000);

afterAll(async () => {
  for (const sim of sims) sim.close();
  operator?.disconnect();
  for (const { child } of agents) child.kill('SIGKILL');
  await db?.end().catch(() => {});
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('a cluster under chaos', () => {
  it('loses no acked reading, stores none twice and delivers every command once through a node SIGKILL, a Redis restart and a PostgreSQL restart', async () => {
    const [n1, n2] = cluster.nodes;
    const creds = await registerAll();
    // The operator on node-1, which stays up: it must see the devices of every node.
    operator = ioc(`${n1!.url}/console`, { auth: { token: cluster.adminToken }, transports: ['websocket'], forceNew: true });
    operator.on('telemetry', (p: { deviceId: string }) => seenTelemetry.set(p.deviceId, Date.now()));
    operator.on('presence', (p: { deviceId: string; online: boolean }) => seenOnline.set(p.deviceId, p.online));
    await new Promise<void>((r) => operator.once('connect', () => r()));
    await operator.emitWithAck('subscribe', {});

    for (const [i, { id, token }] of creds.entries()) {
      if (i < AGENTS) {
        agentIds.add(id);
        agents.push({ id, child: startAgent(id, token) });
      } else sims.push(new SimDevice(id, token, cluster.url, i < AGENTS + POLLING));
    }
    const start = Date.now();
    await checkEverything('start', start);
    // The balancer spread them.
    for (const node of cluster.nodes) expect((await onlineIn(node.id)).length).toBeGreaterThan(20);
    await createCommands(api, sims.slice(0, 20).map((s) => s.id));
    await checkEverything('start with commands', start);

    // 1. A node dies.
    const victims = new Set(await onlineIn('node-2'));
    const killedAt = Date.now();
    await n2!.kill('SIGKILL');
    // Commands for its devices while they are away: pending, delivered where they come back.
    const n1api = apiFor(n1!.url, cluster.adminToken);
    await createCommands(n1api, sims.filter((s) => victims.has(s.id)).slice(0, 30).map((s) => s.id));
    await waitFor(async () => (await onlineIn()).length === DEVICES, 15_000, 'every device online again');
    const back = sims.filter((s) => victims.has(s.id)).map((s) => s.connectedAt - killedAt);
    expect(Math.max(...back), 'slowest reconnection after the SIGKILL (ms)').toBeLessThan(10_000);
    expect(Math.min(...back)).toBeGreaterThan(0);
    expect(await onlineIn('node-2')).toEqual([]);
    await createCommands(api, sims.slice(40, 60).map((s) => s.id));
    await checkEverything('after SIGKILL of node-2', killedAt);
    console.log(`node-2 SIGKILLed: ${victims.size} devices back through HAProxy in at most ${Math.max(...back)} ms`);
    await n2!.start();

    // 2. Redis restarts mid-stream.
    const redisAt = Date.now();
    await cluster.redis.kill();
    // Not ready while Redis is away: the balancer sends no new clients.
    await waitFor(async () => (await readiness()).every((r) => r.status === 503 && r.body.adapter?.link === 'down' && r.body.db === true), 10_000, 'every node unready without Redis');
    // Asked on node-1 while the nodes cannot talk: the word waits in the bounded buffer.
    await createCommands(n1api, sims.slice(60, 80).map((s) => s.id));
    await sleep(2000);
    await cluster.redis.start();
    await waitFor(async () => (await Promise.all(cluster.nodes.map((n: { url: string }) => fetch(`${n.url}/readyz`).then((r) => r.ok, () => false)))).every(Boolean), 20_000, 'every node ready after Redis');
    await checkEverything('after the Redis restart', Date.now());
    await checkEverything('after the Redis restart (since the fault)', redisAt);

    // 3. PostgreSQL restarts mid-stream.
    const pgAt = Date.now();
    await cluster.pg.kill('fast');
    await waitFor(async () => (await readiness()).every((r) => r.status === 503 && r.body.db === false), 10_000, 'every node unready without PostgreSQL');
    await sleep(2000);
    await cluster.pg.start();
    await db.end().catch(() => {});
    db = new pg.Client({ connectionString: cluster.databaseUrl });
    db.on('error', () => {});
    await db.connect();
    await waitFor(async () => (await Promise.all(cluster.nodes.map((n: { url: string }) => fetch(`${n.url}/readyz`).then((r) => r.ok, () => false)))).every(Boolean), 20_000, 'every node ready after PostgreSQL');
    await createCommands(api, sims.slice(80, 100).map((s) => s.id));
    await checkEverything('after the PostgreSQL restart', pgAt);

    // The agents: every reading of theirs stored once.
    await waitFor(
      async () => {
        const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM telemetry WHERE device_id = ANY($1)', [[...agentIds]]);
        return Number(rows[0]!.n) === AGENTS * AGENT_READINGS;
      },
      30_000,
      `${AGENTS * AGENT_READINGS} agent readings stored`,
    );
    const acked = sims.reduce((n, s) => n + s.acked.size, 0);
    console.log(`chaos: ${acked} acked readings from ${sims.length} socket.io-client devices and ${AGENTS * AGENT_READINGS} from ${AGENTS} agents, ${created.length} commands, in ${Math.round((Date.now() - start) / 1000)} s`);
  }, 240_000);
});
