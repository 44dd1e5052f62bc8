// Alarm rules: the list, and (admins) a form to create one and a button to
// delete one. The hub validates the rule; its refusal is shown as given.
import { useEffect, useState } from 'preact/hooks';
import { api, can, type Rule } from '../api';

const CONDITIONS = ['above', 'below', 'outside', 'rate', 'silence'] as const;

function describe(r: Rule): string {
  const on = `${r.scope.kind} ${r.scope.id}`;
  switch (r.condition) {
    case 'above':
    case 'below':
      return `${r.metric} ${r.condition} ${r.threshold} (hysteresis ${r.hysteresis}, hold ${r.holdMs} ms) on ${on}`;
    case 'outside':
      return `${r.metric} outside ${r.low}..${r.high} (hysteresis ${r.hysteresis}, hold ${r.holdMs} ms) on ${on}`;
    case 'rate':
      return `${r.metric} changing faster than ${r.threshold}/s on ${on}`;
    case 'silence':
      return `no reading${r.metric ? ` of ${r.metric}` : ''} for ${r.silenceMs} ms on ${on}`;
  }
}

export function RulesPage() {
  const [rules, setRules] = useState<Rule[] | undefined>();
  const [error, setError] = useState('');
  const [form, setForm] = useState({ name: '', scopeKind: 'class', scopeId: '', metric: '', condition: 'above', threshold: '', low: '', high: '', hysteresis: '0', holdMs: '0', silenceMs: '60000', severity: 'warning' });
  const load = () => api<{ items: Rule[] }>('/api/rules').then((r) => setRules(r.items), (err) => setError((err as Error).message));
  useEffect(() => void load(), []);
  const field = (key: keyof typeof form) => ({
    value: form[key],
    onInput: (e: Event) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value }),
  });
  const num = (v: string) => (v.trim() === '' ? null : Number(v));

  const create = async (e: Event) => {
    e.preventDefault();
    setError('');
    const c = form.condition;
    const body: Record<string, unknown> = {
      name: form.name,
      scope: { kind: form.scopeKind, id: form.scopeId },
      condition: c,
      severity: form.severity,
      hysteresis: num(form.hysteresis) ?? 0,
      holdMs: num(form.holdMs) ?? 0,
      metric: form.metric.trim() || null,
    };
    if (c === 'outside') Object.assign(body, { low: num(form.low), high: num(form.high) });
    else if (c === 'silence') body.silenceMs = num(form.silenceMs);
    else body.threshold = num(form.threshold);
    try {
      await api('/api/rules', { method: 'POST', body });
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const remove = async (r: Rule) => {
    try {
      await api(`/api/rules/${encodeURIComponent(r.id)}`, { method: 'DELETE' });
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <section aria-labelledby="rules-title">
      <h1 id="rules-title">Alarm rules</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {rules && rules.length === 0 && <p class="muted">No rules yet.</p>}
      {rules && rules.length > 0 && (
        <ul class="rules">
          {rules.map((r) => (
            <li data-rule-id={r.id}>
              <span class="badge">{r.severity}</span> <strong>{r.name}</strong> <span class="muted">{describe(r)}{r.enabled ? '' : ' (disabled)'}</span>{' '}
              {can('admin') && <button type="button" class="secondary" onClick={() => void remove(r)}>Delete</button>}
            </li>
          ))}
        </ul>
      )}
      {can('admin') && (
        <form class="card rule-form" onSubmit={create} aria-labelledby="new-rule-title">
          <h2 id="new-rule-title">New rule</h2>
          <label for="rule-name">Name</label>
          <input id="rule-name" required {...field('name')} />
          <label for="rule-scope-kind">Applies to</label>
          <select id="rule-scope-kind" value={form.scopeKind} onChange={(e) => setForm({ ...form, scopeKind: (e.target as HTMLSelectElement).value })}>
            <option value="class">class</option>
            <option value="site">site</option>
            <option value="device">device</option>
          </select>
          <label for="rule-scope-id">Class, site or device id</label>
          <input id="rule-scope-id" required {...field('scopeId')} />
          <label for="rule-metric">Metric</label>
          <input id="rule-metric" {...field('metric')} />
          <label for="rule-condition">Condition</label>
          <select id="rule-condition" value={form.condition} onChange={(e) => setForm({ ...form, condition: (e.target as HTMLSelectElement).value })}>
            {CONDITIONS.map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
          {form.condition === 'outside' ? (
            <>
              <label for="rule-low">Low</label>
              <input id="rule-low" type="number" step="any" {...field('low')} />
              <label for="rule-high">High</label>
              <input id="rule-high" type="number" step="any" {...field('high')} />
            </>
          ) : form.condition === 'silence' ? (
            <>
              <label for="rule-silence">Silence (ms)</label>
              <input id="rule-silence" type="number" min="1000" {...field('silenceMs')} />
            </>
          ) : (
            <>
              <label for="rule-threshold">{form.condition === 'rate' ? 'Largest change per second' : 'Threshold'}</label>
              <input id="rule-threshold" type="number" step="any" {...field('threshold')} />
            </>
          )}
          <label for="rule-hysteresis">Hysteresis</label>
          <input id="rule-hysteresis" type="number" step="any" min="0" {...field('hysteresis')} />
          <label for="rule-hold">Hold time (ms)</label>
          <input id="rule-hold" type="number" min="0" {...field('holdMs')} />
          <label for="rule-severity">Severity</label>
          <select id="rule-severity" value={form.severity} onChange={(e) => setForm({ ...form, severity: (e.target as HTMLSelectElement).value })}>
            {['info', 'warning', 'error', 'critical'].map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
          <button type="submit">Create rule</button>
        </form>
      )}
    </section>
  );
}
