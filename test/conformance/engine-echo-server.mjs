// The server the official Engine.IO v4 conformance suite expects: an
// Engine.IO-only echo server at /engine.io/ (text back as text, binary as
// binary) with the suite's timings. Usage: node engine-echo-server.mjs [port]
import { createServer } from 'node:http';
import { EngineServer } from '@sitehub/hub';

const port = Number(process.argv[2] ?? process.env.PORT ?? 3000);
const httpServer = createServer();
const engine = new EngineServer({
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1e6,
  cors: { origin: '*' },
});
engine.attach(httpServer);
engine.on('connection', (socket) => {
  socket.on('message', (data) => socket.send(data));
});
httpServer.listen(port, () => console.log(`engine.io echo server on http://localhost:${port}/engine.io/`));
process.on('SIGTERM', () => process.exit(0));
