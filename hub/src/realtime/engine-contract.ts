// TEMPORARY: the slice of the EngineServer contract (/tmp/engine-api.md) this
// layer uses, until hub/src/engine lands; then these become re-exports.
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type PreparedMessage = object;

export interface EngineSocket extends EventEmitter {
  readonly id: string;
  readonly request: IncomingMessage;
  readonly protocol: number;
  readyState: 'opening' | 'open' | 'closing' | 'closed';
  transport: { name: 'polling' | 'websocket'; writable: boolean };
  readonly remoteAddress: string;
  send(data: string | Uint8Array, opts?: { compress?: boolean }, cb?: (err?: Error) => void): this;
  sendPrepared(msg: PreparedMessage, cb?: (err?: Error) => void): this;
  close(discard?: boolean): void;
}

export interface EngineServer extends EventEmitter {
  readonly clients: Map<string, EngineSocket>;
  readonly clientsCount: number;
  attach(server: HttpServer, opts?: { path?: string; addTrailingSlash?: boolean; destroyUpgrade?: boolean }): this;
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  prepare(data: string | Uint8Array, opts?: { compress?: boolean }): PreparedMessage;
  close(): this;
}

export type EngineServerOptions = Record<string, unknown>;
export const EngineServerClass: { new (opts?: Partial<EngineServerOptions>): EngineServer } = null as never;
