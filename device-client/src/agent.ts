// The edge agent: serial sources (or synthetic sensors) -> outbox -> hub.
// A reading is committed to the outbox before it can be sent, and leaves it
// only on the hub's ack; commands from the hub are answered; on each connect
// the agent reports its state (version, uptime, ports, outbox depth, drops).
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { COMMAND_HANDLERS, runCommand, type CommandContext } from './agent/commands.js';
import { BatchSender } from './agent/sender.js';
import { io } from './client/io.js';
import type { Socket } from './client/socket.js';
import type { AgentConfig } from './config.js';
import { Outbox, type DropCounts, type ReadingValue } from './outbox.js';
import { SerialSource, type PortLister, type SourceInfo } from './serial/port-source.js';
import { SimulatedSource } from './serial/simulated-source.js';

/** The agent's version, from device-client's package.json. */
export const AGENT_VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;
  } catch {
    return '0.0.0';
  }
})();

/** Extra wiring for embedding and tests. */
export interface AgentOptions {
  logger?: Logger;
  /** Port listing for `match` sources (default: SerialPort.list). */
  listPorts?: PortLister;
}

/** Most readings held in memory between two outbox commits. */
const MAX_PENDING = 10_000;

/** The sitehub edge agent. */
export class Agent {
  readonly config: AgentConfig;
  readonly log: Logger;
  readonly outbox: Outbox;
  readonly sources: SerialSource[];
  readonly simulator: SimulatedSource | null;
  private readonly sender: BatchSender;
  private socket: Socket | null = null;
  private pending: Array<{ ts: number; values: Record<string, ReadingValue> }> = [];
  private flushScheduled = false;
  private batchTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private reportingDrops = false;
  private readonly startedAt = Date.now();
  /** The PEM contents of hub.tls, read at construction so that a missing file stops the agent at once. */
  private readonly tls: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Readings lost because the in-memory queue before the outbox overflowed. */
  private overflowDrops = 0;

  constructor(config: AgentConfig, opts: AgentOptions = {}) {
    this.config = config;
    this.log = opts.logger ?? pino({ level: config.logLevel, name: 'sitehub-agent' });
    this.tls = {};
    for (const [name, file] of Object.entries(config.hub.tls) as Array<[keyof typeof this.tls, string]>) {
      try {
        this.tls[name] = readFileSync(file);
      } catch (err) {
        throw new Error(`cannot read hub.tls.${name} ${file}: ${(err as Error).message}`);
      }
    }
    this.outbox = new Outbox(config.outbox.path, { maxReadings: config.outbox.maxReadings, maxAgeMs: config.outbox.maxAgeMs });
    this.sender = new BatchSender(
      this.outbox,
      (batch, timeoutMs, done) => {
        if (!this.socket) return done(new Error('not connected'));
        this.socket.timeout(timeoutMs).emit('telemetry', batch, done);
      },
      { batchSize: config.batch.size, maxInFlight: config.batch.maxInFlight, ackTimeoutMs: config.batch.ackTimeoutMs, ratePerSec: config.outbox.replayRatePerSec },
      this.log,
    );
    this.sources = config.sources.map((s) => {
      const source = new SerialSource(s, this.log, opts.listPorts);
      source.on('reading', (values: Record<string, ReadingValue>, ts: number) => this.ingest([values], ts));
      // A port that opens, closes or waits is news for the operators: the
      // state report goes out again rather than waiting for the next connect.
      source.on('status', () => {
        if (this.socket?.connected) this.sendState();
      });
      return source;
    });
    this.simulator = config.simulate ? new SimulatedSource(config.simulate) : null;
    this.simulator?.on('readings', (samples: Array<Record<string, ReadingValue>>, ts: number) => this.ingest(samples, ts));
  }

  /** Opens ports, connects to the hub and starts sending. */
  start(): void {
    const { hub, reconnect } = this.config;
    this.log.info({ version: AGENT_VERSION, hub: hub.url, deviceId: hub.deviceId, outbox: this.config.outbox.path, depth: this.outbox.depth, lastSeq: this.outbox.lastSeq }, 'agent starting');
    const socket = io(`${hub.url.replace(/\/+$/, '')}/devices/${hub.class}`, {
      auth: { deviceId: hub.deviceId, token: hub.token },
      transports: hub.transports,
      ...this.tls,
      forceNew: true,
      reconnectionDelay: reconnect.delayMs,
      reconnectionDelayMax: reconnect.delayMaxMs,
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.log.info({ depth: this.outbox.depth }, 'connected to hub');
      this.sendState();
      this.reportDrops();
      this.sender.connected();
    });
    socket.on('disconnect', (reason: string) => {
      this.log.warn({ reason }, 'disconnected from hub');
      this.sender.disconnected();
    });
    socket.on('connect_error', (err) => {
      this.log.warn({ err: err.message, code: (err.data as { code?: string } | undefined)?.code }, 'cannot connect to hub');
    });
    socket.on('command', (cmd: { id?: unknown; name?: unknown; params?: unknown }, ack?: (answer: unknown) => void) => {
      void runCommand(cmd?.name, cmd?.params, this.commandContext()).then((answer) => {
        this.log.info({ id: cmd?.id, name: cmd?.name, ok: answer.ok, error: answer.error }, 'command');
        if (typeof ack === 'function') ack(answer);
      });
    });
    this.batchTimer = setInterval(() => this.sender.pump(true), this.config.batch.intervalMs);
    this.pruneTimer = setInterval(() => this.prune(), this.config.outbox.pruneIntervalMs);
    this.prune();
    for (const source of this.sources) source.start();
    this.simulator?.start();
  }

