// The sitehub-agent command's flags and its answer to a bad configuration.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(root, 'device-client/dist/main.js');
let dir: string;

beforeAll(() => {
  execFileSync('npx', ['tsc', '-b'], { cwd: root, stdio: 'ignore' });
  dir = mkdtempSync(join(tmpdir(), 'sitehub-agent-cli-'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sitehub-agent command', () => {
  it('prints its version and help', () => {
    expect(execFileSync('node', [MAIN, '--version'], { encoding: 'utf8' }).trim()).toBe('0.1.0');
    const help = execFileSync('node', [MAIN, '--help'], { encoding: 'utf8' });
    for (const flag of ['--config', '--simulate', '--version', '--help']) expect(help).toContain(flag);
  });

  it('refuses a bad configuration with exit code 2 and every problem listed', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ hub: { url: 'http://127.0.0.1:1', deviceId: 'd', token: 't', class: 'Bad Class' }, sources: [{ name: 'x', path: '/dev/null', parser: { type: 'yaml' } }] }));
    const res = spawnSync('node', [MAIN, '--config', file], { encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('hub.class');
    expect(res.stderr).toContain('sources[0].parser.type');
    const missing = spawnSync('node', [MAIN, '--config', join(dir, 'nope.json')], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    expect(spawnSync('node', [MAIN, '--bogus'], { encoding: 'utf8' }).status).toBe(2);
  });
});
