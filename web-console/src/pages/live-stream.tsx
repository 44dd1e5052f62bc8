// Every live message, newest first: filter by kind and text, pause. At most
// RATE_CAP messages per second enter the list (the rest are counted as
// skipped) and the DOM holds at most MAX_ROWS, so a busy hub cannot freeze
// the page.
import { useRef, useState } from 'preact/hooks';
import { short, time } from '../format';
import { useLiveBatches } from '../hooks';
import { LIVE_KINDS, type LiveKind } from '../live';

const RATE_CAP = 50;
const MAX_ROWS = 300;

interface Row {
  n: number;
  at: number;
  kind: LiveKind;
  deviceId: string;
  text: string;
}

function describe(kind: LiveKind, msg: any): string {
  switch (kind) {
    case 'presence':
      return `${msg.online ? 'online' : 'offline'}${msg.transport ? ' via ' + msg.transport : ''}${msg.reason ? ' (' + msg.reason + ')' : ''}`;
    case 'telemetry':
      return `${msg.readings.length} reading(s) ${short(msg.readings[msg.readings.length - 1]?.values, 100)}`;
    case 'state':
      return short(msg.changed ?? msg.attrs, 120);
    case 'event':
      return `${msg.severity} ${msg.kind}: ${msg.message}`;
    case 'command':
      return `${msg.name} ${msg.status}${msg.error ? ': ' + msg.error : ''}`;
    case 'file':
      return `${msg.name} ${msg.status} ${msg.confirmed}/${msg.chunks}${msg.error ? ': ' + msg.error : ''}`;
    case 'upload':
      return `${msg.kind} ${msg.name} (${msg.size} bytes)`;
    case 'twin':
      return `${msg.change?.side} v${msg.change?.version} ${short(msg.change?.patch, 100)}`;
    case 'alarm':
      return `${msg.severity} alarm ${msg.state}: ${msg.message}`;
  }
}

export function LiveStreamPage() {
  const [rows, setRows] = useState<Row[]>([]);
  const [paused, setPaused] = useState(false);
  const [kinds, setKinds] = useState<Set<LiveKind>>(new Set(LIVE_KINDS));
  const [text, setText] = useState('');
  const [skipped, setSkipped] = useState(0);
  const counter = useRef(0);
  const budget = useRef({ second: 0, used: 0 });

  useLiveBatches(LIVE_KINDS, (batch) => {
    if (paused) return void setSkipped((s) => s + batch.length);
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (budget.current.second !== second) budget.current = { second, used: 0 };
    const needle = text.trim().toLowerCase();
    const fresh: Row[] = [];
    let dropped = 0;
    for (const { kind, msg } of batch) {
      if (!kinds.has(kind)) continue;
      const row = { n: ++counter.current, at: now, kind, deviceId: String(msg.deviceId ?? ''), text: describe(kind, msg) };
      if (needle && !row.deviceId.toLowerCase().includes(needle) && !row.text.toLowerCase().includes(needle)) continue;
      if (budget.current.used >= RATE_CAP) {
        dropped++;
        continue;
      }
      budget.current.used++;
      fresh.push(row);
    }
    if (dropped) setSkipped((s) => s + dropped);
    if (fresh.length) setRows((old) => [...fresh.reverse(), ...old].slice(0, MAX_ROWS));
  });

  const toggle = (k: LiveKind) => {
    const next = new Set(kinds);
    if (next.has(k)) next.delete(k);
    else next.add(k);
    setKinds(next);
  };

  return (
    <section aria-labelledby="live-title">
      <h1 id="live-title">Live stream</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <fieldset>
          <legend>Kinds</legend>
          {LIVE_KINDS.map((k) => (
            <label class="check"><input type="checkbox" checked={kinds.has(k)} onChange={() => toggle(k)} /> {k}</label>
          ))}
        </fieldset>
        <label>Filter <input type="search" placeholder="device or text" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} /></label>
        <button type="button" onClick={() => setPaused(!paused)} aria-pressed={paused}>{paused ? 'Resume' : 'Pause'}</button>
        <button type="button" class="secondary" onClick={() => { setRows([]); setSkipped(0); }}>Clear</button>
      </form>
      <p class="muted" aria-live="polite">{paused ? 'Paused. ' : ''}{skipped > 0 ? `${skipped} message(s) not shown (paused or over ${RATE_CAP}/s).` : `At most ${RATE_CAP} messages/s are shown.`}</p>
      <div class="table-wrap">
        <table class="stream">
          <thead><tr><th scope="col">time</th><th scope="col">kind</th><th scope="col">device</th><th scope="col">what</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.n} data-kind={r.kind}><td>{time(r.at)}</td><td><span class={`badge kind-${r.kind}`}>{r.kind}</span></td><td>{r.deviceId}</td><td class="wrap">{r.text}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
