import type { BlockSource } from './block-source.js';
import { CompressedView } from './compressed-view.js';
import { HttpView } from './http-view.js';

/**
 * The container reader behind the views that only change where its bytes come from (a
 * decompressed copy, an HTTP(S) object): a differencing child proves its parent's identity on
 * the reader's own fields (a VHD's Unique Id, a VHDX's DataWriteGuid, a VMDK's CID), whichever
 * way the parent was opened. Reads still go through the view.
 */
export function throughViews(disk: BlockSource): BlockSource {
  let inner = disk;
  while (inner instanceof HttpView || inner instanceof CompressedView) inner = inner.viewed;
  return inner;
}
