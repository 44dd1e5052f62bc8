// The edge agent: wires serial sources (or synthetic sensors) -> collector ->
// outbox -> sender -> hub, the command table and the drop tally. Each part
// owns its state: the collector the in-memory queue and the simulation cap,
// the sender the batch size, the hub's limits and the batch timer, the
// outbox the seqs, drops and dead letters, the command table its context.
// On each connect the agent reports its state (version, uptime, ports,
// outbox depth, drops).
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { HubToDeviceEvents } from '@sitehub/protocol/iot';
import { pino, type Logger } from 'pino';
import { Collector } from './agent/collector.js';
import { COMMAND_HANDLERS, commandContext, runCommand, type CommandContext } from './agent/commands.js';
import { DesiredState } from './agent/desired.js';
import { DropTally } from './agent/drops.js';
import { BatchSender } from './agent/sender.js';
import { io } from './client/io.js';
import { FileReceiver } from './files/receiver.js';
import { uploadFile, type UploadOptions } from './files/uploader.js';
import type { FileDone } from '@sitehub/protocol/iot';
import type { Socket } from './client/socket.js';
import type { AgentConfig } from './config.js';
import { Outbox, type ReadingValue } from './outbox.js';
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

/** A burst of changes worth a state report is sent as one report after this long, ms. */
const STATE_COALESCE_MS = 200;

/** Extra wiring for embedding and tests. */
export interface AgentOptions {
  logger?: Logger;
  /** Port listing for `match` sources (default: SerialPort.list). */
  listPorts?: PortLister;
}

