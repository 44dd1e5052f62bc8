// `require('@sitehub/hub/socket.io')(httpServer)`: socket.io's callable
// CommonJS export, as CommonJS code written for socket.io uses it. Run in a
// plain Node child process against the build (`npm test` builds first), the
// way such an application loads it; the client is the official one.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

const APP = `
const io = require('@sitehub/hub/socket.io');
const { io: connect } = require('socket.io-client');
const server = require('node:http').createServer();
const sio = io(server, { pingInterval: 1234 });
const checks = {
  callable: typeof io === 'function',
  instance: sio instanceof io.Server,
  namedExports: ['Server', 'Namespace', 'Socket', 'Adapter'].every((name) => typeof io[name] === 'function'),
  options: sio.engine.opts.pingInterval === 1234,
};
sio.on('connection', (socket) => socket.on('hello', (name, ack) => ack('hi ' + name)));
server.listen(0, '127.0.0.1', () => {
  const client = connect('http://127.0.0.1:' + server.address().port, { transports: ['websocket'] });
  client.emit('hello', 'cjs', (answer) => {
    checks.ack = answer;
    client.close();
    sio.close(() => console.log(JSON.stringify(checks)));
  });
});
`;

describe('CommonJS entry', () => {
  it('require(\'@sitehub/hub/socket.io\')(httpServer, opts) is new Server(httpServer, opts), named exports included', async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', APP], { cwd: root, timeout: 15_000 }, (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)));
    });
    expect(JSON.parse(stdout)).toEqual({ callable: true, instance: true, namedExports: true, options: true, ack: 'hi cjs' });
  });
});
