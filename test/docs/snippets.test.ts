// Every code block of README.md and docs/ marked `run=<id>` runs here, as
// written, against a live hub: shell with bash, JavaScript with node from a
// project where @sitehub/device-client is installed, Python with Debian's
// python3 and python3-socketio. The only edits are the ones listed in each
// check (the hub's address in the docs -> this hub's, a token placeholder ->
// a real token), and each must still find its text in the block. A marked
// block without a check, or a check whose block is gone, fails.
//
// To add one: mark the block (```` ```js run=my-id ````) and add `my-id` to
// CHECKS below; blocks of one file run in document order and share `state`.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '@sitehub/hub';
import { allSnippets, type Snippet } from './markdown.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN = 'docs-test-admin-token-0123456789abcdef';
const PYTHON = '/usr/bin/python3';

interface Env {
  url: string;
  hostPort: string;
  /** A folder laid out like the clone's root for the snippet (data/admin-token). */
  cloneDir: string;
  /** A project of a reader's own with @sitehub/device-client installed. */
  projectDir: string;
  state: Record<string, string>;
  api(path: string, body?: unknown): Promise<any>;
}

interface Check {
  /** Text in the block -> what replaces it; each must occur. */
  edits(env: Env): Array<[string, string]>;
  cwd(env: Env): string;
  /** Where the block is saved (a JS block resolves its imports from there); `cwd` unless given. */
  saveIn?(env: Env): string;
  env?(env: Env): Record<string, string>;
  /** Runs before the block (registrations a reader has done by then). */
  before?(env: Env): Promise<void>;
  /** A long-running block is stopped once its output matches `until`; others must exit with 0. */
  until?: RegExp;
  /** What the output must show. */
  expect(output: string, env: Env): void | Promise<void>;
}

/** The token of the last registration answer in a block's output (curl prints the answers back to back). */
const tokenOf = (output: string): string => {
  const token = [...output.matchAll(/"token":"([^"]+)"/g)].pop()?.[1];
  if (!token) throw new Error(`no token in:\n${output}`);
  return token;
};

const CHECKS: Record<string, Check> = {
  'readme-commands': {
    edits: () => [],
    cwd: () => root,
    saveIn: (e) => e.cloneDir,
    // npx must find the commands linked in the clone, never fetch a package of that name.
    env: () => ({ npm_config_offline: 'true' }),
    expect(output) {
      expect(output.match(/^usage: (sitehub|sitehub-agent|sitehub-bridge) /gm)).toEqual(['usage: sitehub ', 'usage: sitehub-agent ', 'usage: sitehub-bridge ']);
    },
  },
  'readme-register': {
    edits: (e) => [['localhost:3000', e.hostPort]],
    cwd: (e) => e.cloneDir,
    expect(output, e) {
      expect(output).not.toMatch(/"error"/);
      e.state.readmeToken = tokenOf(output);
    },
  },
  'readme-device': {
    edits: (e) => [
      ['http://localhost:3000', e.url],
      ['<token>', e.state.readmeToken!],
      // The documented interval, shortened so the test does not wait 5 s.
      ['}, 5000);', '}, 200);'],
    ],
    cwd: (e) => e.projectDir,
    until: /ok: true, stored: 1, duplicates: 0/,
    async expect(output, e) {
      expect(output).toContain('{ ok: true, stored: 1, duplicates: 0 }');
      const { items } = await e.api('/api/devices/th-1/telemetry?limit=10');
      expect(items[0].values).toEqual({ temp: 21.5 });
    },
  },
  'client-node': {
    async before(e) {
      await e.api('/api/sites', { id: 'docs-site' });
      await e.api('/api/classes', { id: 'thermo' });
      e.state.dev42Token = (await e.api('/api/devices', { id: 'dev-42', classId: 'thermo', siteId: 'docs-site' })).token;
    },
    edits: (e) => [['https://hub.example', e.url]],
    cwd: (e) => e.projectDir,
    env: (e) => ({ DEVICE_TOKEN: e.state.dev42Token! }),
    expect(output) {
      expect(output).toContain('{ ok: true, stored: 1, duplicates: 0 }');
    },
  },
  'client-python': {
    edits: (e) => [['https://hub.example', e.url]],
    cwd: (e) => e.projectDir,
    env: (e) => ({ DEVICE_TOKEN: e.state.dev42Token! }),
    async expect(output, e) {
      expect(output).toContain("{'ok': True, 'stored': 1, 'duplicates': 0}");
      const { items } = await e.api('/api/devices/dev-42/telemetry?limit=10');
      const python = items.find((r: { seq: number }) => r.seq === 18);
      expect(python?.values).toEqual({ t: 21.5 });
      // A reading of now, not one older than the retention.
      expect(Date.now() - python.ts).toBeLessThan(60_000);
    },
  },
  'pi-register': {
    edits: (e) => [['http://hub:3000', e.url]],
    cwd: (e) => e.cloneDir,
    env: () => ({ ADMIN }),
    expect(output) {
      expect(output).not.toMatch(/"error"/);
      expect(tokenOf(output).length).toBeGreaterThan(20);
    },
  },
};

