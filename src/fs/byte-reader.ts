/** Random-access view of one partition: offsets are relative to the partition start. */
export interface ByteReader {
  readonly size: number;
  /** May return fewer bytes than asked near the end (or on a truncated disk); never throws for that. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function memoryReader(bytes: Uint8Array): ByteReader {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.slice(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length)),
  };
}

/** The window [offset, offset + size) of `base`, with reads clipped to it. */
export function sliceReader(base: ByteReader, offset: number, size: number): ByteReader {
  return {
    size,
    read: async (at, length) => {
      const from = Math.max(0, Math.min(at, size));
      const to = Math.max(from, Math.min(at + length, size));
      return to > from ? base.read(offset + from, to - from) : new Uint8Array(0);
    },
  };
}
