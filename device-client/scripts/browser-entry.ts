// Entry of the script-tag bundle (socket.io.js): defines the global `io`,
// shaped like socket.io-client's: io(), io.connect, io.Manager, io.Socket,
// io.protocol.
import { Manager, Socket, io } from '../src/client/index.js';
import { protocol } from './browser-esm-entry.js';

/** The global `io` of the script-tag bundle. */
const lookup = Object.assign(io, { connect: io, Manager, Socket, protocol });

(globalThis as { io?: typeof lookup }).io = lookup;
