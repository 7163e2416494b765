import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import { separateImageParts, type ImagePart } from './image-parts.js';

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Turns scan arguments into a sorted list of files: files and URLs as given, directories walked
 * recursively, and glob patterns (for shells that did not expand them) through tinyglobby.
 * Missing paths are returned too, so that each becomes an "unreadable" result, not a silent gap.
 * `named` holds the files given outright (not found by a walk or a pattern).
 * What a walk or a pattern finds that is part of another image (a VMDK extent beside its
 * descriptor, an undo journal) is left out and listed in `parts`; a file named outright never is.
 */
export async function expandPaths(args: readonly string[]): Promise<{ files: string[]; named: Set<string>; parts: ImagePart[]; skipped: SkippedEntry[] }> {
  const files: string[] = [];
  const named = new Set<string>();
  const parts: ImagePart[] = [];
  const skipped: SkippedEntry[] = [];
  for (const arg of args) {
    // A URL is an image named outright: never a file to stat, nor a glob (a SAS token holds `?`).
    if (/^https?:\/\//i.test(arg)) {
      files.push(arg);
      named.add(arg);
      continue;
    }
    const info = await stat(arg).catch(() => undefined);
    let found: string[] | undefined;
    if (info?.isDirectory()) found = await walk(arg, skipped);
    else if (!info && GLOB_CHARS.test(arg)) found = (await glob(arg, { onlyFiles: true, dot: false, expandDirectories: false })).sort();
    if (!found) {
      files.push(arg);
      named.add(arg);
      continue;
    }
    const separated = await separateImageParts(found);
    files.push(...separated.images);
    parts.push(...separated.parts);
  }
  return { files, named, parts, skipped };
}

/** A directory entry a walk passed over, and why: it is said in the summary, never silently dropped. */
export interface SkippedEntry {
  path: string;
  why: string;
}

/**
 * Regular files below `dir`, and links to regular files. Links to directories are not followed
 * (a link loop would never end); FIFOs, sockets and devices are not images (opening a FIFO blocks).
 */
async function walk(dir: string, skipped: SkippedEntry[]): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await walk(path, skipped)));
    else if (entry.isFile()) found.push(path);
    else if (entry.isSymbolicLink()) {
      const target = await stat(path).catch((err: NodeJS.ErrnoException) => err.code ?? 'EIO');
      if (typeof target === 'string') skipped.push({ path, why: target === 'ELOOP' ? 'a symbolic link loop' : 'a dangling symbolic link' });
      else if (target.isFile()) found.push(path);
      else skipped.push({ path, why: target.isDirectory() ? 'a link to a directory (not followed)' : 'a link to something that is not a file' });
    } else {
      skipped.push({ path, why: entry.isFIFO() ? 'a FIFO (named pipe)' : entry.isSocket() ? 'a socket' : 'a device (name it to scan it)' });
    }
  }
  return found;
}
