// Finds the code blocks of README.md and docs/*.md that a reader is meant to
// run: fenced blocks whose info string carries `run=<id>` after the language,
// e.g. ```` ```sh run=readme-register ````. GitHub shows only the language;
// the id ties the block to its check in snippets.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One runnable block. */
export interface Snippet {
  id: string;
  lang: string;
  code: string;
  /** Repository-relative path of the Markdown file. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
}

const FENCE = /^(`{3,}|~{3,})\s*([\w+-]*)(.*)$/;

/** Every `run=` block in `markdown`, in document order. */
export function runnableBlocks(markdown: string, file: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, fence, lang, info] = open;
    const end = lines.findIndex((l, j) => j > i && l.startsWith(fence!) && l.trim() === fence);
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code block`);
    const id = /(?:^|\s)run=([\w-]+)/.exec(info!)?.[1];
    if (id) out.push({ id, lang: lang!, code: lines.slice(i + 1, end).join('\n') + '\n', file, line: i + 1 });
    i = end;
  }
  return out;
}

/** README.md and every docs/*.md of the repository at `root`. */
export function markdownFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f));
  return [join(root, 'README.md'), ...docs].map((f) => relative(root, f));
}

/** Every runnable block of the repository's documentation. */
export function allSnippets(root: string): Snippet[] {
  return markdownFiles(root).flatMap((file) => runnableBlocks(readFileSync(join(root, file), 'utf8'), file));
}
