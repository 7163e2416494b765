import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { glob } from 'tinyglobby';

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Turns scan arguments into a sorted list of files: files as given, directories walked
 * recursively, and glob patterns (for shells that did not expand them) through tinyglobby.
 * Missing paths are returned too, so that each becomes an "unreadable" result, not a silent gap.
 */
export async function expandPaths(args: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const arg of args) {
    const info = await stat(arg).catch(() => undefined);
    if (info?.isDirectory()) files.push(...(await walk(arg)));
    else if (!info && GLOB_CHARS.test(arg)) files.push(...(await glob(arg, { onlyFiles: true, dot: false, expandDirectories: false })).sort());
    else files.push(arg);
  }
  return files;
}

async function walk(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await walk(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}
