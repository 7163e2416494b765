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
    /** The disk shown (views.ts looks through to it). */
    readonly viewed: BlockSource,
    readonly compression: Compression,
  ) {
    this.readOnlyReason = `it is ${compression}-compressed`;
  }

  get path(): string {
    return this.viewed.path;
  }
  get format(): SourceFormat {
    return this.viewed.format;
  }
  get size(): number {
    return this.viewed.size;
  }
  get declaredSectorSize(): number | undefined {
    return this.viewed.declaredSectorSize;
  }
  get physicalSectorSize(): number | undefined {
    return this.viewed.physicalSectorSize;
  }
  get containerInfo(): Readonly<Record<string, string | number>> {
    return { ...this.viewed.containerInfo, compression: this.compression };
  }
  get bytesRead(): number {
    return this.viewed.bytesRead;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.viewed.read(offset, length);
  }

  /** The decompressed copy is a file, so a raw one reads in place; containers inside have no readInto. */
  get readInto(): BlockSource['readInto'] {
    return this.viewed.readInto?.bind(this.viewed);
  }

  async dataRanges(): Promise<Array<[number, number]>> {
    return sourceRanges(this.viewed);
  }

  close(): Promise<void> {
    return this.viewed.close();
  }
}
