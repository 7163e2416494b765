/**
 * The first and last bytes of a file opened for reading, each fetched in one read on first use.
 * A check reads the head (container signatures, protective MBR, primary GPT header and array) and
 * the tail (VHD footer, backup GPT header and array) in nine small reads; on a network share
 * (SMB, NFS) each is a round trip, and a scan of a library there is bounded by them. Kept, they
 * cost two: the local half of the read cache that http-cache.ts is for remote disks.
 *
 * 64 KiB each way covers both GPT copies at 512 and 4096 bytes a sector (the array is 16 KiB), the
 * VHD footer and the signatures sniffed at the head. Synchronous, as FileSource's reads are: no
 * batching across a turn of the event loop is needed when one read fetches the whole window.
 * Pure over the read it is given, so it is tested with a counting fake.
 */
export const END_WINDOW = 64 * 1024;

/** Reads into `target` at `offset` of the file; returns the bytes read (fewer only at its end). */
export type ReadAt = (target: Uint8Array, offset: number) => number;

export class EndCache {
  private head?: Uint8Array;
  private tail?: Uint8Array;
  private readonly tailStart: number;

  constructor(
    private readonly size: number,
    private readonly readAt: ReadAt,
    private readonly window = END_WINDOW,
  ) {
    this.tailStart = Math.max(0, size - window);
  }

  /**
   * A copy of [offset, offset + length) when it lies wholly within the head or the tail window,
   * fetching that window the first time; undefined for any other range (read it directly).
   */
  read(offset: number, length: number): Uint8Array | undefined {
    const end = Math.min(this.size, offset + length);
    if (offset < 0 || !(end > offset)) return undefined;
    if (end <= Math.min(this.window, this.size)) {
      this.head ??= this.fetch(0, Math.min(this.window, this.size));
      return end <= this.head.length ? this.head.slice(offset, end) : undefined;
    }
    if (offset >= this.tailStart) {
      this.tail ??= this.fetch(this.tailStart, this.size - this.tailStart);
      const from = offset - this.tailStart;
      return end - this.tailStart <= this.tail.length ? this.tail.slice(from, end - this.tailStart) : undefined;
    }
    return undefined;
  }

  /** The window's bytes: shorter when the file is shorter than it said (it shrank under us). */
  private fetch(offset: number, length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    return bytes.subarray(0, this.readAt(bytes, offset));
  }
}
