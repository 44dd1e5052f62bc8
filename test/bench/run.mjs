// `npm run bench`: every benchmark, each comparing sitehub with its reference
// in the same run. `npm run bench -- engine` runs only the ones named.
const benches = {
  engine: () => import('./engine-broadcast.mjs'),
  socketio: () => import('./socketio-broadcast.mjs'),
  footprint: () => import('./client-footprint.mjs'),
  ingest: () => import('./ingest.mjs'),
  agent: () => import('./agent-footprint.mjs'),
  bridge: () => import('./bridge.mjs'),
  abuse: () => import('./abuse.mjs'),
  cluster: () => import('./cluster.mjs'),
  files: () => import('./files.mjs'),
  scale: () => import('./scale.mjs'),
  'cluster-bridge': () => import('./cluster-bridge.mjs'),
  capacity: () => import('./capacity.mjs'),
};

const selected = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = selected.length ? selected : Object.keys(benches);
const os = await import('node:os');
console.log(`# sitehub benchmarks — ${new Date().toISOString()}`);
console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
for (const name of names) {
  if (!benches[name]) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  const mod = await benches[name]();
  await mod.run();
}
