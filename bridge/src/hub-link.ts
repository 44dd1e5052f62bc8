// The hub side: a Socket.IO session on /bridge with a bridge token that
// (re)subscribes on every connect, so a hub restart is followed by a resume.
import { EventEmitter } from 'node:events';
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
}

/** Answer of the hub to a `command` emitted on /bridge. */
export interface HubCommandAnswer {
  ok: boolean;
  command?: { id: number | string; status: string; result?: unknown; error?: unknown };
  error?: string;
  code?: string;
}

/** Hub updates the bridge forwards. */
export const HUB_STREAMS = ['telemetry', 'state', 'event', 'presence'] as const;

/** The hub link; emits each stream event with its payload, and `up`/`down`. */
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
    for (const name of HUB_STREAMS) this.socket.on(name, (payload: unknown) => this.emit(name, payload));
  }

  /** True while the session is up and subscribed. */
  get connected(): boolean {
    return this.socket.connected && this.subscribed;
  }

  /** Sends a command to a device and waits for its outcome (or `timeoutMs`). */
  async command(request: { deviceId: string; name: string; params?: unknown }, timeoutMs: number): Promise<HubCommandAnswer> {
    const waitMs = Math.max(1, Math.min(timeoutMs - 500, 120_000));
    return (await this.socket.timeout(timeoutMs).emitWithAck('command', { ...request, waitMs })) as HubCommandAnswer;
  }

  close(): void {
    this.socket.close();
  }

  private async subscribe(): Promise<void> {
    try {
      const answer = (await this.socket.timeout(10_000).emitWithAck('subscribe', this.opts.filter)) as { ok: boolean; error?: string };
      if (!answer.ok) {
        this.log.error({ error: answer.error }, 'hub refused the subscription');
        return;
      }
      this.subscribed = true;
      this.log.info({ url: this.opts.url }, 'hub connected and subscribed');
      this.emit('up');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'subscribe failed; reconnecting');
      this.socket.disconnect();
      this.socket.connect();
    }
  }
}
