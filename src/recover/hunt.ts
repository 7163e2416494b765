import type { BlockSource } from '../disk/block-source.js';
import { arrayCrc, decodeUsedEntries, type GptEntry } from '../gpt/entries.js';
import { GPT_SIGNATURE, arraySectors, decodeHeader, type GptHeader } from '../gpt/header.js';
import { typeByGuid } from '../gpt/partition-types.js';
import { MAX_ARRAY_BYTES } from '../gpt/validate-header.js';
import { passOverDisk, type PassProgress } from './disk-pass.js';

const SIGNATURE = Buffer.from(GPT_SIGNATURE, 'latin1');

/** A GPT header found anywhere on the disk with a correct CRC and a MyLBA matching where it sits. */
export interface FoundHeader {
  sectorSize: number;
  lba: number;
  header: GptHeader;
  /** The array the header names, and whether its CRC matches. */
  array?: Uint8Array;
  arrayOk: boolean;
}

/** An entry array found without any header, judged by how plausible its entries look. */
export interface FoundArray {
  sectorSize: number;
  lba: number;
  array: Uint8Array;
  entries: GptEntry[];
}

export type HuntProgress = PassProgress;

/**
 * Passes over the whole disk once (disk-pass.ts) and reports every sector-aligned "EFI PART"
 * whose header checks out (CRC and MyLBA) for each of `sectorSizes`, with its entry array, in
 * disk order.
 */
export async function huntHeaders(
  source: BlockSource,
  sectorSizes: readonly number[],
  progress?: HuntProgress,
  /** Sees the 8 KiB at every 1 MiB boundary, so other hunts (filesystems) share the single pass. */
  onProbe?: (bytes: Uint8Array, offset: number) => void,
): Promise<FoundHeader[]> {
  const step = Math.min(...sectorSizes); // every size the hunt tries is a multiple of the smallest
  // Judged as they come, so a disk with "EFI PART" in every sector costs time, not memory.
  const valid: Array<Omit<FoundHeader, 'arrayOk'>> = [];
  const judge = (position: number, bytes: Uint8Array): void => {
    for (const sectorSize of sectorSizes) {
      if (position % sectorSize !== 0 || bytes.length < sectorSize) continue;
      // A copy: the pass reuses its buffers, and the header keeps its raw bytes.
      const header = decodeHeader(new Uint8Array(bytes.subarray(0, sectorSize)));
      if (header.headerCrc32 === header.computedHeaderCrc32 && header.myLba === position / sectorSize) valid.push({ sectorSize, lba: position / sectorSize, header });
    }
  };
  await passOverDisk(source, SIGNATURE, step, { onHit: judge, onProbe: (bytes, offset) => onProbe?.(bytes, offset) }, progress);
  valid.sort((a, b) => a.lba * a.sectorSize - b.lba * b.sectorSize || a.sectorSize - b.sectorSize);
  const found: FoundHeader[] = [];
  for (const f of valid) found.push(await withArray(source, { ...f, arrayOk: false }));
  return found;
}

async function withArray(source: BlockSource, f: FoundHeader): Promise<FoundHeader> {
  const h = f.header;
  const bytes = h.entryCount * h.entrySize;
  if (h.entrySize < 128 || h.entryCount === 0 || bytes > MAX_ARRAY_BYTES) return f;
  const array = await source.read(h.entriesLba * f.sectorSize, arraySectors(h.entryCount, h.entrySize, f.sectorSize) * f.sectorSize);
  if (array.length < bytes) return f;
  return { ...f, array, arrayOk: arrayCrc(array, h.entryCount, h.entrySize) === h.entriesCrc32 };
}

/**
 * Entry arrays with no surviving header, at the places arrays live: LBA 2 (primary) and the 32
 * sectors before the last LBA (backup), for each sector size. An array counts when its used
 * entries look real: ordered, inside the disk, not overlapping, mostly known types.
 */
export async function huntArrays(source: BlockSource, sectorSizes: readonly number[], extraLbas: ReadonlyArray<[number, number]> = []): Promise<FoundArray[]> {
  const found: FoundArray[] = [];
  for (const ss of sectorSizes) {
    const total = Math.floor(source.size / ss);
    const sectors = arraySectors(128, 128, ss);
    const places = [2, total - 1 - sectors, ...extraLbas.filter(([s]) => s === ss).map(([, lba]) => lba)];
    for (const lba of places) {
      if (lba < 2 || lba + sectors > total) continue;
      const array = await source.read(lba * ss, sectors * ss);
      const entries = decodeUsedEntries(array, 128, 128);
      if (plausible(entries, total)) found.push({ sectorSize: ss, lba, array: array.slice(0, 128 * 128), entries });
    }
  }
  return found;
}

function plausible(entries: readonly GptEntry[], totalSectors: number): boolean {
  if (!entries.length) return false;
  const known = entries.filter((e) => typeByGuid(e.typeGuid)).length;
  const sane = entries.every((e) => e.firstLba >= 3 && e.firstLba <= e.lastLba && e.lastLba < totalSectors);
  const sorted = [...entries].sort((a, b) => a.firstLba - b.firstLba);
  const disjoint = sorted.every((e, i) => i === 0 || e.firstLba > sorted[i - 1]!.lastLba);
  return sane && disjoint && known * 2 >= entries.length;
}
