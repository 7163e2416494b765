import type { BcdDevice } from '../fs/bcd.js';
import { hex32 } from '../gpt/le.js';
import { BCD_PATH, BCDBOOT_COMMAND, BOOTMGFW_PATH, bcdReferences, diskGuidOf, type BcdReference } from '../read/bcd.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import type { Finding } from './finding.js';
import type { PartitionFacts } from './partition-facts.js';
import { partitionLabel } from './partition-words.js';

/**
 * Boot configuration rules (the `windows` profile): the BCD store on the Windows ESP must exist,
 * be a hive, and name partitions of this disk. After a clone, or a tool that gave the disk and
 * partitions new GUIDs, the store still names the old ones and the boot manager stops with
 * 0xc000000e. gptdoctor does not rewrite the BCD: bcdboot does, from WinPE.
 */

const BCDBOOT = `rebuild it from WinPE with \`${BCDBOOT_COMMAND}\` (C: the Windows partition, S: the ESP given a letter)`;

export function bcdFindings(g: LoadedGpt, facts: readonly PartitionFacts[]): Finding[] {
  const out: Finding[] = [];
  for (const esp of facts.filter((f) => f.bcd !== undefined)) {
    const bcd = esp.bcd!;
    const where = `${partitionLabel(esp.entry)}`;
    if (bcd.state === 'missing') {
      out.push({ code: 'bcd-missing', severity: 'error', partition: esp.entry.index, message: `${where} holds ${BOOTMGFW_PATH} but no ${BCD_PATH}: Windows Boot Manager stops with 0xc000000f; ${BCDBOOT}` });
      continue;
    }
    if (bcd.state === 'unreadable') {
      out.push({ code: 'bcd-unreadable', severity: 'error', partition: esp.entry.index, message: `${where} holds ${BCD_PATH}, but it is not a valid registry hive (${bcd.reason}): Windows Boot Manager cannot read its boot entries; ${BCDBOOT}` });
      continue;
    }
    for (const ref of bcdReferences(bcd.store)) {
      const stale = staleness(g, ref.device);
      if (!stale) continue;
      const meant = likelyMeant(facts, ref);
      out.push({
        code: 'bcd-device-missing',
        severity: 'error',
        partition: esp.entry.index,
        message: `the BCD on ${where}: ${ref.object} ${ref.element} ${stale}` +
          (meant ? `; it most likely meant ${partitionLabel(meant.entry)} (GUID ${meant.entry.uniqueGuid})` : '') +
          `. Windows Boot Manager stops with 0xc000000e; ${BCDBOOT}`,
      });
    }
  }
  return out;
}

/** Why a device names nothing on this disk, or undefined when it names a partition that is here. */
function staleness(g: LoadedGpt, device: BcdDevice): string | undefined {
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

/** The partition with the role the reference has: the ESP for {bootmgr}, the Windows partition for a loader. */
function likelyMeant(facts: readonly PartitionFacts[], ref: BcdReference): PartitionFacts | undefined {
  const candidates = ref.role === 'esp' ? facts.filter((f) => f.bcd !== undefined) : facts.filter((f) => f.windowsSystem);
  return candidates.length === 1 ? candidates[0] : undefined;
}
