import type { BcdDevice } from '../fs/bcd.js';
import { hex32 } from '../gpt/le.js';
import { BCD_PATH, findBcd, MBR_BCD_PATH, mbrPartitionOfDevice, partitionOfDevice, type BcdReading } from '../read/bcd.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import type { MbrSystem } from '../read/mbr-system.js';
import type { VolumeOpening } from '../read/volumes.js';

/** What `inspect --json` says of the Windows boot configuration: on a GPT disk's ESP, or an MBR disk's system partition. */
export interface BcdReport {
  /** The ESP that holds \EFI\Microsoft\Boot\bootmgfw.efi, or the MBR partition (by number) holding \Boot\BCD. */
  partition: number;
  path: string;
  state: 'read' | 'missing' | 'unreadable';
  /** Why the store cannot be read (state `unreadable`). */
  reason?: string;
  /** {bootmgr} and every Windows Boot Loader, in stored order. */
  entries: BcdEntryReport[];
  /** Objects that could not be decoded, one line each. */
  problems: string[];
}

export interface BcdEntryReport {
  /** `{bootmgr}`, or the loader's GUID in braces. */
  object: string;
  description?: string;
  path?: string;
  device?: BcdDeviceReport;
  osDevice?: BcdDeviceReport;
}

/**
 * A device element: the partition of this disk it names (`partition`: the GPT entry index, or the
 * MBR partition number on an MBR disk; null when none of them), or its kind.
 */
export interface BcdDeviceReport {
  kind: BcdDevice['kind'];
  partition?: number | null;
  /** GPT-style devices. */
  partitionGuid?: string;
  diskGuid?: string;
  /** MBR-style devices: the partition's byte offset and the disk signature (0x and 8 hex digits). */
  partitionOffset?: number;
  diskSignature?: string;
}

/** The BCD of the disk's Windows ESP, when there is one (GPT disks; mbrBcdReport reads an MBR disk's). */
export async function bcdReport(g: LoadedGpt, opened?: ReadonlyMap<number, VolumeOpening>): Promise<BcdReport | undefined> {
  if (g.table === 'none') return undefined;
  const found = await findBcd(g, opened);
  if (!found) return undefined;
  return storeReport(found.esp.index, BCD_PATH, found.bcd, (d) => (d.style === 'gpt' ? partitionOfDevice(g, d)?.index ?? null : null));
}

/** The \Boot\BCD of an MBR disk's system partition; device partitions are MBR partition numbers. */
export function mbrBcdReport(g: LoadedGpt, system: MbrSystem): BcdReport | undefined {
  if (!system.bcd) return undefined;
  return storeReport(system.bcd.partition, MBR_BCD_PATH, system.bcd.reading, (d) => mbrPartitionOfDevice(g, system.layout, d)?.number ?? null);
}

type PartitionDevice = Extract<BcdDevice, { kind: 'partition' }>;

function storeReport(partition: number, path: string, reading: BcdReading, partitionOf: (d: PartitionDevice) => number | null): BcdReport {
  const base = { partition, path, entries: [], problems: [] };
  if (reading.state === 'missing') return { ...base, state: 'missing' };
  if (reading.state === 'unreadable') return { ...base, state: 'unreadable', reason: reading.reason };
  const store = reading.store;
  const deviceReport = (d: BcdDevice): BcdDeviceReport => {
    if (d.kind !== 'partition') return { kind: d.kind };
    const identity = d.style === 'gpt' ? { partitionGuid: d.partitionGuid, diskGuid: d.diskGuid } : { partitionOffset: d.partitionOffset, diskSignature: hex32(d.diskSignature) };
    return { kind: d.kind, partition: partitionOf(d), ...identity };
  };
  const device = (d: BcdDevice | undefined): { device?: BcdDeviceReport } => (d ? { device: deviceReport(d) } : {});
  const entries: BcdEntryReport[] = [];
  if (store.bootManager) entries.push({ object: '{bootmgr}', ...device(store.bootManager.device) });
  for (const l of store.loaders) {
    entries.push({
      object: `{${l.id.toLowerCase()}}`,
      ...(l.description !== undefined ? { description: l.description } : {}),
      ...(l.path !== undefined ? { path: l.path } : {}),
      ...device(l.device),
      ...(l.osDevice ? { osDevice: deviceReport(l.osDevice) } : {}),
    });
  }
  return { ...base, state: 'read', entries, problems: store.problems };
}
