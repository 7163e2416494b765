import { decodeBpb } from '../fs/fat-bpb.js';
import { TYPE_GUIDS } from '../gpt/partition-types.js';
import { PROBE_BYTES } from './disk-pass.js';

/** A filesystem found at a 1 MiB boundary, with the extent its own metadata gives. */
export interface FoundFilesystem {
  offset: number;
  length: number;
  kind: 'fat' | 'ntfs' | 'ext' | 'swap';
  typeGuid: string;
}

const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
const NTFS_OEM = Buffer.from('NTFS    ', 'latin1');
const SWAP_MAGIC = Buffer.from('SWAPSPACE2', 'latin1');
/** Compares in place: identify runs at every MiB of a whole-disk hunt, mostly on data that is no filesystem. */
const hasAt = (b: Uint8Array, at: number, magic: Buffer): boolean => magic.equals(b.subarray(at, at + magic.length));

/**
 * A FAT, NTFS, ext2/3/4 or swap header in the 8 KiB at `offset` (a 1 MiB boundary, where
 * partitioning tools start partitions), with the partition's length from the filesystem's own
 * size field. Used when every partition table is gone. LBA 0 holds the MBR, never a filesystem.
 */
export function filesystemAt(bytes: Uint8Array, offset: number): FoundFilesystem | undefined {
  if (offset === 0 || bytes.length < PROBE_BYTES) return undefined;
  const fs = identify(bytes);
  return fs && { offset, ...fs };
}

function identify(b: Uint8Array): Omit<FoundFilesystem, 'offset'> | undefined {
  const v = dv(b);
  if (hasAt(b, 3, NTFS_OEM)) {
    // The NTFS total excludes the backup boot sector in the partition's last sector.
    const bps = v.getUint16(11, true);
    const total = Number(v.getBigUint64(0x28, true));
    return bps ? { length: (total + 1) * bps, kind: 'ntfs', typeGuid: TYPE_GUIDS.BASIC_DATA } : undefined;
  }
  // decodeBpb's first test, made here first: most probes of a hunt are data, not boot sectors.
  const bpb = b[0] === 0xeb || b[0] === 0xe9 ? decodeBpb(b.subarray(0, 512)) : undefined;
  if (bpb?.ok) return { length: bpb.totalSectors * bpb.bytesPerSector, kind: 'fat', typeGuid: TYPE_GUIDS.BASIC_DATA };
  // s_block_group_nr (0x5A) is 0 only in the primary superblock: backups inside the filesystem are skipped.
  if (v.getUint16(1024 + 56, true) === 0xef53 && v.getUint16(1024 + 0x5a, true) === 0) {
    const blocks = v.getUint32(1024 + 4, true) + v.getUint32(1024 + 0x150, true) * 2 ** 32; // s_blocks_count_lo/hi
    return { length: blocks * (1024 << v.getUint32(1024 + 24, true)), kind: 'ext', typeGuid: TYPE_GUIDS.LINUX_FILESYSTEM };
  }
  if (hasAt(b, 4086, SWAP_MAGIC)) {
    return { length: (v.getUint32(1024 + 4, true) + 1) * 4096, kind: 'swap', typeGuid: TYPE_GUIDS.LINUX_SWAP };
  }
  return undefined;
}
