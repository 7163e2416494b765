import { decodeBcd, type BcdDevice, type BcdStore } from '../fs/bcd.js';
import type { FatVolume } from '../fs/fat.js';
import { openHive } from '../fs/regf.js';
import { VolumeUnreadable } from '../fs/unreadable.js';
import type { GptEntry } from '../gpt/entries.js';
import type { LoadedGpt } from './load-gpt.js';
import type { MbrLayout, MbrPartition } from './mbr-layout.js';
import { partitionReader } from './partition-fs.js';
import { isFat, sniffFilesystem } from '../fs/sniff.js';
import { openVolume, type VolumeOpening } from './volumes.js';

/** Where Windows keeps its boot configuration on a UEFI disk, and the boot manager beside it. */
export const BCD_PATH = '\\EFI\\Microsoft\\Boot\\BCD';
/** Where it is on a BIOS (MBR) disk: on the system partition, the active one, beside \bootmgr. */
export const MBR_BCD_PATH = '\\Boot\\BCD';
export const BOOTMGR_PATH = '\\bootmgr';
export const BOOTMGFW_PATH = '\\EFI\\Microsoft\\Boot\\bootmgfw.efi';
/** What rebuilds a store from WinPE (C: the Windows partition, S: the ESP given a letter); gptdoctor never writes the BCD. */
export const BCDBOOT_COMMAND = 'bcdboot C:\\Windows /s S: /f UEFI';
/** The same for a BIOS (MBR) disk, S: then being the active system partition. */
export const MBR_BCDBOOT_COMMAND = 'bcdboot C:\\Windows /s S: /f BIOS';
/** A BCD store is about 32 KiB; one of more than 16 MiB is not one. */
const MAX_BCD_BYTES = 16 * 1024 * 1024;

export type BcdReading = { state: 'missing' } | { state: 'unreadable'; reason: string } | { state: 'read'; store: BcdStore };

/** What reading a store needs of a volume: FAT and NTFS volumes both read files by path. */
export type FileReading = Pick<FatVolume, 'readFile'>;

/**
 * Reads the BCD store at `path` (the ESP's by default) of a FAT or NTFS volume: missing,
 * unreadable (with the reader's reason), or decoded.
 */
export async function readBcd(volume: FileReading, path: string = BCD_PATH): Promise<BcdReading> {
  try {
    const bytes = await volume.readFile(path, MAX_BCD_BYTES + 1);
    if (bytes === undefined) return { state: 'missing' };
    if (bytes.length > MAX_BCD_BYTES) return { state: 'unreadable', reason: `${path} is over 16 MiB` };
    return { state: 'read', store: decodeBcd(await openHive(bytes)) };
  } catch (err) {
    if (err instanceof VolumeUnreadable) return { state: 'unreadable', reason: err.reason };
    throw err;
  }
}

/**
 * The Windows ESP of a disk (a FAT partition holding bootmgfw.efi) and its BCD, when there is one.
 * `opened` gives the volumes a caller has already opened (inspect opens every one), so that they
 * are not sniffed and opened again; without it each partition is sniffed here.
 */
export async function findBcd(g: LoadedGpt, opened?: ReadonlyMap<number, VolumeOpening>): Promise<{ esp: GptEntry; bcd: BcdReading } | undefined> {
  for (const entry of g.partitions) {
    const volume = opened ? opened.get(entry.index) : await openPartition(g, entry);
    if (volume?.kind !== 'fat' || !(await volume.fat.exists(BOOTMGFW_PATH))) continue;
    return { esp: entry, bcd: await readBcd(volume.fat) };
  }
  return undefined;
}

/** A partition's FAT volume (an ESP can only be FAT, so nothing else is opened). */
async function openPartition(g: LoadedGpt, entry: GptEntry): Promise<VolumeOpening | undefined> {
  const reader = partitionReader(g, entry);
  const kind = reader ? (await sniffFilesystem(reader)).kind : undefined;
  return reader && isFat(kind) ? openVolume(kind, reader) : undefined;
}

/** One device reference in the store: which object and element hold it. */
export interface BcdReference {
  /** `{bootmgr}`, or a Windows Boot Loader by its description (or GUID). */
  object: string;
  /** 'device' (11000001) or 'osdevice' (21000001). */
  element: 'device' | 'osdevice';
  /** The boot manager's device is the ESP; a loader's devices are the Windows partition. */
  role: 'esp' | 'windows';
  device: BcdDevice;
}

/** Every partition device the boot manager and the Windows Boot Loaders name. */
export function bcdReferences(store: BcdStore): BcdReference[] {
  const out: BcdReference[] = [];
  if (store.bootManager?.device) out.push({ object: '{bootmgr}', element: 'device', role: 'esp', device: store.bootManager.device });
  for (const loader of store.loaders) {
    const object = loader.description ? `Windows Boot Loader "${loader.description}"` : `Windows Boot Loader {${loader.id.toLowerCase()}}`;
    if (loader.device) out.push({ object, element: 'device', role: 'windows', device: loader.device });
    if (loader.osDevice) out.push({ object, element: 'osdevice', role: 'windows', device: loader.osDevice });
  }
  return out;
}

/** The disk's GUID, from the table shown. */
export function diskGuidOf(g: LoadedGpt): string | undefined {
  return g.table === 'none' ? undefined : g[g.table].header?.diskGuid;
}

/** The partition a device names on this disk, or undefined when it names another disk or a partition not here. */
export function partitionOfDevice(g: LoadedGpt, device: BcdDevice): GptEntry | undefined {
  if (device.kind !== 'partition' || device.style !== 'gpt') return undefined;
  if (device.diskGuid !== diskGuidOf(g)) return undefined;
  return g.partitions.find((p) => p.uniqueGuid === device.partitionGuid);
}

/**
 * The partition a device names on an MBR disk: the disk signature is this disk's and the byte
 * offset is where one of its partitions starts. undefined when it names another disk, or no
 * partition here.
 */
export function mbrPartitionOfDevice(g: LoadedGpt, layout: MbrLayout, device: BcdDevice): MbrPartition | undefined {
  if (device.kind !== 'partition' || device.style !== 'mbr' || device.diskSignature !== g.mbr.diskSignature) return undefined;
  return mbrPartitionAt(g, layout, device.partitionOffset);
}

/** The partition (not the extended container) that starts at byte `offset` of an MBR disk. */
export function mbrPartitionAt(g: LoadedGpt, layout: MbrLayout, offset: number): MbrPartition | undefined {
  return layout.partitions.find((p) => p.kind !== 'extended' && p.startLba * g.sectorSize === offset);
}
