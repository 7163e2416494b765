import { u16, u32, u64 } from '../gpt/le.js';

/**
 * The NTFS boot sector (the BIOS parameter block NTFS keeps in sector 0), decoded and validated
 * the way ntfs-3g's ntfs_boot_sector_is_ntfs does, so that every later offset (MFT position,
 * record and cluster sizes) has been checked before anything is read through it.
 */
export interface NtfsBoot {
  bytesPerSector: number;
  sectorsPerCluster: number;
  clusterSize: number;
  /** Sectors in the volume as the boot sector counts them (the backup boot sector lies after them). */
  totalSectors: number;
  totalClusters: number;
  mftLcn: number;
  mftMirrLcn: number;
  mftRecordSize: number;
  indexRecordSize: number;
  /** The 64-bit volume serial number as 16 uppercase hex digits (Windows' "vol" shows the low 8). */
  serialNumber: string;
  /** Oddities that do not stop reading. */
  problems: string[];
}

export type NtfsBootResult = ({ ok: true } & NtfsBoot) | { ok: false; reason: string };

/** Windows formats clusters up to 2 MiB; anything larger is damage (and would make reads huge). */
const MAX_CLUSTER_SIZE = 2 * 1024 * 1024;
/** Records and index blocks above 64 KiB are not NTFS, and each is read whole into memory. */
const MAX_RECORD_SIZE = 64 * 1024;

/** Exact for any size (bitwise tricks would wrap above 2^31). */
const isPow2 = (n: number): boolean => n > 0 && Number.isSafeInteger(n) && 2 ** Math.round(Math.log2(n)) === n;
const int8 = (v: number): number => (v > 127 ? v - 256 : v);

/**
 * Sizes stored as "clusters per record": a positive count of clusters, or for records smaller
 * than a cluster a negative n meaning 2^-n bytes (0xF6 = -10 = 1024 bytes).
 */
function recordSize(encoded: number, clusterSize: number): number {
  const v = int8(encoded);
  if (v > 0) return v * clusterSize;
  return v < 0 && v >= -31 ? 2 ** -v : 0;
}

export function decodeNtfsBoot(b: Uint8Array): NtfsBootResult {
  const fail = (reason: string): NtfsBootResult => ({ ok: false, reason });
  if (b.length < 512) return fail('the boot sector is missing or short');
  if (String.fromCharCode(...b.subarray(3, 11)) !== 'NTFS    ') return fail('no "NTFS    " signature at byte 3');
  const bytesPerSector = u16(b, 11);
  if (!isPow2(bytesPerSector) || bytesPerSector < 256 || bytesPerSector > 4096) return fail(`bytes per sector ${bytesPerSector} is not a power of two from 256 to 4096`);
  // Above 128 sectors per cluster the byte holds a negative exponent: 0xF8 = -8 = 256 sectors.
  const spcByte = b[13]!;
  const sectorsPerCluster = spcByte <= 128 ? spcByte : 2 ** (256 - spcByte);
  if (!isPow2(sectorsPerCluster)) return fail(`sectors per cluster ${spcByte} is not a power of two`);
  const clusterSize = sectorsPerCluster * bytesPerSector;
  if (clusterSize > MAX_CLUSTER_SIZE) return fail(`cluster size ${clusterSize} is above 2 MiB`);
  if (u32(b, 0x2c) >= 0x200000) return fail('total sectors is beyond 2^53');
  const totalSectors = u64(b, 0x28);
  const totalClusters = Math.floor(totalSectors / sectorsPerCluster);
  if (totalClusters === 0) return fail(`total sectors ${totalSectors} make no cluster`);
  const mftLcn = u64(b, 0x30);
  const mftMirrLcn = u64(b, 0x38);
  if (mftLcn >= totalClusters) return fail(`the MFT's cluster ${mftLcn} is outside the volume's ${totalClusters} clusters`);
  if (mftMirrLcn >= totalClusters) return fail(`the MFT mirror's cluster ${mftMirrLcn} is outside the volume's ${totalClusters} clusters`);
  const mftRecordSize = recordSize(b[0x40]!, clusterSize);
  if (!isPow2(mftRecordSize) || mftRecordSize < 512 || mftRecordSize > MAX_RECORD_SIZE) return fail(`MFT record size ${mftRecordSize} (byte 0x40 = ${b[0x40]}) is not a power of two from 512 to 64 KiB`);
  const indexRecordSize = recordSize(b[0x44]!, clusterSize);
  if (!isPow2(indexRecordSize) || indexRecordSize < 512 || indexRecordSize > MAX_RECORD_SIZE) return fail(`index record size ${indexRecordSize} (byte 0x44 = ${b[0x44]}) is not a power of two from 512 to 64 KiB`);
  const problems: string[] = [];
  if (u16(b, 510) !== 0xaa55) problems.push('the boot sector lacks the 0x55AA signature');
  // NTFS leaves the FAT fields zero; DOS would otherwise take the volume for FAT.
  if (u16(b, 14) !== 0 || b[16] !== 0 || u16(b, 17) !== 0 || u16(b, 19) !== 0 || u16(b, 22) !== 0 || u32(b, 32) !== 0) problems.push('FAT fields of the boot sector are not zero');
  const serialNumber = (u32(b, 0x4c).toString(16).padStart(8, '0') + u32(b, 0x48).toString(16).padStart(8, '0')).toUpperCase();
  return { ok: true, bytesPerSector, sectorsPerCluster, clusterSize, totalSectors, totalClusters, mftLcn, mftMirrLcn, mftRecordSize, indexRecordSize, serialNumber, problems };
}
