import type { BlockSource } from '../disk/block-source.js';
import { GPT_SIGNATURE, decodeHeader } from '../gpt/header.js';

/** Logical sector sizes a GPT may have been written for, most common first. */
export const CANDIDATE_SECTOR_SIZES = [512, 4096, 1024, 2048] as const;

export interface SectorSizeChoice {
  sectorSize: number;
  /** How it was chosen: --sector-size, the container/device said so, a valid GPT header was found at it, or nothing found (512). */
  reason: 'override' | 'declared' | 'detected' | 'default';
  /** Sizes at which a CRC-valid GPT header sits at LBA 1 or at the last LBA. */
  gptSeenAt: number[];
}

/**
 * Finds the sector size a GPT was written for by looking for a CRC-valid header at LBA 1 and at
 * the last LBA for each candidate size — what gdisk and sfdisk do not do for image files.
 * Costs two small reads: the first 8 KiB and the last 4 KiB.
 */
export async function detectSectorSize(source: BlockSource, override?: number): Promise<SectorSizeChoice> {
  const head = await source.read(0, 8192);
  const tailStart = Math.max(0, source.size - 4096);
  const tail = await source.read(tailStart, source.size - tailStart);
  const gptSeenAt: number[] = [];
  const signatureAt: number[] = [];
  for (const ss of CANDIDATE_SECTOR_SIZES) {
    const primary = head.subarray(ss, 2 * ss);
    const lastLba = Math.floor(source.size / ss) - 1;
    const backupOffset = lastLba * ss - tailStart;
    const backup = backupOffset >= 0 ? tail.subarray(backupOffset, backupOffset + ss) : new Uint8Array(0);
    if (isGoodHeader(primary, 1) || isGoodHeader(backup, lastLba)) gptSeenAt.push(ss);
    else if (hasSignature(primary)) signatureAt.push(ss);
  }
  if (override !== undefined) return { sectorSize: override, reason: 'override', gptSeenAt };
  if (source.declaredSectorSize !== undefined) return { sectorSize: source.declaredSectorSize, reason: 'declared', gptSeenAt };
  const found = gptSeenAt[0] ?? signatureAt[0];
  return found !== undefined ? { sectorSize: found, reason: 'detected', gptSeenAt } : { sectorSize: 512, reason: 'default', gptSeenAt };
}

function hasSignature(sector: Uint8Array): boolean {
  return sector.length >= 92 && String.fromCharCode(...sector.subarray(0, 8)) === GPT_SIGNATURE;
}

function isGoodHeader(sector: Uint8Array, lba: number): boolean {
  if (!hasSignature(sector)) return false;
  const h = decodeHeader(sector);
  return h.headerCrc32 === h.computedHeaderCrc32 && h.myLba === lba;
}
