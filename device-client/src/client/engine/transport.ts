// What every Engine.IO transport shares: the state machine, the events the
// engine socket listens to, and the request URI.
import { decodePacket, type EnginePacket } from '@sitehub/protocol';
import { Emitter } from '../emitter.js';
import { encodeQuery } from '../url.js';
import type { EngineOptions, TransportName } from './options.js';

/** A packet on its way out, with its per-message flags. */
export interface OutgoingPacket extends EnginePacket {
  options?: { compress?: boolean };
}

/** Why a transport closed. */
export interface CloseDetails {
  description: string;
  context?: unknown;
}

/** A transport failure: `description` and `context` carry the cause (HTTP status, error event). */
export class TransportError extends Error {
  readonly type = 'TransportError';
  declare readonly description: unknown;
  declare readonly context: unknown;

  constructor(reason: string, description: unknown, context?: unknown) {
    super(reason);
    this.description = description;
    this.context = context;
  }
}

/** Where a connection keeps its cookies when the platform does not (Node). */
export interface CookieStore {
  /** Stores the cookies of `Set-Cookie` header values. */
  parse(setCookies: readonly string[]): void;
  /** The `Cookie` header value, or undefined when there is none. */
  header(): string | undefined;
}

/** Options a transport is built with. */
export interface TransportOptions extends EngineOptions {
  query: Record<string, string>;
  cookieJar: CookieStore | undefined;
}

export type TransportState = 'opening' | 'open' | 'pausing' | 'paused' | 'closed';

/**
 * Base transport. Events: 'open', 'packet' (EnginePacket), 'error'
 * (TransportError), 'close' (CloseDetails), 'drain', 'pollComplete'.
 */
export abstract class Transport extends Emitter {
  abstract readonly name: TransportName;
  /** Whether `send` may be called now (no write in flight). */
  writable = false;
  /** Query of every request; the engine adds `sid` after the handshake. */
  declare readonly query: Record<string, string>;
  protected state: TransportState = 'closed';
  protected declare readonly opts: TransportOptions;

  constructor(opts: TransportOptions) {
    super();
    this.opts = opts;
    this.query = opts.query;
  }

  /** Current state. */
  get readyState(): TransportState {
    return this.state;
  }

  /** Starts connecting. */
  open(): this {
    this.state = 'opening';
    this.doOpen();
    return this;
  }

  /** Closes; emits 'close' once. */
  close(): this {
    if (this.state !== 'closed') {
      this.doClose();
      this.onClose({ description: 'client close' });
    }
    return this;
  }

  /** Sends packets; the caller waits for 'drain' before the next call. */
  send(packets: OutgoingPacket[]): void {
    if (this.state === 'open') this.write(packets);
  }

  /** Stops reading and writing, then calls `onPause` (used by the upgrade). */
  pause(onPause: () => void): void {
    this.state = 'paused';
    onPause();
  }

  protected onOpen(): void {
    this.state = 'open';
    this.writable = true;
    this.emitReserved('open');
  }

  protected onData(data: string | Uint8Array | ArrayBuffer): void {
    const packet = decodePacket(data);
    if (packet.type === 'error') this.onError('parse error', new Error('bad packet'));
    else this.onPacket(packet);
  }

  protected onPacket(packet: EnginePacket): void {
    this.emitReserved('packet', packet);
  }

  protected onError(reason: string, description: unknown, context?: unknown): void {
    this.emitReserved('error', new TransportError(reason, description, context));
  }

  protected onClose(details: CloseDetails): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.writable = false;
    this.emitReserved('close', details);
  }

  /** Builds `scheme://host[:port]/path/?query`. */
  protected uri(schema: string, query: Record<string, string>): string {
    const { hostname, port, secure, path } = this.opts;
    const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
    const defaultPort = secure ? 443 : 80;
    const portPart = port !== '' && Number(port) !== defaultPort ? `:${port}` : '';
    const search = encodeQuery(query);
    return `${schema}://${host}${portPart}${path}${search ? '?' + search : ''}`;
  }

  protected abstract doOpen(): void;
  protected abstract doClose(): void;
  protected abstract write(packets: OutgoingPacket[]): void;
}
