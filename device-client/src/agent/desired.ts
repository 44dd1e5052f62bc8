// The agent's side of the twin: the hub's desired document mapped onto the
// agent's own settings, and a report of what was applied. The mapping:
//   batch.intervalMs                  -> the sender's partial-batch timer
//   sampling.intervalMs               -> every source's sample interval
//   ports.<name>.sampleIntervalMs     -> one source's sample interval
// Anything else is reported back under `unsupported`, a value that fails the
// same checks as the `set-interval` command under `rejected`. A desired
// version older than the last one applied is ignored (it was delivered late);
// the same version again (after a reconnect) is reported again only if the
// hub never acknowledged the report.
import type { DesiredPayload, ReportPayload } from '@sitehub/protocol/iot';
import type { Logger } from 'pino';
import { COMMAND_HANDLERS, type CommandContext } from './commands.js';

/** What the desired state acts on and reads back. */
export interface DesiredTargets {
  commands: CommandContext;
  /** The batch interval in force, ms. */
  batchIntervalMs(): number;
  /** Each source's sample interval in force, by name. */
  sampleIntervals(): Record<string, number>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Applies desired documents in version order and builds the reports. */
export class DesiredState {
  /** The last desired version applied (0: none yet). */
  applied = 0;
  private lastReport: ReportPayload | undefined;
  /** The hub acknowledged the last report: the same version again (a reconnect) needs no new one. */
  private reportAcked = false;

  constructor(
    private readonly targets: DesiredTargets,
    private readonly log: Logger,
  ) {}

  /** Applies `payload` if it is newer than the last one; returns the report to send, or undefined for an outdated one. */
  apply(payload: Partial<DesiredPayload> | undefined): ReportPayload | undefined {
    const version = payload?.version;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0 || !isObject(payload?.desired)) {
      this.log.warn({ payload }, 'malformed desired state ignored');
      return undefined;
    }
    if (version < this.applied) {
      this.log.info({ version, applied: this.applied }, 'outdated desired state ignored');
      return undefined;
    }
    if (version === this.applied && this.lastReport) return this.reportAcked ? undefined : this.lastReport;
    const desired = payload.desired;
    const rejected: Record<string, string> = {};
    const unsupported: string[] = [];
    const run = (path: string, params: Record<string, unknown>) => {
      try {
        COMMAND_HANDLERS['set-interval']!(params, this.targets.commands);
      } catch (err) {
        rejected[path] = (err as Error).message;
      }
    };
    for (const [key, value] of Object.entries(desired)) {
      if (key === 'batch' && isObject(value)) {
        for (const [k, v] of Object.entries(value)) k === 'intervalMs' ? run('batch.intervalMs', { target: 'batch', ms: v }) : unsupported.push(`batch.${k}`);
      } else if (key === 'sampling' && isObject(value)) {
        for (const [k, v] of Object.entries(value)) k === 'intervalMs' ? run('sampling.intervalMs', { target: 'sample', ms: v }) : unsupported.push(`sampling.${k}`);
      } else if (key === 'ports' && isObject(value)) {
        for (const [name, options] of Object.entries(value)) {
          if (!isObject(options)) {
            unsupported.push(`ports.${name}`);
            continue;
          }
          for (const [k, v] of Object.entries(options)) {
            k === 'sampleIntervalMs' ? run(`ports.${name}.sampleIntervalMs`, { target: 'sample', ms: v, source: name }) : unsupported.push(`ports.${name}.${k}`);
          }
        }
      } else {
        unsupported.push(key);
      }
    }
    this.applied = version;
    this.reportAcked = false;
    const ports: Record<string, { sampleIntervalMs: number }> = {};
    for (const [name, ms] of Object.entries(this.targets.sampleIntervals())) ports[name] = { sampleIntervalMs: ms };
    this.lastReport = {
      version,
      reported: {
        batch: { intervalMs: this.targets.batchIntervalMs() },
        ports,
        // null removes what an earlier report said (merge patch).
        rejected: Object.keys(rejected).length ? rejected : null,
        unsupported: unsupported.length ? unsupported : null,
      },
    };
    this.log.info({ version, rejected, unsupported }, 'desired state applied');
    return this.lastReport;
  }

  /** The hub took the report of `version` (or found it outdated): it is not sent again for that version. */
  acked(version: number): void {
    if (version === this.applied) this.reportAcked = true;
  }
}
