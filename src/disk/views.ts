import type { BlockSource } from './block-source.js';
import { ReadOnlyView } from './read-only-view.js';

/**
 * The container reader behind the views that only change where its bytes come from (a
 * decompressed copy, an HTTP(S) object): a differencing child proves its parent's identity on
 * the reader's own fields (a VHD's Unique Id, a VHDX's DataWriteGuid, a VMDK's CID), whichever
 * way the parent was opened. Reads still go through the view.
 */
export function throughViews(disk: BlockSource): BlockSource {
  let inner = disk;
  while (inner instanceof ReadOnlyView) inner = inner.viewed;
  return inner;
}
