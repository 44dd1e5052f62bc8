// Overview: sites by device class with online/total counts, the live message
// rate, and the latest alarms (from the store, then live).
import { useEffect, useState } from 'preact/hooks';
import { api, type Alarm } from '../api';
import { useDevices } from '../device-store';
import { ago, rate } from '../format';
import { useLiveBatches } from '../hooks';
import { live, LIVE_KINDS } from '../live';
import { linkClick } from '../router';

const MAX_ALARMS = 12;

// The newest alarms: what the store holds (fetched when the overview opens),
// and what arrives live from then on, whichever page is open. A live change
// of an alarm (acknowledged, cleared) replaces the one listed.
let recentAlarms: Alarm[] = [];
function addAlarms(alarms: Alarm[], newer: boolean): void {
  const byId = new Map(recentAlarms.map((a) => [a.id, a]));
  for (const a of alarms) {
    const old = byId.get(a.id);
    if (!old || newer || old.updatedAt <= a.updatedAt) byId.set(a.id, a);
  }
  recentAlarms = [...byId.values()].sort((a, b) => b.ts - a.ts || b.id - a.id).slice(0, MAX_ALARMS);
}
live.on('alarm', (a) => addAlarms([a], true));

/** Messages per second over the last few seconds, from the live counters. */
function useMessageRate(): number {
  const [perSec, setPerSec] = useState(0);
  useEffect(() => {
    const total = () => LIVE_KINDS.reduce((n, k) => n + live.counts[k], 0);
    let last = total();
    let lastAt = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      const t = total();
      setPerSec(((t - last) * 1000) / (now - lastAt));
      last = t;
      lastAt = now;
    }, 2000);
    return () => clearInterval(timer);
  }, []);
  return perSec;
}

export function OverviewPage() {
  const store = useDevices();
  const perSec = useMessageRate();
  const [alarms, setAlarms] = useState<Alarm[]>(recentAlarms);
  useLiveBatches(['alarm'], () => setAlarms(recentAlarms));
  useEffect(() => {
    api<{ items: Alarm[] }>(`/api/alarms?limit=${MAX_ALARMS}`).then(
      (r) => {
        addAlarms(r.items, false);
        setAlarms(recentAlarms);
      },
      () => {},
    );
  }, []);

  const grid = new Map<string, Map<string, { online: number; total: number }>>();
  const classes = new Set<string>();
  let online = 0;
  for (const d of store.byId.values()) {
    classes.add(d.classId);
    const site = grid.get(d.siteId) ?? new Map();
    grid.set(d.siteId, site);
    const cell = site.get(d.classId) ?? { online: 0, total: 0 };
    site.set(d.classId, cell);
    cell.total++;
    if (d.online) {
      cell.online++;
      online++;
    }
  }
  const classList = [...classes].sort();
  const sites = [...grid.keys()].sort();

  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <div class="stats">
        <div class="stat"><span class="big" data-testid="online-count">{online}</span> of {store.byId.size} devices online</div>
        <div class="stat"><span class="big" data-testid="message-rate">{rate(perSec)}</span> messages/s</div>
        <div class="stat"><span class="big">{sites.length}</span> sites</div>
      </div>
      {!store.loaded && !store.error && <p class="muted">Loading devices…</p>}
      {store.error && <p class="error" role="alert">{store.error}</p>}
      {store.loaded && sites.length === 0 && <p class="muted">No devices yet: use “Register device”.</p>}
      <div class="site-grid">
        {sites.map((siteId) => (
          <article class="card site" aria-label={`site ${siteId}`}>
            <h2><a href={`/devices?site=${encodeURIComponent(siteId)}`} onClick={linkClick}>{siteId}</a></h2>
            <table>
              <thead><tr><th scope="col">class</th><th scope="col">online</th><th scope="col">total</th></tr></thead>
              <tbody>
                {classList.filter((c) => grid.get(siteId)!.has(c)).map((c) => {
                  const cell = grid.get(siteId)!.get(c)!;
                  return (
                    <tr>
                      <th scope="row"><a href={`/devices?site=${encodeURIComponent(siteId)}&class=${encodeURIComponent(c)}`} onClick={linkClick}>{c}</a></th>
                      <td class={cell.online ? 'ok' : 'muted'}>{cell.online}</td>
                      <td>{cell.total}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </article>
        ))}
      </div>
      <h2>Latest alarms</h2>
      {alarms.length === 0 ? (
        <p class="muted">No alarms.</p>
      ) : (
        <ul class="alarms" aria-live="polite">
          {alarms.map((a) => (
            <li class={`sev-${a.severity}`}>
              <span class="badge">{a.severity}</span>{' '}
              <a href={`/devices/${encodeURIComponent(a.deviceId)}`} onClick={linkClick}>{a.deviceId}</a> {a.message} <span class="muted">{a.state} · {ago(a.ts)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
