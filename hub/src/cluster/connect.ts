// The `sitehub` command's way into a cluster: two node-redis clients on a
// URL, connected, and the cluster adapter on them. Embedding applications
// make their own clients and call createRedisAdapter (docs/scaling.md).
import { createClient } from 'redis';
import { createRedisAdapter, type RedisAdapterFactory } from './index.js';

/** A connected cluster adapter and the way to close its clients. */
export interface RedisConnection {
  adapter: RedisAdapterFactory;
  /** Stops the heartbeat and closes both clients (after the Server closed). */
  close(): Promise<void>;
}

/** Connects to Redis at `url` (giving up after `timeoutMs` at start; once up, reconnects forever) and makes the adapter. */
export async function connectRedisAdapter(url: string, onError: (err: Error) => void, timeoutMs = 10_000): Promise<RedisConnection> {
  // Quick, endless retries once running: a Redis restart must not end the link for good.
  const pub = createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy: (n: number) => Math.min(100 * (n + 1), 1000) } });
  const sub = pub.duplicate();
  for (const client of [pub, sub]) client.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis at ${redact(url)} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.all([pub.connect(), sub.connect()]), deadline]);
  } catch (err) {
    await Promise.allSettled([pub.destroy(), sub.destroy()]);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const adapter = createRedisAdapter(pub, sub);
  return {
    adapter,
    async close() {
      adapter.close();
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
