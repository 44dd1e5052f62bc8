#!/usr/bin/env node
// Builds the browser bundles of the client into device-client/dist/browser/:
//   socket.io.js          IIFE defining the global `io`, readable, for debugging, with a source map
//   socket.io.min.js      the same, minified (esbuild, then terser), with a source map
//   socket.io.esm.min.js  ES module, minified the same way, with a source map
// The file names are socket.io's, so that pages written for socket.io load
// ours unchanged from the hub's `/socket.io/` path. `ws` and Node built-ins
// never enter a bundle: the Node-only code (node:http polling, `ws`, the
// cookie jar) sits behind the platform switch in package.json's "browser"
// field, which esbuild follows for platform 'browser'; a bundle that pulls
// either in fails the build.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { minify } from 'terser';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(packageDir, '..');
/** Where `npm run build` puts the bundle; @sitehub/device-client/browser/* resolves here. */
export const BROWSER_DIST = join(packageDir, 'dist', 'browser');

const common = {
  bundle: true,
  platform: 'browser',
  target: ['es2023'],
  // Sources, not the compiled dist, so the maps point at the TypeScript.
  alias: { '@sitehub/protocol': join(repoRoot, 'protocol/src/index.ts') },
  legalComments: 'none',
  drop: ['debugger'],
  metafile: true,
  write: false,
  logLevel: 'warning',
};

/**
 * Minified variants only: internal members are named `_x` (public API and
 * wire fields never are), so the minifier may shorten them. Reserved: the
 * codec's `_placeholder`, a wire field, and `ws`'s `_socket`.
 */
const shortenInternals = { mangleProps: /^_/, reserveProps: /^(_placeholder|_socket)$/, mangleQuoted: false };

/**
 * A second pass over esbuild's minified output: terser's compressor folds
 * more (repeated passes, inlining of single-use functions, shorter
 * conditionals) and takes about 3% off the gzipped bundle. esbuild stays
 * first because it bundles, follows the browser field and shortens the
 * internal property names; terser keeps those names (no property mangling
 * here) and chains its source map onto esbuild's.
 */
async function compress(code, map, file, format) {
  const result = await minify(code, {
    ecma: 2020,
    module: format === 'esm',
    compress: { passes: 2 },
    mangle: true,
    format: { comments: false },
    sourceMap: { content: map, filename: file, url: `${file}.map`, includeSources: true },
  });
  return { code: result.code, map: result.map };
}

const variants = [
  { file: 'socket.io.js', entry: 'browser-entry.ts', format: 'iife', minify: false, sourcemap: 'linked' },
  { file: 'socket.io.min.js', entry: 'browser-entry.ts', format: 'iife', minify: true, sourcemap: 'linked' },
  { file: 'socket.io.esm.min.js', entry: 'browser-esm-entry.ts', format: 'esm', minify: true, sourcemap: 'linked' },
];

/** Refuses a bundle that pulled in `ws` or a Node built-in. */
function checkBrowserOnly(file, metafile, text) {
  const nodeOnly = Object.keys(metafile.inputs).filter((p) => p.includes('node_modules/ws/') || p.startsWith('node:'));
  if (nodeOnly.length) throw new Error(`${file} includes Node-only modules: ${nodeOnly.join(', ')}`);
  if (/require\(["']|from\s*["'](node:|ws["'])|import\(["']/.test(text)) throw new Error(`${file} requires or imports a module at run time`);
}

/** Builds every variant into outDir; returns [{ file, bytes }]. */
export async function buildBrowserBundles({ outDir = BROWSER_DIST, metafileOut } = {}) {
  await mkdir(outDir, { recursive: true });
  const written = [];
  for (const variant of variants) {
    const outfile = join(outDir, variant.file);
    const result = await build({
      ...common,
      entryPoints: [join(packageDir, 'scripts', variant.entry)],
      format: variant.format,
      minify: variant.minify,
      ...(variant.minify ? shortenInternals : {}),
      sourcemap: variant.sourcemap,
      outfile,
    });
    let code = result.outputFiles.find((f) => f.path === outfile).text;
    const mapFile = result.outputFiles.find((f) => f.path === `${outfile}.map`);
    let map = mapFile?.text;
    if (variant.minify) ({ code, map } = await compress(code, map, variant.file, variant.format));
    checkBrowserOnly(variant.file, result.metafile, code);
    const outputs = [[outfile, code]];
    if (map !== undefined) outputs.push([`${outfile}.map`, map]);
    for (const [path, contents] of outputs) {
      await writeFile(path, contents);
      written.push({ file: relative(outDir, path), bytes: Buffer.byteLength(contents) });
    }
    if (metafileOut && variant.file === 'socket.io.min.js') await writeFile(metafileOut, JSON.stringify(result.metafile));
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // --metafile: also write the minified IIFE's inputs, for `esbuild --analyze`-style reading.
  const metafileOut = process.argv.includes('--metafile') ? join(BROWSER_DIST, 'meta.json') : undefined;
  const written = await buildBrowserBundles({ metafileOut });
  for (const { file, bytes } of written) console.log(`device-client/dist/browser/${file}  ${bytes} bytes`);
}
