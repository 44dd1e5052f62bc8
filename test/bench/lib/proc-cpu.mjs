// CPU time of a local cluster's processes (hub nodes, PostgreSQL with its
// backends, Redis), read per process tree from /proc, so that benchmarks
// measure the cost of each part even where two cores cannot show the
// throughput of separate machines.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) of each process tree rooted at `pids`, from /proc. */
export function treeCpu(pids) {
  const procs = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(name), { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / TICKS });
    } catch {
      // gone meanwhile
    }
  }
  return pids.map((root) => {
    let sum = 0;
    for (const [pid, p] of procs) {
      for (let at = pid, hops = 0; at && hops < 8; at = procs.get(at)?.ppid ?? 0, hops++) {
        if (at === root) {
          sum += p.cpu;
          break;
        }
      }
    }
    return sum;
  });
}

/** CPU seconds so far of a startHubCluster() cluster: `{ redis, pg, nodes }` (nodes summed). */
export function cpuOf(cluster) {
  const postmaster = Number(readFileSync(join(cluster.pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const [redis, pg, ...nodes] = treeCpu([cluster.redis.pid(), postmaster, ...cluster.nodes.map((n) => n.child.pid)]);
  return { redis, pg, nodes: nodes.reduce((a, b) => a + b, 0) };
}

/** CPU seconds spent between two cpuOf() readings. */
export const cpuDiff = (a, b) => ({ redis: b.redis - a.redis, pg: b.pg - a.pg, nodes: b.nodes - a.nodes });
