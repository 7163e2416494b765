/**
 * The read cache of a disk read over a network, where each round trip costs far more than the
 * bytes it carries: an object over HTTP(S) (http-source.ts), and an image file on a network file
 * system (file-source.ts, network-fs.ts). A check asks for many small reads (a sector here, a
 * directory cluster there); the cache turns them into few requests:
 *
 * - bytes are kept in aligned blocks, and a miss fetches its blocks plus `readAheadBlocks` more,
 *   so a run of sector reads (a FAT directory, MFT records) costs one request;
 * - a miss within `tailBytes` of the end fetches the whole tail, so the backup GPT header and
 *   array (and a VHD footer) come in one request, whatever the disk's size and sector size;
 * - misses queued in the same turn of the event loop (partitions sniffed concurrently) are fetched
 *   together, and runs at most `mergeGapBlocks` apart become one request;
 * - a block already being fetched is waited for, never fetched twice;
 * - reads of `directFrom` bytes or more (a whole-disk hunt, a copy) bypass the cache.
 *
 * Memory is bounded by `capacityBytes` (least recently used blocks go first). The fetch function
 * is given; this module does no I/O of its own, so it is tested with a counting fake.
 */

/**
 * The first request of a disk read over a network reads this much, so that it also serves the MBR,
 * the primary GPT header and its array at any sector size (4 KiB sectors: 24 KiB; 256 entries of
 * 128 bytes: 33 KiB), and a container's first header. The tail then comes in one more.
 */
export const HEAD_BYTES = 64 * 1024;

/** Returns exactly the bytes [start, end) of the object. */
export type FetchRange = (start: number, end: number) => Promise<Uint8Array>;

export interface CachePolicy {
  blockSize: number;
  readAheadBlocks: number;
  mergeGapBlocks: number;
  tailBytes: number;
  directFrom: number;
  capacityBytes: number;
}

/**
 * Sized on the Windows fixture's check (docs/ARCHITECTURE.md §3): 16 KiB blocks with one block of
 * read-ahead serve its 62 reads in about 14 requests and under 600 KiB; larger blocks save few
 * requests for many more bytes.
 */
export const DEFAULT_CACHE_POLICY: CachePolicy = {
  blockSize: 16 * 1024,
  readAheadBlocks: 1,
  mergeGapBlocks: 2,
  tailBytes: 64 * 1024,
  directFrom: 1024 * 1024,
  capacityBytes: 32 * 1024 * 1024,
};

/** A run of blocks [first, last] to fetch in one request. */
export type BlockRun = [first: number, last: number];

/**
 * Which requests fetch the `wanted` blocks (sorted, none known): neighbours at most
 * `mergeGapBlocks` apart share a request; each request reads ahead over blocks not yet known;
 * one that reaches the tail takes the whole tail. `known(b)` says whether block b is cached or
 * being fetched. Pure.
 */
export function planRuns(wanted: readonly number[], known: (block: number) => boolean, size: number, policy: CachePolicy): BlockRun[] {
  const lastBlock = Math.max(0, Math.ceil(size / policy.blockSize) - 1);
  const tailBlock = Math.max(0, Math.floor(Math.max(0, size - policy.tailBytes) / policy.blockSize));
  const runs: BlockRun[] = [];
  for (const block of wanted) {
    const run = runs[runs.length - 1];
    if (run && block - run[1] - 1 <= policy.mergeGapBlocks) run[1] = block;
    else runs.push([block, block]);
  }
  for (const run of runs) {
    for (let n = 0; n < policy.readAheadBlocks && run[1] < lastBlock && !known(run[1] + 1); n++) run[1]++;
    if (run[1] >= tailBlock) {
      while (run[1] < lastBlock && !known(run[1] + 1)) run[1]++;
      while (run[0] > tailBlock && !known(run[0] - 1)) run[0]--;
    }
  }
  // Read-ahead may have reached the next run: one request then.
  const merged: BlockRun[] = [];
  for (const run of runs) {
    const prev = merged[merged.length - 1];
    if (prev && run[0] <= prev[1] + 1) prev[1] = Math.max(prev[1], run[1]);
    else merged.push([run[0], run[1]]);
  }
  return merged;
}

interface Waiter {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class ReadCache {
  /** Cached blocks, least recently used first (a Map keeps insertion order). */
  private readonly blocks = new Map<number, Uint8Array>();
  private cachedBytes = 0;
  /** Blocks being fetched, or queued to be: what a read waits for. */
  private readonly pending = new Map<number, Promise<void>>();
  /** Blocks asked for in this turn of the event loop, not yet sent. */
  private queued = new Map<number, Waiter>();