  /** Stops sources, commits what is pending, disconnects and closes the outbox. */
  async stop(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.stop()));
    await this.simulator?.stop();
    this.flush();
    if (this.batchTimer) clearInterval(this.batchTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.sender.stop();
    this.socket?.close();
    this.socket = null;
    this.outbox.close();
    this.log.info({ depth: this.outbox.depth }, 'agent stopped');
  }

  /** Queues readings for the next outbox commit (one transaction per event-loop turn). */
  ingest(samples: Array<Record<string, ReadingValue>>, ts = Date.now()): void {
    for (const values of samples) {
      if (this.pending.length >= MAX_PENDING) {
        this.overflowDrops++;
        continue;
      }
      this.pending.push({ ts, values });
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** The state report: flat attributes, as the hub's `state` wants them. */
  state(): Record<string, string | number | boolean> {
    const attrs: Record<string, string | number | boolean> = {
      'agent.version': AGENT_VERSION,
      'agent.uptimeS': Math.round((Date.now() - this.startedAt) / 1000),
      'outbox.depth': this.outbox.depth,
      'outbox.lastSeq': this.outbox.lastSeq,
      'dropped.size': this.outbox.dropped.size,
      'dropped.age': this.outbox.dropped.age,
      'dropped.noise': this.sourceInfos().reduce((n, s) => n + s.dropped, 0),
      'dropped.overflow': this.overflowDrops,
      'batch.size': this.sender.batchSize,
      'batch.intervalMs': this.config.batch.intervalMs,
    };
    for (const s of this.sourceInfos().slice(0, 16)) {
      attrs[`port.${s.name}.status`] = s.status;
      attrs[`port.${s.name}.path`] = s.path ?? '';
      attrs[`port.${s.name}.dropped`] = s.dropped;
    }
    return attrs;
  }

  /** Sources with their status and counters. */
  sourceInfos(): SourceInfo[] {
    return [...this.sources.map((s) => s.info()), ...(this.simulator ? [this.simulator.info()] : [])];
  }

  /** Sender counters (acked, duplicates, resends). */
  get stats() {
    return { ...this.sender.stats, depth: this.outbox.depth, lastSeq: this.outbox.lastSeq };
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    let batch = this.pending;
    this.pending = [];
    const total = this.config.simulate?.total ?? 0;
    if (this.simulator && total > 0) {
      // A finite simulation stops at exactly `total` seqs, across restarts too.
      batch = batch.slice(0, Math.max(0, total - this.outbox.lastSeq));
      if (this.outbox.lastSeq + batch.length >= total) void this.simulator.stop();
    }
    const before = this.outbox.dropped;
    try {
      this.outbox.append(batch);
    } catch (err) {
      this.log.error({ err: (err as Error).message, lost: batch.length }, 'outbox write failed');
      return;
    }
    const after = this.outbox.dropped;
    if (after.size !== before.size) {
      this.log.warn({ dropped: after.size - before.size, maxReadings: this.outbox.maxReadings }, 'outbox full; dropped oldest readings');
      this.reportDrops();
    }
    this.sender.pump(false);
  }

  private prune(): void {
    const n = this.outbox.pruneByAge();
    if (n > 0) {
      this.log.warn({ dropped: n, maxAgeMs: this.outbox.maxAgeMs }, 'outbox readings too old; dropped');
      this.reportDrops();
    }
  }

  private sendState(): void {
    this.socket?.timeout(this.config.batch.ackTimeoutMs).emit('state', this.state(), (err: Error | null, ack?: { ok?: boolean; error?: string }) => {
      if (err || !ack?.ok) this.log.warn({ err: err?.message ?? ack?.error }, 'state not acked');
    });
  }

  /** Tells the hub about drops it has not heard of; they count as reported once the event is acked. */
  private reportDrops(): void {
    const socket = this.socket;
    if (!socket?.connected || this.reportingDrops) return;
    const counts: DropCounts = this.outbox.unreportedDrops;
    if (counts.size === 0 && counts.age === 0) return;
    this.reportingDrops = true;
    const total = this.outbox.dropped;
    socket.timeout(this.config.batch.ackTimeoutMs).emit(
      'event',
      {
        kind: 'outbox-drop',
        severity: 'warning',
        message: `outbox dropped ${counts.size + counts.age} readings (oldest first): ${counts.size} over the size limit, ${counts.age} over the age limit`,
        data: { size: counts.size, age: counts.age, totalSize: total.size, totalAge: total.age },
      },
      (err: Error | null, ack?: { ok?: boolean }) => {
        this.reportingDrops = false;
        if (!err && ack?.ok) {
          this.outbox.markReported(counts);
          this.reportDrops();
        }
      },
    );
  }

  private commandContext(): CommandContext {
    return {
      setInterval: (target, ms, sourceName) => {
        if (target === 'batch') {
          this.config.batch.intervalMs = ms;
          if (this.batchTimer) clearInterval(this.batchTimer);
          this.batchTimer = setInterval(() => this.sender.pump(true), ms);
          return { target, ms };
        }
        const sources = this.sources.filter((s) => sourceName === undefined || s.config.name === sourceName);
        if (sourceName !== undefined && sources.length === 0 && !(this.simulator && sourceName === 'simulated')) throw new Error(`no source named ${sourceName}`);
        for (const s of sources) s.sampleIntervalMs = ms;
        if (this.simulator && (sourceName === undefined || sourceName === 'simulated')) this.simulator.intervalMs = ms;
        return { target, ms };
      },
      serialWrite: (name, data) => {
        const source = this.sources.find((s) => s.config.name === name);
        if (!source) return Promise.reject(new Error(`no source named ${name}`));
        return source.write(data);
      },
      state: () => this.state(),
    };
  }
}

/** Names of the commands the agent answers. */
export const AGENT_COMMANDS = Object.keys(COMMAND_HANDLERS);
