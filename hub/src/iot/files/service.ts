// The file service: files operators upload (REST, console) for a device, a
// class or a site, delivered to each device on its own session (on connect,
// and at once if it is connected here), one at a time, resuming where the
// device left off; files devices upload, stored with metadata, quota and
// retention. Progress and new uploads are streamed to operators.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { chunkCount, FILE_ID_PATTERN, FILE_NAME_PATTERN, NAME_PATTERN, type FileDone } from '@sitehub/protocol/iot';
import type { Socket } from '../../realtime/index.js';
import type { LiveDevices } from '../commands.js';
import { ackOf, type IotContext } from '../context.js';
import { HubError, notFound } from '../errors.js';
import type { Device, FileDeliveryRecord, FileRecord } from '../store/types.js';
import type { DeviceScope } from '../streams.js';
import { FileDisk } from './disk.js';
import { IncomingUpload, placeFile, type UploadSpec } from './incoming.js';
import { OutgoingTransfer } from './outgoing.js';

/** Where an operator's file goes: one device, every device of a class, or of a site. */
export interface FileTarget {
  deviceId?: string;
  classId?: string;
  siteId?: string;
}

/** Most devices one file may target. */
const MAX_TARGETS = 10_000;
/** Progress is stored and streamed at most this often per delivery, ms. */
const PROGRESS_INTERVAL_MS = 500;
/** Concurrent uploads per device session. */
const MAX_UPLOADS_PER_SESSION = 2;
const CONTENT_TYPE = /^[a-z0-9!#$&^_.+-]{1,64}\/[a-z0-9!#$&^_.+-]{1,64}$/i;
const SHA256_HEX = /^[0-9a-f]{64}$/i;

/** Per device session: the transfers it is part of, by id. */
interface FileSession {
  outgoing: OutgoingTransfer | undefined;
  uploads: Map<string, IncomingUpload>;
}

/** The file service. */
export class Files {
  readonly disk: FileDisk;
  private readonly sessions = new WeakMap<Socket, FileSession>();
  /** Devices whose delivery loop runs, so that a new file does not start a second one. */
  private readonly delivering = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: IotContext,
    private readonly live: LiveDevices,
  ) {
    this.disk = new FileDisk(ctx.config.dataDir);
  }

  private get chunkSize(): number {
    // A chunk and its envelope must fit in one Socket.IO message.
    return Math.max(1024, Math.min(this.ctx.config.fileChunkBytes, this.ctx.config.maxMessageBytes - 4096));
  }

  async start(): Promise<void> {
    await this.disk.init();
    this.timer = setInterval(() => void this.sweep(), this.ctx.config.pruneIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Stores a file an operator uploads (streamed to disk) and queues it for every targeted device. */
  async create(body: Readable, opts: { name: unknown; contentType?: unknown; kind?: unknown; target: FileTarget }, source: string): Promise<{ file: FileRecord; deliveries: FileDeliveryRecord[] }> {
    const name = opts.name;
    if (typeof name !== 'string' || !FILE_NAME_PATTERN.test(name)) throw this.refuse('file_name', `name must match ${FILE_NAME_PATTERN.source}`);
    const contentType = opts.contentType === undefined ? 'application/octet-stream' : opts.contentType;
    if (typeof contentType !== 'string' || !CONTENT_TYPE.test(contentType)) throw this.refuse('file_shape', 'contentType must be a media type');
    const kind = opts.kind ?? 'file';
    if (typeof kind !== 'string' || !NAME_PATTERN.test(kind)) throw this.refuse('file_shape', `kind must match ${NAME_PATTERN.source}`);
    const devices = await this.targets(opts.target);
    const usage = await this.ctx.store.files.usage('');
    const room = this.ctx.config.fileStoreQuotaBytes - usage.total;
    if (room <= 0) throw this.refuse('file_quota', 'the hub holds as many file bytes as it may (fileStoreQuotaBytes)', 507);
    const id = `file_${randomUUID().replace(/-/g, '')}`;
    let written;
    try {
      written = await this.disk.writeStream(id, body, Math.min(this.ctx.config.fileMaxBytes, room));
    } catch (err) {
      if (err instanceof HubError) this.ctx.metrics.badInputs.inc(room < this.ctx.config.fileMaxBytes ? 'file_quota' : err.code);
      throw err;
    }
    const file: FileRecord = { id, name, size: written.size, sha256: written.sha256, contentType, direction: 'to_device', deviceId: null, kind, source, createdAt: Date.now() };
    const chunks = chunkCount(file.size, this.chunkSize);
    try {
      await this.ctx.store.files.create(file, devices.map((d) => d.id), chunks);
    } catch (err) {
      await this.disk.remove(id);
      throw err;
    }
    for (const d of devices) {
      this.announce(d, { fileId: id, deviceId: d.id, status: 'pending', confirmed: 0, chunks, error: null, updatedAt: file.createdAt }, name);
      const socket = this.live.socketOf(d.id);
      if (socket) void this.deliverAll(socket, d);
    }
    return { file, deliveries: await this.ctx.store.files.deliveries(id) };
  }

  async get(id: string): Promise<{ file: FileRecord; deliveries: FileDeliveryRecord[] }> {
    const file = await this.ctx.store.files.get(id);
    if (!file) throw notFound('file', id);
    return { file, deliveries: await this.ctx.store.files.deliveries(id) };
  }

  /** Installs the file events on a new device session and starts its deliveries. */
  attach(socket: Socket, device: DeviceScope): void {
    const session: FileSession = { outgoing: undefined, uploads: new Map() };
    this.sessions.set(socket, session);
    socket.on('file:credit', (credit: { id?: unknown } | undefined) => {
      const upload = session.outgoing;
      if (upload && credit && credit.id === upload.file.id) upload.credit(credit as never);
      else this.ctx.metrics.badInputs.inc('file_unknown');
    });
    socket.on('file:done', (...args: unknown[]) => {
      const done = args[0] as FileDone | undefined;
      ackOf(args)({ ok: true });
      const upload = session.outgoing;
      if (upload && done && done.id === upload.file.id) upload.done(done);
      else this.ctx.metrics.badInputs.inc('file_unknown');
    });
    socket.on('file:chunk', (chunk: { id?: unknown } | undefined) => {
      const upload = chunk && typeof chunk.id === 'string' ? session.uploads.get(chunk.id) : undefined;
      if (upload) upload.chunk(chunk as never);
      else this.ctx.metrics.badInputs.inc('file_unknown');
    });
    socket.on('file:upload', (...args: unknown[]) => void this.upload(socket, session, device, args));
    socket.on('disconnect', () => {
      for (const u of session.uploads.values()) void u.abandon();
      session.uploads.clear();
    });
    void this.deliverAll(socket, device);
  }

  /** Sends a device its open deliveries one after the other, while its session lasts. */
  private async deliverAll(socket: Socket, device: DeviceScope): Promise<void> {
    if (this.delivering.has(device.id)) return;
    this.delivering.add(device.id);
    try {
      for (let round = 0; round < 1000 && socket.connected && !this.stopped; round++) {
        const open = await this.ctx.store.files.openDeliveries(device.id);
        if (open.length === 0) return;
        for (const delivery of open) {
          if (!socket.connected || this.stopped) return;
          await this.deliver(socket, device, delivery);
        }
      }
    } catch (err) {
      this.ctx.log.error({ err, deviceId: device.id }, 'file delivery failed');
    } finally {
      this.delivering.delete(device.id);
      // A newer session of the same device may have started meanwhile and found the loop busy.
      const current = this.live.socketOf(device.id);
      if (current && current !== socket && current.connected && !this.stopped) void this.deliverAll(current, device);
    }
  }

  private async deliver(socket: Socket, device: DeviceScope, delivery: FileDeliveryRecord): Promise<void> {
    const file = await this.ctx.store.files.get(delivery.fileId);
    const session = this.sessions.get(socket);
    if (!file || !session) return;
    let lastStored = 0;
    let pending: NodeJS.Timeout | undefined;
    let confirmed = delivery.confirmed;
    const save = async (update: Partial<FileDeliveryRecord>) => {
      const row = await this.ctx.store.files.updateDelivery(file.id, device.id, { ...update, confirmed }, Date.now());
      if (row) this.announce(device, row, file.name);
    };
    const transfer = new OutgoingTransfer(this.ctx, socket, this.disk, file, this.chunkSize, this.ctx.config.fileWindowChunks, {
      confirmed: (next) => {
        confirmed = next;
        const now = Date.now();
        if (now - lastStored >= PROGRESS_INTERVAL_MS) {
          lastStored = now;
          void save({ status: 'sending' });
        } else if (!pending) {
          pending = setTimeout(() => ((pending = undefined), (lastStored = Date.now()), void save({ status: 'sending' })), PROGRESS_INTERVAL_MS);
        }
      },
    });
    session.outgoing = transfer;
    await save({ status: 'sending' });
    const end = await transfer.run();
    session.outgoing = undefined;
    clearTimeout(pending);
    if (end.kind === 'disconnected') return void (await save({ status: 'sending' }));
    if (end.kind === 'refused') return void (await save({ status: 'failed', error: end.error }));
    const outcome = end.outcome;
    if (outcome.ok === true && outcome.sha256 === file.sha256) {
      confirmed = transfer.chunks;
      await save({ status: 'done', error: null });
    } else {
      const error = typeof outcome.error === 'string' ? outcome.error.slice(0, 512) : outcome.ok ? 'the device reported another SHA-256' : 'the device reported a failure';
      await save({ status: 'failed', error: outcome.hook ? `${error} (hook exit ${outcome.hook.code})` : error });
    }
  }

  /** `file:upload` from a device: checks, quota, then receives with credit. */
  private async upload(socket: Socket, session: FileSession, device: DeviceScope, args: unknown[]): Promise<void> {
    const ack = ackOf(args);
    this.ctx.metrics.eventsIn.inc('device|file:upload');
    const refuse = (code: string, error: string) => {
      this.ctx.metrics.badInputs.inc(code);
      ack({ ok: false, error, code });
    };
    const spec = args[0] as Partial<UploadSpec> | undefined;
    if (!spec || typeof spec !== 'object') return refuse('file_shape', 'upload must be an object { id, name, size, sha256, contentType, kind }');
    const { id, name, size, sha256, contentType, kind } = spec;
    if (typeof id !== 'string' || !FILE_ID_PATTERN.test(id)) return refuse('file_shape', `id must match ${FILE_ID_PATTERN.source}`);
    if (typeof name !== 'string' || !FILE_NAME_PATTERN.test(name)) return refuse('file_name', `name must match ${FILE_NAME_PATTERN.source}`);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return refuse('file_shape', 'size must be an integer >= 0');
    if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) return refuse('file_shape', 'sha256 must be 64 hex digits');
    if (typeof contentType !== 'string' || !CONTENT_TYPE.test(contentType)) return refuse('file_shape', 'contentType must be a media type');
    if (typeof kind !== 'string' || !NAME_PATTERN.test(kind)) return refuse('file_shape', `kind must match ${NAME_PATTERN.source}`);
    if (size > this.ctx.config.fileMaxBytes) return refuse('file_too_large', `the file is larger than ${this.ctx.config.fileMaxBytes} bytes`);
    if (session.uploads.has(id)) return refuse('file_busy', 'this upload is already running');
    if (session.uploads.size >= MAX_UPLOADS_PER_SESSION) return refuse('file_busy', `at most ${MAX_UPLOADS_PER_SESSION} uploads at a time`);
    let usage;
    try {
      usage = await this.ctx.store.files.usage(device.id);
    } catch (err) {
      this.ctx.log.error({ err }, 'file usage not read');
      return ack({ ok: false, error: 'store unavailable, retry later', code: 'store_unavailable' });
    }
    if (usage.device + size > this.ctx.config.fileDeviceQuotaBytes) return refuse('file_quota', 'this device holds as many uploaded bytes as it may (fileDeviceQuotaBytes)');
    if (usage.total + size > this.ctx.config.fileStoreQuotaBytes) return refuse('file_quota', 'the hub holds as many file bytes as it may (fileStoreQuotaBytes)');
    if (!socket.connected || session.uploads.has(id)) return;
    const checked: UploadSpec = { id, name, size, sha256: sha256.toLowerCase(), contentType, kind };
    const fileId = `file_${randomUUID().replace(/-/g, '')}`;
    // The partial file is named by the content too: a device reusing an id for other bytes starts afresh.
    const upload = new IncomingUpload(
      this.ctx,
      socket,
      this.disk.partPath(device.id, `${id}--${checked.sha256.slice(0, 16)}`),
      device.id,
      checked,
      this.chunkSize,
      this.ctx.config.fileWindowChunks,
      async (part) => {
        await placeFile(part, this.disk.path(fileId));
        const file: FileRecord = { id: fileId, name, size, sha256: checked.sha256, contentType, direction: 'from_device', deviceId: device.id, kind, source: 'device', createdAt: Date.now() };
        await this.ctx.store.files.create(file, [], chunkCount(size, this.chunkSize));
        const { deviceId: _d, ...body } = file;
        this.ctx.streams.publish('upload', device, undefined, body);
        return fileId;
      },
      () => session.uploads.delete(id),
    );
    session.uploads.set(id, upload);
    let have;
    try {
      have = await upload.open();
    } catch (err) {
      session.uploads.delete(id);
      this.ctx.log.error({ err }, 'upload not opened');
      return ack({ ok: false, error: 'the hub could not open the file', code: 'internal' });
    }
    ack({ ok: true, have, chunkSize: this.chunkSize });
    upload.start();
  }

  /** Deletes files past retention whose deliveries are finished, and partial uploads as old; `now` for tests. */
  async sweep(now = Date.now()): Promise<number> {
    let removed = 0;
    try {
      const cutoff = now - this.ctx.config.fileRetentionDays * 86_400_000;
      for (const file of await this.ctx.store.files.expired(cutoff, 1000)) {
        await this.disk.remove(file.id);
        await this.ctx.store.files.delete(file.id);
        removed++;
      }
      removed += await this.disk.prunePartials(cutoff);
    } catch (err) {
      if (!this.stopped) this.ctx.log.warn({ err }, 'file retention pass failed');
    }
    return removed;
  }

  private async targets(t: FileTarget): Promise<Device[]> {
    const given = [t.deviceId, t.classId, t.siteId].filter((v) => v !== undefined);
    if (given.length > 1) throw this.refuse('file_shape', 'give one of deviceId, classId, siteId');
    if (t.deviceId !== undefined) {
      const device = await this.ctx.store.registry.getDevice(t.deviceId);
      if (!device) throw notFound('device', t.deviceId);
      return [device];
    }
    if (given.length === 0) return [];
    const devices = await this.ctx.store.registry.listDevices({ ...(t.classId !== undefined && { classId: t.classId }), ...(t.siteId !== undefined && { siteId: t.siteId }), limit: MAX_TARGETS + 1, offset: 0 });
    if (devices.length > MAX_TARGETS) throw this.refuse('file_shape', `a file may target at most ${MAX_TARGETS} devices`);
    return devices;
  }

  private refuse(code: string, message: string, status = 400): HubError {
    this.ctx.metrics.badInputs.inc(code);
    return new HubError(code, message, status);
  }

  private announce(device: DeviceScope, delivery: FileDeliveryRecord, name: string): void {
    const { deviceId: _d, ...body } = delivery;
    this.ctx.streams.publish('file', device, undefined, { ...body, name });
  }
}
