import { basename, dirname, join, posix, win32 } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BlockSource } from './block-source.js';

/**
 * What differencing VHD and VHDX share: finding the parent from the paths the child stores,
 * and reading a block whose sectors live partly in the child and partly in the parent.
 */

/** Opens a parent from the paths a child stores; open.ts supplies it (with --parent, loop and depth checks). */
export type ParentOpener = (storedPaths: readonly string[]) => Promise<BlockSource>;

/**
 * Turns the parent paths a child stores (Windows-style, relative to the child, or absolute on
 * the machine that made it, or file:// URLs from a Mac) into paths to try here: a relative path
 * is resolved against the child's directory with `\` read as `/`; for an absolute path only its
 * file name can be trusted (drive letters and volume GUIDs mean nothing on this machine), so it
 * is looked for beside the child.
 */
export function parentCandidates(childPath: string, stored: readonly string[]): string[] {
  const dir = dirname(childPath);
  const out: string[] = [];
  for (const raw of stored) {
    const text = raw.replace(/\0+$/, '').trim();
    if (!text) continue;
    if (/^file:\/\//i.test(text)) {
      try {
        const path = fileURLToPath(text);
        out.push(path, join(dir, basename(path)));
      } catch {
        // not a usable URL
      }
      continue;
    }
    // A drive letter or a UNC/device path: a Windows path. (win32.isAbsolute would also take
    // "/srv/vm/base.vmdk", so a POSIX absolute path would never be tried where it says.)
    const windowsAbsolute = /^[A-Za-z]:[\\/]/.test(text) || /^\\\\/.test(text);
    if (windowsAbsolute) out.push(...(process.platform === 'win32' ? [text] : []), join(dir, win32.basename(text)));
    else if (posix.isAbsolute(text)) out.push(text, join(dir, posix.basename(text)));
    else out.push(join(dir, text.replace(/\\/g, '/')));
  }
  return [...new Set(out)];
}

/**
 * Fills the part [within, within + length) of one block (which starts at virtual offset
 * `blockStart`) into `out` (whose byte 0 is virtual offset `outStart`): each sector from the
 * child where `present(sectorInBlock)` says so, otherwise from the parent. Runs of sectors with
 * the same answer are read in one piece.
 */
export async function readMixed(
  out: Uint8Array,
  outStart: number,
  span: { blockStart: number; within: number; length: number },
  sectorSize: number,
  present: (sectorInBlock: number) => boolean,
  readChild: (within: number, length: number) => Promise<Uint8Array>,
  parent: BlockSource,
): Promise<void> {
  const end = span.within + span.length;
  let from = span.within;
  while (from < end) {
    const sector = Math.floor(from / sectorSize);
    const inChild = present(sector);
    let next = (sector + 1) * sectorSize;
    while (next < end && present(next / sectorSize) === inChild) next += sectorSize;
    const to = Math.min(next, end);
    const bytes = inChild ? await readChild(from, to - from) : await parent.read(span.blockStart + from, to - from);
    out.set(bytes.subarray(0, to - from), span.blockStart + from - outStart);
    from = to;
  }
}
