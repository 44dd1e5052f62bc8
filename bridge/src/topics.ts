// Topic templates: where each kind of hub update lands on the broker, and how
// a command topic is read back into a device id and a command name.

/** What a hub update is about; fills the template's placeholders. */
export interface TopicSubject {
  siteId: string;
  classId: string;
  deviceId: string;
}

/** Kinds of messages the bridge publishes for a device. */
export type DeviceKind = 'telemetry' | 'state' | 'event' | 'status' | 'twin' | 'alarm';

/** A command request read from a topic. */
export interface CommandTopic extends TopicSubject {
  name: string;
}

/** The `{kind}` levels of a desired-state request: `<...>/twin/desired/set`. */
export const TWIN_SET_KIND = 'twin/desired/set';

const PLACEHOLDERS = ['{site}', '{class}', '{device}', '{kind}'] as const;

/** MQTT topic levels cannot carry '/', '+', '#' or NUL; ids with them are made safe. */
function level(value: string): string {
  return value.replace(/[/+#\u0000]/g, '_');
}

/** Compiled topic template, e.g. `sitehub/{site}/{class}/{device}/{kind}`. */
export class TopicMap {
  readonly template: string;
  /** Subscription filter matching every command request. */
  readonly commandFilter: string;
  /** Subscription filter matching every desired-state request (`{kind}` = `twin/desired/set`). */
  readonly twinFilter: string;
  private readonly commandPattern: RegExp;
  private readonly twinPattern: RegExp;
  private readonly order: string[];

  constructor(template: string) {
    const levels = template.split('/');
    for (const p of ['{device}', '{kind}']) {
      if (levels.filter((l) => l === p).length !== 1) throw new Error(`topic template must contain ${p} exactly once, as a whole level: ${template}`);
    }
    for (const l of levels) {
      if (l.includes('{') && !(PLACEHOLDERS as readonly string[]).includes(l)) throw new Error(`unknown placeholder in topic template level "${l}"`);
      if (l.includes('+') || l.includes('#')) throw new Error(`topic template cannot contain wildcards: ${template}`);
    }
    this.template = template;
    this.order = levels.filter((l) => l.startsWith('{') && l !== '{kind}');
    this.commandFilter = levels.map((l) => (l === '{kind}' ? 'cmd/+' : l.startsWith('{') ? '+' : l)).join('/');
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const source = levels.map((l) => (l === '{kind}' ? 'cmd/([^/]+)' : l.startsWith('{') ? '([^/]+)' : escape(l))).join('/');
    this.commandPattern = new RegExp(`^${source}$`);
    this.twinFilter = levels.map((l) => (l === '{kind}' ? TWIN_SET_KIND : l.startsWith('{') ? '+' : l)).join('/');
    const twinSource = levels.map((l) => (l === '{kind}' ? TWIN_SET_KIND : l.startsWith('{') ? '([^/]+)' : escape(l))).join('/');
    this.twinPattern = new RegExp(`^${twinSource}$`);
  }

  /** Reads a desired-state request topic; undefined if the topic is not one. */
  parseTwinSet(topic: string): TopicSubject | undefined {
    const m = this.twinPattern.exec(topic);
    if (!m) return undefined;
    const values: Record<string, string> = {};
    this.order.forEach((p, i) => (values[p] = m[i + 1]!));
    return { siteId: values['{site}'] ?? '', classId: values['{class}'] ?? '', deviceId: values['{device}']! };
  }

  /** The topic of one kind of update about a device. */
  topic(subject: TopicSubject, kind: DeviceKind | string): string {
    return this.template
      .split('/')
      .map((l) => {
        switch (l) {
          case '{site}':
            return level(subject.siteId);
          case '{class}':
            return level(subject.classId);
          case '{device}':
            return level(subject.deviceId);
          case '{kind}':
            return kind;
          default:
            return l;
        }
      })
      .join('/');
  }

  /** The default result topic of a command request: the request topic + `/result`. */
  resultTopic(requestTopic: string): string {
    return `${requestTopic}/result`;
  }

  /** Reads a command request topic; undefined if the topic is not one. */
  parseCommand(topic: string): CommandTopic | undefined {
    const m = this.commandPattern.exec(topic);
    if (!m) return undefined;
    const values: Record<string, string> = {};
    const captures = m.slice(1);
    const kindIndex = this.kindCaptureIndex();
    const name = captures[kindIndex]!;
    const others = captures.filter((_, i) => i !== kindIndex);
    this.order.forEach((p, i) => (values[p] = others[i]!));
    return { siteId: values['{site}'] ?? '', classId: values['{class}'] ?? '', deviceId: values['{device}']!, name };
  }

  private kindCaptureIndex(): number {
    return this.template
      .split('/')
      .filter((l) => l.startsWith('{'))
      .indexOf('{kind}');
  }
}

/** Where the bridge publishes the hub's gap notices. */
export function bridgeGapTopic(prefix: string, bridgeId: string): string {
  return `${prefix}/bridge/${level(bridgeId)}/gap`;
}

/** The bridge's retained birth/will topic. */
export function bridgeStatusTopic(prefix: string, bridgeId: string): string {
  return `${prefix}/bridge/${level(bridgeId)}/status`;
}
