// Runs a benchmark server in its own process so that its CPU time and memory
// are measured apart from the load generator's. The child reports over IPC.
import { fork } from 'node:child_process';

/**
 * V8 flags for runs that only measure memory. V8 grows the young generation
 * (1 -> 16 MiB per semi-space) with the allocation rate; a doubling that falls
 * between two readings adds megabytes that have nothing to do with what is
 * retained (it made the same engine.io measure 18.5 and 24.4 KiB per session
 * in one run). Pinned at 1 MiB, the young generation is fully touched before
 * the first reading and cannot move the difference. Both servers get the same.
 */
export const PINNED_YOUNG_GENERATION = ['--min-semi-space-size=1', '--max-semi-space-size=1'];

/** Starts `script` with args; resolves once it reports `{ type: 'ready', port }`. */
export function startServerProcess(script, args = [], { nodeFlags = [] } = {}) {
  const child = fork(script, args, {
    // BENCH_SERVER_FLAGS adds flags to every server process, e.g. to profile
    // them: BENCH_SERVER_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
    execArgv: ['--expose-gc', ...nodeFlags, ...(process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean)],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map();
  child.on('message', (msg) => {
    if (msg && msg.replyTo && pending.has(msg.replyTo)) {
      pending.get(msg.replyTo)(msg);
      pending.delete(msg.replyTo);
    }
  });
  const ready = new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg && msg.type === 'ready') {
        child.off('message', onMessage);
        resolve(msg.port);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`${script} exited early with code ${code}`)));
  });
  /** Sends a request and waits for the reply carrying the same id. */
  const request = (type, payload = {}, timeoutMs = 120_000) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${type}: no reply from server process within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      child.send({ ...payload, type, id });
    });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  return { child, ready, request, stop };
}

/** Wires a server process's IPC: `handlers[type](msg)` returns the reply payload. */
export function serveRequests(handlers) {
  process.on('message', async (msg) => {
    const handler = handlers[msg.type];
    if (!handler) return process.send({ replyTo: msg.id, error: `unknown request ${msg.type}` });
    try {
      const result = await handler(msg);
      process.send({ replyTo: msg.id, ...result });
    } catch (err) {
      process.send({ replyTo: msg.id, error: String(err && err.stack ? err.stack : err) });
    }
  });
}

/** The process's own CPU time in seconds (user + system). */
export function cpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * Memory after full GCs, so that garbage does not count as footprint. GC runs
 * several times with pauses in between: finalizers and ArrayBuffer frees run
 * after a collection, and some native memory is only released on the next one.
 * `heap` is V8's heap plus the memory of C++ objects and ArrayBuffers bound to
 * it (`external` already includes `arrayBuffers`): unlike RSS it does not
 * move with malloc's fragmentation and free lists.
 */
export async function settledMemory(rounds = 4, pauseMs = 50) {
  for (let i = 0; i < rounds; i++) {
    if (globalThis.gc) globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers, heap: heapUsed + external };
}

/** RSS in bytes after a full GC (see settledMemory). */
export async function settledRss() {
  return (await settledMemory()).rss;
}
