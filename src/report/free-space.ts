import type { GptEntry } from '../gpt/entries.js';

/** One run of unpartitioned sectors inside the usable range. */
export interface FreeExtent {
  firstLba: number;
  lastLba: number;
  sectors: number;
  bytes: number;
}

export interface FreeSpaceReport {
  /** Unpartitioned sectors in FirstUsableLBA..LastUsableLBA, and the bytes they hold. */
  totalSectors: number;
  totalBytes: number;
  /** How many separate free runs there are. */
  extents: number;
  /** The largest runs, largest first (at most LARGEST_LISTED), as sgdisk -p and sfdisk -F show. */
  largest: FreeExtent[];
}

const LARGEST_LISTED = 5;

/**
 * Free space in the usable range: what is not covered by any partition. Overlapping partitions
 * and partitions outside the range are clipped, so the sums stay true for any table. Pure;
 * O(n log n) in the number of partitions.
 */
export function freeSpace(partitions: readonly GptEntry[], firstUsableLba: number, lastUsableLba: number, sectorSize: number): FreeSpaceReport {
  const covered = partitions
    .filter((e) => e.firstLba <= e.lastLba && e.lastLba >= firstUsableLba && e.firstLba <= lastUsableLba)
    .map((e) => [Math.max(e.firstLba, firstUsableLba), Math.min(e.lastLba, lastUsableLba)] as const)
    .sort((a, b) => a[0] - b[0]);
  const free: FreeExtent[] = [];
  const add = (first: number, last: number): void => {
    if (last >= first) free.push({ firstLba: first, lastLba: last, sectors: last - first + 1, bytes: (last - first + 1) * sectorSize });
  };
  let next = firstUsableLba;
  for (const [first, last] of covered) {
    add(next, first - 1);
    next = Math.max(next, last + 1);
  }
  add(next, lastUsableLba);
  const totalSectors = free.reduce((sum, f) => sum + f.sectors, 0);
  return {
    totalSectors,
    totalBytes: totalSectors * sectorSize,
    extents: free.length,
    largest: [...free].sort((a, b) => b.sectors - a.sectors || a.firstLba - b.firstLba).slice(0, LARGEST_LISTED),
  };
}
