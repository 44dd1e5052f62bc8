// JSONP polling, for clients that can only load scripts: GET answers a
// script that hands the payload to `___eio[j]`, POST carries the payload as
// the `d` field of a urlencoded form.
import type { PollingFraming } from './polling.js';

/** The framing for a session opened with `?j=<index>`. */
export function jsonpFraming(j: string): PollingFraming {
  // Only digits reach the script: the index is echoed into executable code.
  const index = j.replace(/[^0-9]/g, '');
  return {
    contentType: 'text/javascript; charset=UTF-8',
    wrap: (payload) => `___eio[${index}](${toScriptString(payload)});`,
    unwrap: (body) => {
      const d = new URLSearchParams(body).get('d');
      return d === null ? null : unescapeNewlines(d);
    },
  };
}

/**
 * A JavaScript string literal for `text`. JSON is almost a JavaScript
 * subset; U+2028 and U+2029 are the exceptions and must be escaped.
 */
export function toScriptString(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * JSONP clients send a newline as the two characters `\n`, and a literal
 * backslash-n as `\\n`; turn both back into what was meant.
 */
export function unescapeNewlines(data: string): string {
  return data.replace(/\\\\n|\\n/g, (match) => (match.length === 3 ? '\\n' : '\n'));
}
