import { DiskError, type BlockSource, type SourceFormat } from './block-source.js';

/**
 * A disk held in memory: decompressed .gz images and tests. Writes, when allowed, change only
 * the buffer.
 */
export class MemorySource implements BlockSource {
  private read_ = 0;

  constructor(
    readonly path: string,
    private readonly bytes: Uint8Array,
    readonly writable = false,
    readonly format: SourceFormat = 'memory',
    /** Set for decompressed images: the bytes held here are not the file's. */
    readonly readOnlyReason?: string,
  ) {}

  get size(): number {
    return this.bytes.length;
  }

  get bytesRead(): number {
    return this.read_;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const chunk = this.bytes.slice(Math.min(offset, this.size), Math.min(offset + length, this.size));
    this.read_ += chunk.length;
    return chunk;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (!this.writable) throw new DiskError('EROFS', `${this.path} is read-only`);
    if (offset + data.length > this.size) throw new DiskError('ENOSPC', `write past the end of ${this.path}`);
    this.bytes.set(data, offset);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}

  /** The current bytes (tests compare them). */
  contents(): Uint8Array {
    return this.bytes;
  }
}
