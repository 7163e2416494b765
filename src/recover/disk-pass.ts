import { DiskError, type BlockSource, type SignatureSearcher } from '../disk/block-source.js';
import { sourceRanges } from '../disk/ranges.js';

/**
 * The recover hunt's one pass over every byte of a disk that holds data. It reports each place,
 * at a multiple of the sector step, where a signature starts, and hands over the first 8 KiB at
 * every 1 MiB boundary (where partitioning tools start partitions, for the filesystem hunt).
 *
 * Two ways, the same reports (test/disk-pass.test.ts holds them to it), and the same refusal
 * (ECHANGED) when the disk ends before its size: a file truncated under the hunt.
 * - Where the disk offers a native searcher (a local image file on Unix), 16 MiB stretches go
 *   to the addon, four in flight (libuv's whole pool). On Linux it maps each stretch (nothing is
 *   copied, native/src/mapped.rs), elsewhere it reads 1 MiB pieces into a buffer that stays in
 *   the CPU's cache; either way it looks only at the sector starts and sends up the hits and
 *   probes. On a cached 1 GiB image, in the same runs: ~46 ms mapped, ~76 ms read, ~135 ms for
 *   the JS way.
 * - Otherwise 4 MiB chunks, three in flight: on a cached image the pass is the copy out of the
 *   page cache, and with several reads outstanding those copies run on libuv's threads (both
 *   cores) while this thread searches the chunk that came back with Buffer.indexOf. One 8 MiB read
 *   at a time took ~100 ms; three 4 MiB reads in flight ~60 ms; more, or larger, bought nothing.
 */
export interface PassReports {
  /**
   * A signature at `position`; `bytes` start there, at least HIT_BYTES of them where the disk has
   * them (valid during the call only: buffers are reused).
   */
  onHit(position: number, bytes: Uint8Array): void;
  /** The 8 KiB at a 1 MiB boundary (valid during the call only); a boundary whose 8 KiB run past the disk's end is not probed. */
  onProbe(bytes: Uint8Array, offset: number): void;
}

export interface PassProgress {
  (done: number, total: number): void;
}

export const CHUNK_SIZE = 4 * 1024 * 1024;
const READS_IN_FLIGHT = 3;
/** A native search's stretch, and how many are in flight (libuv's default pool is 4 threads). */
export const STRETCH_SIZE = 16 * 1024 * 1024;
const SEARCHES_IN_FLIGHT = 4;
/** Hits per native search before it returns early: a disk full of signatures stays in bounded memory. */
const HITS_PER_SEARCH = 64;
export const PROBE_BYTES = 8192;
/** The bytes a hit hands over at least: the largest sector size the hunt tries. */
export const HIT_BYTES = 4096;
const MIB = 1024 * 1024;

export async function passOverDisk(source: BlockSource, signature: Uint8Array, step: number, reports: PassReports, progress?: PassProgress): Promise<void> {
  const ranges = await sourceRanges(source);
  const searcher = await source.signatureSearcher?.();
  let reached = 0; // how far into the disk progress has been reported: work finishes out of order
  const done = (end: number): void => {
    reached = Math.max(reached, Math.min(end, source.size));
    progress?.(reached, source.size);
  };
  // Once one worker fails the others stop after the piece in hand, and the error is thrown only
  // when none is left in flight: the caller closes the disk on it, and no read may outlive that.
  let failed = false;
  const guarded = async (work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  const shrank = (): DiskError =>
    new DiskError('ECHANGED', `${source.path} shrank while it was searched (it was ${source.size} bytes when opened): what was read would mix two versions of it, so nothing is reported; run recover again when nothing writes to it`);
  const job: PassJob = { ranges, size: source.size, signature, step, reports, done, stopped: () => failed, shrank };
  const workers = searcher ? searchStretches(searcher, job) : readChunks(source, job);
  const outcomes = await Promise.allSettled(workers.map(guarded));
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) throw failure.reason;
}