const COMMANDS: Record<string, (file: string) => [string, string[]]> = {
  sh: (file) => ['bash', ['-euo', 'pipefail', file]],
  js: (file) => [process.execPath, [file]],
  python: (file) => [PYTHON, [file]],
};
const EXTENSIONS: Record<string, string> = { sh: 'sh', js: 'mjs', python: 'py' };

/** Runs one block; resolves with its output (stdout and stderr). */
async function run(snippet: Snippet, code: string, cwd: string, saveIn: string, env: Record<string, string>, until?: RegExp): Promise<string> {
  const command = COMMANDS[snippet.lang];
  if (!command) throw new Error(`${snippet.file}:${snippet.line}: no runner for \`${snippet.lang}\` blocks`);
  const file = join(saveIn, `snippet-${snippet.id}.${EXTENSIONS[snippet.lang]}`);
  await writeFile(file, code);
  const [cmd, args] = command(file);
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${snippet.file}:${snippet.line} (${snippet.id}) still running after 15 s; output:\n${output}`));
    }, 15_000);
    const onData = (d: Buffer) => {
      output += d;
      if (until?.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (until ? until.test(output) : code === 0) resolve(output);
      else reject(new Error(`${snippet.file}:${snippet.line} (${snippet.id}) exited with ${signal ?? code}; output:\n${output}`));
    });
  });
}

let hub: Hub;
let dir: string;
const env = { state: {} } as Env;
const snippets = allSnippets(root);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sitehub-docs-'));
  hub = createHub({ dataDir: join(dir, 'hub-data'), port: 0, host: '127.0.0.1', adminToken: ADMIN, logLevel: 'silent' });
  await hub.listen();
  env.hostPort = `127.0.0.1:${hub.port}`;
  env.url = `http://${env.hostPort}`;
  env.cloneDir = join(dir, 'clone');
  await mkdir(join(env.cloneDir, 'data'), { recursive: true });
  await writeFile(join(env.cloneDir, 'data', 'admin-token'), ADMIN + '\n');
  // A reader's project: @sitehub/device-client as `npm install` of the packed tarball lays it out (its own
  // dependencies resolve from the repository's node_modules through the link's real path).
  env.projectDir = join(dir, 'project');
  await mkdir(join(env.projectDir, 'node_modules', '@sitehub'), { recursive: true });
  await writeFile(join(env.projectDir, 'package.json'), JSON.stringify({ name: 'my-device', private: true, type: 'module' }));
  await symlink(join(root, 'device-client'), join(env.projectDir, 'node_modules', '@sitehub', 'device-client'));
  env.api = async (path, body) => {
    const res = await fetch(env.url + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
});

afterAll(async () => {
  await hub?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('documentation snippets', () => {
  it('every marked block has a check and every check a block', () => {
    const ids = snippets.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !CHECKS[id])).toEqual([]);
    expect(Object.keys(CHECKS).filter((id) => !ids.includes(id))).toEqual([]);
  });

  for (const snippet of snippets) {
    it(`${snippet.file}:${snippet.line} ${snippet.lang} run=${snippet.id}`, async () => {
      const check = CHECKS[snippet.id];
      if (!check) throw new Error(`no check for run=${snippet.id}`);
      await check.before?.(env);
      let code = snippet.code;
      for (const [from, to] of check.edits(env)) {
        expect(code, `${snippet.id}: the block no longer contains ${JSON.stringify(from)}`).toContain(from);
        code = code.split(from).join(to);
      }
      const output = await run(snippet, code, check.cwd(env), check.saveIn?.(env) ?? check.cwd(env), check.env?.(env) ?? {}, check.until);
      await check.expect(output, env);
    });
  }
});
