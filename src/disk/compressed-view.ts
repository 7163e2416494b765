import type { BlockSource } from './block-source.js';
import type { Compression } from './decompress.js';
import { ReadOnlyView } from './read-only-view.js';

/**
 * The disk inside a compressed file, seen through whatever reader its decompressed bytes need
 * (raw, VHD, VHDX, qcow2, VMDK). The bytes it holds are a temporary copy, not the file's, so it
 * never writes.
 */
export class CompressedView extends ReadOnlyView {
  readonly readOnlyReason: string;

  constructor(
    viewed: BlockSource,
    readonly compression: Compression,
  ) {
    super(viewed);
    this.readOnlyReason = `it is ${compression}-compressed`;
  }

  override get containerInfo(): Readonly<Record<string, string | number>> {
    return { ...this.viewed.containerInfo, compression: this.compression };
  }
}
