// A linear pre-check of how deeply a JSON text nests, run before JSON.parse on
// large messages. V8 parses a megabyte of `[[[[…` in hundreds of
// milliseconds (it builds half a million arrays), and every other client
// waits meanwhile; counting brackets costs about a millisecond per megabyte
// and stops at the first one too deep.

const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** True when `text` opens more than `maxDepth` arrays or objects inside one another (strings are skipped). */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  // A text cannot nest deeper than it has characters.
  if (text.length <= maxDepth) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}
