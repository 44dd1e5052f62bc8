// Prometheus text exposition of the hub's figures: connections, engine and
// realtime counters, IoT counters, store write path.
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

/** The /metrics body. */
export function renderMetrics({ io, services, store }: HttpDeps): string {
  const out = new Exposition();
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
  out.metric('sitehub_readings_stored_total', 'counter', 'Telemetry readings stored').sample('sitehub_readings_stored_total', m.readingsStored);
  out.metric('sitehub_readings_duplicate_total', 'counter', 'Telemetry readings already stored (same device and seq)');
  out.sample('sitehub_readings_duplicate_total', m.readingsDuplicate);
  const ack = m.telemetryAckMs;
  out.histogram('sitehub_telemetry_ack_ms', 'Telemetry receive-to-ack latency in ms', ack.cumulative(), ack.count, ack.sum);
  const s = store.stats();
  out.histogram('sitehub_store_commit_ms', 'Group commit transaction latency in ms', s.commitMsBuckets, s.commits, s.commitMsSum);
  out.metric('sitehub_store_queue_depth', 'gauge', 'Writes waiting for the next group commit').sample('sitehub_store_queue_depth', s.queueDepth);
  out.metric('sitehub_store_jobs_total', 'counter', 'Writes committed').sample('sitehub_store_jobs_total', s.jobs);
  out.metric('sitehub_store_failed_jobs_total', 'counter', 'Writes that failed').sample('sitehub_store_failed_jobs_total', s.failedJobs);
  return out.toString();
}
