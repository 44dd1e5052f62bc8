// One serial source: finds and opens its port, pipes the bytes through its
// parser, and keeps the port alive — an unplug (close with `disconnected`), an
// open error or a silent port past the watchdog leads to a fresh port listing
// and a reopen with exponential backoff.
import { EventEmitter } from 'node:events';
import type { SerialPort } from 'serialport';
import type { SourceConfig } from '../config.js';
import type { ReadingValue } from '../outbox.js';
import { toValues } from './mapping.js';
import { createParser, type ParserChain, type ParsedRecord } from './parsers/index.js';
import { hangupAwareBinding } from './hangup-binding.js';

/**
 * serialport, loaded when a port is first listed or opened: its native
 * binding and modules cost an idle process about 15 MB of RSS, which a
 * process that only uses the Socket.IO client from this package should not
 * pay.
 */
let serialport: Promise<typeof import('serialport')> | undefined;
const loadSerialport = (): Promise<typeof import('serialport')> => (serialport ??= import('serialport'));
type Binding = import('@serialport/bindings-cpp').AutoDetectTypes;
let binding: Promise<Binding> | undefined;
const loadBinding = (): Promise<Binding> => (binding ??= loadSerialport().then((m) => hangupAwareBinding(m.SerialPort.binding)));

/** Where a source is in its life. */
export type SourceStatus = 'opening' | 'open' | 'waiting' | 'closed';

/** What `state` and `get-state` report for a source. */
export interface SourceInfo {
  name: string;
  path: string | null;
  status: SourceStatus;
  readings: number;
  dropped: number;
  reopens: number;
  lastError: string | null;
  lastDataAt: number | null;
}

/** The minimal logger a source needs (pino fits). */
export interface SourceLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** Lists ports; replaceable so tests can use @serialport/binding-mock. */
export type PortLister = () => Promise<Array<{ path: string; vendorId?: string; productId?: string; serialNumber?: string }>>;

/** A serial port with its parser; emits `reading` (values, ts) and `status`. */
export class SerialSource extends EventEmitter {
  readonly config: SourceConfig;
  private port: SerialPort | null = null;
  private parser: ParserChain | null = null;
  private status: SourceStatus = 'closed';
  private path: string | null = null;
  private readings = 0;
  private droppedBefore = 0;
  private reopens = 0;
  private attempt = 0;
  private lastError: string | null = null;
  private lastDataAt: number | null = null;
  private lastAcceptedAt = 0;
  private reopenTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private stopped = false;
  sampleIntervalMs: number;

  constructor(config: SourceConfig, private readonly log: SourceLogger, private readonly listPorts: PortLister = async () => (await loadSerialport()).SerialPort.list()) {
    super();
    this.config = config;
    this.sampleIntervalMs = config.sampleIntervalMs;
  }

  /** Starts opening the port; failures are retried, never thrown. */
  start(): void {
    this.stopped = false;
    void this.open();
  }

  /** Closes the port and stops reopening. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.reopenTimer = this.watchdog = null;
    const port = this.port;
    this.detach();
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.setStatus('closed');
  }

  /** Writes a line or bytes to the port; rejects when it is not open. */
  write(data: Buffer): Promise<number> {
    const port = this.port;
    if (!port || this.status !== 'open') return Promise.reject(new Error(`port ${this.config.name} is not open`));
    return new Promise((resolve, reject) => {
      port.write(data, (err) => (err ? reject(err) : port.drain((e) => (e ? reject(e) : resolve(data.length)))));
    });
  }

