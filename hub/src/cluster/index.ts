/** @sitehub/hub cluster layer: rooms and broadcasts across hub processes through Redis. */
import type { AdapterConstructor, AdapterHealth, AdapterNamespace } from '../realtime/index.js';
import { ClusterAdapter, type ClusterAdapterOptions } from './adapter.js';
import { RedisLink, type LinkCounters, type LinkOptions } from './link.js';
import type { RedisPubClient, RedisSubClient } from './redis-client.js';

/** Options of createRedisAdapter: the protocol's (key, requestsTimeout...) plus the link's (buffer bounds, heartbeat). */
export interface RedisAdapterOptions extends ClusterAdapterOptions, LinkOptions {}

/** What createRedisAdapter returns: the `adapter` option of Server, with the link's health and a way to stop it. */
export type RedisAdapterFactory = AdapterConstructor & {
  (nsp: AdapterNamespace): ClusterAdapter;
  health(): AdapterHealth;
  /** The node's id on the wire. */
  readonly uid: string;
  readonly counters: LinkCounters;
  /** Stops the heartbeat; the Redis clients stay open (they are the caller's). */
  close(): void;
};

/**
 * The cluster adapter, called like @socket.io/redis-adapter's createAdapter:
 * `new Server({ adapter: createRedisAdapter(pubClient, subClient) })`, with two
 * connected node-redis clients (the second one is put in subscriber mode).
 */
export function createRedisAdapter(pubClient: RedisPubClient, subClient: RedisSubClient, opts: RedisAdapterOptions = {}): RedisAdapterFactory {
  const link = new RedisLink(pubClient, subClient, opts);
  const factory = ((nsp: AdapterNamespace) => new ClusterAdapter(nsp, link, opts)) as RedisAdapterFactory;
  Object.defineProperties(factory, {
    health: { value: () => link.health() },
    uid: { value: link.uid },
    counters: { get: () => link.counters },
    close: { value: () => link.close() },
  });
  return factory;
}

export { ClusterAdapter, type ClusterAdapterOptions } from './adapter.js';
export { RedisLink, type LinkOptions, type LinkCounters } from './link.js';
export type { RedisPubClient, RedisSubClient } from './redis-client.js';
