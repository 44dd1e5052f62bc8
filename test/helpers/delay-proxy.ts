// A TCP proxy on loopback that holds what the client sends for `delayMs`
// before passing it on (the answers come back at once): one hub node's Redis
// traffic made late on purpose, so that its publishes reach the other nodes
// after those of a node that committed later. Order within a connection is
// kept, also when the delay changes.
import { createServer, connect, type Server, type Socket } from 'node:net';

/** A running delay proxy. */
export interface DelayProxy {
  port: number;
  /** How long client -> upstream data is held; may be changed while running. */
  delayMs: number;
  close(): Promise<void>;
}

/** Proxies 127.0.0.1:<port> to `upstreamPort`, delaying the client's data by `delayMs`. */
export async function startDelayProxy(upstreamPort: number, delayMs = 0): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const proxy: DelayProxy = { port: 0, delayMs, close: async () => {} };
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    // One queue per connection, released in order: a shorter delay set while chunks wait must not let a
    // later chunk overtake them (that would cut the Redis protocol stream).
    const queue: Array<{ at: number; chunk: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    const end = () => {
      clearTimeout(timer);
      queue.length = 0;
      client.destroy();
      upstream.destroy();
    };
    const release = () => {
      timer = undefined;
      while (queue.length > 0 && queue[0]!.at <= Date.now()) {
        const { chunk } = queue.shift()!;
        if (upstream.writable) upstream.write(chunk);
      }
      if (queue.length > 0) timer = setTimeout(release, queue[0]!.at - Date.now());
    };
    client.on('data', (chunk: Buffer) => {
      const last = queue.length > 0 ? queue[queue.length - 1]!.at : 0;
      queue.push({ at: Math.max(Date.now() + proxy.delayMs, last), chunk });
      if (!timer) release();
    });
    upstream.on('data', (chunk) => client.write(chunk));
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', () => {
        sockets.delete(s);
        end();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as { port: number }).port;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
