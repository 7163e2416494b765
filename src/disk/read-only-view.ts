import type { BlockSource, SourceFormat } from './block-source.js';
import { sourceRanges } from './ranges.js';

/**
 * A disk seen through another that only changes where its bytes come from (a decompressed copy,
 * an object over HTTP(S)): it reads like the disk it views and never writes, so write commands
 * offer `--output FILE`. Subclasses say why, and add what they know (views.ts looks through them).
 */
export abstract class ReadOnlyView implements BlockSource {
  readonly writable = false;
  abstract readonly readOnlyReason: string;

  constructor(
    /** The disk shown. */
    readonly viewed: BlockSource,
  ) {}

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
  get containerInfo(): Readonly<Record<string, string | number>> | undefined {
    return this.viewed.containerInfo;
  }
  get bytesRead(): number {
    return this.viewed.bytesRead;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.viewed.read(offset, length);
  }

  /** Where the viewed disk reads in place (a raw decompressed copy is a file), so does the view. */
  get readInto(): BlockSource['readInto'] {
    return this.viewed.readInto?.bind(this.viewed);
  }

  /** Where the viewed disk searches natively (a raw decompressed copy is a file), so does the view. */
  get signatureSearcher(): BlockSource['signatureSearcher'] {
    return this.viewed.signatureSearcher?.bind(this.viewed);
  }

  async dataRanges(): Promise<Array<[number, number]>> {
    return sourceRanges(this.viewed);
  }

  close(): Promise<void> {
    return this.viewed.close();
  }
}
