// Cluster nodes in child processes (test/cluster/node.mjs) and clients that
// count what they receive, for the mixed-cluster and fault tests.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { io as ioc, type Socket as ClientSocket } from 'socket.io-client';

const NODE_SCRIPT = fileURLToPath(new URL('./node.mjs', import.meta.url));

/** A node process of the cluster. */
export interface ClusterNode {
  kind: 'sitehub' | 'socketio';
  name: string;
  port: number;
  url: string;
  /** The node's id on the wire (sitehub nodes only). */
  uid: string | null;
  child: ChildProcess;
  call<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  /** Ends the process (SIGTERM, or the signal given) and waits for it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a node; sitehub nodes need the built hub (npm run build). */
export async function startNode(kind: 'sitehub' | 'socketio', name: string, redisUrl: string, env: Record<string, string> = {}): Promise<ClusterNode> {
  const child = fork(NODE_SCRIPT, [kind, name], { env: { ...process.env, REDIS_URL: redisUrl, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  const ready = new Promise<{ port: number; uid: string | null }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
    child.on('message', (msg: any) => {
      if (msg.ready) return resolve(msg);
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${name}: ${msg.error}`));
      else p.resolve(msg.result);
    });
  });
  child.on('exit', () => {
    for (const p of pending.values()) p.reject(new Error(`${name} exited`));
    pending.clear();
  });
  const { port, uid } = await ready;
  return {
    kind,
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    uid,
    child,
    call(cmd, args) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ id, cmd, args });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid!, signal);
      await exited;
    },
  };
}

/** A client that joins `rooms` on its node, answers 'ask' acks with its label, and counts each event. */
export interface CountingClient {
  label: string;
  node: string;
  socket: ClientSocket;
  /** event name -> payloads received, in order */
  received: Map<string, unknown[][]>;
  count(event: string): number;
}

export async function connectClient(node: ClusterNode, label: string, rooms: string[]): Promise<CountingClient> {
  const socket = ioc(node.url, { transports: ['websocket'], auth: { rooms, label }, reconnection: false, forceNew: true });
  const received = new Map<string, unknown[][]>();
  socket.onAny((event: string, ...args: unknown[]) => {
    const last = args[args.length - 1];
    if (typeof last === 'function') args.pop();
    if (!received.has(event)) received.set(event, []);
    received.get(event)!.push(args);
  });
  socket.on('ask', (_from: string, ack: (label: string) => void) => ack(label));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { label, node: node.name, socket, received, count: (event) => received.get(event)?.length ?? 0 };
}

/** Waits until `check()` is true, polling; fails with `what` after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
