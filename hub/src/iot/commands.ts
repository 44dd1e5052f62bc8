// Commands: stored first (pending), delivered to the device's live session
// with an ack timeout and retries, redelivered when a device reconnects,
// expired when their time is up. Every status change is stored and pushed.
import type { Socket } from '../realtime/index.js';
import type { IotContext } from './context.js';
import { HubError, notFound } from './errors.js';
import { NAME_PATTERN } from './limits.js';
import type { Command, CommandStatus, CommandUpdate, Positioned } from './store/types.js';
import type { DeviceScope } from './streams.js';
import { newId } from './tokens.js';

/** The device sessions the command service delivers through. */
export interface LiveDevices {
  /** The connected socket of a device, if any. */
  socketOf(deviceId: string): Socket | undefined;
}

/** What a caller asks for when creating a command. */
export interface CommandRequest {
  deviceId?: unknown;
  name?: unknown;
  params?: unknown;
  ttlMs?: unknown;
}

const FINAL: ReadonlySet<CommandStatus> = new Set(['acked', 'failed', 'expired']);

const TIMEOUT = Symbol('timeout');
const DISCONNECTED = Symbol('disconnected');

/** How often expired commands are looked for. */
const SWEEP_INTERVAL_MS = 1000;

/** The command service. */
export class Commands {
  /** Commands waiting for a device answer, with the session they were sent on. */
  private readonly inFlight = new Map<string, Socket>();
  private readonly waiters = new Map<string, Set<(c: Command) => void>>();
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: IotContext,
    private readonly live: LiveDevices,
  ) {}

  /** Starts the expiry sweeper. */
  start(): void {
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** Stops the sweeper and deliveries; waiters get no answer. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.sweeper);
  }

  /** Stores a new command for a device and delivers it if the device is online. */
  async create(req: CommandRequest, source: string): Promise<Command> {
    if (typeof req.deviceId !== 'string') throw new HubError('invalid_command', 'deviceId must be a string');
    if (typeof req.name !== 'string' || !NAME_PATTERN.test(req.name)) throw new HubError('invalid_command', `name must match ${NAME_PATTERN.source}`);
    const ttlMs = req.ttlMs ?? this.ctx.config.commandTtlMs;
    if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new HubError('invalid_command', 'ttlMs must be a positive integer');
    const params = req.params ?? null;
    const size = JSON.stringify(params)?.length ?? 0;
    if (size > this.ctx.limits.maxRecordBytes) throw new HubError('invalid_command', `params are ${size} bytes, at most ${this.ctx.limits.maxRecordBytes} allowed`);
    const device = await this.ctx.store.registry.getDevice(req.deviceId);
    if (!device) throw notFound('device', req.deviceId);
    if (device.disabled) throw new HubError('device_disabled', `device "${device.id}" is disabled`, 409);
    const now = Date.now();
    const command: Command = {
      id: newId('cmd'),
      deviceId: device.id,
      name: req.name,
      params,
      status: 'pending',
      attempts: 0,
      createdAt: now,
      updatedAt: now,
      expiresAt: now + ttlMs,
      result: null,
      error: null,
      source,
    };
    const pos = await this.ctx.store.commands.create(command);
    this.ctx.streams.publish('command', device, pos, commandBody(command));
    const socket = this.live.socketOf(device.id);
    if (socket) void this.deliver(socket, device, command);
    return command;
  }

  async get(id: string): Promise<Command> {
    const command = await this.ctx.store.commands.get(id);
    if (!command) throw notFound('command', id);
    return command;
  }

  /** Resolves with the command once it reaches acked, failed or expired, or as it is after `timeoutMs`. */
  async waitForFinal(id: string, timeoutMs: number): Promise<Command> {
    const current = await this.get(id);
    if (FINAL.has(current.status)) return current;
    return new Promise<Command>((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      const done = (c: Command) => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(id);
        resolve(c);
      };
      const timer = setTimeout(() => void this.get(id).then(done, () => done(current)), timeoutMs);
      set.add(done);
    });
  }

  /** Sends a just-connected device everything waiting for it, oldest first. */
  async deliverPending(socket: Socket, device: DeviceScope): Promise<void> {
    const pending = await this.ctx.store.commands.deliverable(device.id, Date.now());
    for (const command of pending) {
      if (!socket.connected || this.stopped) return;
      await this.deliver(socket, device, command);
    }
  }

  /** Sends one command until the device answers, attempts run out, the session ends or the command expires. */
  private async deliver(socket: Socket, device: DeviceScope, command: Command): Promise<void> {
    const holder = this.inFlight.get(command.id);
    // A delivery on a session that has ended gives way to this one.
    if (holder && holder.connected) return;
    this.inFlight.set(command.id, socket);
    try {
      let attempts = command.attempts;
      while (socket.connected && !this.stopped) {
        if (attempts >= this.ctx.config.commandMaxAttempts) {
          await this.update(device, command.id, { status: 'failed', error: `no answer after ${attempts} attempts` });
          return;
        }
        attempts++;
        const sent = await this.update(device, command.id, { status: 'sent', attempts });
        if (!sent) return; // expired or finished meanwhile
        this.ctx.metrics.eventsOut.inc('device|command');
        const answer = await this.send(socket, command);
        if (answer === DISCONNECTED) break;
        if (answer === TIMEOUT) {
          this.ctx.metrics.commandAcks.inc('timeout');
          continue;
        }
        const parsed = parseAnswer(answer, this.ctx.limits.maxRecordBytes);
        this.ctx.metrics.commandAcks.inc(parsed.ok ? 'ok' : 'error');
        if (!parsed.ok && parsed.invalid) this.ctx.metrics.badInputs.inc('command_answer');
        await this.update(
          device,
          command.id,
          parsed.ok ? { status: 'acked', result: parsed.result ?? null, error: null } : { status: 'failed', error: parsed.error, result: parsed.result ?? null },
        );
        return;
      }
      // The session ended: the command stays pending/sent and goes out again on reconnect.
    } catch (err) {
      this.ctx.log.error({ err, commandId: command.id }, 'command delivery failed');
    } finally {
      if (this.inFlight.get(command.id) === socket) this.inFlight.delete(command.id);
    }
  }

  /** Emits the command; resolves with the answer, TIMEOUT, or DISCONNECTED as soon as the session ends. */
  private send(socket: Socket, command: Command): Promise<unknown> {
    return new Promise((resolve) => {
      const onDisconnect = () => resolve(DISCONNECTED);
      socket.once('disconnect', onDisconnect);
      socket.timeout(this.ctx.config.commandAckTimeoutMs).emit('command', { id: command.id, name: command.name, params: command.params }, (err: unknown, answer: unknown) => {
        socket.off('disconnect', onDisconnect);
        resolve(err ? TIMEOUT : answer);
      });
    });
  }

  private async update(device: DeviceScope, id: string, update: CommandUpdate): Promise<Command | undefined> {
    const command = await this.ctx.store.commands.update(id, update, Date.now());
    if (command) this.announce(device, command);
    return command;
  }

  private announce(device: DeviceScope, command: Positioned<Command>): void {
    const { pos, ...plain } = command;
    this.ctx.streams.publish('command', device, pos, commandBody(plain));
    if (FINAL.has(command.status)) for (const done of [...(this.waiters.get(command.id) ?? [])]) done(command);
  }

  private async sweep(): Promise<void> {
    try {
      const expired = await this.ctx.store.commands.expire(Date.now());
      for (const command of expired) {
        const device = await this.ctx.store.registry.getDevice(command.deviceId);
        if (device) this.announce(device, command);
      }
    } catch (err) {
      if (!this.stopped) this.ctx.log.error({ err }, 'command expiry sweep failed');
    }
  }
}

/** A command as streamed: everything but the device id, which the stream adds. */
function commandBody(command: Command): Record<string, unknown> {
  const { deviceId: _deviceId, ...body } = command;
  return body;
}

/** Reads a device's answer `{ ok, result?, error? }`; anything else counts as a failure. */
function parseAnswer(answer: unknown, maxResultBytes: number): { ok: true; result?: unknown } | { ok: false; error: string; result?: unknown; invalid?: boolean } {
  if (answer === null || typeof answer !== 'object' || typeof (answer as { ok?: unknown }).ok !== 'boolean') {
    return { ok: false, error: 'invalid answer: expected { ok, result?, error? }', invalid: true };
  }
  const a = answer as { ok: boolean; result?: unknown; error?: unknown };
  const size = a.result === undefined ? 0 : (JSON.stringify(a.result)?.length ?? 0);
  if (size > maxResultBytes) return { ok: false, error: `result of ${size} bytes is larger than ${maxResultBytes}`, invalid: true };
  if (a.ok) return { ok: true, result: a.result };
  return { ok: false, error: typeof a.error === 'string' ? a.error.slice(0, 1024) : 'the device reported a failure', result: a.result };
}
