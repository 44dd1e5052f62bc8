// Sends a command to a device over /console and shows each command's
// progress (pending -> sent -> acked/failed/expired) and its result.
import { useEffect, useState } from 'preact/hooks';
import { api, type Command } from '../api';
import { ago, short } from '../format';
import { useLiveBatches } from '../hooks';
import { live } from '../live';

const MAX_SHOWN = 10;

export function CommandForm({ deviceId }: { deviceId: string }) {
  const [name, setName] = useState('ping');
  const [params, setParams] = useState('{}');
  const [error, setError] = useState('');
  const [commands, setCommands] = useState<Command[]>([]);
  const upsert = (list: Command[], c: Command) => {
    const i = list.findIndex((x) => x.id === c.id);
    if (i < 0) return [c, ...list].slice(0, MAX_SHOWN);
    if (list[i]!.updatedAt > c.updatedAt) return list;
    const copy = list.slice();
    copy[i] = c;
    return copy;
  };
  useEffect(() => {
    api<{ items: Command[] }>(`/api/commands?deviceId=${encodeURIComponent(deviceId)}&limit=${MAX_SHOWN}`).then(
      ({ items }) => setCommands((old) => items.reduce(upsert, old)),
      () => {},
    );
  }, [deviceId]);
  useLiveBatches(['command'], (batch) => {
    const mine = batch.map((b) => b.msg as Command).filter((c) => c.deviceId === deviceId);
    if (mine.length) setCommands((old) => mine.reduce(upsert, old));
  });

  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    let parsed: unknown;
    try {
      parsed = params.trim() ? JSON.parse(params) : undefined;
    } catch {
      return setError('Parameters must be JSON, e.g. {"celsius": 21}.');
    }
    try {
      const created = await live.command(deviceId, name.trim(), parsed);
      setCommands((old) => upsert(old, created));
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <div>
      <form class="command-form" onSubmit={submit} aria-label="Send a command">
        <label>
          Command
          <input name="command" required maxLength={64} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Parameters (JSON)
          <textarea name="params" rows={2} value={params} onInput={(e) => setParams((e.target as HTMLTextAreaElement).value)} />
        </label>
        <button type="submit">Send</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <ul class="commands" aria-live="polite">
        {commands.map((c) => (
          <li data-command={c.id} data-status={c.status}>
            <span class={`badge cmd-${c.status}`}>{c.status}</span> <code>{c.name}</code> <span class="muted">{short(c.params, 60)}</span>
            <span class="muted"> · attempt {c.attempts} · {ago(c.updatedAt)}</span>
            {c.status === 'acked' && <div class="result">result: <code>{short(c.result ?? null, 300)}</code></div>}
            {(c.status === 'failed' || c.status === 'expired') && c.error && <div class="result error">error: {c.error}</div>}
          </li>
        ))}
      </ul>
    </div>
  );
}
