// Alarms: rules judged on readings as they are ingested (rule-evaluator.ts),
// silence checked on a timer, devices' own alarm events, and people
// acknowledging and clearing. Each change is stored (with its stream record),
// then pushed to /console and /bridge and to the webhook. The store's unique
// open alarm per device and key is the last word on "raised once": a raise
// that finds one open changes nothing.
import { HubError } from './errors.js';
import type { IotContext } from './context.js';
import type { AlarmWebhook } from './alarm-webhook.js';
import type { IngestObserver } from './ingest-hooks.js';
import { buildRule, ruleMessage, type RuleInput } from './rule-input.js';
import { newRuleState, numericValue, quietBatch, stepHeard, stepReading, stepSilence, summarize, type BatchSummary, type RuleState, type Step } from './rule-evaluator.js';
import type { Alarm, AlarmFilter, AlarmRule, DeviceEvent, Positioned, Reading } from './store/types.js';
import type { DeviceScope } from './streams.js';

const ALARM_SEVERITIES = new Set(['warning', 'error', 'critical']);
/** Most open alarms read back at start to resume the rules where they stood. */
const MAX_OPEN_AT_START = 100_000;
/** Longest device alarm key kept (data.code or the message). */
const MAX_KEY = 200;

/** Who acts on an alarm or a rule (a person's name, or 'admin'). */
export type Actor = string;

/** Is a device event an alarm (kind alarm, or severity warning and up)? */
export function isAlarmEvent(e: Pick<DeviceEvent, 'kind' | 'severity'>): boolean {
  return e.kind === 'alarm' || ALARM_SEVERITIES.has(e.severity);
}

function ruleKey(ruleId: string): string {
  return `rule:${ruleId}`;
}

/** The rule engine and the alarms' life. */
export class Alarms implements IngestObserver {
  /** Enabled rules by scope room (`class:x`, `site:y`, `device:z`). */
  private byScope = new Map<string, AlarmRule[]>();
  private rules = new Map<string, AlarmRule>();
  private silenceRules: AlarmRule[] = [];
  /** deviceId -> ruleId -> state. */
  private readonly states = new Map<string, Map<string, RuleState>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private startedAt = Date.now();
  private checking = false;

  constructor(
    private readonly ctx: IotContext,
    /** Is the device connected to this hub? (Silence of a device on another node is that node's to judge.) */
    private readonly isLocal: (deviceId: string) => boolean,
    private readonly webhook?: AlarmWebhook,
  ) {}

  /** Loads the rules and the open alarms, then starts the silence check and the rule refresh. */
  async start(): Promise<void> {
    this.startedAt = Date.now();
    this.apply(await this.ctx.store.alarms.listRules());
    await this.resumeOpen(undefined);
    const silence = setInterval(() => void this.checkSilence(), this.ctx.config.alarmSilenceCheckMs);
    const refresh = setInterval(() => void this.refresh(), this.ctx.config.alarmRulesRefreshMs);
    silence.unref();
    refresh.unref();
    this.timers.push(silence, refresh);
  }

  /** Stops the timers and the webhook. */
  async stop(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    await this.webhook?.stop();
  }

  // --- ingest (IngestObserver) ---

  readings(device: DeviceScope, readings: readonly Reading[], now: number): void {
    if (this.rules.size === 0) return;
    // Each metric is summarised once per batch, whatever the number of rules on it.
    const summaries = new Map<string, BatchSummary | undefined>();
    this.judge(this.byScope.get(`class:${device.classId}`), device, readings, now, summaries);
    this.judge(this.byScope.get(`site:${device.siteId}`), device, readings, now, summaries);
    this.judge(this.byScope.get(`device:${device.id}`), device, readings, now, summaries);
  }

  event(device: DeviceScope, e: DeviceEvent): void {
    if (!isAlarmEvent(e)) return;
    const data = e.data && typeof e.data === 'object' && !Array.isArray(e.data) ? (e.data as Record<string, unknown>) : undefined;
    const key = `device:${(typeof data?.code === 'string' ? data.code : e.message).slice(0, MAX_KEY)}`;
    if (data?.cleared === true) {
      this.track(this.ctx.store.alarms.clearKey(device.id, key, 'device', e.receivedAt), device, 'device|cleared');
      return;
    }
    const raised = this.ctx.store.alarms.raise({
      deviceId: device.id,
      ruleId: null,
      source: 'device',
      kind: e.kind,
      key,
      severity: e.severity,
      message: e.message,
      value: e.data ?? null,
      ts: e.receivedAt,
    });
    this.track(raised, device, 'device|raised');
  }

