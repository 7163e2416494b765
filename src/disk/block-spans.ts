/** One piece of a byte range that lies inside a single block of a block-mapped container. */
export interface BlockSpan {
  /** Block number. */
  block: number;
  /** Offset of the piece inside its block. */
  within: number;
  /** Offset of the piece on the virtual disk. */
  at: number;
  length: number;
}

/**
 * Splits [offset, end) at multiples of `blockSize`: how VHD, VHDX, qcow2 and VMDK readers walk a
 * range, since each block may live anywhere in the file (or nowhere).
 */
export function* blockSpans(offset: number, end: number, blockSize: number): Generator<BlockSpan> {
  for (let at = offset; at < end; ) {
    const block = Math.floor(at / blockSize);
    const within = at - block * blockSize;
    const length = Math.min(blockSize - within, end - at);
    yield { block, within, at, length };
    at += length;
  }
}

/** `data` padded with zeros to `length` (a short read past the end of a container file). */
export function padTo(data: Uint8Array, length: number): Uint8Array {
  if (data.length >= length) return data;
  const out = new Uint8Array(length);
  out.set(data);
  return out;
}
