// Entry of the ES module bundle (socket.io.esm.min.js): the same names that
// socket.io-client's ESM build exports, with io() as the default export.
export { Manager, Socket, connect, io, io as default } from '../src/client/index.js';

/** The Socket.IO protocol revision this client speaks. */
export const protocol = 5;
