import { sameBytes } from '../bytes.js';
import type { BlockSource } from '../disk/block-source.js';
import type { Region } from './table-model.js';

/** A refusal that explains itself: nothing was written. */
export class PlanError extends Error {
  /** A refused plan is bad input for the command (README: error codes). */
  readonly code = 'EINVAL' as const;
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/** One region write with the bytes on the disk now and the bytes it will hold. */
export interface PlannedWrite {
  name: Region['name'];
  lba: number;
  offset: number;
  before: Uint8Array;
  after: Uint8Array;
}

/** A field-level description of what changes, for people (`--dry-run`). */
export interface Change {
  where: string;
  field: string;
  before: string;
  after: string;
}

/**
 * Everything a write command will do, computed before anything is touched. Writes are in the
 * order they happen; a flush follows each group (backup, primary, MBR) so that the backup is
 * durable before the primary changes, as the UEFI spec requires.
 */
export interface Plan {
  command: string;
  source: { path: string; format: string; size: number; sectorSize: number };
  writes: PlannedWrite[];
  changes: Change[];
  notes: string[];
}

/** Which flush group a region belongs to: backup first, then primary, then the MBR. */
export function flushGroup(name: Region['name']): number {
  if (name.startsWith('backup') || name === 'stale backup header') return 0;
  return name.startsWith('primary') ? 1 : 2;
}

/**
 * Reads the current bytes of each region and keeps only those that change. Regions are
 * sorted into write order (stable within a group).
 */
export async function planWrites(source: BlockSource, sectorSize: number, regions: readonly Region[]): Promise<PlannedWrite[]> {
  const ordered = [...regions].sort((a, b) => flushGroup(a.name) - flushGroup(b.name));
  const writes: PlannedWrite[] = [];
  for (const region of ordered) {
    const offset = region.lba * sectorSize;
    const before = await source.read(offset, region.bytes.length);
    if (before.length !== region.bytes.length) throw new PlanError(`the ${region.name} at LBA ${region.lba} would lie past the end of the disk; nothing was written`);
    if (!sameBytes(before, region.bytes)) writes.push({ name: region.name, lba: region.lba, offset, before, after: region.bytes });
  }
  return writes;
}

