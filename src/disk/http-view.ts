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
    private readonly inner: BlockSource,
    private readonly remote: HttpSource,
  ) {
    this.readOnlyReason = inner.readOnlyReason ? `${remote.readOnlyReason} and ${inner.readOnlyReason}` : remote.readOnlyReason;
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
  get containerInfo(): Readonly<Record<string, string | number>> | undefined {
    return this.inner.containerInfo;
  }
  get bytesRead(): number {
    return this.inner.bytesRead;
  }
  get requests(): number {
    return this.remote.requests;
  }
  get bytesTransferred(): number {
    return this.remote.bytesTransferred;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.inner.read(offset, length);
  }

  async dataRanges(): Promise<Array<[number, number]>> {
    return sourceRanges(this.inner);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