  private judge(rules: AlarmRule[] | undefined, device: DeviceScope, readings: readonly Reading[], now: number, summaries: Map<string, BatchSummary | undefined>): void {
    if (!rules) return;
    for (const rule of rules) {
      const state = this.stateOf(device.id, rule.id, now);
      if (rule.condition === 'silence') {
        if (rule.metric === null || readings.some((r) => r.values[rule.metric!] !== undefined)) this.act(rule, device, stepHeard(state, now), now);
        continue;
      }
      const metric = rule.metric!;
      if (!summaries.has(metric)) summaries.set(metric, summarize(readings, metric));
      const summary = summaries.get(metric);
      if (summary === undefined || quietBatch(rule, state, summary)) continue;
      for (const r of readings) {
        const v = numericValue(r.values[metric]);
        if (v !== undefined) this.act(rule, device, stepReading(rule, state, v, r.ts), now);
      }
    }
  }

  private stateOf(deviceId: string, ruleId: string, now: number): RuleState {
    let perDevice = this.states.get(deviceId);
    if (!perDevice) this.states.set(deviceId, (perDevice = new Map()));
    let state = perDevice.get(ruleId);
    if (!state) perDevice.set(ruleId, (state = newRuleState(now)));
    return state;
  }

  private act(rule: AlarmRule, device: DeviceScope, step: Step, now: number): void {
    if (step === undefined) return;
    if ('raise' in step) {
      const raised = this.ctx.store.alarms.raise({
        deviceId: device.id,
        ruleId: rule.id,
        source: 'rule',
        kind: rule.condition,
        key: ruleKey(rule.id),
        severity: rule.severity,
        message: ruleMessage(rule, step.raise),
        value: step.raise,
        ts: now,
      });
      this.track(raised, device, 'rule|raised');
    } else {
      this.track(this.ctx.store.alarms.clearKey(device.id, ruleKey(rule.id), 'rule', now), device, 'rule|cleared');
    }
  }

  /** Publishes a stored change (none when the store changed nothing); failures are logged, the rules go on. */
  private track(write: Promise<Positioned<Alarm> | undefined>, device: DeviceScope, label: string): void {
    write.then(
      (alarm) => {
        if (alarm) this.publish(alarm, device, label);
      },
      (err: unknown) => this.ctx.log.error({ err, deviceId: device.id }, 'alarm change not stored'),
    );
  }

  private publish(alarm: Positioned<Alarm>, device: DeviceScope, label: string): void {
    this.ctx.metrics.alarms.inc(label);
    const { deviceId: _deviceId, pos, ...body } = alarm;
    this.ctx.streams.publish('alarm', device, pos, body);
    this.webhook?.send({ alarm: { ...body, deviceId: device.id, siteId: device.siteId, classId: device.classId }, pos });
  }

  // --- silence ---

  /** One pass of the silence rules over the devices of their scopes (registry reads only; no telemetry is read). */
  async checkSilence(now = Date.now()): Promise<void> {
    if (this.checking || this.silenceRules.length === 0) return;
    this.checking = true;
    try {
      for (const rule of this.silenceRules) {
        const f = rule.scope;
        const devices =
          f.kind === 'device'
            ? [await this.ctx.store.registry.getDevice(f.id)].filter((d) => d !== undefined)
            : await this.ctx.store.registry.listDevices({ ...(f.kind === 'site' ? { siteId: f.id } : { classId: f.id }), disabled: false, limit: 100_000, offset: 0 });
        for (const d of devices) {
          // A device connected to another hub node is judged there (its readings arrive there).
          if (d.disabled || (d.online && !this.isLocal(d.id))) continue;
          const known = this.states.get(d.id)?.get(rule.id);
          const state = known ?? this.stateOf(d.id, rule.id, Math.max(this.startedAt, d.lastSeen ?? 0));
          this.act(rule, { id: d.id, siteId: d.siteId, classId: d.classId }, stepSilence(rule, state, now), now);
        }
      }
    } catch (err) {
      this.ctx.log.error({ err }, 'silence check failed');
    } finally {
      this.checking = false;
    }
  }

  // --- rules ---

  /** Takes a new rule set; rules that changed (or went) start over. */
  private apply(list: AlarmRule[]): void {
    const next = new Map(list.map((r) => [r.id, r]));
    for (const [id, old] of this.rules) {
      const now = next.get(id);
      if (!now || now.updatedAt !== old.updatedAt) for (const perDevice of this.states.values()) perDevice.delete(id);
    }
    this.rules = new Map([...next].filter(([, r]) => r.enabled));
    this.byScope = new Map();
    for (const r of this.rules.values()) {
      const room = `${r.scope.kind}:${r.scope.id}`;
      this.byScope.set(room, [...(this.byScope.get(room) ?? []), r]);
    }
    this.silenceRules = [...this.rules.values()].filter((r) => r.condition === 'silence');
  }

