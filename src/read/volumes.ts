import type { ByteReader } from '../fs/byte-reader.js';
import { openFat, type FatVolume } from '../fs/fat.js';
import { openNtfs, type NtfsVolume } from '../fs/ntfs.js';
import { isFat, type FilesystemKind } from '../fs/sniff.js';
import { VolumeUnreadable } from '../fs/unreadable.js';

/** A volume gptdoctor can read inside: FAT or NTFS, opened read-only over the partition's bytes. */
export type OpenVolume = { kind: 'fat'; fat: FatVolume } | { kind: 'ntfs'; ntfs: NtfsVolume };

/** What opening gave: the volume, or why a volume that looked like FAT or NTFS cannot be read. */
export type VolumeOpening = OpenVolume | { kind: 'unreadable'; reason: string };

/**
 * Opens the FAT or NTFS volume a partition holds, as its sniffed kind says; undefined for any
 * other filesystem. A volume whose structures are damaged or hostile is `unreadable` with the
 * readers' reason; any other error is a bug in gptdoctor and is not disguised as damage.
 */
export async function openVolume(kind: FilesystemKind | undefined, reader: ByteReader): Promise<VolumeOpening | undefined> {
  if (!isFat(kind) && kind !== 'ntfs') return undefined;
  try {
    return kind === 'ntfs' ? { kind: 'ntfs', ntfs: await openNtfs(reader) } : { kind: 'fat', fat: await openFat(reader) };
  } catch (err) {
    if (err instanceof VolumeUnreadable) return { kind: 'unreadable', reason: err.reason };
    throw err;
  }
}

/** The FAT or NTFS reader of an open volume: both answer stat, readFile, label and freeBytes. */
export function volumeFiles(volume: OpenVolume): FatVolume | NtfsVolume {
  return volume.kind === 'fat' ? volume.fat : volume.ntfs;
}

/** A volume's label, free space and whether that figure is exact. */
export interface VolumeSpace {
  label: string;
  freeBytes: number;
  /** False when counting stopped once `enough` was found: freeBytes is then a lower bound. */
  exact: boolean;
}

/**
 * Counts a volume's free space from its allocation map (the FAT, or NTFS's $Bitmap). With
 * `enough`, counting may stop once that much is found, as the rules need no more: the figure
 * is exact below it and a lower bound at or above it.
 */
export async function volumeSpace(volume: OpenVolume, enough?: number): Promise<VolumeSpace> {
  const opened = volumeFiles(volume);
  const freeBytes = await opened.freeBytes(enough);
  return { label: opened.label, freeBytes, exact: enough === undefined || freeBytes < enough };
}
