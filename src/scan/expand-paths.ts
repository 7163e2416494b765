import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import { separateImageParts, type ImagePart } from './image-parts.js';

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Turns scan arguments into a sorted list of files: files as given, directories walked
 * recursively, and glob patterns (for shells that did not expand them) through tinyglobby.
 * Missing paths are returned too, so that each becomes an "unreadable" result, not a silent gap.
 * What a walk or a pattern finds that is part of another image (a VMDK extent beside its
 * descriptor, an undo journal) is left out and listed in `parts`; a file named outright never is.
 */
export async function expandPaths(args: readonly string[]): Promise<{ files: string[]; parts: ImagePart[] }> {
  const files: string[] = [];
  const parts: ImagePart[] = [];
  for (const arg of args) {
    const info = await stat(arg).catch(() => undefined);
    let found: string[] | undefined;
    if (info?.isDirectory()) found = await walk(arg);
    else if (!info && GLOB_CHARS.test(arg)) found = (await glob(arg, { onlyFiles: true, dot: false, expandDirectories: false })).sort();
    if (!found) {
      files.push(arg);
      continue;
    }
    const separated = await separateImageParts(found);
    files.push(...separated.images);
    parts.push(...separated.parts);
  }
  return { files, parts };
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