/** What both ways of the pass are given. */
interface PassJob {
  ranges: ReadonlyArray<Readonly<[number, number]>>;
  size: number;
  signature: Uint8Array;
  step: number;
  reports: PassReports;
  /** Called with the end of each piece searched, in any order. */
  done: (end: number) => void;
  /** True once a worker has failed: the others stop after the piece in hand. */
  stopped: () => boolean;
  /** The error for a disk that ended before its size (a file truncated under the hunt). */
  shrank: () => DiskError;
}

/** The native way: workers that each hand 16 MiB stretches to the searcher until none is left. */
function searchStretches(searcher: SignatureSearcher, { ranges, size, signature, step, reports, done, stopped, shrank }: PassJob): Array<() => Promise<void>> {
  const stretches = stretchBounds(ranges, size, STRETCH_SIZE);
  const search = { signature, step, hitLength: HIT_BYTES, probeEvery: MIB, probeLength: PROBE_BYTES, maxHits: HITS_PER_SEARCH };
  const worker = async (): Promise<void> => {
    for (let next = stretches.next(); !next.done && !stopped(); next = stretches.next()) {
      const [start, to] = next.value;
      for (let from = start; from < to && !stopped(); ) {
        const found = await searcher({ ...search, from, to });
        if (found.short) throw shrank();
        for (const hit of found.hits) reports.onHit(hit.position, hit.bytes);
        for (const probe of found.probes) reports.onProbe(probe.bytes, probe.offset);
        from = found.end;
        done(from);
      }
    }
  };
  return Array.from({ length: SEARCHES_IN_FLIGHT }, () => worker);
}

/** The JS way: readers that each read 4 MiB chunks into their own buffer and search them. */
function readChunks(source: BlockSource, { ranges, signature, step, reports, done, stopped, shrank }: PassJob): Array<() => Promise<void>> {
  const chunks = chunkStarts(ranges, source.size);
  const needle = Buffer.from(signature);
  const reader = async (): Promise<void> => {
    // One buffer per reader where the disk can read into it (see ReadableDisk.readInto). Each
    // chunk is read PROBE_BYTES longer, so the probe at its last boundary is whole.
    const reused = source.readInto ? Buffer.allocUnsafe(CHUNK_SIZE + PROBE_BYTES) : undefined;
    for (let next = chunks.next(); !next.done && !stopped(); next = chunks.next()) {
      const offset = next.value;
      const bytes = reused ? reused.subarray(0, await source.readInto!(reused, offset)) : await source.read(offset, CHUNK_SIZE + PROBE_BYTES);
      if (bytes.length < Math.min(CHUNK_SIZE + PROBE_BYTES, source.size - offset)) throw shrank();
      const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength); // a view, not a copy
      for (let at = chunk.indexOf(needle); at !== -1 && at < CHUNK_SIZE; at = chunk.indexOf(needle, at + 1)) {
        if ((offset + at) % step === 0) reports.onHit(offset + at, chunk.subarray(at));
      }
      for (let at = Math.ceil(offset / MIB) * MIB; at < offset + CHUNK_SIZE && at - offset + PROBE_BYTES <= chunk.length; at += MIB) {
        reports.onProbe(chunk.subarray(at - offset, at - offset + PROBE_BYTES), at);
      }
      done(offset + CHUNK_SIZE);
    }
  };
  return Array.from({ length: READS_IN_FLIGHT }, () => reader);
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

/**
 * [from, to) stretches, ascending and disjoint, of at most `stretchSize` bytes that cover the
 * data ranges; each starts on a MiB (so probes and sector starts stay where they are) unless the
 * stretch before it ended later. Unlike chunks, a stretch ends where its data does: the addon
 * searches only what it is given, and holes hold no signature.
 */
export function* stretchBounds(ranges: ReadonlyArray<Readonly<[number, number]>>, size: number, stretchSize: number): Generator<[number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  let next = 0; // where the next stretch may start: nothing before it is given again
  for (const [from, to] of sorted) {
    const end = Math.min(to, size);
    for (let start = Math.max(Math.floor(from / MIB) * MIB, next); start < end; start = next) {
      next = Math.min(start + stretchSize, end);
      yield [start, next];
    }
  }
}
