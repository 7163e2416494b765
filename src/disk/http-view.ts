import type { BlockSource } from './block-source.js';
import type { HttpSource } from './http-source.js';
import { ReadOnlyView } from './read-only-view.js';

/**
 * The disk inside an object read over HTTP(S) (a VHD, a VHDX, a qcow2, a decompressed image),
 * seen through its container reader, counting what the HTTP source beneath it cost.
 */
export class HttpView extends ReadOnlyView {
  readonly readOnlyReason: string;

  constructor(
    viewed: BlockSource,
    private readonly remote: HttpSource,
  ) {
    super(viewed);
    this.readOnlyReason = viewed.readOnlyReason ? `${remote.readOnlyReason} and ${viewed.readOnlyReason}` : remote.readOnlyReason;
  }

  get requests(): number {
    return this.remote.requests;
  }
  get bytesTransferred(): number {
    return this.remote.bytesTransferred;
  }
}