  constructor(
    readonly size: number,
    private readonly fetchRange: FetchRange,
    private readonly policy: CachePolicy = DEFAULT_CACHE_POLICY,
  ) {}

  /** Keeps bytes fetched elsewhere (the first response) from `offset`, a multiple of the block size. */
  fill(offset: number, bytes: Uint8Array): void {
    const size = this.policy.blockSize;
    for (let at = 0; at < bytes.length; at += size) {
      const piece = bytes.subarray(at, at + size);
      // Only whole blocks, or the disk's last, shorter one.
      if (piece.length === size || offset + at + piece.length === this.size) this.keep((offset + at) / size, piece);
    }
  }

  /** Up to `length` bytes at `offset` (fewer only past the end), as a new buffer. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + length);
    if (!(end > offset)) return new Uint8Array(0);
    if (end - offset >= this.policy.directFrom) return this.fetchRange(offset, end);
    const first = Math.floor(offset / this.policy.blockSize);
    const last = Math.floor((end - 1) / this.policy.blockSize);
    // A block fetched may be evicted before this read takes it, when many reads run at once:
    // then the read asks again; past a few rounds it reads directly.
    for (let round = 0; round < 3; round++) {
      const waits: Array<Promise<void>> = [];
      for (let block = first; block <= last; block++) {
        if (this.blocks.has(block)) continue;
        waits.push(this.pending.get(block) ?? this.enqueue(block));
      }
      if (!waits.length) return this.assemble(offset, end, first, last);
      await Promise.all(waits);
    }
    return this.fetchRange(offset, end);
  }

  private enqueue(block: number): Promise<void> {
    if (!this.queued.size) setImmediate(() => this.dispatch());
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.queued.set(block, { promise, resolve, reject });
    this.pending.set(block, promise);
    return promise;
  }

  /** Sends what this turn queued, as few requests as planRuns makes of it. */
  private dispatch(): void {
    const queued = this.queued;
    this.queued = new Map();
    const wanted = [...queued.keys()].sort((x, y) => x - y);
    const known = (block: number): boolean => this.blocks.has(block) || (this.pending.has(block) && !queued.has(block));
    for (const [firstBlock, lastBlock] of planRuns(wanted, known, this.size, this.policy)) {
      const start = firstBlock * this.policy.blockSize;
      const end = Math.min(this.size, (lastBlock + 1) * this.policy.blockSize);
      const fetched = this.fetchRange(start, end).then((bytes) => this.fill(start, bytes));
      // What this request stands for in `pending`: the queued blocks' waiters, and the read-ahead.
      const mine = new Map<number, Promise<void>>();
      for (let block = firstBlock; block <= lastBlock; block++) {
        const waiter = queued.get(block);
        if (waiter) {
          fetched.then(waiter.resolve, waiter.reject);
          mine.set(block, waiter.promise);
        } else if (!this.pending.has(block)) {
          this.pending.set(block, fetched);
          mine.set(block, fetched);
        }
      }
      const done = (): void => {
        for (const [block, promise] of mine) if (this.pending.get(block) === promise) this.pending.delete(block);
      };
      fetched.then(done, done);
    }
  }

  private keep(block: number, bytes: Uint8Array): void {
    const old = this.blocks.get(block);
    if (old) {
      this.cachedBytes -= old.length;
      this.blocks.delete(block);
    }
    this.blocks.set(block, bytes);
    this.cachedBytes += bytes.length;
    for (const [oldest, data] of this.blocks) {
      if (this.cachedBytes <= this.policy.capacityBytes) break;
      this.blocks.delete(oldest);
      this.cachedBytes -= data.length;
    }
  }

  /** Copies [offset, end) out of cached blocks, marking them recently used. */
  private assemble(offset: number, end: number, first: number, last: number): Uint8Array {
    const size = this.policy.blockSize;
    const out = new Uint8Array(end - offset);
    for (let block = first; block <= last; block++) {
      const bytes = this.blocks.get(block)!;
      this.blocks.delete(block);
      this.blocks.set(block, bytes);
      const from = Math.max(offset, block * size);
      const to = Math.min(end, block * size + bytes.length);
      out.set(bytes.subarray(from - block * size, to - block * size), from - offset);
    }
    return out;
  }
}
