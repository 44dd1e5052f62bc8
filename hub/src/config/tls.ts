// The TLS settings that only make sense together: checked after each one is
// valid on its own, so that a half-configured TLS stops the start instead of
// silently serving clear HTTP.
import type { HubConfig } from './schema.js';
import type { SourcedValue } from './validate.js';

function from(settings: Partial<Record<string, SourcedValue>>, key: string): string {
  const source = settings[key]?.source;
  return source ? ` (${source})` : '';
}

/** Problems between tlsCert, tlsKey, tlsCa and tlsClientAuth, each naming the settings and their sources. */
export function tlsSettingProblems(config: HubConfig, settings: Partial<Record<string, SourcedValue>>): string[] {
  const problems: string[] = [];
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    const given = config.tlsCert !== undefined ? 'tlsCert' : 'tlsKey';
    const missing = given === 'tlsCert' ? 'tlsKey' : 'tlsCert';
    problems.push(`"${given}"${from(settings, given)} needs "${missing}" too: TLS takes a certificate and its key`);
  }
  if (config.tlsClientAuth !== 'off') {
    if (config.tlsCert === undefined) {
      problems.push(`"tlsClientAuth" is "${config.tlsClientAuth}"${from(settings, 'tlsClientAuth')} but TLS is off: set "tlsCert" and "tlsKey"`);
    }
    if (config.tlsCa === undefined) {
      problems.push(`"tlsClientAuth" is "${config.tlsClientAuth}"${from(settings, 'tlsClientAuth')} but "tlsCa" is unset: client certificates are checked against it`);
    }
  } else if (config.tlsCa !== undefined) {
    problems.push(`"tlsCa"${from(settings, 'tlsCa')} is set but "tlsClientAuth" is "off": set it to optional, devices or required`);
  }
  return problems;
}
