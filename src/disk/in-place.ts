import type { BlockSource } from './block-source.js';

/**
 * Why the byte ranges [offset, offset + length) of a disk cannot be written in place, or
 * undefined when they can: the source's own refusal (compressed, a read-only format), else the
 * container's answer for each range (a VHD or VHDX block that is not allocated). Only reads.
 */
export async function whyNotInPlace(source: BlockSource, ranges: ReadonlyArray<readonly [number, number]>): Promise<string | undefined> {
  if (source.readOnlyReason) return source.readOnlyReason;
  if (!source.whyNotWritable) return undefined;
  for (const [offset, length] of ranges) {
    const why = await source.whyNotWritable(offset, length);
    if (why) return why;
  }
  return undefined;
}
