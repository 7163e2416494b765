import { u32 } from '../gpt/le.js';
import type { ByteReader } from './byte-reader.js';
import { decodeBpb } from './fat-bpb.js';

export type FilesystemKind =
  | 'fat12' | 'fat16' | 'fat32' | 'exfat' | 'ntfs' | 'refs' | 'ext2' | 'ext3' | 'ext4' | 'xfs' | 'btrfs'
  | 'swap' | 'luks' | 'bitlocker' | 'iso9660' | 'zeroed' | 'unknown';

export function isFat(kind: FilesystemKind | undefined): boolean {
  return kind === 'fat12' || kind === 'fat16' || kind === 'fat32';
}

export interface FilesystemSniff {
  kind: FilesystemKind;
  label?: string;
}

/** Whether `b` holds the ASCII text `magic` at `at`, without building strings (sniffing runs per partition). */
function has(b: Uint8Array, at: number, magic: string): boolean {
  if (at + magic.length > b.length) return false;
  for (let i = 0; i < magic.length; i++) if (b[at + i] !== magic.charCodeAt(i)) return false;
  return true;
}

function allZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < Math.min(to, b.length); i++) if (b[i] !== 0) return false;
  return true;
}

/** ext feature bits that only ext4 sets (incompat: extents, 64bit, flex_bg; ro_compat: huge_file, dir_nlink, extra_isize). */
const EXT4_INCOMPAT = 0x0040 | 0x0080 | 0x0200;
const EXT4_RO_COMPAT = 0x0008 | 0x0020 | 0x0040;
const EXT3_HAS_JOURNAL = 0x0004;

/**
 * Identifies a filesystem by its on-disk signature. One read of the first 8 KiB answers nearly
 * every case; ISO 9660, swap with large pages and Btrfs cost one more small read each.
 */
export async function sniffFilesystem(r: ByteReader): Promise<FilesystemSniff> {
  const head = await r.read(0, 8192);
  if (has(head, 3, 'NTFS    ')) return { kind: 'ntfs' };
  if (has(head, 3, 'EXFAT   ')) return { kind: 'exfat' };
  if (has(head, 3, '-FVE-FS-')) return { kind: 'bitlocker' };
  if (has(head, 3, 'ReFS')) return { kind: 'refs' };
  if (has(head, 0, 'LUKS\xba\xbe')) return { kind: 'luks' };
  if (has(head, 0, 'XFSB')) return { kind: 'xfs', label: cString(head, 108, 12) };
  const ext = extKind(head);
  if (ext) return { kind: ext, label: cString(head, 1024 + 120, 16) };
  const bpb = decodeBpb(head);
  if (bpb.ok) return { kind: bpb.kind, label: bpb.label };
  for (const page of [4096, 8192]) {
    // The 8 KiB page's magic ends the first 8 KiB, which the head already holds.
    if (has(head, page - 10, 'SWAPSPACE2') || has(head, page - 10, 'SWAP-SPACE')) return { kind: 'swap' };
  }
  if (has(await r.read(0x10040, 8), 0, '_BHRfS_M')) return { kind: 'btrfs' };
  if (has(await r.read(0x8001, 5), 0, 'CD001')) return { kind: 'iso9660' };
  if (head.length > 0 && allZero(head, 0, 4096)) return { kind: 'zeroed' };
  return { kind: 'unknown' };
}

function extKind(b: Uint8Array): FilesystemKind | undefined {
  const sb = 1024;
  if (b.length < sb + 104 || b[sb + 56] !== 0x53 || b[sb + 57] !== 0xef) return undefined;
  const compat = u32(b, sb + 92);
  const incompat = u32(b, sb + 96);
  const roCompat = u32(b, sb + 100);
  if (incompat & EXT4_INCOMPAT || roCompat & EXT4_RO_COMPAT) return 'ext4';
  return compat & EXT3_HAS_JOURNAL ? 'ext3' : 'ext2';
}

function cString(b: Uint8Array, from: number, len: number): string {
  const bytes = b.subarray(from, from + len);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? bytes.subarray(0, end) : bytes).trim();
}
