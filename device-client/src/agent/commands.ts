// Commands the hub can send to the agent, one handler per name in a table;
// every command is answered by its ack, unknown names with an error. The
// table also builds the context its handlers act on, from the agent's parts.
import type { CommandAnswer } from '@sitehub/protocol/iot';
import type { DeadLetter, Outbox } from '../outbox.js';
import type { SerialSource } from '../serial/port-source.js';
import type { SimulatedSource } from '../serial/simulated-source.js';
import type { BatchSender } from './sender.js';

/** What a handler gets to act on. */
export interface CommandContext {
  setInterval(target: 'sample' | 'batch', ms: number, source?: string): { target: string; ms: number };
  serialWrite(source: string, data: Buffer): Promise<number>;
  state(): Record<string, unknown>;
  /** Dead letters after `afterSeq`, oldest first, and how many there are in all. */
  deadLetters(afterSeq: number, limit: number): { count: number; items: DeadLetter[] };
  /** Starts uploading a file of the upload folder to the hub in the background; resolves with its size once it is found. */
  upload?(name: string, kind: string, contentType: string): Promise<{ name: string; size: number }>;
}

/** The agent's parts the commands act on. */
export interface CommandTargets {
  sender: BatchSender;
  sources: SerialSource[];
  simulator: SimulatedSource | null;
  outbox: Outbox;
  state(): Record<string, unknown>;
  upload?: CommandContext['upload'];
}

/** The context of the agent's commands over its parts. */
export function commandContext(t: CommandTargets): CommandContext {
  return {
    setInterval: (target, ms, sourceName) => {
      if (target === 'batch') {
        t.sender.setIntervalMs(ms);
        return { target, ms };
      }
      const sources = t.sources.filter((s) => sourceName === undefined || s.config.name === sourceName);
      if (sourceName !== undefined && sources.length === 0 && !(t.simulator && sourceName === 'simulated')) throw new Error(`no source named ${sourceName}`);
      for (const s of sources) s.sampleIntervalMs = ms;
      if (t.simulator && (sourceName === undefined || sourceName === 'simulated')) t.simulator.intervalMs = ms;
      return { target, ms };
    },
    serialWrite: (name, data) => {
      const source = t.sources.find((s) => s.config.name === name);
      if (!source) return Promise.reject(new Error(`no source named ${name}`));
      return source.write(data);
    },
    state: () => t.state(),
    deadLetters: (afterSeq, limit) => ({ count: t.outbox.deadLetterCount, items: t.outbox.deadLetters(afterSeq, limit) }),
    ...(t.upload && { upload: t.upload }),
  };
}

/** A command handler: resolves with the result or throws with the error to report. */
export type CommandHandler = (params: Record<string, unknown>, ctx: CommandContext) => unknown | Promise<unknown>;

const MAX_WRITE_BYTES = 4096;
/** Most dead letters one `dead-letters` answer holds (an answer has a size limit at the hub). */
const MAX_DEAD_LETTERS_PER_ANSWER = 100;

/** The agent's commands. */
export const COMMAND_HANDLERS: Record<string, CommandHandler> = {
  ping: () => ({ pong: true, ts: Date.now() }),

  'set-interval': (params, ctx) => {
    const target = params.target ?? 'batch';
    const ms = params.ms;
    if (target !== 'sample' && target !== 'batch') throw new Error('target must be "sample" or "batch"');
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > 86_400_000) throw new Error('ms must be an integer from 0 to 86400000');
    if (target === 'batch' && ms < 10) throw new Error('the batch interval must be at least 10 ms');
    if (params.source !== undefined && typeof params.source !== 'string') throw new Error('source must be a source name');
    return ctx.setInterval(target, ms, params.source as string | undefined);
  },

  'serial-write': async (params, ctx) => {
    const { source, line, bytes } = params;
    if (typeof source !== 'string') throw new Error('source (the serial source name) is required');
    let data: Buffer;
    if (typeof line === 'string' && bytes === undefined) data = Buffer.from(line.endsWith('\n') ? line : line + '\n', 'utf8');
    else if (typeof bytes === 'string' && line === undefined && /^([0-9a-fA-F]{2})+$/.test(bytes)) data = Buffer.from(bytes, 'hex');
    else throw new Error('give either line (text) or bytes (hex)');
    if (data.length > MAX_WRITE_BYTES) throw new Error(`at most ${MAX_WRITE_BYTES} bytes per write`);
    return { source, written: await ctx.serialWrite(source, data) };
  },

  'get-state': (_params, ctx) => ctx.state(),

  /** Uploads `<files.uploadDir>/<name>` to the hub in the background: `{ name, kind?, contentType? }` -> `{ name, size }`; the stored file shows in the hub's uploads. */
  upload: async (params, ctx) => {
    if (!ctx.upload) throw new Error('this agent has no files.uploadDir');
    const { name, kind = 'file', contentType = 'application/octet-stream' } = params;
    if (typeof name !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/.test(name)) throw new Error('name must be a file name in the upload folder (no path)');
    if (typeof kind !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(kind)) throw new Error('kind must be a short name, e.g. snapshot or log');
    if (typeof contentType !== 'string' || !/^[a-z0-9!#$&^_.+-]{1,64}\/[a-z0-9!#$&^_.+-]{1,64}$/i.test(contentType)) throw new Error('contentType must be a media type');
    return ctx.upload(name, kind, contentType);
  },

  /** Reads back readings the hub refused: `{ afterSeq?, limit? }` -> `{ count, items }`. */
  'dead-letters': (params, ctx) => {
    const afterSeq = params.afterSeq ?? 0;
    const limit = params.limit ?? 20;
    if (typeof afterSeq !== 'number' || !Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new Error('afterSeq must be an integer >= 0');
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_DEAD_LETTERS_PER_ANSWER) throw new Error(`limit must be an integer from 1 to ${MAX_DEAD_LETTERS_PER_ANSWER}`);
    return ctx.deadLetters(afterSeq, limit);
  },
};

/** Runs a command and returns the ack payload `{ ok, result? , error? }`. */
export async function runCommand(name: unknown, params: unknown, ctx: CommandContext): Promise<CommandAnswer> {
  const handler = typeof name === 'string' && Object.hasOwn(COMMAND_HANDLERS, name) ? COMMAND_HANDLERS[name] : undefined;
  if (!handler) return { ok: false, error: `unknown command ${JSON.stringify(name)}; known: ${Object.keys(COMMAND_HANDLERS).join(', ')}` };
  try {
    const p = params !== null && typeof params === 'object' && !Array.isArray(params) ? (params as Record<string, unknown>) : {};
    const result = await handler(p, ctx);
    return result === undefined ? { ok: true } : { ok: true, result };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
