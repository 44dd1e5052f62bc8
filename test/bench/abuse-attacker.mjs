// The attacker for abuse.mjs, in a process of its own so that its CPU does
// not slow the devices' client loop. From one address (127.0.0.1) it
//  - floods Engine.IO handshakes (polling GETs that open a session and never
//    come back), and
//  - guesses device tokens: CONNECT packets to /devices/sensor with wrong
//    tokens over several WebSockets, one in flight on each (a second CONNECT
//    to a namespace whose first is pending is a protocol violation: the hub
//    closes the connection).
// It counts what the hub accepted and answered, and reconnects when the hub
// closes it, so that limits show up as lower rates, not as a stopped attack.
// Args: <port> <seconds>. Reports { handshakes, guesses, ... } over IPC.
import { request, Agent } from 'node:http';
import { WebSocket } from 'ws';

const [port, seconds] = process.argv.slice(2).map(Number);
const ATTACKER = '127.0.0.1';
const HANDSHAKE_CONCURRENCY = 32;
const GUESS_SOCKETS = 32;
const GUESSES_IN_FLIGHT = 1;

const deadline = Date.now() + seconds * 1000;
const counts = { handshakesAccepted: 0, handshakesRefused: 0, handshakeErrors: 0, guessesAnswered: 0, guessesChecked: 0, guessesAccepted: 0, guessSocketsClosedEarly: 0, guessSocketErrors: 0 };
const agent = new Agent({ keepAlive: true, maxSockets: HANDSHAKE_CONCURRENCY, localAddress: ATTACKER });

function handshake() {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/socket.io/?EIO=4&transport=polling', agent, localAddress: ATTACKER }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        if (res.statusCode === 200 && body.startsWith('0{')) counts.handshakesAccepted++;
        else counts.handshakesRefused++;
        resolve();
      });
      res.on('error', () => {
        counts.handshakeErrors++;
        resolve();
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      counts.handshakeErrors++;
      setTimeout(resolve, 10); // refused outright: do not spin
    });
    req.end();
  });
}

async function handshakeLoop() {
  while (Date.now() < deadline) await handshake();
}

let guessNo = 0;
const guessPacket = () => `40/devices/sensor,${JSON.stringify({ deviceId: `dev-${guessNo % 200}`, token: `guess-${++guessNo}-xxxxxxxxxxxxxxxxxxxxxxxxxxxx` })}`;

/** One WebSocket session sending CONNECTs with wrong tokens, GUESSES_IN_FLIGHT at a time, until the deadline; reopens when closed. */
function guessLoop() {
  return new Promise((resolve) => {
    const open = () => {
      if (Date.now() >= deadline) return resolve();
      const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { localAddress: ATTACKER, perMessageDeflate: false });
      // A hub that stops answering must not keep the attack past its deadline.
      const stop = setTimeout(() => ws.terminate(), Math.max(0, deadline - Date.now()) + 100);
      ws.on('close', () => clearTimeout(stop));
      let inFlight = 0;
      const fill = () => {
        while (inFlight < GUESSES_IN_FLIGHT && Date.now() < deadline && ws.readyState === WebSocket.OPEN) {
          inFlight++;
          ws.send(guessPacket());
        }
        if (Date.now() >= deadline) ws.close();
      };
      ws.on('message', (data) => {
        const text = data.toString();
        if (text.startsWith('0')) return fill();
        if (text === '2') return ws.send('3');
        if (text.startsWith('44/devices/sensor')) {
          counts.guessesAnswered++;
          // invalid_credentials: the token was checked. Any other code (a throttle, a ban) answered without checking it.
          if (text.includes('"invalid_credentials"')) counts.guessesChecked++;
          inFlight--;
          return fill();
        }
        if (text.startsWith('40/devices/sensor')) {
          counts.guessesAccepted++;
          counts.guessesAnswered++;
          inFlight--;
          return fill();
        }
      });
      ws.on('error', () => counts.guessSocketErrors++);
      ws.on('close', () => {
        if (Date.now() < deadline) counts.guessSocketsClosedEarly++;
        setTimeout(open, 10);
      });
    };
    open();
  });
}

const start = Date.now();
await Promise.all([
  ...Array.from({ length: HANDSHAKE_CONCURRENCY }, handshakeLoop),
  ...Array.from({ length: GUESS_SOCKETS }, guessLoop),
]);
agent.destroy();
process.send({ type: 'done', seconds: (Date.now() - start) / 1000, ...counts }, () => process.exit(0));
