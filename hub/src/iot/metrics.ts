// Counters the IoT services keep; /metrics renders them for Prometheus.

/** A counter keyed by a label value (or a few, joined with '|'). */
export class LabelledCounter {
  readonly values = new Map<string, number>();

  /** Adds `n` to `label`. */
  inc(label: string, n = 1): void {
    this.values.set(label, (this.values.get(label) ?? 0) + n);
  }

  get(label: string): number {
    return this.values.get(label) ?? 0;
  }
}

/** The IoT layer's counters; they only grow. */
export class IotMetrics {
  /** Refused CONNECTs by namespace kind and code: `device|invalid_credentials`. */
  readonly refusedConnections = new LabelledCounter();
  /** Device or operator input refused by validation, by kind (`telemetry_seq`, `telemetry_ts`, …). */
  readonly badInputs = new LabelledCounter();
  /** Events received, by namespace kind and event: `device|telemetry`. */
  readonly eventsIn = new LabelledCounter();
  /** Events sent, by namespace kind and event: `console|telemetry`, `device|command`. */
  readonly eventsOut = new LabelledCounter();
  /** Acks the hub sent, by event and outcome: `telemetry|ok`, `telemetry|error`. */
  readonly acksSent = new LabelledCounter();
  /** Command acks from devices by outcome: `ok`, `error`, `timeout`. */
  readonly commandAcks = new LabelledCounter();
  /** TLS handshakes that failed, by Node/OpenSSL error code (no client certificate, clear HTTP on the TLS port, …). */
  readonly tlsHandshakeFailures = new LabelledCounter();
  /** Alarm changes by source and step (`rule|raised`, `device|cleared`, `person|acknowledged`) and webhook outcomes (`webhook|sent`, `webhook|retried`, `webhook|dropped`). */
  readonly alarms = new LabelledCounter();
  /** Readings stored and readings that were duplicates. */
  readingsStored = 0;
  readingsDuplicate = 0;
  /** Ack latency of telemetry (receive to ack), histogram in ms. */
  readonly telemetryAckMs = new Histogram([1, 2.5, 5, 10, 25, 50, 100, 250, 1000]);
}

/** A cumulative histogram with fixed bounds. */
export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const i = this.bounds.findIndex((b) => value <= b);
    if (i !== -1) this.counts[i]!++;
  }

  /** [bound, cumulative count] pairs. */
  cumulative(): Array<[number, number]> {
    let total = 0;
    return this.bounds.map((b, i) => [b, (total += this.counts[i]!)]);
  }
}