/** The sitehub edge agent. */
export class Agent {
  readonly config: AgentConfig;
  readonly log: Logger;
  readonly outbox: Outbox;
  readonly sources: SerialSource[];
  readonly simulator: SimulatedSource | null;
  readonly drops: DropTally;
  private readonly collector: Collector;
  private readonly sender: BatchSender;
  private readonly commands: CommandContext;
  /** The twin's desired state applied to the settings (agent/desired.ts). */
  readonly desired: DesiredState;
  private socket: Socket | null = null;
  /** Files from the hub, when `files` is configured. */
  files: FileReceiver | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private stateTimer: NodeJS.Timeout | null = null;
  private readonly startedAt = Date.now();
  /** The PEM contents of hub.tls, read at construction so that a missing file stops the agent at once. */
  private readonly tls: { ca?: Buffer; cert?: Buffer; key?: Buffer };

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
      { batchSize: config.batch.size, maxInFlight: config.batch.maxInFlight, ackTimeoutMs: config.batch.ackTimeoutMs, ratePerSec: config.outbox.replayRatePerSec, intervalMs: config.batch.intervalMs },
      this.log,
    );
    // The operators learn of a dead letter through the state report (one per burst).
    this.sender.events.on('dead-letter', () => this.scheduleState());
    this.simulator = config.simulate ? new SimulatedSource(config.simulate) : null;
    this.collector = new Collector(this.outbox, this.log, config.simulate?.total ?? 0);
    this.collector.on('committed', () => {
      if (this.collector.capReached) void this.simulator?.stop();
      this.sender.pump(false);
    });
    this.collector.on('outbox-drops', () => this.drops.report(this.socket));
    this.sources = config.sources.map((s) => {
      const source = new SerialSource(s, this.log, opts.listPorts);
      source.on('reading', (values: Record<string, ReadingValue>, ts: number) => this.collector.ingest([values], ts));
      // A port that opens, closes or waits is news for the operators: the
      // state report goes out again rather than waiting for the next connect.
      source.on('status', () => {
        if (this.socket?.connected) this.sendState();
      });
      return source;
    });
    this.simulator?.on('readings', (samples: Array<Record<string, ReadingValue>>, ts: number) => this.collector.ingest(samples, ts));
    this.drops = new DropTally(
      this.outbox,
      () => this.sourceInfos().reduce((n, s) => n + s.dropped, 0),
      () => this.collector.overflow,
      config.batch.ackTimeoutMs,
    );
    const uploadDir = config.files?.uploadDir;
    this.commands = commandContext({
      sender: this.sender,
      sources: this.sources,
      simulator: this.simulator,
      outbox: this.outbox,
      state: () => this.state(),
      ...(uploadDir && {
        upload: async (name: string, kind: string, contentType: string) => {
          const path = join(uploadDir, name);
          const { size } = await stat(path);
          // Answered at once; the transfer runs (and resumes) on its own, its outcome logged and listed by the hub.
          void this.upload(path, { kind, contentType }).then(
            (done) => this.log.info({ file: name, ok: done.ok, fileId: done.fileId, error: done.error }, 'upload finished'),
            (err: Error) => this.log.error({ file: name, err: err.message }, 'upload failed'),
          );
          return { name, size };
        },
      }),
    });
    this.desired = new DesiredState(
      {
        commands: this.commands,
        batchIntervalMs: () => this.sender.intervalMs,
        sampleIntervals: () => Object.fromEntries([...this.sources.map((s) => [s.config.name, s.sampleIntervalMs]), ...(this.simulator ? [['simulated', this.simulator.intervalMs]] : [])]),
      },
      this.log,
    );
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
      this.drops.report(socket);
      this.sender.connected();
    });
    // The hub announces its limits right after the connection; the batches follow them.
    // Typed by the contract, but read defensively: the values come from the network.
    socket.on('limits', (limits: Partial<Parameters<HubToDeviceEvents['limits']>[0]> | undefined) => {
      const before = this.sender.batchSize;
      this.sender.setLimits(limits);
      if (this.sender.batchSize !== before) this.sendState();
    });
    socket.on('disconnect', (reason: string) => {
      this.log.warn({ reason }, 'disconnected from hub');
      this.sender.disconnected();
    });
    socket.on('connect_error', (err) => {
      this.log.warn({ err: err.message, code: (err.data as { code?: string } | undefined)?.code }, 'cannot connect to hub');
    });
    socket.on('command', (cmd: Partial<Parameters<HubToDeviceEvents['command']>[0]> | undefined, ack?: Parameters<HubToDeviceEvents['command']>[1]) => {
      void runCommand(cmd?.name, cmd?.params, this.commands).then((answer) => {
        this.log.info({ id: cmd?.id, name: cmd?.name, ok: answer.ok, error: answer.error }, 'command');
        if (typeof ack === 'function') ack(answer);
      });
    });
    const files = this.config.files;
    if (files) this.files = new FileReceiver(socket, files, this.log.child({ part: 'files' }));
    socket.on('file:offer', (offer: unknown, ack?: (answer: unknown) => void) => {
      const answer = typeof ack === 'function' ? ack : () => {};
      if (!this.files) return answer({ ok: false, error: 'this agent takes no files (no files section in its configuration)', code: 'file_refused' });
      this.files.offer(offer as never, answer).catch((err: Error) => {
        this.log.error({ err: err.message }, 'file offer failed');
        answer({ ok: false, error: err.message, code: 'write_failed' });
      });
    });
    socket.on('file:chunk', (chunk: unknown) => this.files?.chunk(chunk as never));
    socket.on('disconnect', () => void this.files?.close());
    socket.on('desired', (payload: Parameters<HubToDeviceEvents['desired']>[0] | undefined) => {
      const report = this.desired.apply(payload);
      if (!report) return;
      socket.timeout(this.config.batch.ackTimeoutMs).emit('reported', report, (err: Error | null, ack?: { ok?: boolean; error?: string; code?: string }) => {
        // Not acked: the hub sends the desired state again on the next connect, and the same report goes out again.
        if (!err && (ack?.ok || ack?.code === 'twin_stale')) return this.desired.acked(report.version!);
        this.log.warn({ err: err?.message ?? ack?.error, version: report.version }, 'twin report not acked');
      });
      if (payload && (payload as { desired?: { batch?: unknown } }).desired?.batch !== undefined) this.scheduleState();
    });
    this.sender.setIntervalMs(this.config.batch.intervalMs);
    this.pruneTimer = setInterval(() => this.prune(), this.config.outbox.pruneIntervalMs);
    this.prune();
    for (const source of this.sources) source.start();
    this.simulator?.start();
  }

  /** Stops sources, commits what is pending, disconnects and closes the outbox. */
  async stop(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.stop()));
    await this.simulator?.stop();
    this.collector.flush();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.sender.stop();
    this.socket?.close();
    this.socket = null;
    this.outbox.close();
    this.log.info({ depth: this.outbox.depth }, 'agent stopped');
  }

  /** Uploads a file to the hub (a snapshot, a log); resumes across reconnects; resolves with the hub's outcome. */
  upload(path: string, opts: UploadOptions): Promise<FileDone> {
    if (!this.socket) return Promise.reject(new Error('the agent is not started'));
    return uploadFile(this.socket, path, opts);
  }

  /** Queues readings for the next outbox commit (one transaction per event-loop turn). */
  ingest(samples: Array<Record<string, ReadingValue>>, ts = Date.now()): void {
    this.collector.ingest(samples, ts);
  }

  /** The state report: flat attributes, as the hub's `state` wants them. */
  state(): Record<string, string | number | boolean> {
    const drops = this.drops.totals();
    const attrs: Record<string, string | number | boolean> = {
      'agent.version': AGENT_VERSION,
      'agent.uptimeS': Math.round((Date.now() - this.startedAt) / 1000),
      'outbox.depth': this.outbox.depth,
      'outbox.lastSeq': this.outbox.lastSeq,
      'dropped.size': drops.size,
      'dropped.age': drops.age,
      'dropped.noise': drops.noise,
      'dropped.overflow': drops.overflow,
      'dropped.deadLetter': drops.deadLetter,
      'batch.size': this.sender.batchSize,
      'batch.intervalMs': this.sender.intervalMs,
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

  /** Sender counters (acked, duplicates, resends, splits, dead letters). */
  get stats() {
    return { ...this.sender.stats, depth: this.outbox.depth, lastSeq: this.outbox.lastSeq, deadLetters: this.outbox.deadLetterCount };
  }

  private prune(): void {
    const n = this.outbox.pruneByAge();
    if (n > 0) {
      this.log.warn({ dropped: n, maxAgeMs: this.outbox.maxAgeMs }, 'outbox readings too old; dropped');
      this.drops.report(this.socket);
    }
  }

  private scheduleState(): void {
    if (this.stateTimer) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = null;
      if (this.socket?.connected) this.sendState();
    }, STATE_COALESCE_MS);
  }

  private sendState(): void {
    this.socket?.timeout(this.config.batch.ackTimeoutMs).emit('state', this.state(), (err: Error | null, ack?: { ok?: boolean; error?: string }) => {
      if (err || !ack?.ok) this.log.warn({ err: err?.message ?? ack?.error }, 'state not acked');
    });
  }
}

/** Names of the commands the agent answers. */
export const AGENT_COMMANDS = Object.keys(COMMAND_HANDLERS);
