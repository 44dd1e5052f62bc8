// Kernel memory that sockets take, read from /proc (Linux; root for
// slabinfo): slab objects (socket structs, files, dentries, epoll entries)
// and TCP buffer pages. Machine-wide figures: other processes move them too.
import { readFileSync } from 'node:fs';

/** Slab bytes in use (sum over caches) and TCP buffer bytes; undefined fields when /proc does not tell. */
export function kernelMemory() {
  let slabBytes;
  try {
    slabBytes = 0;
    for (const line of readFileSync('/proc/slabinfo', 'utf8').split('\n').slice(2)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 3) slabBytes += Number(f[1]) * Number(f[3]);
    }
  } catch {
    slabBytes = undefined;
  }
  let tcpBufferBytes;
  let tcpInUse;
  try {
    const tcp = /TCP: inuse (\d+) .* mem (\d+)/.exec(readFileSync('/proc/net/sockstat', 'utf8'));
    if (tcp) {
      tcpInUse = Number(tcp[1]);
      tcpBufferBytes = Number(tcp[2]) * 4096;
    }
  } catch {
    // not Linux
  }
  return { slabBytes, tcpBufferBytes, tcpInUse };
}
