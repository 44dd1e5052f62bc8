// The authentication settings as the `sitehub` command reads them: the
// origin allow-list from a JSON array or a comma-separated variable or flag,
// refused when it is not a bare origin; the throttle and ban settings.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, loadConfig } from '../../hub/src/config/index.js';

describe('authentication settings', () => {
  it('have safe defaults: own origin only, throttle after 10 failures a minute, ban after 30 for 5 minutes', () => {
    expect(DEFAULT_CONFIG).toMatchObject({
      allowedOrigins: [],
      authFailureWindowMs: 60_000,
      authThrottleAfter: 10,
      authThrottleIntervalMs: 1000,
      authBanAfter: 30,
      authBanMs: 300_000,
      authTrackedMax: 50_000,
    });
  });

  it('read allowedOrigins from a JSON array, a comma-separated variable or a flag', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-auth-config-'));
    try {
      const file = join(dir, 'sitehub.json');
      writeFileSync(file, JSON.stringify({ allowedOrigins: ['https://console.example.com:8443'] }));
      expect(loadConfig(['--config', file], {}).config.allowedOrigins).toEqual(['https://console.example.com:8443']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(loadConfig([], { SITEHUB_ALLOWED_ORIGINS: 'https://a.example, http://b.example:8080' }).config.allowedOrigins).toEqual(['https://a.example', 'http://b.example:8080']);
    expect(loadConfig(['--allowed-origins', 'https://a.example'], {}).config.allowedOrigins).toEqual(['https://a.example']);
    expect(loadConfig(['--auth-ban-ms', '60000', '--auth-throttle-after', '3'], {}).config).toMatchObject({ authBanMs: 60_000, authThrottleAfter: 3 });
  });

  it('refuse what is not a bare http(s) origin, and a zero threshold', () => {
    for (const bad of ['https://a.example/console', 'a.example', 'ftp://a.example', 'https://a.example:443', 'null']) {
      expect(() => loadConfig(['--allowed-origins', bad], {}), bad).toThrow(/"allowedOrigins" must be a list of origins/);
    }
    expect(() => loadConfig(['--auth-ban-after', '0'], {})).toThrow(/"authBanAfter" must be a positive integer/);
  });
});
