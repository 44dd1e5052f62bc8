// What building a native module from source needs, and which of it is
// missing: named when an install fails, instead of leaving the reader with
// node-gyp's log.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const TOOLS = [
  ['python3', ['python3']],
  ['make', ['make']],
  ['a C++ compiler (g++ or clang++)', ['g++', 'c++', 'clang++']],
];

/** The tools of a native build that are not on `path`. */
export function missingTools(path = process.env.PATH ?? '') {
  const onPath = (bin) => path.split(delimiter).some((d) => d && existsSync(join(d, bin)));
  return TOOLS.filter(([, bins]) => !bins.some(onPath)).map(([name]) => name);
}

/** The explanation printed when `npm ci` failed. */
export function installFailureMessage(path = process.env.PATH ?? '') {
  const missing = missingTools(path);
  const where = `Node ${process.version} on ${process.platform}-${process.arch}`;
  if (missing.length === 0) return `[sitehub] npm ci failed. python3, make and a C++ compiler are all on PATH; see npm's log above for the cause.`;
  return (
    `[sitehub] npm ci failed.\n` +
    `[sitehub] The native modules (better-sqlite3, serialport) use a prebuilt binary when one exists for ${where} and can be downloaded;\n` +
    `[sitehub] otherwise npm builds them from source, which needs python3, make and a C++ compiler. Missing here: ${missing.join(', ')}.\n` +
    `[sitehub] On Debian, Ubuntu or Raspberry Pi OS: sudo apt-get install python3 make g++   then run this command again.`
  );
}
