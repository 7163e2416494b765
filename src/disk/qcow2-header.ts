/**
 * The qcow2 header and its extensions, decoded from bytes (qemu's docs/interop/qcow2.txt).
 * Pure: it returns what the header says, or the sentence saying why it cannot be read.
 */
export const INCOMPATIBLE = {
  dirty: 1n << 0n,
  corrupt: 1n << 1n,
  externalData: 1n << 2n,
  compressionType: 1n << 3n,
  extendedL2: 1n << 4n,
} as const;
const KNOWN_INCOMPATIBLE = INCOMPATIBLE.dirty | INCOMPATIBLE.corrupt | INCOMPATIBLE.externalData | INCOMPATIBLE.compressionType;

/** Header extension types (qcow2.txt, "Header extensions"). */
const EXTENSION_END = 0;
const EXTENSION_DATA_FILE = 0x44415441; // "DATA"
/** qemu allows 1023 bytes for a backing or data file name. */
const MAX_NAME = 1023;

export interface Qcow2Header {
  version: number;
  backingOffset: number;
  backingSize: number;
  clusterBits: number;
  size: number;
  l1Size: number;
  l1Offset: number;
  incompatible: bigint;
  compression: 'zlib' | 'zstd';
  /** Where the header extensions start, and the header's own length (v3). */
  extensionsAt: number;
}

export function decodeQcow2Header(h: Uint8Array): Qcow2Header | string {
  if (h.length < 72) return 'the qcow2 header is cut short';
  const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const version = v.getUint32(4);
  if (version !== 2 && version !== 3) return `qcow2 version ${version} is not 2 or 3`;
  const clusterBits = v.getUint32(20);
  if (clusterBits < 9 || clusterBits > 21) return `qcow2 cluster size 2^${clusterBits} is out of range`;
  const size = Number(v.getBigUint64(24));
  if (!Number.isSafeInteger(size)) return 'qcow2 virtual size is too large';
  if (v.getUint32(32) !== 0) return 'the qcow2 image is encrypted';
  let incompatible = 0n;
  let compression: Qcow2Header['compression'] = 'zlib';
  let extensionsAt = 72;
  if (version === 3) {
    if (h.length < 104) return 'the qcow2 v3 header is cut short';
    incompatible = v.getBigUint64(72);
    const headerLength = v.getUint32(100);
    if (headerLength < 104 || headerLength > h.length || headerLength % 8 !== 0) return `the qcow2 header length ${headerLength} is invalid`;
    extensionsAt = headerLength;
    if (incompatible & ~KNOWN_INCOMPATIBLE) {
      return `the qcow2 image uses features gptdoctor cannot read (incompatible bits 0x${incompatible.toString(16)}${incompatible & INCOMPATIBLE.extendedL2 ? ': extended L2 entries' : ''})`;
    }
    if (incompatible & INCOMPATIBLE.compressionType) {
      const type = headerLength > 104 ? h[104]! : 0;
      if (type === 1) compression = 'zstd';
      else return `the qcow2 compression type ${type} is unknown (0 is zlib, 1 is zstd)`;
    }
  }
  return {
    version,
    backingOffset: Number(v.getBigUint64(8)),
    backingSize: v.getUint32(16),
    clusterBits,
    size,
    l1Size: v.getUint32(36),
    l1Offset: Number(v.getBigUint64(40)),
    incompatible,
    compression,
    extensionsAt,
  };
}

/**
 * The external data file's name from the header extensions, which run from `at` to the end of
 * the first cluster; undefined when none names it. Bounded: the walk stops at the cluster end.
 */
export function dataFileName(cluster: Uint8Array, at: number): string | undefined | Error {
  const v = new DataView(cluster.buffer, cluster.byteOffset, cluster.byteLength);
  while (at + 8 <= cluster.length) {
    const type = v.getUint32(at);
    const length = v.getUint32(at + 4);
    if (type === EXTENSION_END) return undefined;
    if (at + 8 + length > cluster.length) return new Error('a qcow2 header extension runs past the first cluster');
    if (type === EXTENSION_DATA_FILE) {
      if (length === 0 || length > MAX_NAME) return new Error('the qcow2 data file name is invalid');
      return nameText(cluster.subarray(at + 8, at + 8 + length), 'data file');
    }
    at += 8 + Math.ceil(length / 8) * 8;
  }
  return undefined;
}

/**
 * A file name stored in the image (backing file, data file): UTF-8 with no NUL byte, which no
 * file system allows and which Node refuses in a path.
 */
export function nameText(bytes: Uint8Array, what: string): string | Error {
  if (bytes.includes(0)) return new Error(`the qcow2 ${what} name contains a NUL byte`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new Error(`the qcow2 ${what} name is not valid UTF-8`);
  }
}
