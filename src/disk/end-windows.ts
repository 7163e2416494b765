/**
 * Both ends of a read-only local image, each read once, in one system call, the first time a read
 * falls in it. A structure check's reads all lie at the ends: the format sniff (the first KiBs, a
 * footer), the MBR, the primary header and array, the backup array and header. With 512-byte
 * sectors and 128 entries they span 17 KiB at each end, with 4096-byte sectors 24 KiB, so 24 KiB
 * windows turn a check's nine reads into two (issue #20: "the same layer cuts local reads").
 *
 * Each read gets its own copy, as a read of the file would: callers may change what they are
 * given (fixups are undone in place), and a window must stay as the file was. The copies are small;
 * anything that does not lie wholly in one window is read from the file as before.
 */
export const END_WINDOW_BYTES = 24 * 1024;

/** Fills `buffer` from the file at `offset` and returns how many bytes it got (fewer only at its end). */
export type ReadAt = (buffer: Uint8Array, offset: number) => number;

export class EndWindows {
  private head: Uint8Array | undefined;
  private tail: Uint8Array | undefined;
  /** Where the tail window starts: nothing of the file is in both windows. */
  private readonly tailStart: number;

  constructor(
    private readonly size: number,
    private readonly readAt: ReadAt,
    private readonly windowBytes = END_WINDOW_BYTES,
  ) {
    this.tailStart = Math.max(Math.min(size, windowBytes), size - windowBytes);
  }

  /** A copy of [offset, offset + length) (cut at the file's end) when it lies in one window; otherwise undefined. */
  read(offset: number, length: number): Uint8Array | undefined {
    const end = Math.min(offset + length, this.size);
    if (offset < 0 || end < offset) return undefined;
    if (end <= Math.min(this.size, this.windowBytes)) {
      this.head ??= this.fill(0, Math.min(this.size, this.windowBytes));
      return this.head.slice(offset, end);
    }
    if (offset >= this.tailStart) {
      this.tail ??= this.fill(this.tailStart, this.size - this.tailStart);
      return this.tail.slice(offset - this.tailStart, end - this.tailStart);
    }
    return undefined;
  }

  private fill(offset: number, length: number): Uint8Array {
    // Not zeroed first: the read fills it, and what a short read leaves is cut off below. A plain
    // Uint8Array over that memory, not the Buffer: Buffer's slice() is a view, not a copy.
    const memory = Buffer.allocUnsafeSlow(length);
    const buffer = new Uint8Array(memory.buffer, memory.byteOffset, length);
    const got = this.readAt(buffer, offset);
    return got === length ? buffer : buffer.subarray(0, got); // the file shrank: what exists
  }
}
