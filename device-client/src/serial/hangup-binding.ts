// A fence around @serialport/bindings-cpp's read path on Linux and macOS.
//
// Its unixRead retries every read that returns 0 bytes. A tty whose other end
// is gone (a USB adapter pulled out, the master of a pty closed) is hung up by
// the kernel, and from then on every read() returns 0: the port spins on empty
// reads and never reports the unplug. The unplug was seen only when the
// poller happened to wake after the hang-up had completed (it then reports
// POLLERR); when it woke in between (data ready, other end closed), the read
// that followed returned 0 forever and the port stayed "open" until the
// watchdog fired. The port is opened with VMIN=1 and O_NONBLOCK, so a
// read with no data fails with EAGAIN: 0 bytes can only mean end of file.
// Here it is a disconnect, which the stream turns into a `close` with
// `disconnected`, and the source reopens the port.
import { read as fsRead } from 'node:fs';
import { promisify } from 'node:util';
import type { AutoDetectTypes } from '@serialport/bindings-cpp';

type UnixRead = typeof import('@serialport/bindings-cpp/dist/unix-read.js').unixRead;
type PortBinding = Awaited<ReturnType<AutoDetectTypes['open']>>;

const readAsync = promisify(fsRead);

/** fs.read that fails with a disconnect error when the tty reports end of file. */
async function readOrHangup(fd: number, buffer: Buffer, offset: number, length: number, position: number | null): Promise<{ bytesRead: number; buffer: Buffer }> {
  const result = await readAsync(fd, buffer, offset, length, position);
  if (result.bytesRead === 0) throw Object.assign(new Error('serial port hung up (end of file)'), { code: 'EHANGUP', disconnect: true });
  return result;
}

/** The platform's binding, whose ports report a hang-up as a disconnect instead of reading 0 bytes forever. */
export async function hangupAwareBinding(binding: AutoDetectTypes): Promise<AutoDetectTypes> {
  if (process.platform === 'win32') return binding;
  const { unixRead } = (await import('@serialport/bindings-cpp/dist/unix-read.js')) as { unixRead: UnixRead };
  const open = async (options: Parameters<AutoDetectTypes['open']>[0]): Promise<PortBinding> => {
    const port = await binding.open(options as never);
    const original = port.read.bind(port);
    // The original checks its arguments and the open state, then calls unixRead;
    // it is kept for the checks (a 0-length request), unixRead does the reading.
    port.read = (buffer: Buffer, offset: number, length: number) => {
      if (!Buffer.isBuffer(buffer) || length <= 0 || !port.isOpen) return original(buffer, offset, length);
      return unixRead({ binding: port as never, buffer, offset, length, fsReadAsync: readOrHangup as never });
    };
    return port;
  };
  return { ...binding, list: () => binding.list(), open } as AutoDetectTypes;
}
