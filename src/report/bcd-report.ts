import type { BcdDevice } from '../fs/bcd.js';
import { BCD_PATH, findBcd, partitionOfDevice } from '../read/bcd.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import type { VolumeOpening } from '../read/volumes.js';

/** What `inspect --json` says of the Windows boot configuration on a GPT disk's ESP. */
export interface BcdReport {
  /** The ESP that holds \EFI\Microsoft\Boot\bootmgfw.efi. */
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

/** A device element: the partition of this disk it names (`partition`, or null when none of them), or its kind. */
export interface BcdDeviceReport {
  kind: BcdDevice['kind'];
  partition?: number | null;
  partitionGuid?: string;
  diskGuid?: string;
}

/** The BCD of the disk's Windows ESP, when there is one (GPT disks; the MBR store lives on NTFS). */
export async function bcdReport(g: LoadedGpt, opened?: ReadonlyMap<number, VolumeOpening>): Promise<BcdReport | undefined> {
  if (g.table === 'none') return undefined;
  const found = await findBcd(g, opened);
  if (!found) return undefined;
  const base = { partition: found.esp.index, path: BCD_PATH, entries: [], problems: [] };
  if (found.bcd.state === 'missing') return { ...base, state: 'missing' };
  if (found.bcd.state === 'unreadable') return { ...base, state: 'unreadable', reason: found.bcd.reason };
  const store = found.bcd.store;
  const device = (d: BcdDevice | undefined): { device?: BcdDeviceReport } => (d ? { device: deviceReport(g, d) } : {});
  const entries: BcdEntryReport[] = [];
  if (store.bootManager) entries.push({ object: '{bootmgr}', ...device(store.bootManager.device) });
  for (const l of store.loaders) {
    entries.push({
      object: `{${l.id.toLowerCase()}}`,
      ...(l.description !== undefined ? { description: l.description } : {}),
      ...(l.path !== undefined ? { path: l.path } : {}),
      ...device(l.device),
      ...(l.osDevice ? { osDevice: deviceReport(g, l.osDevice) } : {}),
    });
  }
  return { ...base, state: 'read', entries, problems: store.problems };
}

function deviceReport(g: LoadedGpt, d: BcdDevice): BcdDeviceReport {
  if (d.kind !== 'partition') return { kind: d.kind };
  if (d.style === 'mbr') return { kind: d.kind, partition: null };
  return { kind: d.kind, partition: partitionOfDevice(g, d)?.index ?? null, partitionGuid: d.partitionGuid, diskGuid: d.diskGuid };
}
