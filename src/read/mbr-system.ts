import { sliceReader } from '../fs/byte-reader.js';
import { sniffFilesystem, type FilesystemKind } from '../fs/sniff.js';
import { VolumeUnreadable } from '../fs/unreadable.js';
import { BOOTMGR_PATH, MBR_BCD_PATH, readBcd, type BcdReading } from './bcd.js';
import type { LoadedGpt } from './load-gpt.js';
import { readMbrLayout, type MbrLayout, type MbrPartition } from './mbr-layout.js';
import { diskReader } from './partition-fs.js';
import { openVolume, volumeFiles, type OpenVolume } from './volumes.js';

/** What the Windows rules need to know of one partition of an MBR disk. */
export interface MbrVolumeFacts {
  partition: MbrPartition;
  /** Bytes the MBR record gives it. */
  size: number;
  filesystem?: FilesystemKind;
  label?: string;
  /** Why a volume that looked like FAT or NTFS could not be read. */
  volumeError?: string;
  /** \bootmgr at the root: Windows Boot Manager for BIOS, on the system partition. */
  bootmgr: boolean;
  /** \Boot\BCD exists: the boot configuration, on the system partition. */
  bcdFile: boolean;
  /** An NTFS volume holding \Windows\System32: an OS partition. */
  windowsSystem: boolean;
  /** For OS partitions, free bytes counted up to `freeEnough` (a lower bound when not exact). */
  freeBytes?: number;
  freeBytesExact?: boolean;
  /** The partition runs past the end of the image: its contents cannot be judged. */
  outsideImage: boolean;
}

/** An MBR disk as the MBR2GPT and BCD rules read it. */
export interface MbrSystem {
  layout: MbrLayout;
  /** Every partition but the extended container, in layout order. */
  volumes: MbrVolumeFacts[];
  /** The BCD store: on the active partition when it holds \Boot\BCD, else on the first that does. */
  bcd?: { partition: number; reading: BcdReading };
}

/**
 * Reads what a Windows MBR disk holds: the partitions, their filesystems, the boot files of the
 * system partition and the BCD. `freeEnough` bounds free-space counting on OS partitions (the
 * rules ask whether a new ESP could be carved from one, nothing more); without it none is counted.
 */
export async function readMbrSystem(g: LoadedGpt, freeEnough?: number): Promise<MbrSystem> {
  const layout = await readMbrLayout(g);
  const disk = diskReader(g.source);
  const volumes: MbrVolumeFacts[] = [];
  const opened = new Map<number, OpenVolume>();
  for (const partition of layout.partitions) {
    if (partition.kind === 'extended') continue;
    const start = partition.startLba * g.sectorSize;
    const size = partition.sizeLba * g.sectorSize;
    const fact: MbrVolumeFacts = { partition, size, bootmgr: false, bcdFile: false, windowsSystem: false, outsideImage: partition.startLba + partition.sizeLba - 1 > g.lastLba };
    volumes.push(fact);
    if (fact.outsideImage || size === 0) continue;
    const reader = sliceReader(disk, start, size);
    fact.filesystem = (await sniffFilesystem(reader)).kind;
    const volume = await openVolume(fact.filesystem, reader);
    if (volume?.kind === 'unreadable') fact.volumeError = volume.reason;
    if (!volume || volume.kind === 'unreadable') continue;
    opened.set(partition.number, volume);
    await readBootFacts(fact, volume, freeEnough);
  }
  const holder = volumes.find((v) => v.partition.active && v.bcdFile) ?? volumes.find((v) => v.bcdFile);
  const holderVolume = holder && opened.get(holder.partition.number);
  const system: MbrSystem = { layout, volumes };
  if (holder && holderVolume) system.bcd = { partition: holder.partition.number, reading: await readBcd(volumeFiles(holderVolume), MBR_BCD_PATH) };
  return system;
}

/** The label, the boot files and, on an OS partition, free space; a damaged directory leaves them unknown (false). */
async function readBootFacts(fact: MbrVolumeFacts, volume: OpenVolume, freeEnough: number | undefined): Promise<void> {
  const fs = volumeFiles(volume);
  fact.label = fs.label;
  try {
    fact.bootmgr = (await fs.stat(BOOTMGR_PATH))?.isDirectory === false;
    fact.bcdFile = (await fs.stat(MBR_BCD_PATH))?.isDirectory === false;
    if (volume.kind !== 'ntfs') return;
    fact.windowsSystem = (await fs.stat('\\Windows\\System32'))?.isDirectory === true;
    if (!fact.windowsSystem || freeEnough === undefined) return;
    fact.freeBytes = await fs.freeBytes(freeEnough);
    fact.freeBytesExact = fact.freeBytes < freeEnough;
  } catch (err) {
    if (!(err instanceof VolumeUnreadable)) throw err;
    fact.volumeError = err.reason;
  }
}
