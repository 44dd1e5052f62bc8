// Prometheus text exposition of the hub's figures: connections, engine and
// realtime counters, refusals by limits, IoT counters, store write path,
// process memory and event-loop delay.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { LabelledCounter } from '../iot/metrics.js';
import type { Socket } from '../realtime/index.js';
import type { HttpDeps } from './deps.js';

/** Escapes a label value per the exposition format. */
function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

class Exposition {
  private readonly lines: string[] = [];

  metric(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, value: number, labels: Record<string, string> = {}): this {
    const entries = Object.entries(labels);
    const l = entries.length ? `{${entries.map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}` : '';
    this.lines.push(`${name}${l} ${Number.isFinite(value) ? value : 0}`);
    return this;
  }

  /** A labelled counter whose keys are label values joined with '|'. */
  labelled(name: string, help: string, labelNames: string[], values: Map<string, number>, type: 'counter' | 'gauge' = 'counter'): this {
    this.metric(name, type, help);
    for (const [key, value] of values) {
      const parts = key.split('|');
      this.sample(name, value, Object.fromEntries(labelNames.map((n, i) => [n, parts[i] ?? ''])));
    }
    return this;
  }

  histogram(name: string, help: string, buckets: Array<[number, number]>, count: number, sum: number): this {
    this.metric(name, 'histogram', help);
    for (const [le, n] of buckets) this.sample(`${name}_bucket`, n, { le: String(le) });
    this.sample(`${name}_bucket`, count, { le: '+Inf' });
    this.sample(`${name}_sum`, sum);
    this.sample(`${name}_count`, count);
    return this;
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}

// One per process: the event loop is the process's. Its timer does not keep the process alive.
let loopDelay: IntervalHistogram | undefined;

/** Starts measuring event-loop delay (idempotent); the first scrape would otherwise have nothing to show. */
export function startEventLoopMonitor(): void {
  if (loopDelay) return;
  loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
}

function eventLoopDelay(out: Exposition): void {
  startEventLoopMonitor();
  const h = loopDelay!;
  const name = 'sitehub_event_loop_delay_seconds';
  out.metric(name, 'gauge', 'Event-loop delay since the previous scrape, by quantile (1 = the largest); 10 ms resolution');
  // The histogram is empty until a first sample: report 0 rather than its NaN / huge sentinels.
  const seconds = (ns: number) => (h.count > 0 && Number.isFinite(ns) ? ns / 1e9 : 0);
  out.sample(name, seconds(h.percentile(50)), { quantile: '0.5' });
  out.sample(name, seconds(h.percentile(99)), { quantile: '0.99' });
  out.sample(name, seconds(h.max), { quantile: '1' });
  h.reset();
}

function processMemory(out: Exposition): void {
  const mem = process.memoryUsage();
  out.metric('sitehub_process_resident_memory_bytes', 'gauge', 'Resident set size').sample('sitehub_process_resident_memory_bytes', mem.rss);
  out.metric('sitehub_process_heap_used_bytes', 'gauge', 'V8 heap in use').sample('sitehub_process_heap_used_bytes', mem.heapUsed);
  out.metric('sitehub_process_heap_total_bytes', 'gauge', 'V8 heap reserved').sample('sitehub_process_heap_total_bytes', mem.heapTotal);
  out.metric('sitehub_process_external_memory_bytes', 'gauge', 'Memory of buffers and other objects outside the V8 heap');
  out.sample('sitehub_process_external_memory_bytes', mem.external + mem.arrayBuffers);
}

/** The /metrics body; `httpRefused` counts REST requests refused by the per-route check, by reason. */
export function renderMetrics({ io, services, store }: HttpDeps, httpRefused: LabelledCounter): string {
  const out = new Exposition();
  // Which node these figures are of: scrape every node, aggregate by this label.
  out.metric('sitehub_node_info', 'gauge', 'This hub node (1), with its id and whether it is one node of a cluster');
  out.sample('sitehub_node_info', 1, { node: services.nodeId, clustered: String(services.clustered) });
  const connections = new Map<string, number>();
  const count = (socket: Socket) => {
    const key = `${socket.nsp.name}|${socket.conn.transport.name}`;
    connections.set(key, (connections.get(key) ?? 0) + 1);
  };
  for (const socket of services.devices.all()) count(socket);
  for (const name of ['/console', '/bridge']) for (const socket of io.of(name).sockets.values()) count(socket);
  out.labelled('sitehub_connections', 'Connected Socket.IO sockets by namespace and transport', ['namespace', 'transport'], connections, 'gauge');
  out.metric('sitehub_engine_clients', 'gauge', 'Open Engine.IO sessions').sample('sitehub_engine_clients', io.engine.clientsCount);
  out.labelled('sitehub_engine_bad_inputs_total', 'Malformed or hostile input refused by the Engine.IO layer, by kind', ['kind'], io.engine.metrics.badInputs);
  out.metric('sitehub_engine_slow_consumers_closed_total', 'counter', 'Sessions closed because their client read too slowly');
  out.sample('sitehub_engine_slow_consumers_closed_total', io.engine.metrics.slowConsumersClosed);
  out.labelled(
    'sitehub_engine_refused_total',
    'Handshakes, connections and requests refused or cut off by a limit, by reason (docs/security.md)',
    ['reason'],
    io.engine.metrics.refused,
  );
  for (const [key, value] of Object.entries(io.metrics.toJSON())) {
    const name = `sitehub_realtime_${key.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}_total`;
    out.metric(name, 'counter', `Socket.IO layer: ${key}`).sample(name, value);
  }
  // A cluster adapter's link: its numeric figures (counters, and `queued` messages waiting for Redis).
  for (const [key, value] of Object.entries(io.adapter()?.health?.() ?? {})) {
    if (typeof value !== 'number' && typeof value !== 'boolean') continue;
    const name = `sitehub_cluster_${key.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}${key === 'queued' || key === 'ok' ? '' : '_total'}`;
    out.metric(name, key === 'queued' || key === 'ok' ? 'gauge' : 'counter', `Cluster adapter: ${key}`).sample(name, Number(value));
  }
  const m = services.metrics;
  out.labelled('sitehub_refused_connections_total', 'Refused namespace CONNECTs by namespace kind and code', ['namespace', 'code'], m.refusedConnections.values);
  out.labelled('sitehub_bad_inputs_total', 'Device and operator input refused by validation, by kind', ['kind'], m.badInputs.values);
  out.labelled('sitehub_events_in_total', 'Events received by namespace kind and event', ['namespace', 'event'], m.eventsIn.values);
  out.labelled('sitehub_events_out_total', 'Events sent by namespace kind and event', ['namespace', 'event'], m.eventsOut.values);
  out.labelled('sitehub_acks_sent_total', 'Acks sent to devices by event and outcome', ['event', 'outcome'], m.acksSent.values);
  out.labelled('sitehub_command_acks_total', 'Command answers from devices by outcome', ['outcome'], m.commandAcks.values);
  out.labelled('sitehub_tls_handshake_failures_total', 'TLS handshakes refused or failed, by error code', ['code'], m.tlsHandshakeFailures.values);
  out.labelled('sitehub_alarms_total', 'Alarm changes by source and step, and alarm webhook deliveries (source webhook)', ['source', 'step'], m.alarms.values);
  out.metric('sitehub_readings_stored_total', 'counter', 'Telemetry readings stored').sample('sitehub_readings_stored_total', m.readingsStored);
  out.metric('sitehub_readings_duplicate_total', 'counter', 'Telemetry readings already stored (same device and seq)');
  out.sample('sitehub_readings_duplicate_total', m.readingsDuplicate);
  const guard = services.authGuard;
  out.labelled('sitehub_http_refused_total', 'REST requests refused by authentication or origin, by reason', ['reason'], httpRefused.values);
  out.labelled('sitehub_auth_failures_total', 'Credentials checked and found wrong, by kind (admin, device, enrollment, bridge)', ['kind'], guard.failures.values);
  out.labelled('sitehub_auth_throttled_total', 'Authentication attempts refused without a check, by kind and reason (throttled, banned)', ['kind', 'reason'], guard.refused.values);
  out.labelled('sitehub_auth_bans_total', 'Bans started, by scope (address, device, pair)', ['scope'], guard.bansTotal.values);
  out.labelled('sitehub_auth_bans_active', 'Bans in force, by scope', ['scope'], guard.activeBans(), 'gauge');
  out.metric('sitehub_auth_tracked', 'gauge', 'Failing addresses, device ids and known-good device addresses remembered').sample('sitehub_auth_tracked', guard.tracked);
  out.metric('sitehub_auth_evictions_total', 'counter', 'Remembered keys forgotten to stay within authTrackedMax').sample('sitehub_auth_evictions_total', guard.evictions);
  const ack = m.telemetryAckMs;
  out.histogram('sitehub_telemetry_ack_ms', 'Telemetry receive-to-ack latency in ms', ack.cumulative(), ack.count, ack.sum);
  const s = store.stats();
  out.histogram('sitehub_store_commit_ms', 'Group commit transaction latency in ms', s.commitMsBuckets, s.commits, s.commitMsSum);
  out.metric('sitehub_store_queue_depth', 'gauge', 'Writes waiting for the next group commit').sample('sitehub_store_queue_depth', s.queueDepth);
  out.metric('sitehub_store_jobs_total', 'counter', 'Writes committed').sample('sitehub_store_jobs_total', s.jobs);
  out.metric('sitehub_store_failed_jobs_total', 'counter', 'Writes that failed').sample('sitehub_store_failed_jobs_total', s.failedJobs);
  processMemory(out);
  eventLoopDelay(out);
  return out.toString();
}
