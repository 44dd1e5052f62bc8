// Reference server for capacity.mjs: socket.io 4.8.4 with an application
// equivalent to what the hub does for a device, on the same SQLite schema
// and the same group-commit writer (hub/dist), so that the difference is the
// server stack and not the storage code:
//  - middleware on /devices/<class>: deviceId pattern check, one SELECT of the
//    device's credentials, SHA-256 of the token compared in constant time
//    (against a decoy hash when the device is unknown), class and disabled
//    checks; refusals as connect_error with a code;
//  - on connection: join site:<id> and device:<id>, emit `limits`, presence
//    (online flag, last seen, history row) written in the next group commit;
//    offline written the same way on disconnect;
//  - `telemetry`: each reading INSERT OR IGNOREd in the next group commit, the
//    ack sent after COMMIT;
//  - at start, every device marked offline (the hub's restart does the same).
// What the hub does beyond this: the replay log row per presence change and
// batch, guessing throttles, per-address limits, pending-command delivery.
// With `"server": "sitehub"` in the args, the same application runs on
// sitehub's socket.io-compatible `Server` instead (only the import differs):
// that splits what the hub costs beyond socket.io into the server stack
// (engine, realtime) and the IoT layer.
// Args: JSON { dataDir, port, server? }. Run by capacity.mjs; not meant to be run by hand.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { cpuSeconds, serveRequests, settledMemory } from './lib/child.mjs';
import { watchEventLoop } from './lib/loop-watch.mjs';

const loop = watchEventLoop();
const { dataDir, port: wantedPort, server: stack } = JSON.parse(process.argv[2]);
const { Server } = stack === 'sitehub' ? await import('@sitehub/hub') : await import('socket.io');
const { openDatabase } = await import('../../hub/dist/iot/store/db.js');
const { GroupCommitWriter } = await import('../../hub/dist/iot/store/writer.js');

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const sha256 = (s) => createHash('sha256').update(s, 'utf8').digest();
const DECOY = sha256(randomBytes(32).toString('base64url'));

const db = openDatabase(join(dataDir, 'reference.db'));
const writer = new GroupCommitWriter(db);
const stmt = {
  credentials: db.prepare('SELECT class_id, site_id, disabled, token_hash FROM devices WHERE id = ?'),
  setOnline: db.prepare('UPDATE devices SET online = ?, last_seen = ? WHERE id = ?'),
  log: db.prepare('INSERT INTO presence_log (device_id, online, ts, reason, transport) VALUES (?, ?, ?, ?, ?)'),
  insertReading: db.prepare('INSERT OR IGNORE INTO telemetry (device_id, seq, ts, vals) VALUES (?, ?, ?, ?)'),
};
db.prepare('UPDATE devices SET online = 0 WHERE online = 1').run();

const presence = (deviceId, online, reason, transport) =>
  writer.submit(() => {
    const ts = Date.now();
    stmt.setOnline.run(online ? 1 : 0, ts, deviceId);
    stmt.log.run(deviceId, online ? 1 : 0, ts, reason, transport);
  });

const refusal = (code) => Object.assign(new Error(code), { data: { code } });

