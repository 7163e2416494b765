import { formatCrc } from './crc32.js';
import { GPT_REVISION_1_0, GPT_SIGNATURE, MIN_HEADER_SIZE, arraySectors, formatRevision, isLegalEntrySize, type GptHeader } from './header.js';

/**
 * The largest entry array gptdoctor will read (64 MiB = 524,288 entries of 128 bytes). The spec
 * sets no limit, but real tables are 16 KiB–4 MiB, and a hostile count of 2^32−1 must not make
 * us allocate half a terabyte.
 */
export const MAX_ARRAY_BYTES = 64 * 1024 * 1024;

export interface HeaderProblem {
  /** Short stable key, e.g. 'crc', 'signature', 'my-lba'. */
  field: string;
  message: string;
  /** Fatal problems make the header invalid per the UEFI validity test; others are reported only. */
  fatal: boolean;
}

export interface HeaderContext {
  /** The LBA the header was read from. */
  lba: number;
  sectorSize: number;
  /** Sectors on the disk (size / sectorSize, rounded down). */
  totalSectors: number;
  which: 'primary' | 'backup';
}

/**
 * Checks one header on its own, per UEFI 2.10 §5.3.2 and the stricter readers (EDK2, Linux):
 * signature, revision, header size, CRC, MyLBA, entry geometry, and that every LBA it names is
 * on the disk. The entry-array CRC is checked separately, once the array has been read.
 */
export function validateHeader(h: GptHeader, ctx: HeaderContext): HeaderProblem[] {
  const problems: HeaderProblem[] = [];
  const fatal = (field: string, message: string): void => void problems.push({ field, message, fatal: true });
  const note = (field: string, message: string): void => void problems.push({ field, message, fatal: false });

  if (h.signature !== GPT_SIGNATURE) {
    fatal('signature', `no "EFI PART" signature at LBA ${ctx.lba}`);
    return problems; // nothing else in a sector without the signature means anything
  }
  if (h.revision !== GPT_REVISION_1_0) fatal('revision', `revision ${formatRevision(h.revision)} (0x${h.revision.toString(16)}); UEFI firmware and gdisk accept only 1.0`);
  if (h.headerSize < MIN_HEADER_SIZE || h.headerSize > ctx.sectorSize) {
    fatal('header-size', `header size ${h.headerSize} is outside 92..${ctx.sectorSize}`);
  }
  if (h.headerCrc32 !== h.computedHeaderCrc32) {
    fatal('crc', `header CRC32 is ${formatCrc(h.headerCrc32)} but the bytes give ${formatCrc(h.computedHeaderCrc32)}`);
  }
  if (h.myLba !== ctx.lba) fatal('my-lba', `MyLBA says ${h.myLba} but the header was read from LBA ${ctx.lba}`);
  if (h.reserved !== 0) note('reserved', `reserved field at offset 20 is 0x${h.reserved.toString(16)}, not zero`);
  if (!h.reservedTailZero) note('reserved-tail', 'bytes after the header up to the end of the sector are not zero');

  if (!isLegalEntrySize(h.entrySize)) {
    fatal('entry-size', `entry size ${h.entrySize} is not 128 × 2^n`);
  }
  if (h.entryCount === 0) fatal('entry-count', 'entry count is 0');
  const arrayBytes = h.entryCount * h.entrySize;
  if (arrayBytes > MAX_ARRAY_BYTES) {
    fatal('entry-count', `entry array of ${h.entryCount} × ${h.entrySize} bytes is implausibly large (limit ${MAX_ARRAY_BYTES / 1048576} MiB)`);
  }
  const sectors = isLegalEntrySize(h.entrySize) && h.entryCount > 0 ? arraySectors(h.entryCount, h.entrySize, ctx.sectorSize) : 0;
  const arrayEnd = h.entriesLba + sectors - 1;
  // A primary whose array runs past the end of a disk its own AlternateLBA says is larger is a
  // whole header on a cut-short image: the image is truncated, the header is not damaged.
  const cutByImageEnd = ctx.which === 'primary' && h.entriesLba >= 2 && arrayEnd >= ctx.totalSectors && arrayEnd < h.alternateLba && ctx.lba < h.entriesLba;
  if (cutByImageEnd) {
    note('entries-cut', `entry array at LBA ${h.entriesLba}..${arrayEnd} runs past the end of the image (last LBA ${ctx.totalSectors - 1})`);
  } else if (h.entriesLba < 2 || arrayEnd >= ctx.totalSectors) {
    fatal('entries-lba', `entry array at LBA ${h.entriesLba}..${arrayEnd} is not on the disk (LBA 2..${ctx.totalSectors - 1})`);
  } else if (h.entriesLba <= ctx.lba && arrayEnd >= ctx.lba) {
    fatal('entries-lba', `entry array at LBA ${h.entriesLba}..${arrayEnd} covers its own header at LBA ${ctx.lba}`);
  }
  if (h.firstUsableLba > h.lastUsableLba + 1) {
    fatal('usable-range', `first usable LBA ${h.firstUsableLba} is after last usable LBA ${h.lastUsableLba}`);
  }
  if (ctx.which === 'primary' && sectors > 0 && h.entriesLba < h.firstUsableLba && arrayEnd >= h.firstUsableLba) {
    note('array-in-usable-range', `primary entry array (LBA ${h.entriesLba}..${arrayEnd}) runs past first usable LBA ${h.firstUsableLba}`);
  }
  if (ctx.which === 'backup' && sectors > 0 && h.entriesLba <= h.lastUsableLba) {
    note('array-in-usable-range', `backup entry array at LBA ${h.entriesLba} lies inside the usable range (last usable ${h.lastUsableLba})`);
  }
  if (h.firstUsableLba <= ctx.lba && ctx.which === 'primary') {
    note('usable-range', `first usable LBA ${h.firstUsableLba} is not after the primary header`);
  }
  if (!Number.isSafeInteger(h.alternateLba + 0) || h.alternateLba === ctx.lba) {
    note('alternate-lba', `AlternateLBA ${h.alternateLba} does not point to another header`);
  }
  return problems;
}

export const isValid = (problems: readonly HeaderProblem[]): boolean => problems.every((p) => !p.fatal);
