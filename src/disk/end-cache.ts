/**
 * The first and last bytes of an image on a network file system (network-fs.ts), fetched together,
 * in one read each, the first time either is wanted. A check reads the head (container signatures,
 * protective MBR, primary GPT header and array) and the tail (VHD footer, backup GPT header and
 * array) in nine small reads; on a share (SMB, NFS, FUSE) each can be a round trip, and a scan of
 * a library there is bounded by them. Kept, they cost two reads that go out at once, on libuv's
 * threads, so the images a scan has open wait for theirs side by side. This is the file-share half
 * of the read cache that http-cache.ts is for disks over HTTP.
 *
 * Not for local files: there the nine reads come from the page cache in microseconds, and copying
 * two windows an image cost a 1,000-image scan 8%.
 *
 * 64 KiB each way covers both GPT copies at 512 and 4096 bytes a sector (a 128-entry array is 16
 * KiB, a 256-entry one 32), the VHD footer and the signatures sniffed at the head. Pure over the
 * read it is given, so it is tested with a counting fake.
 */
export const END_WINDOW = 64 * 1024;

/** Reads into `target` at `offset` of the file; resolves to the bytes read (fewer only at its end). */
export type ReadAt = (target: Uint8Array, offset: number) => Promise<number>;

interface Window {
  start: number;
  /** The window's bytes, shorter when the file is shorter than it said (it shrank under us). */
  bytes?: Promise<Uint8Array>;
}

export class EndCache {
  private readonly head: Window;
  private readonly tail: Window;

  constructor(
    private readonly size: number,
    private readonly readAt: ReadAt,
    private readonly window = END_WINDOW,
  ) {
    this.head = { start: 0 };
    this.tail = { start: Math.max(0, size - window) };
  }

  /**
   * For [offset, offset + length) wholly within the head or the tail window: a promise of a copy
   * of it, or of undefined when the file turned out shorter than the range. Undefined at once for
   * any other range. Undefined either way means: read it directly.
   */
  read(offset: number, length: number): Promise<Uint8Array | undefined> | undefined {
    const end = Math.min(this.size, offset + length);
    if (offset < 0 || !(end > offset)) return undefined;
    const w = end <= Math.min(this.window, this.size) ? this.head : offset >= this.tail.start ? this.tail : undefined;
    if (!w) return undefined;
    if (!this.head.bytes) {
      // Both at once: every check wants both, and the second is then no round trip more.
      this.head.bytes = this.fetch(0, Math.min(this.window, this.size));
      this.tail.bytes = this.tail.start === 0 ? this.head.bytes : this.fetch(this.tail.start, this.size - this.tail.start);
    }
    return w.bytes!.then((bytes) => (end - w.start <= bytes.length ? bytes.slice(offset - w.start, end - w.start) : undefined));
  }

  private async fetch(offset: number, length: number): Promise<Uint8Array> {
    const bytes = new Uint8Array(length);
    return bytes.subarray(0, await this.readAt(bytes, offset));
  }
}
