// Commands the hub can send to the agent, one handler per name in a table;
// every command is answered by its ack, unknown names with an error.
/** What a handler gets to act on. */
export interface CommandContext {
  setInterval(target: 'sample' | 'batch', ms: number, source?: string): { target: string; ms: number };
  serialWrite(source: string, data: Buffer): Promise<number>;
  state(): Record<string, unknown>;
}

/** A command handler: resolves with the result or throws with the error to report. */
export type CommandHandler = (params: Record<string, unknown>, ctx: CommandContext) => unknown | Promise<unknown>;

const MAX_WRITE_BYTES = 4096;

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
};

/** Runs a command and returns the ack payload `{ ok, result? , error? }`. */
export async function runCommand(name: unknown, params: unknown, ctx: CommandContext): Promise<{ ok: boolean; result?: unknown; error?: string }> {
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
