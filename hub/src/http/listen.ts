// Where the hub listens. `host` names one or more addresses; fastify listens
// on the first, and each other one gets a plain TCP listener that hands its
// connections to fastify's server. We do not use fastify's own `localhost`
// handling: its extra servers run fastify's handler directly, so the request
// listeners attached to the main server (the Socket.IO engine, the client
// bundle) never see their requests, and Socket.IO polling answers 404 there.
// Handing over the raw connection instead means every address gets the same
// TLS, the same request and upgrade listeners, the same connection tracking
// ('connection' listeners, closeAllConnections). One exception: Node applies
// `server.maxConnections` when it accepts, so a cap must count the
// 'connection' events rather than rely on that property.
import { lookup } from 'node:dns/promises';
import { createServer, isIP, type Server as NetServer, type Socket } from 'node:net';

/** `localhost` means the loopback addresses, both families, whatever the resolver says. */
const LOOPBACK = ['127.0.0.1', '::1'];

/** Errors meaning "this machine has no such address", not "somebody else is there". */
const ADDRESS_ABSENT = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT']);

/** Addresses of `host` the machine may lack without it being an error: ::1 when `localhost` names it (IPv6 may be off). */
export function optionalAddresses(host: string): Set<string> {
  return new Set(host.split(',').some((h) => h.trim() === 'localhost') ? ['::1'] : []);
}

/** The addresses `host` stands for, in order, without duplicates. */
export async function resolveListenAddresses(host: string): Promise<string[]> {
  const out: string[] = [];
  for (const part of host.split(',').map((h) => h.trim()).filter(Boolean)) {
    if (part === 'localhost') out.push(...LOOPBACK);
    else if (isIP(part.replace(/^\[|\]$/g, ''))) out.push(part.replace(/^\[|\]$/g, ''));
    else {
      const found = await lookup(part, { all: true }).catch((err: Error) => {
        throw new Error(`cannot resolve host "${part}": ${err.message}`);
      });
      out.push(...found.map((a) => a.address));
    }
  }
  if (out.length === 0) throw new Error(`host "${host}" names no address`);
  return [...new Set(out)];
}

/** An address as it goes in a URL: IPv6 in brackets. */
export function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** Whether every address is a loopback one (nothing else on the machine or the network can connect). */
export function loopbackOnly(addresses: readonly string[]): boolean {
  return addresses.every((a) => a === '::1' || a.startsWith('127.') || a === '::ffff:127.0.0.1');
}

/** How many ports pickSharedPort tries before leaving the failure to the real listen. */
const PORT_PICK_ATTEMPTS = 10;

function listenOn(address: string, port: number): Promise<NetServer> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host: address, ipv6Only: address.includes(':') }, () => resolve(server));
  });
}

const closeAll = (servers: NetServer[]) => Promise.all(servers.map((s) => new Promise((r) => s.close(r))));

/**
 * A port free at every one of `addresses` (the ones this machine has), for a
 * hub asked to listen on port 0 at several addresses: the kernel's free port
 * at the first may be taken at another. Returns 0 when no attempt found one,
 * leaving the failure to the real listen.
 */
export async function pickSharedPort(addresses: readonly string[]): Promise<number> {
  for (let attempt = 0; attempt < PORT_PICK_ATTEMPTS; attempt++) {
    const held: NetServer[] = [];
    try {
      const first = await listenOn(addresses[0]!, 0);
      held.push(first);
      const port = (first.address() as { port: number }).port;
      for (const address of addresses.slice(1)) {
        try {
          held.push(await listenOn(address, port));
        } catch (err) {
          if (!ADDRESS_ABSENT.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
        }
      }
      return port;
    } catch {
      // Taken at one of the addresses: try another port.
    } finally {
      await closeAll(held);
    }
  }
  return 0;
}

/** Outcome of binding the extra addresses. */
export interface ExtraBindings {
  servers: NetServer[];
  /** Addresses skipped because this machine lacks them (e.g. ::1 with IPv6 off), with the reason. */
  skipped: Array<{ address: string; reason: string }>;
}

/**
 * Listens on `port` at each of `addresses` and hands every connection to
 * `target` (fastify's http or https server) as if it had accepted it.
 * An `optional` address the machine does not have is skipped; any other
 * failure (an address named explicitly that is absent, the port taken)
 * closes what was opened and throws.
 */
export async function bindExtraAddresses(target: NetServer, addresses: readonly string[], port: number, optional: ReadonlySet<string>): Promise<ExtraBindings> {
  const servers: NetServer[] = [];
  const skipped: ExtraBindings['skipped'] = [];
  for (const address of addresses) {
    const server = createServer({ pauseOnConnect: false }, (socket: Socket) => target.emit('connection', socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host: address, ipv6Only: address.includes(':') }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      servers.push(server);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (ADDRESS_ABSENT.has(code) && optional.has(address)) {
        skipped.push({ address, reason: code });
        continue;
      }
      for (const s of servers) s.close();
      throw new Error(`cannot listen on ${urlHost(address)}:${port}: ${(err as Error).message}`);
    }
  }
  return { servers, skipped };
}