  /** Status, counters and last error. */
  info(): SourceInfo {
    return {
      name: this.config.name,
      path: this.path,
      status: this.status,
      readings: this.readings,
      dropped: this.droppedBefore + (this.parser?.dropped() ?? 0),
      reopens: this.reopens,
      lastError: this.lastError,
      lastDataAt: this.lastDataAt,
    };
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    this.setStatus('opening');
    let path: string;
    try {
      path = await this.resolvePath();
    } catch (err) {
      return this.scheduleReopen(err as Error);
    }
    let SerialPortClass: typeof SerialPort;
    let portBinding: Binding;
    try {
      ({ SerialPort: SerialPortClass } = await loadSerialport());
      portBinding = await loadBinding();
    } catch (err) {
      return this.scheduleReopen(err as Error);
    }
    if (this.stopped) return;
    // SerialPort takes `binding` at run time ({ binding: detected, ...options })
    // though its options type leaves it out.
    const port = new SerialPortClass({
      binding: portBinding,
      path,
      baudRate: this.config.baudRate,
      dataBits: this.config.dataBits,
      stopBits: this.config.stopBits,
      parity: this.config.parity,
      autoOpen: false,
    } as ConstructorParameters<typeof SerialPort>[0]);
    const parser = createParser(this.config.parser);
    this.port = port;
    this.parser = parser;
    this.path = path;
    port.on('error', (err) => this.log.warn({ source: this.config.name, err: err.message }, 'serial port error'));
    port.once('close', (err?: Error & { disconnected?: boolean }) => {
      if (this.port !== port) return;
      this.detach();
      this.scheduleReopen(err ?? new Error('port closed'));
    });
    port.on('data', () => {
      this.lastDataAt = Date.now();
    });
    parser.output.on('data', (record: ParsedRecord) => this.onRecord(record));
    parser.output.on('error', (err) => this.log.warn({ source: this.config.name, err: err.message }, 'parser error'));
    port.pipe(parser.input);
    port.open((err) => {
      if (this.port !== port) return;
      if (err) {
        this.detach();
        return this.scheduleReopen(err);
      }
      if (this.attempt > 0) this.reopens++;
      this.attempt = 0;
      this.lastError = null;
      this.lastDataAt = Date.now();
      this.log.info({ source: this.config.name, path }, 'serial port open');
      this.setStatus('open');
      this.armWatchdog(port);
    });
  }

  private async resolvePath(): Promise<string> {
    const { path, match } = this.config;
    if (path) return path;
    const ports = await this.listPorts();
    const found = ports.find(
      (p) =>
        (!match!.vendorId || p.vendorId?.toLowerCase() === match!.vendorId.toLowerCase()) &&
        (!match!.productId || p.productId?.toLowerCase() === match!.productId.toLowerCase()) &&
        (!match!.serialNumber || p.serialNumber === match!.serialNumber),
    );
    if (!found) throw new Error(`no port matches ${JSON.stringify(match)}`);
    return found.path;
  }

  private armWatchdog(port: SerialPort): void {
    const ms = this.config.watchdogMs;
    if (ms <= 0) return;
    this.watchdog = setInterval(() => {
      if (this.port !== port || this.lastDataAt === null || Date.now() - this.lastDataAt < ms) return;
      this.log.warn({ source: this.config.name, silentMs: Date.now() - this.lastDataAt }, 'serial port silent past the watchdog; reopening');
      this.detach();
      port.close(() => undefined);
      this.scheduleReopen(new Error('watchdog: no data'));
    }, Math.min(ms, 1000));
    this.watchdog.unref?.();
  }

  /** Releases the current port and parser, keeping their counts. */
  private detach(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    if (this.parser) this.droppedBefore += this.parser.dropped();
    if (this.port) this.port.unpipe();
    this.parser?.input.destroy();
    this.parser?.output.destroy();
    this.port = null;
    this.parser = null;
  }

  private scheduleReopen(err: Error & { disconnected?: boolean }): void {
    if (this.stopped) return;
    this.lastError = err.message;
    const delay = Math.min(this.config.reopenDelayMs * 2 ** this.attempt, this.config.reopenDelayMaxMs);
    this.attempt++;
    this.log.warn({ source: this.config.name, err: err.message, disconnected: err.disconnected === true, retryInMs: delay }, 'serial port unavailable; will list ports and reopen');
    this.setStatus('waiting');
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      void this.open();
    }, delay);
  }

  private onRecord(record: ParsedRecord): void {
    const now = Date.now();
    if (this.sampleIntervalMs > 0 && now - this.lastAcceptedAt < this.sampleIntervalMs) return;
    const values = toValues(record, this.config);
    if (!values) return;
    this.lastAcceptedAt = now;
    this.readings++;
    this.emit('reading', values as Record<string, ReadingValue>, now);
  }

  private setStatus(status: SourceStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.emit('status', status);
  }
}
