import { DiskError, type BlockSource, type WritableDisk } from '../disk/block-source.js';
import { whyNotInPlace } from '../disk/in-place.js';
import { journalFromPlan, writeJournal, type JournalPath } from './journal.js';
import { sameBytes } from '../bytes.js';
import { flushGroup, type Plan, type PlannedWrite } from '../plan/plan.js';

export interface ApplyOptions {
  /** Where the undo journal goes (or the names to try); it is written and fsynced before the disk is touched. */
  journalPath: JournalPath;
  /** Opens the disk afresh (read-only) for verification, so nothing is read from our own buffers. */
  reopen: () => Promise<BlockSource>;
  /** Extra checks on the re-read disk (e.g. both GPT copies valid); returns problems. */
  verify?: (fresh: BlockSource) => Promise<string[]>;
}

export interface ApplyResult {
  journalPath: string;
  written: number;
  /** Problems found when re-reading; empty when the disk holds exactly what was planned. */
  problems: string[];
}

/**
 * The write protocol (docs/ARCHITECTURE.md §7): confirm the disk still holds the before-images, write the
 * undo journal, write regions in order with a flush after each group (backup → primary → MBR),
 * then re-read through a fresh open and compare every byte.
 */

export async function applyPlan(plan: Plan, disk: WritableDisk, options: ApplyOptions): Promise<ApplyResult> {
  if (plan.writes.length === 0) return { journalPath: '', written: 0, problems: [] };
  await requireBytes(disk, plan.writes, 'before', 'the disk changed since the plan was made; nothing was written, run the command again');
  await requireWritable(disk, plan.writes);
  const journalPath = await writeJournal(options.journalPath, journalFromPlan(plan, (await disk.containerState?.()) ?? []));
  await writeInOrder(disk, plan.writes, 'after');
  const problems = await verifyFresh(plan.writes, 'after', options);
  return { journalPath, written: plan.writes.length, problems };
}

/** Writes one side of each planned write, flushing whenever the group changes and at the end. */
export async function writeInOrder(disk: WritableDisk, writes: readonly PlannedWrite[], side: 'before' | 'after'): Promise<void> {
  let group = -1;
  for (const w of writes) {
    const g = flushGroup(w.name);
    if (group !== -1 && g !== group) await disk.flush();
    group = g;
    await disk.write(w.offset, w[side]);
  }
  await disk.flush();
}

/**
 * Refuses the whole plan, before anything is written, when the disk cannot take one of its writes
 * in place (whyNotInPlace: a read-only format, an unallocated container block). `advice` says what
 * to do instead; the CLI offers a repaired copy (--output).
 */
export async function requireWritable(disk: BlockSource, writes: readonly PlannedWrite[], advice = ''): Promise<void> {
  for (const w of writes) {
    const why = await whyNotInPlace(disk, [[w.offset, w.after.length]]);
    if (why !== undefined) throw new DiskError(disk.readOnlyReason ? 'EROFS' : 'ENOTSUP', `cannot write the ${w.name} (LBA ${w.lba}) of ${disk.path} in place: ${why}. ${advice}Nothing was written.`);
  }
}

/** Throws unless every region holds the given side's bytes. */
export async function requireBytes(disk: BlockSource, writes: readonly PlannedWrite[], side: 'before' | 'after', why: string): Promise<void> {
  const differing = await differingRegions(disk, writes, side);
  if (differing.length) throw new DiskError('ECHANGED', `${differing.join(', ')} ${differing.length > 1 ? 'do' : 'does'} not hold the expected bytes: ${why}`);
}

export async function differingRegions(disk: BlockSource, writes: readonly PlannedWrite[], side: 'before' | 'after'): Promise<string[]> {
  const differing: string[] = [];
  for (const w of writes) {
    const now = await disk.read(w.offset, w[side].length);
    if (!sameBytes(now, w[side])) differing.push(`${w.name} (LBA ${w.lba})`);
  }
  return differing;
}

async function verifyFresh(writes: readonly PlannedWrite[], side: 'before' | 'after', options: ApplyOptions): Promise<string[]> {
  const fresh = await options.reopen();
  try {
    const problems = (await differingRegions(fresh, writes, side)).map((r) => `${r} reads back different from what was written`);
    if (!problems.length && options.verify) problems.push(...(await options.verify(fresh)));
    return problems;
  } finally {
    await fresh.close();
  }
}

export { verifyFresh };
