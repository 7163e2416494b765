import type { BlockSource, SourceFormat } from './block-source.js';
import type { Compression } from './decompress.js';
import { sourceRanges } from './ranges.js';

/**
 * The disk inside a compressed file, seen through whatever reader its decompressed bytes need
 * (raw, VHD, VHDX, qcow2, VMDK). It reads like that reader and never writes: the bytes it holds
 * are a temporary copy, not the file's, so write commands offer `--output FILE` instead.
 */
export class CompressedView implements BlockSource {
  readonly writable = false;
  readonly readOnlyReason: string;

  constructor(
    private readonly inner: BlockSource,
    readonly compression: Compression,
  ) {
    this.readOnlyReason = `it is ${compression}-compressed`;
  }

  get path(): string {
    return this.inner.path;
  }
  get format(): SourceFormat {
    return this.inner.format;
  }
  get size(): number {
    return this.inner.size;
  }
  get declaredSectorSize(): number | undefined {
    return this.inner.declaredSectorSize;
  }
  get physicalSectorSize(): number | undefined {
    return this.inner.physicalSectorSize;
  }
  get containerInfo(): Readonly<Record<string, string | number>> {
    return { ...this.inner.containerInfo, compression: this.compression };
  }
  get bytesRead(): number {
    return this.inner.bytesRead;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.inner.read(offset, length);
  }

  /** The decompressed copy is a file, so a raw one reads in place; containers inside have no readInto. */
  get readInto(): BlockSource['readInto'] {
    return this.inner.readInto?.bind(this.inner);
  }

  async dataRanges(): Promise<Array<[number, number]>> {
    return sourceRanges(this.inner);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
