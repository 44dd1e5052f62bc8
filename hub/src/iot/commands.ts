// Commands: stored first (pending), delivered to the device's live session
// with an ack timeout and retries, redelivered when a device reconnects,
// expired when their time is up. Every status change is stored and pushed.
// In a cluster the node that holds the device delivers: the asking node tells
// the others (node bus), and each send is claimed in the store for the
// device's current session epoch, so two nodes never send the same command
// at once. The final status reaches the asking node through the bus.
import type { Socket } from '../realtime/index.js';
import type { IotContext } from './context.js';
import type { DeviceSession, IotEvents } from './iot-events.js';
import type { NodeBus } from './node-bus.js';
import { HubError, notFound } from './errors.js';
import { NAME_PATTERN } from './limits.js';
import type { Command, CommandStatus, CommandUpdate, Positioned } from './store/types.js';
import type { DeviceScope } from './streams.js';
import { newId } from './tokens.js';

/** The device sessions the command service delivers through. */
export interface LiveDevices {
  /** The connected socket of a device on this node, if any. */
  socketOf(deviceId: string): Socket | undefined;
  /** The device's session on this node, if any. */
  sessionOf(deviceId: string): DeviceSession | undefined;
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
    events: IotEvents,
    private readonly bus?: NodeBus,
    /** In a cluster: this node's id, to find pending commands of its devices whose bus word was lost. */
    private readonly nodeId?: string,
  ) {
    events.on('device-online', (session) => void this.deliverPending(session));
    bus?.on('command-ready', (deviceId, commandId) => void this.deliverRemote(deviceId, commandId));
    bus?.on('command-final', (commandId) => void this.finalElsewhere(commandId));
  }

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
    const session = this.live.sessionOf(device.id);
    // A session still claiming its epoch gets the command from deliverPending once it has one.
    if (session?.epoch !== undefined) void this.deliver(session, command);
    else if (!session) this.bus?.send('command-ready', device.id, command.id);
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
  async deliverPending(session: DeviceSession): Promise<void> {
    let pending: Command[];
    try {
      pending = await this.ctx.store.commands.deliverable(session.device.id, Date.now());
    } catch (err) {
      // They stay pending; the next connect (or a new command) tries again.
      this.ctx.log.error({ err, deviceId: session.device.id }, 'pending commands not read');
      return;
    }
    for (const command of pending) {
      if (!session.socket.connected || this.stopped) return;
      await this.deliver(session, command);
    }
  }

  /** Another node stored a command for a device: delivers it if the device is here. */
  private async deliverRemote(deviceId: string, commandId: string): Promise<void> {
    const session = this.live.sessionOf(deviceId);
    if (session?.epoch === undefined) return;
    const command = await this.ctx.store.commands.get(commandId).catch(() => undefined);
    if (command && command.deviceId === deviceId && !FINAL.has(command.status)) await this.deliver(session, command);
  }

  /** Another node finished a command: wakes whoever waits for it here. */
  private async finalElsewhere(commandId: string): Promise<void> {
    const waiting = this.waiters.get(commandId);
    if (!waiting) return;
    const command = await this.ctx.store.commands.get(commandId).catch(() => undefined);
    if (command && FINAL.has(command.status)) for (const done of [...waiting]) done(command);
  }

  /** Sends one command until the device answers, attempts run out, the session ends or the command expires. */
  private async deliver(session: DeviceSession, command: Command): Promise<void> {
    const { socket, device } = session;
    const holder = this.inFlight.get(command.id);
    // A delivery on a session that has ended gives way to this one.
    if (holder && holder.connected) return;
    this.inFlight.set(command.id, socket);
    try {
      while (socket.connected && !this.stopped) {
        // Taken in the store for this session: a node holding an older session of the device cannot send it too.
        const sent = await this.ctx.store.commands.claim(command.id, session.epoch!, this.ctx.config.commandMaxAttempts, Date.now());
        if (!sent) {
          await this.failIfOutOfAttempts(device, command.id);
          return; // finished, expired, out of attempts, or taken by a newer session
        }
        this.announce(device, sent);
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

  private async failIfOutOfAttempts(device: DeviceScope, id: string): Promise<void> {
    const current = await this.ctx.store.commands.get(id);
    if (current && !FINAL.has(current.status) && current.attempts >= this.ctx.config.commandMaxAttempts) {
      await this.update(device, id, { status: 'failed', error: `no answer after ${current.attempts} attempts` });
    }
  }

  private async update(device: DeviceScope, id: string, update: CommandUpdate): Promise<Command | undefined> {
    const command = await this.ctx.store.commands.update(id, update, Date.now());
    if (command) this.announce(device, command);
    return command;
  }

  private announce(device: DeviceScope, command: Positioned<Command>): void {
    const { pos, ...plain } = command;
    this.ctx.streams.publish('command', device, pos, commandBody(plain));
    if (!FINAL.has(command.status)) return;
    for (const done of [...(this.waiters.get(command.id) ?? [])]) done(command);
    this.bus?.send('command-final', command.id);
  }

  private async sweep(): Promise<void> {
    try {
      // Redis pub/sub keeps nothing: a 'command-ready' published while this node was resubscribing is lost.
      // The store is the truth: what is still pending for a device held here goes out now.
      if (this.bus && this.nodeId !== undefined) {
        for (const command of await this.ctx.store.commands.pendingOnNode(this.nodeId, Date.now(), 500)) {
          const session = this.live.sessionOf(command.deviceId);
          if (session?.epoch !== undefined && !this.inFlight.has(command.id)) void this.deliver(session, command);
        }
      }
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
