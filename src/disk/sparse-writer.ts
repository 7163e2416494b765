import { ftruncateSync, writeSync } from 'node:fs';

/**
 * Writes a stream of bytes to a file descriptor as a sparse file: blocks that are all zero are
 * skipped (the file is extended over them at the end), so that a decompressed 100 GiB disk that
 * holds 200 MiB of data costs 200 MiB of temporary space. It also records which byte ranges
 * hold data, which is what a whole-disk hunt (recover) needs to skip the holes.
 *
 * Synchronous on purpose: a decoder that produces a burst of output (a zstd RLE block, a run of
 * deflate back-references) hands each piece over and it is on disk before the next is made, so
 * memory never holds more than one block and one decoder chunk.
 */
const BLOCK = 64 * 1024;
/** Past this many data ranges, neighbours are merged: the list stays small for any disk. */
const MAX_RANGES = 65_536;

export class SparseWriter {
  private readonly block = Buffer.alloc(BLOCK);
  private filled = 0;
  private written = 0;
  private readonly ranges: Array<[number, number]> = [];

  constructor(private readonly fd: number) {}

  /** Bytes taken so far (the size of the decompressed image). */
  get size(): number {
    return this.written + this.filled;
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(BLOCK - this.filled, chunk.length - at);
      this.block.set(chunk.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === BLOCK) this.flushBlock();
    }
  }

  /** Writes the last partial block and sets the file's size; returns the data ranges. */
  finish(): Array<[number, number]> {
    if (this.filled) this.flushBlock();
    ftruncateSync(this.fd, this.written);
    return this.ranges;
  }

  private flushBlock(): void {
    const bytes = this.block.subarray(0, this.filled);
    const offset = this.written;
    if (!isZero(bytes)) {
      let done = 0;
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, offset + done);
      this.note(offset, offset + bytes.length);
    }
    this.written += this.filled;
    this.filled = 0;
  }

  private note(start: number, end: number): void {
    const last = this.ranges[this.ranges.length - 1];
    if (last && last[1] === start) last[1] = end;
    else this.ranges.push([start, end]);
    if (this.ranges.length > MAX_RANGES) mergeHalf(this.ranges);
  }
}

const ZERO = Buffer.alloc(BLOCK);

function isZero(bytes: Buffer): boolean {
  return bytes.equals(bytes.length === BLOCK ? ZERO : ZERO.subarray(0, bytes.length));
}

/** Halves the list by joining each pair of neighbours over the hole between them. */
function mergeHalf(ranges: Array<[number, number]>): void {
  const merged: Array<[number, number]> = [];
  for (let i = 0; i < ranges.length; i += 2) merged.push([ranges[i]![0], (ranges[i + 1] ?? ranges[i]!)[1]]);
  ranges.splice(0, ranges.length, ...merged);
}
