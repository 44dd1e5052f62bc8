// docs/scaling.md shows the HAProxy configuration the cluster tests run:
// the block there must be what test/helpers/haproxy.mjs writes for the same
// nodes, and HAProxy must accept it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HAPROXY, haproxyConfig } from '../helpers/haproxy.mjs';

const DOC = fileURLToPath(new URL('../../docs/scaling.md', import.meta.url));

describe('the load balancer configuration in docs/scaling.md', () => {
  it('is the one the tests run, and HAProxy accepts it', () => {
    const doc = readFileSync(DOC, 'utf8');
    const block = /```haproxy\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block, 'a ```haproxy block in docs/scaling.md').toBeDefined();
    const servers = [1, 2, 3].map((i) => ({ name: `node-${i}`, port: 3000 + i }));
    expect(block).toBe(haproxyConfig(8080, servers, { checkIntervalMs: 1000 }));
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-haproxy-doc-'));
    try {
      writeFileSync(join(dir, 'haproxy.cfg'), block!);
      const check = spawnSync(HAPROXY, ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
      expect(check.status, check.stderr + check.stdout).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
