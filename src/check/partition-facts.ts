import { openFat, type FatVolume } from '../fs/fat.js';
import type { FilesystemKind } from '../fs/sniff.js';
import { TYPE_GUIDS } from '../gpt/partition-types.js';
import type { GptEntry } from '../gpt/entries.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import { isFat } from './partition-words.js';
import { sniffPartitions, type PartitionFs } from '../read/partition-fs.js';

/** What the checker knows about one partition's contents. */
export interface PartitionFacts {
  entry: GptEntry;
  size: number;
  filesystem?: FilesystemKind;
  /** For FAT volumes: `*.efi` files under \EFI, as \EFI\…\name.efi paths spelled as stored. */
  efiFiles: string[];
  /** True when \EFI\Microsoft\Boot holds bootmgfw.efi: a Windows ESP by content. */
  windowsBoot: boolean;
  /** The open FAT volume, for FAT partitions. */
  fat?: FatVolume;
  /** Free bytes counted from the FAT, exact below ESP_FREE_NEEDED and a lower bound above; ESP candidates only (addFreeSpace). */
  freeBytes?: number;
  /** Why the FAT could not be read, when it looked like FAT but was not readable. */
  fatError?: string;
  /**
   * The partition runs past the end of the image (a clipped or truncated copy): what it holds
   * cannot be known, so no rule judges its contents.
   */
  outsideImage: boolean;
}


/**
 * Reads just enough of each partition to judge it: a filesystem sniff for all, and the \EFI
 * directory tree of FAT volumes. The FAT itself (free space) is read later, and only when the
 * Windows rules need it (addFreeSpace). With `readContents: false` (the structure profile, whose
 * rules look at the table alone) no partition byte is read.
 */
export async function partitionFacts(g: LoadedGpt, options: { readContents?: boolean } = {}): Promise<PartitionFacts[]> {
  const sniffed = options.readContents === false ? new Map<number, PartitionFs>() : await sniffPartitions(g);
  const facts: PartitionFacts[] = [];
  for (const entry of g.partitions) {
    const outsideImage = entry.lastLba > g.lastLba;
    const fs = outsideImage ? undefined : sniffed.get(entry.index);
    const fact: PartitionFacts = {
      entry,
      size: entry.lastLba >= entry.firstLba ? (entry.lastLba - entry.firstLba + 1) * g.sectorSize : 0,
      efiFiles: [],
      windowsBoot: false,
      outsideImage,
      ...(fs ? { filesystem: fs.kind } : {}),
    };
    if (fs && isFat(fs.kind)) {
      try {
        const volume = await openFat(fs.reader);
        fact.fat = volume;
        fact.efiFiles = await volume.findEfiBootFiles();
        fact.windowsBoot = fact.efiFiles.some((p) => p.toUpperCase() === '\\EFI\\MICROSOFT\\BOOT\\BOOTMGFW.EFI');
      } catch (err) {
        fact.fatError = (err as Error).message;
      }
    }
    facts.push(fact);
  }
  return facts;
}

/** Free space an ESP needs for Windows updates (0xc1900104 / 0x800f0922 below it). */
export const ESP_FREE_NEEDED = 15 * 1024 * 1024;

/**
 * Counts free space in the FAT of every ESP candidate (by type or content), as far as the
 * esp-low-space rule needs: exact below ESP_FREE_NEEDED, a lower bound above it.
 */
export async function addFreeSpace(facts: readonly PartitionFacts[]): Promise<void> {
  for (const f of facts) {
    if (f.fat && (f.entry.typeGuid === TYPE_GUIDS.ESP || f.efiFiles.length > 0)) f.freeBytes = await f.fat.freeBytes(ESP_FREE_NEEDED);
  }
}
