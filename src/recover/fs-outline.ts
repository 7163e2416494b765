import { decodeBpb } from '../fs/fat-bpb.js';
import { TYPE_GUIDS } from '../gpt/partition-types.js';

/** A filesystem found at a 1 MiB boundary, with the extent its own metadata gives. */
export interface FoundFilesystem {
  offset: number;
  length: number;
  kind: 'fat' | 'ntfs' | 'ext' | 'swap';
  typeGuid: string;
}

const MIB = 1024 * 1024;
const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/**
 * Looks at every 1 MiB boundary of a chunk (where partitioning tools start partitions) for a
 * FAT, NTFS, ext2/3/4 or swap header, and takes the partition's length from the filesystem's
 * own size field. Used when every partition table is gone.
 */
export function filesystemsInChunk(chunk: Uint8Array, chunkOffset: number): FoundFilesystem[] {
  const found: FoundFilesystem[] = [];
  const first = Math.ceil(chunkOffset / MIB) * MIB;
  for (let at = first; at - chunkOffset + 8192 <= chunk.length; at += MIB) {
    if (at === 0) continue; // LBA 0 holds the MBR
    const b = chunk.subarray(at - chunkOffset, at - chunkOffset + 8192);
    const fs = identify(b);
    if (fs) found.push({ offset: at, ...fs });
  }
  return found;
}

function identify(b: Uint8Array): Omit<FoundFilesystem, 'offset'> | undefined {
  const v = dv(b);
  const oem = String.fromCharCode(...b.subarray(3, 11));
  if (oem === 'NTFS    ') {
    // The NTFS total excludes the backup boot sector in the partition's last sector.
    const bps = v.getUint16(11, true);
    const total = Number(v.getBigUint64(0x28, true));
    return bps ? { length: (total + 1) * bps, kind: 'ntfs', typeGuid: TYPE_GUIDS.BASIC_DATA } : undefined;
  }
  const bpb = decodeBpb(b.subarray(0, 512));
  if (bpb.ok) return { length: bpb.totalSectors * bpb.bytesPerSector, kind: 'fat', typeGuid: TYPE_GUIDS.BASIC_DATA };
  // s_block_group_nr (0x5A) is 0 only in the primary superblock: backups inside the filesystem are skipped.
  if (v.getUint16(1024 + 56, true) === 0xef53 && v.getUint16(1024 + 0x5a, true) === 0) {
    const blocks = v.getUint32(1024 + 4, true) + v.getUint32(1024 + 0x150, true) * 2 ** 32; // s_blocks_count_lo/hi
    return { length: blocks * (1024 << v.getUint32(1024 + 24, true)), kind: 'ext', typeGuid: TYPE_GUIDS.LINUX_FILESYSTEM };
  }
  if (String.fromCharCode(...b.subarray(4086, 4096)) === 'SWAPSPACE2') {
    return { length: (v.getUint32(1024 + 4, true) + 1) * 4096, kind: 'swap', typeGuid: TYPE_GUIDS.LINUX_SWAP };
  }
  return undefined;
}