const httpServer = createServer();
const io = new Server(httpServer, { serveClient: false });
const devices = io.of(/^\/devices\/[a-z0-9-]{1,32}$/);
devices.use((socket, next) => {
  const classId = socket.nsp.name.slice('/devices/'.length);
  const { deviceId, token } = socket.handshake.auth ?? {};
  const creds = typeof deviceId === 'string' && ID.test(deviceId) ? stmt.credentials.get(deviceId) : undefined;
  const candidate = sha256(typeof token === 'string' ? token : '');
  const expected = creds && creds.token_hash.length === candidate.length ? creds.token_hash : DECOY;
  const ok = timingSafeEqual(candidate, expected) && expected !== DECOY && typeof token === 'string';
  if (!creds || !ok || creds.class_id !== classId) return next(refusal('invalid_credentials'));
  if (creds.disabled) return next(refusal('device_disabled'));
  socket.data.device = { id: deviceId, siteId: creds.site_id };
  next();
});
devices.on('connection', (socket) => {
  const { id, siteId } = socket.data.device;
  socket.join([`site:${siteId}`, `device:${id}`]);
  socket.emit('limits', { maxMessageBytes: 1e6, maxReadingsPerBatch: 1000 });
  void presence(id, true, 'connected', socket.conn.transport.name);
  socket.on('telemetry', (readings, ack) => {
    if (typeof ack !== 'function') return;
    const list = Array.isArray(readings) ? readings : [readings];
    if (!list.every((r) => r && Number.isSafeInteger(r.seq) && Number.isFinite(r.ts) && r.values && typeof r.values === 'object')) {
      return ack({ ok: false, error: 'bad_readings' });
    }
    writer
      .submit(() => list.reduce((stored, r) => stored + stmt.insertReading.run(id, r.seq, r.ts, JSON.stringify(r.values)).changes, 0))
      .then(
        (stored) => ack({ ok: true, stored, duplicates: list.length - stored }),
        () => ack({ ok: false, error: 'store_failed' }),
      );
  });
  socket.on('disconnect', (reason) => void presence(id, false, reason, socket.conn.transport.name));
});

serveRequests({
  setup: ({ devices: count }) => {
    const now = Date.now();
    db.prepare('INSERT INTO sites (id, name, meta, created_at) VALUES (?, ?, ?, ?)').run('bench', 'bench', '{}', now);
    db.prepare('INSERT INTO device_classes (id, name, description, created_at) VALUES (?, ?, ?, ?)').run('sensor', 'sensor', '', now);
    const insert = db.prepare(
      "INSERT INTO devices (id, class_id, site_id, name, meta, token_hash, disabled, online, created_at, updated_at) VALUES (?, 'sensor', 'bench', ?, '{}', ?, 0, 0, ?, ?)",
    );
    const tokens = [];
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const deviceId = `dev-${i}`;
        const token = randomBytes(32).toString('base64url');
        insert.run(deviceId, deviceId, sha256(token), now, now);
        tokens.push({ deviceId, token });
      }
    })();
    return { tokens };
  },
  memory: async () => ({ clients: io.engine.clientsCount, ...(await settledMemory()) }),
  stats: () => ({
    cpu: cpuSeconds(),
    uptime: process.uptime(),
    cpuAtListen,
    loopBeforeListen,
    telemetryRows: telemetryRows(),
    telemetryRowsAtListen,
    rss: process.memoryUsage().rss,
    clients: io.engine.clientsCount,
    loop: loop.report(),
    commits: writer.stats(),
    refused: {},
  }),
  resetLoop: () => (loop.reset(), {}),
  verify: ({ acked }) => {
    const has = db.prepare('SELECT 1 FROM telemetry WHERE device_id = ? AND seq = ?').pluck();
    const missing = acked.filter(([deviceId, seq]) => has.get(deviceId, seq) === undefined);
    const total = db.prepare('SELECT count(*) FROM telemetry').pluck().get();
    return { checked: acked.length, missing: missing.length, firstMissing: missing.slice(0, 5), storedTotal: total };
  },
});

process.on('SIGTERM', async () => {
  io.close();
  await writer.close();
  db.close();
  process.exit(0);
});
let cpuAtListen;
let loopBeforeListen;
const telemetryRows = () => db.prepare('SELECT count(*) FROM telemetry').pluck().get();
const telemetryRowsAtListen = telemetryRows();
httpServer.listen(wantedPort, '127.0.0.1', () => {
  cpuAtListen = cpuSeconds();
  loopBeforeListen = loop.report();
  loop.reset();
  process.send({ type: 'ready', port: httpServer.address().port });
});
// The parent went away (crashed or was killed): do not outlive it.
process.on('disconnect', () => process.exit(0));
