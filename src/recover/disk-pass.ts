import type { BlockSource } from '../disk/block-source.js';
import { sourceRanges } from '../disk/ranges.js';

/**
 * The recover hunt's one pass over every byte of a disk that holds data. It reports each place,
 * at a multiple of the sector step, where a signature starts, and hands over the first 8 KiB at
 * every 1 MiB boundary (where partitioning tools start partitions, for the filesystem hunt).
 *
 * 4 MiB chunks, three in flight: on a cached image the pass is the copy out of the page cache,
 * and with several reads outstanding those copies run on libuv's threads (both cores) while this
 * thread searches the chunk that came back with Buffer.indexOf. On a cached 1 GiB image, one
 * 8 MiB read at a time took ~100 ms; three 4 MiB reads in flight ~60 ms; more, or larger, bought
 * nothing. The addon's own threads doing the search as well (tried) were no faster in a real run.
 */
export interface PassReports {
  /** A signature at `position`; `bytes` start there (valid during the call only: buffers are reused). */
  onHit(position: number, bytes: Uint8Array): void;
  /** The 8 KiB at a 1 MiB boundary (valid during the call only); a boundary whose 8 KiB run past the disk's end is not probed. */
  onProbe(bytes: Uint8Array, offset: number): void;
}

export interface PassProgress {
  (done: number, total: number): void;
}

export const CHUNK_SIZE = 4 * 1024 * 1024;
const READS_IN_FLIGHT = 3;
export const PROBE_BYTES = 8192;
const MIB = 1024 * 1024;

export async function passOverDisk(source: BlockSource, signature: Uint8Array, step: number, reports: PassReports, progress?: PassProgress): Promise<void> {
  const chunks = chunkStarts(await sourceRanges(source), source.size);
  const needle = Buffer.from(signature);
  let reached = 0; // how far into the disk progress has been reported: reads finish out of order
  // Once one read fails the others stop after the chunk in hand, and the error is thrown only
  // when none is left in flight: the caller closes the disk on it, and no read may outlive that.
  let failed = false;
  const reader = async (): Promise<void> => {
    try {
      await readChunks();
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  const readChunks = async (): Promise<void> => {
    // One buffer per reader where the disk can read into it (see ReadableDisk.readInto). Each
    // chunk is read PROBE_BYTES longer, so the probe at its last boundary is whole.
    const reused = source.readInto ? Buffer.allocUnsafe(CHUNK_SIZE + PROBE_BYTES) : undefined;
    for (let next = chunks.next(); !next.done && !failed; next = chunks.next()) {
      const offset = next.value;
      const bytes = reused ? reused.subarray(0, await source.readInto!(reused, offset)) : await source.read(offset, CHUNK_SIZE + PROBE_BYTES);
      const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength); // a view, not a copy
      for (let at = chunk.indexOf(needle); at !== -1 && at < CHUNK_SIZE; at = chunk.indexOf(needle, at + 1)) {
        if ((offset + at) % step === 0) reports.onHit(offset + at, chunk.subarray(at));
      }
      for (let at = Math.ceil(offset / MIB) * MIB; at < offset + CHUNK_SIZE && at - offset + PROBE_BYTES <= chunk.length; at += MIB) {
        reports.onProbe(chunk.subarray(at - offset, at - offset + PROBE_BYTES), at);
      }
      reached = Math.max(reached, Math.min(offset + CHUNK_SIZE, source.size));
      progress?.(reached, source.size);
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: READS_IN_FLIGHT }, reader));
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) throw failure.reason;
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
    for (let c = Math.max(Math.floor(from / CHUNK_SIZE) * CHUNK_SIZE, next); c < end; c += CHUNK_SIZE) {
      yield c;
      next = c + CHUNK_SIZE;
    }
  }
}
