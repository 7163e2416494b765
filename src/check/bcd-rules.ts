import type { BcdDevice } from '../fs/bcd.js';
import { hex32 } from '../gpt/le.js';
import {
  BCD_PATH, BCDBOOT_COMMAND, BOOTMGFW_PATH, BOOTMGR_PATH, MBR_BCD_PATH, MBR_BCDBOOT_COMMAND,
  bcdReferences, diskGuidOf, mbrPartitionAt, mbrPartitionOfDevice, type BcdReading, type BcdReference,
} from '../read/bcd.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import type { MbrSystem } from '../read/mbr-system.js';
import type { Finding } from './finding.js';
import type { PartitionFacts } from './partition-facts.js';
import { mbrPartitionLabel, partitionLabel } from './partition-words.js';

/**
 * Boot configuration rules (the `windows` profile): the BCD store must exist, be a hive, and name
 * partitions of this disk. On GPT disks it is \EFI\Microsoft\Boot\BCD on the ESP; on MBR disks
 * \Boot\BCD on the active system partition. After a clone, or a tool that gave the disk and
 * partitions new GUIDs (or the MBR disk a new signature), the store still names the old ones and
 * the boot manager stops with 0xc000000e. gptdoctor does not rewrite the BCD: bcdboot does, from WinPE.
 */

const rebuild = (command: string): string => `rebuild it from WinPE with \`${command}\` (C: the Windows partition, S: the ${command === BCDBOOT_COMMAND ? 'ESP' : 'system partition'} given a letter)`;

/** Where a store was looked for, and what names the partitions of its disk. */
interface StoreSite {
  /** "partition 1 (EFI system)" */
  where: string;
  partition: number;
  bootManagerPath: string;
  storePath: string;
  bcdboot: string;
  /** Why a device names nothing on this disk, or undefined when it names a partition here. */
  staleness(device: BcdDevice): string | undefined;
  /** The partition with a reference's role, when exactly one has it. */
  likelyMeant(ref: BcdReference): { label: string; identity: string } | undefined;
}

export function bcdFindings(g: LoadedGpt, facts: readonly PartitionFacts[]): Finding[] {
  const out: Finding[] = [];
  for (const esp of facts.filter((f) => f.bcd !== undefined)) {
    const site: StoreSite = {
      where: partitionLabel(esp.entry),
      partition: esp.entry.index,
      bootManagerPath: BOOTMGFW_PATH,
      storePath: BCD_PATH,
      bcdboot: BCDBOOT_COMMAND,
      staleness: (device) => gptStaleness(g, device),
      likelyMeant: (ref) => {
        const candidates = ref.role === 'esp' ? facts.filter((f) => f.bcd !== undefined) : facts.filter((f) => f.windowsSystem);
        const only = candidates.length === 1 ? candidates[0]!.entry : undefined;
        return only && { label: partitionLabel(only), identity: `GUID ${only.uniqueGuid}` };
      },
    };
    out.push(...storeFindings(site, esp.bcd!));
  }
  return out;
}

/** The same rules on an MBR disk whose system partition holds \bootmgr or \Boot\BCD. */
export function mbrBcdFindings(g: LoadedGpt, system: MbrSystem): Finding[] {
  const label = (n: number): string => mbrPartitionLabel(system, n);
  if (!system.bcd) {
    const bootmgr = system.volumes.find((v) => v.partition.active && v.bootmgr) ?? system.volumes.find((v) => v.bootmgr);
    if (!bootmgr) return [];
    return [{ code: 'bcd-missing', severity: 'error', partition: bootmgr.partition.number, message: `${label(bootmgr.partition.number)} holds ${BOOTMGR_PATH} but no ${MBR_BCD_PATH}: Windows Boot Manager stops with 0xc000000f; ${rebuild(MBR_BCDBOOT_COMMAND)}` }];
  }
  const holder = system.bcd.partition;
  const site: StoreSite = {
    where: label(holder),
    partition: holder,
    bootManagerPath: BOOTMGR_PATH,
    storePath: MBR_BCD_PATH,
    bcdboot: MBR_BCDBOOT_COMMAND,
    staleness: (device) => mbrStaleness(g, system, device),
    likelyMeant: (ref) => {
      const candidates = ref.role === 'esp' ? [holder] : system.volumes.filter((v) => v.windowsSystem).map((v) => v.partition.number);
      const only = candidates.length === 1 ? system.volumes.find((v) => v.partition.number === candidates[0]) : undefined;
      return only && { label: label(only.partition.number), identity: `at byte offset ${only.partition.startLba * g.sectorSize} of disk ${hex32(g.mbr.diskSignature)}` };
    },
  };
  return storeFindings(site, system.bcd.reading);
}

