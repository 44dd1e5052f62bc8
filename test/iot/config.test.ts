// Configuration of the `sitehub` command: file < environment < flags, and
// validation errors that name the setting and where it came from.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, loadConfig } from '../../hub/src/config/index.js';
import { startHub } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-config-'));
  dirs.push(dir);
  const file = join(dir, 'sitehub.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('loadConfig', () => {
  it('takes upgradesPerTurn and connectsPerTurn and gives them to the Socket.IO server (reconnect storms)', async () => {
    const { config } = loadConfig([], { SITEHUB_UPGRADES_PER_TURN: '7', SITEHUB_CONNECTS_PER_TURN: '0' });
    expect([config.upgradesPerTurn, config.connectsPerTurn]).toEqual([7, 0]);
    expect([DEFAULT_CONFIG.upgradesPerTurn, DEFAULT_CONFIG.connectsPerTurn]).toEqual([256, 256]);
    expect(() => loadConfig(['--connects-per-turn', '-1'], {})).toThrow(/connectsPerTurn/);
    const t = await startHub({ upgradesPerTurn: 7, connectsPerTurn: 0 });
    try {
      expect(t.hub.io.engine.opts.upgradesPerTurn).toBe(7);
      expect(t.hub.io.opts.connectsPerTurn).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('runs with embedded defaults: ./data, port 3000, no admin token (generated at start)', () => {
    const { config } = loadConfig([], {});
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config.port).toBe(3000);
    expect(config.dataDir).toBe('./data');
  });

  it('layers file < environment < flags', () => {
    const file = configFile({ port: 4000, retentionDays: 7, host: '127.0.0.1' });
    const env = { SITEHUB_CONFIG: file, SITEHUB_PORT: '5000', SITEHUB_RETENTION_DAYS: '9' };
    const { config } = loadConfig(['--port=6000'], env);
    expect(config.port).toBe(6000);
    expect(config.retentionDays).toBe(9);
    expect(config.host).toBe('127.0.0.1');
    expect(loadConfig(['--config', file], { PORT: '7000' }).config.port).toBe(7000);
  });

  it('lists every problem with its source', () => {
    const file = configFile({ port: 'eighty', colour: 'blue' });
    let error: unknown;
    try {
      loadConfig(['--config', file, '--max-message-bytes', '0'], { SITEHUB_LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(`config file ${file}: "port" must be an integer from 0 to 65535, got "eighty"`);
    expect(message).toContain(`config file ${file}: unknown setting "colour"`);
    expect(message).toContain('flag --max-message-bytes: "maxMessageBytes" must be a positive integer, got 0');
    expect(message).toContain('environment SITEHUB_LOG_LEVEL: "logLevel" must be one of');
  });

  it('refuses unknown flags, a missing value and an unreadable file', () => {
    expect(() => loadConfig(['--prot', '1'], {})).toThrow(/unknown flag --prot/);
    expect(() => loadConfig(['--port'], {})).toThrow(/--port needs a value/);
    expect(() => loadConfig(['--config', '/nonexistent/sitehub.json'], {})).toThrow(/cannot read config file/);
    expect(() => loadConfig(['--config', configFile('[1,2]')], {})).toThrow(/must hold a JSON object/);
    expect(() => loadConfig(['--admin-token', 'short'], {})).toThrow(/at least 8 characters/);
  });
});
