import type { BlockSource, SourceFormat } from './block-source.js';
import type { HttpSource } from './http-source.js';
import { sourceRanges } from './ranges.js';

/**
 * The disk inside an object read over HTTP(S) (a VHD, a VHDX, a qcow2, a decompressed image),
 * seen through its container reader. It reads like that reader, never writes (write commands
 * offer `--output FILE`), and counts what the HTTP source beneath it cost.
 */
export class HttpView implements BlockSource {
  readonly writable = false;
  readonly readOnlyReason: string;

  constructor(
    /** The disk shown (views.ts looks through to it). */
    readonly viewed: BlockSource,
    private readonly remote: HttpSource,
  ) {
    this.readOnlyReason = viewed.readOnlyReason ? `${remote.readOnlyReason} and ${viewed.readOnlyReason}` : remote.readOnlyReason;
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
  get containerInfo(): Readonly<Record<string, string | number>> | undefined {
    return this.viewed.containerInfo;
  }
  get bytesRead(): number {
    return this.viewed.bytesRead;
  }
  get requests(): number {
    return this.remote.requests;
  }
  get bytesTransferred(): number {
    return this.remote.bytesTransferred;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.viewed.read(offset, length);
  }

  async dataRanges(): Promise<Array<[number, number]>> {
    return sourceRanges(this.viewed);
  }

  close(): Promise<void> {
    return this.viewed.close();
  }
}
