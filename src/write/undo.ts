import { DiskError, type WritableDisk } from '../disk/block-source.js';
import { FileSource } from '../disk/file-source.js';
import { readJournal } from './journal.js';
import { differingRegions, writeInOrder, type ApplyOptions } from './apply.js';
import { sameBytes } from '../bytes.js';
import type { PlannedWrite } from '../plan/plan.js';

export interface UndoResult {
  restored: number;
  /** Container regions (VHDX headers) put back byte for byte. */
  containerRestored: number;
  alreadyRestored: number;
  problems: string[];
}

/**
 * Puts back every before-image of a journal. Each sector must hold its after-image or its
 * before-image (so an interrupted write, or an interrupted undo, can be finished); anything
 * else means the disk changed since, and undo refuses unless `force`.
 */
export async function undoJournal(
  journalPath: string,
  disk: WritableDisk,
  options: Omit<ApplyOptions, 'journalPath'> & {
    force?: boolean;
    /**
     * Puts back container bytes (the VHDX headers a write session renewed) at their file offsets.
     * The caller owns `disk`: it closes it first if the container file must be opened on its own.
     */
    restoreContainer?: (regions: ReadonlyArray<{ fileOffset: number; bytes: Uint8Array }>) => Promise<void>;
  },
): Promise<UndoResult> {
  const { journal, writes, container } = await readJournal(journalPath);
  if (journal.source.size !== disk.size && !options.force) {
    throw new DiskError('ECHANGED', `the disk is ${disk.size} bytes but the undo file was made for ${journal.source.size} bytes; use --force if this is really the same disk`);
  }
  const pending: PlannedWrite[] = [];
  const foreign: string[] = [];
  let alreadyRestored = 0;
  for (const w of writes) {
    const now = await disk.read(w.offset, w.before.length);
    if (sameBytes(now, w.before)) alreadyRestored++;
    else if (options.force || sectorsAreOurs(now, w, journal.source.sectorSize)) pending.push(w);
    else foreign.push(`${w.name} (LBA ${w.lba})`);
  }
  if (foreign.length) {
    throw new DiskError('ECHANGED', `${foreign.join(', ')} changed since gptdoctor wrote ${foreign.length > 1 ? 'them' : 'it'}; nothing was restored (use --force to restore anyway)`);
  }
  if (pending.length) await writeInOrder(disk, pending, 'before');
  let containerRestored = 0;
  if (container.length) {
    // The restore itself was a write session that renewed the VHDX headers; put the originals back.
    if (!options.restoreContainer) throw new DiskError('EINVAL', 'this undo file restores container headers, which needs the container file');
    await options.restoreContainer(container);
    containerRestored = container.length;
  }
  const fresh = await options.reopen();
  try {
    const problems = (await differingRegions(fresh, writes, 'before')).map((r) => `${r} does not read back as the original bytes`);
    return { restored: pending.length, containerRestored, alreadyRestored, problems };
  } finally {
    await fresh.close();
  }
}

/** Writes container regions back into the image file itself, each flushed before the next. */
export async function restoreFileRegions(path: string, regions: ReadonlyArray<{ fileOffset: number; bytes: Uint8Array }>): Promise<void> {
  const file = await FileSource.open(path, { writable: true });
  try {
    for (const r of regions) {
      await file.write(r.fileOffset, r.bytes);
      await file.flush();
    }
  } finally {
    await file.close();
  }
}

/**
 * True when every sector of a region holds either its original or its new bytes: the region is
 * as gptdoctor left it, possibly half-written by a crash, and nobody else has written there.
 */
function sectorsAreOurs(now: Uint8Array, w: PlannedWrite, sectorSize: number): boolean {
  if (now.length !== w.before.length) return false;
  for (let off = 0; off < now.length; off += sectorSize) {
    const end = Math.min(off + sectorSize, now.length);
    const sector = now.subarray(off, end);
    if (!sameBytes(sector, w.before.subarray(off, end)) && !sameBytes(sector, w.after.subarray(off, end))) return false;
  }
  return true;
}
