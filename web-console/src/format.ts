// Display helpers.

/** "12 s ago", "3 min ago", or a date for older times. */
export function ago(ts: number | null | undefined, now = Date.now()): string {
  if (!ts) return 'never';
  const s = Math.max(0, Math.round((now - ts) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(ts).toLocaleString();
}

export function time(ts: number): string {
  return new Date(ts).toLocaleTimeString();
}

/** JSON on one line, cut to `max` characters. */
export function short(value: unknown, max = 120): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined) return '';
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

export function rate(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}
