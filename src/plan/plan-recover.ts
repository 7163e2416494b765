import { entryDifferences } from '../gpt/entry-diff.js';
import { encodeProtectiveMbr } from '../gpt/mbr.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import { PlanError, buildPlan, type Change, type Plan } from './plan.js';
import type { Region } from './table-model.js';
import { modelFromCandidate, type Candidate } from './candidate.js';
import { differencesFromDisk, mbrPartitions, recoverRefusal, type ReplaceFlags } from './recover-compare.js';

export interface RecoverPlanOptions extends ReplaceFlags {
  command: string;
  /** How the user named the disk, for the commands messages suggest. */
  diskArg: string;
  /** The disk as read at the sector size its table is valid for (any of them), or as found. */
  current: LoadedGpt;
}

const BASIS_TEXT: Record<Candidate['basis'], string> = {
  headers: 'vouched for by a CRC-valid header and its array',
  array: 'from an entry array alone: no header survived',
  filesystems: 'outlined from filesystems: no header or entry array survived',
};

/**
 * Plans writing a recovered table: both GPT copies, and a protective MBR where LBA 0 lacks one.
 * Refuses, before anything else, to replace a valid table or an MBR with partitions, or to write
 * a guess from filesystems, unless told to; and says where the table came from and what changes.
 */
export async function planRecover(g: LoadedGpt, c: Candidate, options: RecoverPlanOptions): Promise<Plan> {
  const refusal = recoverRefusal(options.current, c, options, options.diskArg);
  if (refusal) throw new PlanError(refusal);
  const model = modelFromCandidate(g, c);
  const outside = c.partitions.filter((p) => p.firstLba < model.firstUsableLba || p.lastLba > model.lastUsableLba);
  if (outside.length) {
    throw new PlanError(`candidate ${c.rank} does not fit this disk: partition${outside.length > 1 ? 's' : ''} ${outside.map((p) => p.index).join(', ')} lie outside LBA ${model.firstUsableLba}..${model.lastUsableLba}`);
  }
  const current = options.current;
  const changes: Change[] = [
    { where: 'GPT', field: 'table', before: current.table === 'none' ? 'no valid copy' : `current ${current.table} table`, after: `candidate ${c.rank}: ${c.partitions.length} partitions (${BASIS_TEXT[c.basis]})` },
  ];
  // The same field-by-field diff as set and repair: against the valid table, or from nothing.
  const before = current.table !== 'none' && current.sectorSize === c.sectorSize ? current.partitions : [];
  for (const d of entryDifferences(before, c.partitions)) changes.push({ where: `partition ${d.partition}`, field: d.field, before: d.before, after: d.after });
  if (current.table === 'none' && mbrPartitions(current.mbr, current.totalSectors).length) {
    for (const d of differencesFromDisk(current, c).slice(1)) changes.push({ where: 'MBR', field: 'partition', before: d.replace(/ is not in the candidate.*$/, ''), after: 'not in the new table' });
  }
  const extra: Region[] = [];
  if (g.mbr.kind !== 'protective') {
    extra.push({ name: 'protective MBR', lba: 0, bytes: encodeProtectiveMbr(g.totalSectors, g.sectorSize, g.mbr.bootSignature ? g.mbr.raw : undefined) });
    changes.push({ where: 'LBA 0', field: 'MBR', before: g.mbr.kind === 'legacy' ? 'MBR partition table' : g.mbr.kind, after: 'protective MBR' });
  }
  return buildPlan(g, model, options.command, changes, recoverNotes(c), extra);
}

/** What a person must know about the identity of what is written: GUIDs kept, new, or guessed types. */
function recoverNotes(c: Candidate): string[] {
  const notes: string[] = [];
  if (c.basis === 'filesystems') {
    notes.push(`Types are guessed: ${(c.guessedTypes ?? []).map((t) => `partition ${t.partition} ${t.type} (from ${t.from})`).join(', ') || 'none'}. Attributes and names are empty.`);
    notes.push('Every partition GUID is new (nothing recorded the old ones): firmware boot entries and PARTUUID= references that named the old partitions break. Afterwards run bcdboot (Windows) or efibootmgr and update /etc/fstab and the kernel command line (Linux).');
  } else {
    notes.push('Partition GUIDs are kept from the table found, so firmware boot entries and PARTUUID= references that name them keep working.');
  }
  if (!c.diskGuid) notes.push('No header survived, so the disk GUID is new (tools that identify the disk by it will see a new disk).');
  return notes;
}
