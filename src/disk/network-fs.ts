import { statfsSync } from 'node:fs';

/**
 * Whether a file lives where each read is a round trip: a network file system, or FUSE (sshfs,
 * s3fs, gcsfuse, rclone; ntfs-3g too, whose reads cross into a user-space process). There
 * file-source.ts reads through the read cache, on libuv's threads, so that the images of a scan
 * wait for their few large reads side by side. On a local disk the reads stay synchronous and
 * uncached: from the page cache, copies and promises cost more than the reads (a 1,000-image scan
 * took 8% longer with a head-and-tail copy, 40% with asynchronous reads).
 */

/** statfs f_type values (Linux, linux/magic.h and the file systems' own headers). */
const NETWORK_TYPES = new Set([
  0x6969, // NFS
  0x517b, // SMB (smbfs)
  0xff534d42, // CIFS
  0xfe534d42, // SMB2 (ksmbd clients, cifs in SMB2+ mode)
  0x65735546, // FUSE
  0x00c36400, // Ceph
  0x01021997, // 9P (v9fs: WSL's drvfs, QEMU shares)
  0x5346414f, // AFS
  0x6b414653, // kAFS
  0x47504653, // GPFS
  0x0bd00bd0, // Lustre
]);

/** True for a statfs type above; pure, so the table is tested without mounting anything. */
export function isNetworkType(type: number): boolean {
  return NETWORK_TYPES.has(type >>> 0);
}

/**
 * Whether `path` is on a network file system. Windows reports no type: a UNC path
 * (`\\server\share\…`, not `\\.\` or `\\?\`) is taken as one; a mapped drive letter is not known
 * and reads as local. Any failure reads as local, which costs only the round trips.
 */
export function onNetworkFileSystem(path: string): boolean {
  if (process.platform === 'win32') return /^[\\/]{2}(?![.?][\\/])/.test(path);
  try {
    return isNetworkType(Number(statfsSync(path).type));
  } catch {
    return false;
  }
}
