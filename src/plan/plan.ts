import { sameBytes } from '../bytes.js';
import type { BlockSource } from '../disk/block-source.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import { encodeModel, modelProblems, type Region, type TableModel } from './table-model.js';

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

/** Refuses edits on a table whose copies are damaged or disagree. */
export function requireHealthyTable(g: LoadedGpt): void {
  const bad: string[] = [];
  if (!g.primary.valid) bad.push('the primary GPT is damaged');
  if (!g.backup.valid) bad.push('the backup GPT is damaged');
  if (g.primary.valid && g.backup.valid && g.primary.header!.entriesCrc32 !== g.backup.header!.entriesCrc32) bad.push('the two copies differ');
  if (bad.length) throw new PlanError(`${bad.join(' and ')}; run \`gptdoctor check\` to see why and \`gptdoctor repair\` to fix it before editing entries`);
}

/** Encodes a model into regions, checks it is valid, and reads the before-images. */
export async function buildPlan(g: LoadedGpt, model: TableModel, command: string, changes: Change[], notes: string[], extra: Parameters<typeof planWrites>[2] = []): Promise<Plan> {
  const problems = modelProblems(model, g.totalSectors);
  if (problems.length) throw new PlanError(`refusing to write an invalid table: ${problems.join('; ')}`);
  const regions = [...encodeModel(model, await currentArrays(g.source, model)), ...extra];
  const writes = await planWrites(g.source, g.sectorSize, regions);
  return { command, source: { path: g.source.path, format: g.source.format, size: g.source.size, sectorSize: g.sectorSize }, writes, changes, notes };
}

/** The sectors the arrays will occupy, as they are now (their tail bytes are kept). */
async function currentArrays(source: BlockSource, m: TableModel): Promise<{ primary: Uint8Array; backup: Uint8Array }> {
  const length = Math.ceil((m.entryCount * m.entrySize) / m.sectorSize) * m.sectorSize;
  return {
    primary: await source.read(m.primaryEntriesLba * m.sectorSize, length),
    backup: await source.read(m.backupEntriesLba * m.sectorSize, length),
  };
}
