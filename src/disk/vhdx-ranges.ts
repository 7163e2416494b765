import type { BlockSource } from './block-source.js';
import { RangeList, sourceRanges, unionRanges, type Range } from './ranges.js';

/** Payload block states that hold data in the file ([MS-VHDX] §2.5.1.1). */
const FULLY_PRESENT = 6;
const PARTIALLY_PRESENT = 7;

/**
 * The data ranges of a VHDX, from its BAT: FULLY_PRESENT blocks, cut to the bytes the file holds
 * (a block past its end reads as zeros), and PARTIALLY_PRESENT ones whole (in a differencing file
 * their sectors come from it or its parent; elsewhere reading them fails as a corrupt BAT, and so
 * does the hunt). NOT_PRESENT, ZERO, UNMAPPED and UNDEFINED blocks read as zeros, or from the parent.
 */
export async function vhdxDataRanges(
  geometry: { blockSize: number; virtualSize: number },
  blockEntry: (block: number) => { state: number; fileOffset: number },
  fileSize: number,
  parent: BlockSource | undefined,
): Promise<Range[]> {
  const { blockSize, virtualSize } = geometry;
  const blocks = Math.ceil(virtualSize / blockSize);
  const out = new RangeList();
  for (let block = 0; block < blocks; block++) {
    const { state, fileOffset } = blockEntry(block);
    const start = block * blockSize;
    const end = Math.min(start + blockSize, virtualSize);
    if (state === PARTIALLY_PRESENT) out.add(start, end);
    else if (state === FULLY_PRESENT && fileOffset < fileSize) out.add(start, Math.min(end, start + fileSize - fileOffset));
  }
  return parent ? unionRanges(out.ranges(), await sourceRanges(parent)) : out.ranges();
}
