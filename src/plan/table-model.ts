import { entryProblems } from '../check/entry-soundness.js';
import { arrayCrc, decodeUsedEntries } from '../gpt/entries.js';
import { GPT_REVISION_1_0, GPT_SIGNATURE, arraySectors, encodeHeader, type GptHeader } from '../gpt/header.js';
import type { LoadedGpt } from '../read/load-gpt.js';

/**
 * Everything needed to write a complete, consistent GPT: one set of shared fields, one entry
 * array, and where each copy lives. Both headers are derived from it, so they cannot disagree.
 */
export interface TableModel {
  sectorSize: number;
  diskGuid: string;
  firstUsableLba: number;
  lastUsableLba: number;
  entryCount: number;
  entrySize: number;
  /** entryCount × entrySize bytes. */
  array: Uint8Array;
  primaryLba: number;
  primaryEntriesLba: number;
  backupLba: number;
  backupEntriesLba: number;
  /** Header fields kept as found (revision, header size, reserved) and the sectors to keep tail bytes of. */
  revision: number;
  headerSize: number;
  primaryBase?: Uint8Array;
  backupBase?: Uint8Array;
}

/** A region of the disk a plan writes: whole sectors, with the bytes they must end up holding. */
export interface Region {
  name: 'protective MBR' | 'primary header' | 'primary entries' | 'backup header' | 'backup entries' | 'stale backup header';
  lba: number;
  /** Bytes to write: a whole number of sectors. */
  bytes: Uint8Array;
}

/** The model of the table a valid copy describes (the copy's array is used for both copies). */
export function modelFromCopy(g: LoadedGpt, which: 'primary' | 'backup'): TableModel {
  const copy = which === 'primary' ? g.primary : g.backup;
  const h = copy.header!;
  const sectors = arraySectors(h.entryCount, h.entrySize, g.sectorSize);
  const other = which === 'primary' ? g.backup : g.primary;
  const otherOk = other.headerValid && other.header !== undefined;
  const backupLba = which === 'backup' ? copy.lba : otherOk ? other.lba : h.alternateLba <= g.lastLba && h.alternateLba > 1 ? h.alternateLba : g.lastLba;
  return {
    sectorSize: g.sectorSize,
    diskGuid: h.diskGuid,
    firstUsableLba: h.firstUsableLba,
    lastUsableLba: h.lastUsableLba,
    entryCount: h.entryCount,
    entrySize: h.entrySize,
    array: copy.array!.slice(0, h.entryCount * h.entrySize),
    primaryLba: 1,
    primaryEntriesLba: which === 'primary' ? h.entriesLba : g.primary.headerValid ? g.primary.header!.entriesLba : 2,
    backupLba,
    backupEntriesLba: which === 'backup' ? h.entriesLba : otherOk ? other.header!.entriesLba : backupLba - sectors,
    revision: h.revision === 0 ? GPT_REVISION_1_0 : h.revision,
    headerSize: h.headerSize,
    ...(g.primary.header?.signature === GPT_SIGNATURE && g.primary.headerValid ? { primaryBase: g.primary.header.raw } : {}),
    ...(g.backup.header?.signature === GPT_SIGNATURE && g.backup.headerValid ? { backupBase: g.backup.header.raw } : {}),
  };
}

/** Encodes both headers and both arrays of a model, each array padded to whole sectors. */
export function encodeModel(m: TableModel, currentArraySectors: { primary?: Uint8Array; backup?: Uint8Array } = {}): Region[] {
  const crc = arrayCrc(m.array, m.entryCount, m.entrySize);
  const header = (myLba: number, alternateLba: number, entriesLba: number, base?: Uint8Array): Uint8Array => {
    const fields: Omit<GptHeader, 'computedHeaderCrc32' | 'reservedTailZero' | 'raw' | 'headerCrc32'> = {
      signature: GPT_SIGNATURE,
      revision: m.revision,
      headerSize: m.headerSize,
      reserved: 0,
      myLba,
      alternateLba,
      firstUsableLba: m.firstUsableLba,
      lastUsableLba: m.lastUsableLba,
      diskGuid: m.diskGuid,
      entriesLba,
      entryCount: m.entryCount,
      entrySize: m.entrySize,
      entriesCrc32: crc,
    };
    return encodeHeader(fields, base && base.length === m.sectorSize ? base : new Uint8Array(m.sectorSize));
  };
  const sectors = arraySectors(m.entryCount, m.entrySize, m.sectorSize);
  // Bytes after the array in its last sector are reserved and outside the CRC: keep what is there.
  const padded = (current?: Uint8Array): Uint8Array => {
    const out = new Uint8Array(sectors * m.sectorSize);
    if (current) out.set(current.subarray(0, out.length));
    out.set(m.array);
    return out;
  };
  return [
    { name: 'backup entries', lba: m.backupEntriesLba, bytes: padded(currentArraySectors.backup) },
    { name: 'backup header', lba: m.backupLba, bytes: header(m.backupLba, m.primaryLba, m.backupEntriesLba, m.backupBase) },
    { name: 'primary entries', lba: m.primaryEntriesLba, bytes: padded(currentArraySectors.primary) },
    { name: 'primary header', lba: m.primaryLba, bytes: header(m.primaryLba, m.backupLba, m.primaryEntriesLba, m.primaryBase) },
  ];
}

/** Checks a model before anything is written: the table it describes must be valid. */
export function modelProblems(m: TableModel, totalSectors: number): string[] {
  const problems: string[] = [];
  const sectors = arraySectors(m.entryCount, m.entrySize, m.sectorSize);
  if (m.array.length !== m.entryCount * m.entrySize) problems.push('entry array length does not match the entry count and size');
  if (m.backupLba !== totalSectors - 1 && m.backupLba >= totalSectors) problems.push(`backup header LBA ${m.backupLba} is past the end of the disk`);
  if (m.primaryEntriesLba < 2 || m.primaryEntriesLba + sectors > m.firstUsableLba) problems.push('primary entry array would overlap the usable area');
  if (m.backupEntriesLba <= m.lastUsableLba || m.backupEntriesLba + sectors > m.backupLba) problems.push('backup entry array would overlap the usable area or the backup header');
  if (m.firstUsableLba > m.lastUsableLba) problems.push('first usable LBA is after last usable LBA');
  // The entries too: a valid header over overlapping or out-of-range partitions is no valid table.
  if (!problems.length) problems.push(...entryProblems(decodeUsedEntries(m.array, m.entrySize, m.entryCount), m.firstUsableLba, m.lastUsableLba));
  return problems;
}
