// io(): socket.io-client's entry point, with its Manager cache. One Engine.IO
// connection is shared by every namespace of a server unless `forceNew`,
// `multiplex: false`, or a second socket for a namespace already in use.
import { Manager, type ManagerOptions } from './manager.js';
import type { Socket, SocketOptions } from './socket.js';
import { parseUrl } from './url.js';
import type { DefaultEventsMap, EventsMap } from './typed-events.js';

/** Options of io(): Manager, Engine.IO and Socket options together. */
export type IoOptions = Partial<ManagerOptions & SocketOptions> & { 'force new connection'?: boolean };

const managers = new Map<string, Manager>();

/** Connects to the namespace named by the URL's path ('/' by default). */
export function io<ListenEvents extends EventsMap = DefaultEventsMap, EmitEvents extends EventsMap = ListenEvents>(
  uri?: string | IoOptions,
  opts?: IoOptions,
): Socket<ListenEvents, EmitEvents> {
  if (typeof uri === 'object') {
    opts = uri;
    uri = undefined;
  }
  const options: IoOptions = { ...opts };
  const parsed = parseUrl(uri, options.path || '/socket.io');
  const cached = managers.get(parsed.id);
  const newConnection =
    options.forceNew ||
    options['force new connection'] ||
    options.multiplex === false ||
    (cached !== undefined && cached._hasSocket(parsed.path));
  let manager: Manager;
  if (newConnection) {
    manager = new Manager(parsed.source, options);
  } else {
    manager = cached ?? new Manager(parsed.source, options);
    managers.set(parsed.id, manager);
  }
  if (parsed.query && !options.query) options.query = parsed.queryKey;
  return manager.socket(parsed.path, options) as unknown as Socket<ListenEvents, EmitEvents>;
}

/** Alias of io(). */
export const connect = io;