function storeFindings(site: StoreSite, bcd: BcdReading): Finding[] {
  const { where, partition } = site;
  if (bcd.state === 'missing') {
    return [{ code: 'bcd-missing', severity: 'error', partition, message: `${where} holds ${site.bootManagerPath} but no ${site.storePath}: Windows Boot Manager stops with 0xc000000f; ${rebuild(site.bcdboot)}` }];
  }
  if (bcd.state === 'unreadable') {
    return [{ code: 'bcd-unreadable', severity: 'error', partition, message: `${where} holds ${site.storePath}, but it is not a valid registry hive (${bcd.reason}): Windows Boot Manager cannot read its boot entries; ${rebuild(site.bcdboot)}` }];
  }
  const out: Finding[] = [];
  for (const ref of bcdReferences(bcd.store)) {
    const stale = site.staleness(ref.device);
    if (!stale) continue;
    const meant = site.likelyMeant(ref);
    out.push({
      code: 'bcd-device-missing',
      severity: 'error',
      partition,
      message: `the BCD on ${where}: ${ref.object} ${ref.element} ${stale}` +
        (meant ? `; it most likely meant ${meant.label} (${meant.identity})` : '') +
        `. Windows Boot Manager stops with 0xc000000e; ${rebuild(site.bcdboot)}`,
    });
  }
  return out;
}

function gptStaleness(g: LoadedGpt, device: BcdDevice): string | undefined {
  if (device.kind !== 'partition') return undefined;
  if (device.style === 'mbr') {
    return `names an MBR partition (disk signature ${hex32(device.diskSignature)}, offset ${device.partitionOffset}) but this disk is GPT`;
  }
  const diskGuid = diskGuidOf(g);
  const here = g.partitions.some((p) => p.uniqueGuid === device.partitionGuid);
  if (device.diskGuid === diskGuid && here) return undefined;
  const parts = [];
  if (!here) parts.push(`partition GUID ${device.partitionGuid}, which no partition of this disk has`);
  if (device.diskGuid !== diskGuid) parts.push(`disk GUID ${device.diskGuid}, not this disk's ${diskGuid ?? '(none)'}`);
  return `names ${parts.join(' and ')}`;
}

function mbrStaleness(g: LoadedGpt, system: MbrSystem, device: BcdDevice): string | undefined {
  if (device.kind !== 'partition') return undefined;
  if (device.style === 'gpt') return `names a GPT partition (GUID ${device.partitionGuid} on disk ${device.diskGuid}) but this disk is MBR`;
  if (mbrPartitionOfDevice(g, system.layout, device)) return undefined;
  const parts = [];
  if (device.diskSignature !== g.mbr.diskSignature) parts.push(`disk signature ${hex32(device.diskSignature)}, not this disk's ${hex32(g.mbr.diskSignature)}`);
  if (!mbrPartitionAt(g, system.layout, device.partitionOffset)) {
    parts.push(`a partition at byte offset ${device.partitionOffset}, where no partition of this disk starts`);
  }
  return `names ${parts.join(' and ')}`;
}
