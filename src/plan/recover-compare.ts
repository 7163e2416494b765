import { entryDifferences, describeDifference } from '../gpt/entry-diff.js';
import { hex8 } from '../gpt/le.js';
import { EXTENDED_TYPES, MBR_GPT_PROTECTIVE, type Mbr, type MbrRecord } from '../gpt/mbr.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import type { Candidate } from './candidate.js';


/**
 * The records of an MBR that describe real partitions: a type, a start past LBA 0, a size, and an
 * end on the disk. A FAT boot sector or stray bytes at LBA 0 decode as 'legacy' too, but their
 * "records" rarely pass this.
 */
export function mbrPartitions(mbr: Mbr, totalSectors: number): MbrRecord[] {
  if (mbr.kind !== 'legacy' && mbr.kind !== 'hybrid') return [];
  return mbr.records.filter((r) => r.osType !== 0 && r.osType !== MBR_GPT_PROTECTIVE && r.startLba > 0 && r.sizeLba > 0 && r.startLba + r.sizeLba <= totalSectors);
}

/** Does the candidate hold exactly the partitions the disk's valid GPT shows now? */
export function sameAsDisk(current: LoadedGpt, c: Candidate): boolean {
  return current.table !== 'none' && current.sectorSize === c.sectorSize && entryDifferences(current.partitions, c.partitions).length === 0;
}

/**
 * How a candidate differs from what the disk shows now: the valid GPT partition by partition and
 * field by field, or, on a disk without one, each MBR partition the candidate does not hold as it
 * is. Nothing the disk shows is dropped in silence.
 */
export function differencesFromDisk(current: LoadedGpt, c: Candidate): string[] {
  if (current.table === 'none') {
    const records = mbrPartitions(current.mbr, current.totalSectors);
    if (!records.length) return ['the disk has no valid partition table now'];
    const ss = current.sectorSize;
    const kept = (r: MbrRecord): boolean => c.partitions.some((p) => p.firstLba * c.sectorSize === r.startLba * ss && (p.lastLba + 1) * c.sectorSize === (r.startLba + r.sizeLba) * ss);
    const out = [`the disk has no valid GPT; its MBR shows ${records.length} partition${records.length > 1 ? 's' : ''}`];
    for (const r of records) {
      if (!kept(r)) out.push(`MBR partition in slot ${r.slot + 1} (type ${hex8(r.osType)}, LBA ${r.startLba}..${r.startLba + r.sizeLba - 1}) is not in the candidate${EXTENDED_TYPES.has(r.osType) ? ' (an extended partition: its logical partitions are lost too)' : ''}`);
    }
    return out;
  }
  const out: string[] = [];
  if (current.sectorSize !== c.sectorSize) out.push(`the disk's valid GPT is for ${current.sectorSize}-byte sectors, the candidate for ${c.sectorSize}`);
  out.push(...entryDifferences(current.partitions, c.partitions).map(describeDifference));
  const diskGuid = current.table === 'primary' ? current.primary.header?.diskGuid : current.backup.header?.diskGuid;
  if (c.diskGuid !== diskGuid) out.push(`disk GUID ${diskGuid} → ${c.diskGuid ?? 'a new one'}`);
  return out;
}

export interface ReplaceFlags {
  /** --replace-table: write over a valid GPT, or write a table guessed from filesystems. */
  replaceTable?: boolean;
  /** --replace-mbr: write over an MBR that holds partitions (as `repair` asks). */
  replaceMbr?: boolean;
}

/**
 * Why writing candidate `c` needs the person to say so, or undefined when it does not: recover
 * never replaces a valid table, an MBR with partitions, or anything, with a guess on its own.
 * `current` is the disk as read at whatever sector size its table is valid for.
 */
export function recoverRefusal(current: LoadedGpt, c: Candidate, flags: ReplaceFlags, diskArg: string): string | undefined {
  const records = current.table === 'none' ? mbrPartitions(current.mbr, current.totalSectors) : [];
  const needTable = current.table !== 'none' || c.basis === 'filesystems';
  const needMbr = records.length > 0;
  const missing = [needTable && !flags.replaceTable ? '--replace-table' : '', needMbr && !flags.replaceMbr ? '--replace-mbr' : ''].filter(Boolean);
  if (!missing.length) return undefined;
  const reasons: string[] = [];
  if (current.table !== 'none') {
    const copies = current.primary.valid && current.backup.valid ? 'both copies valid' : `the ${current.table} copy valid`;
    const changes = differencesFromDisk(current, c);
    const what = changes.length ? `writing candidate ${c.rank} would change: ${changes.join('; ')}` : `candidate ${c.rank} is the table the disk already uses`;
    const repairHint = current.primary.valid && current.backup.valid ? '' : ` To rebuild the damaged copy from the valid one, run \`gptdoctor repair ${diskArg}\` instead.`;
    reasons.push(`The disk already has a valid GPT (${current.sectorSize}-byte sectors, ${copies}, ${current.partitions.length} partitions); ${what}.${repairHint}`);
  }
  if (needMbr) reasons.push(`LBA 0 holds an MBR partition table, which writing replaces with a protective MBR; ${differencesFromDisk(current, c).join('; ')}.`);
  if (c.basis === 'filesystems') {
    const guessed = (c.guessedTypes ?? []).map((g) => `partition ${g.partition} ${g.type} (from ${g.from})`).join(', ');
    reasons.push(`Candidate ${c.rank} is rebuilt from filesystems alone: no header or entry array vouches for it, so its types are guessed (${guessed || 'none'}), attributes and names are empty, and every partition GUID is new.`);
  }
  return `refusing to write candidate ${c.rank}. ${reasons.join(' ')} If that is what you want, run again with ${missing.join(' ')}. Nothing was written.`;
}
