import type { FatVolume } from '../fs/fat.js';
import type { NtfsVolume } from '../fs/ntfs.js';
import type { FilesystemKind } from '../fs/sniff.js';
import { TYPE_GUIDS } from '../gpt/partition-types.js';
import type { GptEntry } from '../gpt/entries.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import { sniffPartitions, type PartitionFs } from '../read/partition-fs.js';
import { readBcd, type BcdReading } from '../read/bcd.js';
import { openVolume, volumeSpace } from '../read/volumes.js';
import { VolumeUnreadable } from '../fs/unreadable.js';

/** What the checker knows about one partition's contents. */
export interface PartitionFacts {
  entry: GptEntry;
  size: number;
  filesystem?: FilesystemKind;
  /** The volume label (FAT boot sector, NTFS $Volume), for FAT and NTFS volumes that could be read. */
  label?: string;
  /** For FAT volumes: `*.efi` files under \EFI, as \EFI\…\name.efi paths spelled as stored. */
  efiFiles: string[];
  /** True when \EFI\Microsoft\Boot holds bootmgfw.efi: a Windows ESP by content. */
  windowsBoot: boolean;
  /** The open FAT volume, for FAT partitions. */
  fat?: FatVolume;
  /** The open NTFS volume, for NTFS partitions. */
  ntfs?: NtfsVolume;
  /** Why the volume could not be read, when it looked like FAT or NTFS but was not readable. */
  volumeError?: string;
  /**
   * Free bytes, counted only where a rule needs them (addServicingFacts): the ESP up to
   * ESP_FREE_NEEDED, the Recovery partition up to WINRE_FREE_NEEDED, the Windows partition up to
   * OS_FREE_NEEDED. `freeBytesExact` is false when
   * counting stopped there, and freeBytes is then a lower bound.
   */
  freeBytes?: number;
  freeBytesExact?: boolean;
  /** An NTFS volume typed Basic data that holds \Windows\System32: the Windows partition. */
  windowsSystem: boolean;
  /** For a Windows ESP (bootmgfw.efi on FAT): its \EFI\Microsoft\Boot\BCD store (windows profile). */
  bcd?: BcdReading;
  /** For NTFS Recovery partitions: whether \Recovery\WindowsRE\Winre.wim is there. */
  winreImage?: boolean;
  /**
   * The partition runs past the end of the image (a clipped or truncated copy): what it holds
   * cannot be known, so no rule judges its contents.
   */
  outsideImage: boolean;
}

/**
 * Reads just enough of each partition to judge it: a filesystem sniff for all, the \EFI
 * directory tree of FAT volumes, and the label of NTFS ones. Free space and the Windows files are
 * read later, and only when the Windows rules need them (addServicingFacts). With
 * `readContents: false` (the structure profile, whose rules look at the table alone) no partition
 * byte is read.
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
      windowsSystem: false,
      outsideImage,
    };
    if (fs) fact.filesystem = fs.kind; // not a conditional spread: its temporary object, 32,768 times, is garbage
    const volume = fs ? await openVolume(fs.kind, fs.reader) : undefined;
    if (volume?.kind === 'unreadable') fact.volumeError = volume.reason;
    if (volume?.kind === 'fat') {
      fact.fat = volume.fat;
      fact.label = volume.fat.label;
      fact.efiFiles = await volume.fat.findEfiBootFiles();
      fact.windowsBoot = fact.efiFiles.some((p) => p.toUpperCase() === '\\EFI\\MICROSOFT\\BOOT\\BOOTMGFW.EFI');
    }
    if (volume?.kind === 'ntfs') {
      fact.ntfs = volume.ntfs;
      fact.label = volume.ntfs.label;
    }
    facts.push(fact);
  }
  return facts;
}

/** Free space an ESP needs for Windows updates (0xc1900104 / 0x800f0922 below it). */
export const ESP_FREE_NEEDED = 15 * 1024 * 1024;
/** Free space Windows feature updates need on the Windows partition (0xC190020E / 0x80070070 below it). */
export const OS_FREE_NEEDED = 20 * 1024 * 1024 * 1024;
/** Free space WinRE servicing needs on the Recovery partition (KB5034441 fails with 0x80070643 below it). */
export const WINRE_FREE_NEEDED = 250 * 1024 * 1024;

/**
 * What the Windows rules read beyond the sniff, as far as they need it: free space on every ESP
 * candidate (by type or content) and Recovery partition, counted up to the rule's threshold;
 * Winre.wim on NTFS Recovery partitions; \Windows\System32 on NTFS Basic data partitions.
 */
export async function addServicingFacts(facts: readonly PartitionFacts[]): Promise<void> {
  for (const f of facts) {
    try {
      await servicingFacts(f);
    } catch (err) {
      // A volume that opened but breaks under a deeper read is judged as unreadable, not half-read.
      if (!(err instanceof VolumeUnreadable)) throw err;
      f.volumeError = err.reason;
      delete f.freeBytes;
      delete f.freeBytesExact;
      delete f.winreImage;
      f.windowsSystem = false;
    }
  }
}

async function servicingFacts(f: PartitionFacts): Promise<void> {
  if (f.fat && f.windowsBoot) f.bcd = await readBcd(f.fat);
  if (f.fat && (f.entry.typeGuid === TYPE_GUIDS.ESP || f.efiFiles.length > 0)) await countFree(f, { kind: 'fat', fat: f.fat }, ESP_FREE_NEEDED);
  if (f.ntfs && f.entry.typeGuid === TYPE_GUIDS.WINDOWS_RECOVERY) {
    f.winreImage = (await f.ntfs.stat('\\Recovery\\WindowsRE\\Winre.wim'))?.isDirectory === false;
    await countFree(f, { kind: 'ntfs', ntfs: f.ntfs }, WINRE_FREE_NEEDED);
  }
  if (f.ntfs && f.entry.typeGuid === TYPE_GUIDS.BASIC_DATA) {
    f.windowsSystem = (await f.ntfs.stat('\\Windows\\System32'))?.isDirectory === true;
    if (f.windowsSystem) await countFree(f, { kind: 'ntfs', ntfs: f.ntfs }, OS_FREE_NEEDED);
  }
}

async function countFree(f: PartitionFacts, volume: Parameters<typeof volumeSpace>[0], enough: number): Promise<void> {
  const space = await volumeSpace(volume, enough);
  f.freeBytes = space.freeBytes;
  f.freeBytesExact = space.exact;
}
