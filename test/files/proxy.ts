// A TCP proxy between an agent and the hub that can cut every connection
// (the link dropping) and flip one byte inside the payload of the Nth large
// binary WebSocket frame going to the agent (a chunk corrupted in transit:
// WebSocket has no checksum of its own). Server-to-client frames are not
// masked, so their payload is found by reading the frame headers.
import net from 'node:net';

/** A running proxy. */
export interface LinkProxy {
  port: number;
  /** Bytes forwarded hub -> agent. */
  readonly downBytes: number;
  /** Cuts every open connection (both sides) at once. */
  drop(): void;
  /** Corrupts one byte of the `n`th binary frame (counted from now, frames larger than `minBytes`) going to the client. */
  corruptFrame(n: number, minBytes: number): Promise<void>;
  close(): Promise<void>;
}

type Target = { want: number; minBytes: number; seen: number; hit: () => void };

/** Reads WebSocket frames from the server side of one connection and flips a byte when told. */
class DownstreamFrames {
  private headerDone = false;
  private headerTail = '';
  private remaining = 0;
  private header: number[] = [];
  /** Offset in the current payload of the byte to flip, or -1. */
  private flipAt = -1;

  constructor(private readonly target: () => Target | undefined) {}

  /** Passes `data` through (changed in place where a byte is flipped). */
  pass(data: Buffer): Buffer {
    let i = 0;
    if (!this.headerDone) {
      // The HTTP 101 answer comes first.
      const text = this.headerTail + data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) {
        this.headerTail = text.slice(-3);
        return data;
      }
      this.headerDone = true;
      i = end + 4 - this.headerTail.length;
    }
    while (i < data.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, data.length - i);
        if (this.flipAt >= 0 && this.flipAt < take) {
          data[i + this.flipAt] = data[i + this.flipAt]! ^ 0xff;
          this.flipAt = -1;
          this.target()?.hit();
        } else if (this.flipAt >= 0) this.flipAt -= take;
        this.remaining -= take;
        i += take;
        continue;
      }
      this.header.push(data[i++]!);
      const h = this.header;
      if (h.length < 2) continue;
      const short = h[1]! & 0x7f;
      const size = short === 126 ? 4 : short === 127 ? 10 : 2;
      if (h.length < size) continue;
      const b = Buffer.from(h);
      const length = short === 126 ? b.readUInt16BE(2) : short === 127 ? Number(b.readBigUInt64BE(2)) : short;
      const opcode = h[0]! & 0x0f;
      this.header = [];
      this.remaining = length;
      const t = this.target();
      if (t && t.seen < t.want && opcode === 2 && length >= t.minBytes) {
        t.seen++;
        if (t.seen === t.want) this.flipAt = Math.floor(length / 2);
      }
    }
    return data;
  }
}

/** Starts a proxy on a free loopback port forwarding to `targetPort`. */
export async function startProxy(targetPort: number): Promise<LinkProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let downBytes = 0;
  let target: Target | undefined;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const frames = new DownstreamFrames(() => target);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.on('data', (data: Buffer) => {
      downBytes += data.length;
      if (!client.write(frames.pass(data))) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: LinkProxy = {
    port: (server.address() as net.AddressInfo).port,
    get downBytes() {
      return downBytes;
    },
    drop() {
      for (const [a, b] of [...pairs]) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    corruptFrame(n, minBytes) {
      return new Promise((resolve) => {
        target = { want: n, minBytes, seen: 0, hit: resolve };
      });
    },
    async close() {
      this.drop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
