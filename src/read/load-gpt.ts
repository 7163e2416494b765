import { sameBytes } from '../bytes.js';
import type { BlockSource } from '../disk/block-source.js';
import { arrayCrc, decodeUsedEntries, type GptEntry } from '../gpt/entries.js';
import { GPT_SIGNATURE, arraySectors, decodeHeader, type GptHeader } from '../gpt/header.js';
import { decodeMbr, protectiveRecord, type Mbr } from '../gpt/mbr.js';
import { isValid, validateHeader, type HeaderProblem } from '../gpt/validate-header.js';
import { detectSectorSize, type SectorSizeChoice } from './sector-size.js';

/** One copy of the GPT (header + entry array) as found on the disk. */
export interface GptCopy {
  which: 'primary' | 'backup';
  /** Where it was read from. */
  lba: number;
  /** False when the LBA lies beyond the end of the disk (truncated image). */
  onDisk: boolean;
  header?: GptHeader;
  problems: HeaderProblem[];
  headerValid: boolean;
  /** The raw entry array, when the header's geometry let us read it. */
  array?: Uint8Array;
  computedEntriesCrc32?: number;
  entriesValid: boolean;
  /** Header and array both valid. */
  valid: boolean;
}

export interface LoadedGpt {
  source: BlockSource;
  sectorSize: number;
  sectorSizeChoice: SectorSizeChoice;
  totalSectors: number;
  mbr: Mbr;
  primary: GptCopy;
  backup: GptCopy;
  /** Which copy the partition list comes from. */
  table: 'primary' | 'backup' | 'none';
  partitions: GptEntry[];
  /** The LBA of the last sector, where a backup header belongs. */
  lastLba: number;
}

export interface LoadOptions {
  /** Force the logical sector size (--sector-size). */
  sectorSize?: number;
}

/**
 * Reads the protective MBR and both GPT copies, each validated on its own, and picks the copy
 * to show partitions from. Nothing is repaired here: what is on the disk is what is reported.
 */
export async function loadGpt(source: BlockSource, options: LoadOptions = {}): Promise<LoadedGpt> {
  const choice = await detectSectorSize(source, options.sectorSize);
  const ss = choice.sectorSize;
  const totalSectors = Math.floor(source.size / ss);
  const lastLba = totalSectors - 1;
  const mbr = decodeMbr(await source.read(0, ss));

  const primary = await readCopy(source, 'primary', 1, ss, totalSectors);
  const backupLba = chooseBackupLba(primary, lastLba);
  const backup = await readCopy(source, 'backup', backupLba, ss, totalSectors, primary);

  // A damaged primary on a grown disk: the protective MBR often still records the old end.
  if (!backup.headerValid && !primary.headerValid) {
    const pmbrEnd = protectiveRecord(mbr);
    const oldEnd = pmbrEnd && pmbrEnd.sizeLba !== 0xffffffff ? pmbrEnd.startLba + pmbrEnd.sizeLba - 1 : undefined;
    if (oldEnd !== undefined && oldEnd !== backupLba && oldEnd > 1 && oldEnd < totalSectors) {
      const orphan = await readCopy(source, 'backup', oldEnd, ss, totalSectors);
      if (orphan.headerValid) Object.assign(backup, orphan);
    }
  }

  const table = primary.valid ? 'primary' : backup.valid ? 'backup' : 'none';
  const chosen = table === 'primary' ? primary : table === 'backup' ? backup : undefined;
  const partitions = chosen?.array && chosen.header ? decodeUsedEntries(chosen.array, chosen.header.entrySize, chosen.header.entryCount) : [];
  return { source, sectorSize: ss, sectorSizeChoice: choice, totalSectors, mbr, primary, backup, table, partitions, lastLba };
}

/** The used entries of one copy: the loaded partitions when it is the copy shown, else decoded from its array. */
export function copyEntries(g: LoadedGpt, copy: GptCopy): GptEntry[] {
  if ((g.table === 'primary' && copy === g.primary) || (g.table === 'backup' && copy === g.backup)) return g.partitions;
  return copy.array && copy.header ? decodeUsedEntries(copy.array, copy.header.entrySize, copy.header.entryCount) : [];
}

/** The backup lives where a valid primary says, if that is on the disk; otherwise on the last LBA. */
function chooseBackupLba(primary: GptCopy, lastLba: number): number {
  const alt = primary.header?.alternateLba;
  if (primary.headerValid && alt !== undefined && alt > 1 && alt <= lastLba) return alt;
  return lastLba;
}

/**
 * One copy, validated on its own. `twin` is the copy read before it: an array byte-for-byte
 * equal to the twin's (the usual case) has the twin's CRC, so it is compared, not summed again.
 */
async function readCopy(source: BlockSource, which: 'primary' | 'backup', lba: number, ss: number, totalSectors: number, twin?: GptCopy): Promise<GptCopy> {
  const copy: GptCopy = { which, lba, onDisk: lba >= 1 && lba < totalSectors, problems: [], headerValid: false, entriesValid: false, valid: false };
  if (!copy.onDisk) {
    copy.problems.push({ field: 'location', message: `LBA ${lba} is beyond the end of the disk (${totalSectors} sectors)`, fatal: true });
    return copy;
  }
  const sector = await source.read(lba * ss, ss);
  const header = decodeHeader(sector);
  copy.header = header;
  copy.problems = validateHeader(header, { lba, sectorSize: ss, totalSectors, which });
  copy.headerValid = isValid(copy.problems);
  if (header.signature !== GPT_SIGNATURE || copy.problems.some((p) => p.fatal && ['entry-size', 'entry-count', 'entries-lba'].includes(p.field))) {
    return copy; // the geometry is not trustworthy enough to read an array from
  }
  const bytes = header.entryCount * header.entrySize;
  const array = await source.read(header.entriesLba * ss, arraySectors(header.entryCount, header.entrySize, ss) * ss);
  copy.array = array;
  if (array.length >= bytes) {
    const sameAsTwin = twin?.computedEntriesCrc32 !== undefined && twin.header?.entryCount === header.entryCount && twin.header.entrySize === header.entrySize && sameBytes(twin.array!.subarray(0, bytes), array.subarray(0, bytes));
    copy.computedEntriesCrc32 = sameAsTwin ? twin.computedEntriesCrc32 : arrayCrc(array, header.entryCount, header.entrySize);
    copy.entriesValid = copy.computedEntriesCrc32 === header.entriesCrc32;
  }
  copy.valid = copy.headerValid && copy.entriesValid;
  return copy;
}
