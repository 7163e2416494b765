import type { BlockSource } from '../disk/block-source.js';
import { sourceRanges } from '../disk/ranges.js';
import { arrayCrc, decodeUsedEntries, type GptEntry } from '../gpt/entries.js';
import { GPT_SIGNATURE, arraySectors, decodeHeader, type GptHeader } from '../gpt/header.js';
import { typeByGuid } from '../gpt/partition-types.js';
import { MAX_ARRAY_BYTES } from '../gpt/validate-header.js';

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

export const CHUNK_SIZE = 8 * 1024 * 1024;
const CHUNK = CHUNK_SIZE;
/** Each chunk is read this much longer, so a structure at the seam is seen whole (onChunk's 8 KiB filesystem sniffs). */
const SEAM = 8192;
const SIGNATURE = Buffer.from(GPT_SIGNATURE, 'latin1');

export interface HuntProgress {
  (done: number, total: number): void;
}

/**
 * Reads the whole disk in large sequential chunks and reports every sector-aligned "EFI PART"
 * whose header checks out (CRC and MyLBA) for 512- or 4096-byte sectors, with its entry array.
 * Buffer.indexOf does the searching, so the hunt runs at memory speed on cached images. The
 * chunk is reused from one read to the next: what onChunk keeps of it must be copied.
 */
export async function huntHeaders(
  source: BlockSource,
  sectorSizes: readonly number[],
  progress?: HuntProgress,
  /** Sees every chunk too, so other hunts (filesystems) share the single pass over the disk. */
  onChunk?: (chunk: Uint8Array, offset: number) => void,
): Promise<FoundHeader[]> {
  const found: FoundHeader[] = [];
  // One buffer for the whole pass where the disk can read into it (see ReadableDisk.readInto).
  const reused = source.readInto ? Buffer.allocUnsafe(CHUNK + SEAM) : undefined;
  for (const offset of await chunksWithData(source)) {
    const bytes = reused ? reused.subarray(0, await source.readInto!(reused, offset)) : await source.read(offset, CHUNK + SEAM);
    const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength); // a view, not a copy
    onChunk?.(chunk, offset);
    for (let at = chunk.indexOf(SIGNATURE); at !== -1 && at < CHUNK; at = chunk.indexOf(SIGNATURE, at + 1)) {
      const position = offset + at;
      for (const ss of sectorSizes) {
        if (position % ss !== 0) continue;
        const sector = new Uint8Array(chunk.subarray(at, at + ss));
        const header = decodeHeader(sector);
        if (header.headerCrc32 !== header.computedHeaderCrc32 || header.myLba !== position / ss) continue;
        found.push(await withArray(source, { sectorSize: ss, lba: position / ss, header, arrayOk: false }));
      }
    }
    progress?.(Math.min(offset + CHUNK, source.size), source.size);
  }
  return found;
}

/**
 * Start offsets, ascending, of the chunks that hold any data: sparse holes are never read. Lazy,
 * so a range over a whole (huge) disk costs nothing until its chunks are read; a chunk shared by
 * neighbouring ranges is given once.
 */
export function* chunkStarts(ranges: ReadonlyArray<Readonly<[number, number]>>, size: number): Generator<number> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  let next = 0; // the first chunk not given yet
  for (const [from, to] of sorted) {
    const end = Math.min(to, size);
    for (let c = Math.max(Math.floor(from / CHUNK) * CHUNK, next); c < end; c += CHUNK) {
      yield c;
      next = c + CHUNK;
    }
  }
}

async function chunksWithData(source: BlockSource): Promise<Iterable<number>> {
  return chunkStarts(await sourceRanges(source), source.size);
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
