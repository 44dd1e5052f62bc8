// The CommonJS entry of `@sitehub/hub/socket.io`: socket.io's callable
// export, so that `require('socket.io')(httpServer, opts)` keeps working when
// the import is changed. Calling it is `new Server(httpServer, opts)`; every
// named export of the realtime layer (Server, Namespace, Socket…) is a
// property, as in socket.io's CommonJS build. It loads the ES module build
// (require(esm), on by default from Node 20.19), so CommonJS and ES module
// code in one process share one copy of every class.
'use strict';

const realtime = require('../dist/realtime/index.js');

/** `require('@sitehub/hub/socket.io')(httpServer?, opts?)`: a new Server. */
function io(srv, opts) {
  return new realtime.Server(srv, opts);
}

Object.assign(io, realtime);
module.exports = io;
