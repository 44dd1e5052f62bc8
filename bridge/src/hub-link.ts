// The hub side: a Socket.IO session on /bridge with a bridge token that
// (re)subscribes on every connect, resuming after the last stream position
// the bridge has handed on (or, with a fresh disk, the one the hub kept for
// its token), so neither a bridge restart nor a hub restart loses a record.
import { EventEmitter } from 'node:events';
import type { CommandRecord, GapNotice, ReplayPage, SubscribeRequest } from '@sitehub/protocol/iot';
import { io, type Socket } from '@sitehub/device-client';
import type { Logger } from 'pino';

export interface HubLinkOptions {
  url: string;
  token: string;
  /** Subscription filter (docs/api.md); `{}` is everything. */
  filter: Record<string, unknown>;
  reconnectDelayMaxMs: number;
  /** TLS: PEM contents of the hub's CA, and of a client certificate and key. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** The last stream position handed on (read on every subscribe); undefined: ask the hub for the confirmed one. */
  position: () => number | undefined;
}

/** Answer of the hub to a `command` emitted on /bridge. */
export interface HubCommandAnswer {
  ok: boolean;
  command?: CommandRecord;
  error?: string;
  code?: string;
}

/** Hub updates the bridge forwards. */
export const HUB_STREAMS = ['telemetry', 'state', 'event', 'presence', 'twin', 'alarm'] as const;

/** A hub stream event name the bridge forwards. */
export type HubStream = (typeof HUB_STREAMS)[number];

export type { GapNotice };

const FORWARDED = new Set<string>(HUB_STREAMS);

/**
 * The hub link; emits `record` (event, payload, pos) for each stream record,
 * live or replayed, in order; `position` (pos) when a replay page moved the
 * position without a record for this bridge; `gap`; `up`/`down`.
 */
export class HubLink extends EventEmitter {
  readonly socket: Socket;
  /** True once the subscription of the current session was accepted. */
  subscribed = false;

  constructor(
    private readonly opts: HubLinkOptions,
    private readonly log: Logger,
  ) {
    super();
    const url = opts.url.replace(/\/+$/, '') + '/bridge';
    this.socket = io(url, {
      auth: { token: opts.token },
      transports: ['websocket'],
      ...opts.tls,
      forceNew: true,
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: opts.reconnectDelayMaxMs,
    });
    this.socket.on('connect', () => void this.subscribe());
    this.socket.on('disconnect', (reason: string) => {
      this.subscribed = false;
      this.log.warn({ reason }, 'hub disconnected');
      this.emit('down');
    });
    this.socket.on('connect_error', (err: Error) => this.log.warn({ err: err.message }, 'hub connect failed'));
    for (const name of HUB_STREAMS) this.socket.on(name, (payload: unknown) => this.onRecord(name, payload));
    this.socket.on('replay', (page: Partial<ReplayPage> | undefined, ack?: (answer: unknown) => void) => {
      // The ack goes back once every record of the page is committed to the queue: the hub's backpressure.
      const records = Array.isArray(page?.records) ? (page.records as unknown[]) : [];
      for (const item of records) {
        if (Array.isArray(item) && typeof item[0] === 'string' && FORWARDED.has(item[0])) this.onRecord(item[0] as HubStream, item[1]);
      }
      if (typeof page?.through === 'number') this.emit('position', page.through);
      ack?.({ ok: true });
    });
    this.socket.on('gap', (notice: GapNotice) => this.emit('gap', notice));
    this.socket.on('resumed', (outcome: unknown) => this.log.info({ outcome }, 'hub stream resumed'));
  }

  /** True while the session is up and subscribed. */
  get connected(): boolean {
    return this.socket.connected && this.subscribed;
  }

  /** Tells the hub that everything through `pos` is safely handed on. */
  confirm(pos: number): void {
    if (this.connected) this.socket.emit('confirm', { pos });
  }

  /** Tells the hub `pos` as a stopping bridge's last position and waits until it has stored it (or `timeoutMs`). */
  async confirmAndWait(pos: number, timeoutMs: number): Promise<void> {
    const answer = (await this.socket.timeout(timeoutMs).emitWithAck('confirm', { pos, final: true })) as { ok: boolean; error?: string };
    if (!answer.ok) throw new Error(answer.error ?? 'confirm refused');
  }

  /** Sends a command to a device and waits for its outcome (or `timeoutMs`). */
  async command(request: { deviceId: string; name: string; params?: unknown }, timeoutMs: number): Promise<HubCommandAnswer> {
    const waitMs = Math.max(1, Math.min(timeoutMs - 500, 120_000));
    return (await this.socket.timeout(timeoutMs).emitWithAck('command', { ...request, waitMs })) as HubCommandAnswer;
  }

  /** Merges desired properties into a device's twin (`twin:set`), with the version it was based on if given. */
  async setDesired(request: { deviceId: string; desired: unknown; version?: unknown }, timeoutMs: number): Promise<{ ok: boolean; twin?: unknown; error?: string; code?: string }> {
    return (await this.socket.timeout(timeoutMs).emitWithAck('twin:set', request)) as { ok: boolean; twin?: unknown; error?: string; code?: string };
  }

  close(): void {
    this.socket.close();
  }

  private onRecord(name: HubStream, payload: unknown): void {
    const pos = (payload as { pos?: unknown } | null)?.pos;
    this.emit('record', name, payload, typeof pos === 'number' ? pos : undefined);
  }

  private async subscribe(): Promise<void> {
    try {
      const after = this.opts.position() ?? 'confirmed';
      const request: SubscribeRequest = { ...this.opts.filter, after };
      const answer = (await this.socket.timeout(10_000).emitWithAck('subscribe', request)) as { ok: boolean; error?: string; from?: number; head?: number };
      if (!answer.ok) {
        this.log.error({ error: answer.error }, 'hub refused the subscription');
        return;
      }
      // A bridge with no position anywhere starts at the live stream: it takes the head as its position.
      if (answer.head !== undefined) this.emit('position', answer.head);
      this.subscribed = true;
      this.log.info({ url: this.opts.url, after, from: answer.from }, 'hub connected and subscribed');
      this.emit('up');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'subscribe failed; reconnecting');
      this.socket.disconnect();
      this.socket.connect();
    }
  }
}
