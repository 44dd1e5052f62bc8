// Debian's HAProxy in front of hub nodes, as docs/scaling.md configures it:
// WebSocket passthrough (HTTP mode, long tunnel timeout), health checks on
// /readyz, cookie affinity for polling clients. Its own temp folder, a free
// loopback port, stopped by PID. Plain JavaScript: `npm run cluster`, the
// benchmarks and the tests share it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from './redis-server.mjs';

export const HAPROXY = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';

/** The configuration docs/scaling.md shows, for `servers` ({ name, port }) behind 127.0.0.1:`port`. */
export function haproxyConfig(port, servers, { checkIntervalMs = 1000, affinity = true } = {}) {
  if (!affinity) return withoutAffinity(haproxyConfig(port, servers, { checkIntervalMs }));
  return `global
  # Two descriptors per proxied connection: within the 20,000 open files a process may hold here.
  maxconn 8000

defaults
  mode http
  timeout connect 2s
  # A device or operator session is long-lived: idle WebSockets and long polls stay open.
  timeout client 70s
  timeout server 70s
  timeout tunnel 1h
  timeout http-request 10s
  option forwardfor
  # A request that cannot reach a dead node (before its checks fail) goes to another one.
  retries 2
  option redispatch

frontend hub
  bind 127.0.0.1:${port}
  default_backend hub_nodes

backend hub_nodes
  balance roundrobin
  # A node that cannot reach Redis or the database answers 503 here and gets no new clients.
  option httpchk GET /readyz
  http-check expect status 200
  default-server check inter ${checkIntervalMs} fall 2 rise 2
  # Polling clients come back to the node that holds their Engine.IO session.
  cookie SITEHUB_NODE insert indirect nocache httponly
${servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} cookie ${s.name}`).join('\n')}
`;
}

/** The same, plain round robin: no cookie (the nodes forward polling requests to the node holding the session). */
function withoutAffinity(config) {
  return config
    .split('\n')
    .filter((line) => !line.includes('cookie SITEHUB_NODE') && !line.includes('Polling clients come back'))
    .map((line) => line.replace(/ cookie node-\d+$/, '').replace(/ cookie (\S+)$/, ''))
    .join('\n');
}

/** Starts HAProxy in the foreground (its PID is ours); stop() ends it and removes its folder. `opts.detached`: a process group of its own. */
export async function startHaproxy(servers, opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-haproxy-'));
  const port = opts.port ?? (await freeLoopbackPort());
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(port, servers, opts));
  let output = '';
  const proc = spawn(HAPROXY, ['-f', file, '-db'], { stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached === true });
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  const exited = new Promise((r) => proc.once('exit', r));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`haproxy exited:\n${output}`);
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error(`haproxy did not serve on ${port}:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    config: file,
    log: () => output,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        process.kill(proc.pid, 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