  /** Rules with open alarms resume as active, so a value still past the limit does not raise them again. */
  private async resumeOpen(ruleId: string | undefined): Promise<void> {
    const open = await this.ctx.store.alarms.list({ state: 'open', ...(ruleId !== undefined && { ruleId }), limit: MAX_OPEN_AT_START });
    const now = Date.now();
    for (const a of open) {
      if (a.ruleId === null || !this.rules.has(a.ruleId)) continue;
      this.stateOf(a.deviceId, a.ruleId, now).phase = 'active';
    }
  }

  private async refresh(): Promise<void> {
    try {
      const list = await this.ctx.store.alarms.listRules();
      const changed = list.filter((r) => this.rules.get(r.id)?.updatedAt !== r.updatedAt && r.enabled);
      if (changed.length === 0 && list.filter((r) => r.enabled).length === this.rules.size) return;
      this.apply(list);
      for (const r of changed) await this.resumeOpen(r.id);
    } catch (err) {
      this.ctx.log.warn({ err }, 'alarm rules refresh failed');
    }
  }

  /** Every rule, enabled or not. */
  listRules(): Promise<AlarmRule[]> {
    return this.ctx.store.alarms.listRules();
  }

  /** One rule; HubError not_found when there is none. */
  async getRule(id: string): Promise<AlarmRule> {
    const rule = await this.ctx.store.alarms.getRule(id);
    if (!rule) throw new HubError('not_found', `no rule ${id}`, 404);
    return rule;
  }

  /** Creates a rule; it applies to readings from now on. */
  async createRule(input: RuleInput): Promise<AlarmRule> {
    const all = await this.ctx.store.alarms.listRules();
    if (all.length >= this.ctx.config.maxAlarmRules) throw new HubError('too_many_rules', `at most ${this.ctx.config.maxAlarmRules} rules`, 409);
    const rule = buildRule(input, undefined, Date.now());
    await this.ctx.store.alarms.putRule(rule);
    this.apply([...all, rule]);
    return rule;
  }

  /** Changes a rule; its evaluation starts over (its open alarms stay open until it clears them). */
  async updateRule(id: string, input: RuleInput): Promise<AlarmRule> {
    const base = await this.getRule(id);
    // A rule changed within the same millisecond must still count as changed.
    const rule = buildRule(input, base, Math.max(Date.now(), base.updatedAt + 1));
    await this.ctx.store.alarms.putRule(rule);
    this.apply((await this.ctx.store.alarms.listRules()).map((r) => (r.id === id ? rule : r)));
    await this.resumeOpen(id);
    return rule;
  }

  /** Deletes a rule; its open alarms stay for a person to clear. */
  async deleteRule(id: string): Promise<void> {
    if (!(await this.ctx.store.alarms.deleteRule(id))) throw new HubError('not_found', `no rule ${id}`, 404);
    this.apply(await this.ctx.store.alarms.listRules());
  }

  // --- people ---

  /** Alarms matching the filter, newest first. */
  list(filter: AlarmFilter): Promise<Alarm[]> {
    return this.ctx.store.alarms.list(filter);
  }

  /** One alarm; HubError not_found when there is none. */
  async get(id: number): Promise<Alarm> {
    const alarm = await this.ctx.store.alarms.get(id);
    if (!alarm) throw new HubError('not_found', `no alarm ${id}`, 404);
    return alarm;
  }

  /** A person has seen an active alarm. */
  acknowledge(id: number, by: Actor): Promise<Alarm> {
    return this.personal(id, 'acknowledged', by);
  }

  /** A person ends an alarm (the rule will raise it again only on a new crossing). */
  clear(id: number, by: Actor): Promise<Alarm> {
    return this.personal(id, 'cleared', by);
  }

  private async personal(id: number, state: 'acknowledged' | 'cleared', by: Actor): Promise<Alarm> {
    const changed = await this.ctx.store.alarms.change(id, { state, by, at: Date.now() });
    if (!changed) {
      const current = await this.get(id);
      throw new HubError('conflict', `alarm ${id} is ${current.state}`, 409);
    }
    const device = await this.ctx.store.registry.getDevice(changed.deviceId);
    this.publish(changed, { id: changed.deviceId, siteId: device?.siteId ?? '_', classId: device?.classId ?? '_' }, `person|${state}`);
    const { pos: _pos, ...alarm } = changed;
    return alarm;
  }
}
