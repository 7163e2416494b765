import { ATTR, formatAttributes } from '../gpt/attributes.js';
import { TYPE_GUIDS } from '../gpt/partition-types.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import { setFix, type FixCommand, type Finding } from './finding.js';
import { ESP_FREE_NEEDED, type PartitionFacts } from './partition-facts.js';
import { mib, partitionLabel, typeText } from './partition-words.js';
import { espsOf } from './uefi-rules.js';

/**
 * Windows rules (the `windows` profile, or `auto` on a disk with Windows boot evidence): what
 * Windows Setup lays out and servicing needs: an ESP at all, its size and free space, the
 * attributes Setup writes, the MSR, and the Recovery partition's attributes.
 */

const MIB = 1024 * 1024;
/** Sizes Windows has used for the MSR (16 MiB since Windows 10, 32 MiB on small disks, 128 MiB before). */
const MSR_SIZES = [16 * MIB, 32 * MIB, 128 * MIB];
/** The attributes Windows Setup writes on the ESP and MSR: no drive letter. */
const SETUP_ESP_ATTRIBUTES = ATTR.NO_DRIVE_LETTER;
/** Recovery: required + no drive letter. */
const RECOVERY_ATTRIBUTES = ATTR.NO_DRIVE_LETTER | ATTR.REQUIRED;

const label = (f: PartitionFacts): string => partitionLabel(f.entry);
const noFilesystem = (f: PartitionFacts): boolean => f.filesystem === 'zeroed' || f.filesystem === 'unknown' || f.filesystem === undefined;

/** Does the disk show Windows boot evidence (a Windows ESP by content, or a Recovery partition)? */
export function hasWindowsEvidence(facts: readonly PartitionFacts[]): boolean {
  return facts.some((f) => f.windowsBoot || f.entry.typeGuid === TYPE_GUIDS.WINDOWS_RECOVERY);
}

export function windowsFindings(g: LoadedGpt, facts: readonly PartitionFacts[], fix: FixCommand): Finding[] {
  const out: Finding[] = [];
  const { typed, byContent, working: esps } = espsOf(facts);
  if (typed.length === 0 && byContent.length === 0) {
    out.push({ code: 'esp-missing', severity: 'error', message: 'no EFI System Partition: no partition has the ESP type and no FAT volume holds \\EFI boot files; Windows Setup requires one on a UEFI boot disk' });
  }
  for (const f of esps) {
    const a = f.entry.attributes;
    if (!(a & ATTR.NO_BLOCK_IO) && a !== SETUP_ESP_ATTRIBUTES) {
      out.push({ code: 'esp-attributes', severity: 'info', partition: f.entry.index, message: `${label(f)} attributes are ${formatAttributes(a)}; Windows Setup writes 0x8000000000000000 (no drive letter), but other values boot fine` });
    }
  }
  for (const f of esps) out.push(...espSpaceFindings(f, g.sectorSize), ...espFat16(f));
  out.push(...msrFindings(facts, esps, fix));
  out.push(...recoveryFindings(facts, fix));
  return out;
}

/**
 * The smallest ESP Windows takes: 100 MiB, or 260 MiB on 4K-sector disks (the FAT32 minimum
 * cluster count). It is also the ESP mbr2gpt creates, and the smallest system partition it reuses.
 */
export function minimumEspBytes(sectorSize: number): number {
  return (sectorSize >= 4096 ? 260 : 100) * MIB;
}

function espSpaceFindings(f: PartitionFacts, sectorSize: number): Finding[] {
  const out: Finding[] = [];
  const min = minimumEspBytes(sectorSize);
  if (f.size < min) {
    out.push({ code: 'esp-too-small', severity: 'error', partition: f.entry.index, message: `${label(f)} is ${mib(f.size)}; Windows needs at least ${mib(min)}${sectorSize >= 4096 ? ' on 4K-sector disks (FAT32 minimum cluster count)' : ''}` });
  } else if (f.size < 200 * MIB) {
    out.push({ code: 'esp-too-small', severity: 'warning', partition: f.entry.index, message: `${label(f)} is ${mib(f.size)}; Microsoft now documents 200 MiB as the minimum, and upgrades have failed on 100 MiB ESPs` });
  }
  if (f.freeBytes !== undefined && f.freeBytes < ESP_FREE_NEEDED) {
    out.push({ code: 'esp-low-space', severity: 'error', partition: f.entry.index, message: `${label(f)} has only ${mib(f.freeBytes)} free; Windows updates need 15 MiB and fail with 0xc1900104 / 0x800f0922` });
  }
  return out;
}

/**
 * The UEFI specification asks FAT32 of an ESP on a fixed disk (FAT12/16 only on removable media);
 * Windows Setup formats FAT32, and some firmware will not boot a FAT16 ESP.
 */
function espFat16(f: PartitionFacts): Finding[] {
  if (!f.fat || f.fat.kind === 'fat32' || f.fat.clusterKind === 'fat32') return [];
  return [{ code: 'esp-fat16', severity: 'warning', partition: f.entry.index, message: `${label(f)} is ${f.fat.kind.toUpperCase()}: the UEFI specification asks FAT32 for the ESP on a fixed disk, Windows Setup formats it FAT32, and some firmware will not boot from a FAT12/16 ESP` }];
}

function msrFindings(facts: readonly PartitionFacts[], esps: readonly PartitionFacts[], fix: FixCommand): Finding[] {
  const out: Finding[] = [];
  const typed = facts.filter((f) => f.entry.typeGuid === TYPE_GUIDS.MSR);
  for (const f of typed) {
    if (!noFilesystem(f) && !f.outsideImage) {
      out.push({ code: 'msr-formatted', severity: 'error', partition: f.entry.index, message: `${label(f)} is typed MSR but holds a ${f.filesystem} filesystem: the MSR must stay unformatted, and Windows may overwrite it` });
    }
    if (f.entry.attributes !== SETUP_ESP_ATTRIBUTES) {
      out.push({ code: 'msr-attributes', severity: 'info', partition: f.entry.index, message: `${label(f)} attributes are ${formatAttributes(f.entry.attributes)}; Windows Setup writes 0x8000000000000000` });
    }
  }
  if (typed.length > 0) return out;
  const byStart = [...facts].sort((a, b) => a.entry.firstLba - b.entry.firstLba);
  const afterEsp = new Set(esps.map((e) => byStart[byStart.indexOf(e) + 1]).filter((f): f is PartitionFacts => f !== undefined));
  const lookalike = facts.find(
    (f) => !f.outsideImage && noFilesystem(f) && MSR_SIZES.includes(f.size) && (/^microsoft reserved partition$/i.test(f.entry.name.trim()) || afterEsp.has(f)),
  );
  if (lookalike) {
    out.push({
      code: 'msr-type',
      severity: 'error',
      partition: lookalike.entry.index,
      message: `${label(lookalike)} is the Microsoft Reserved Partition (unformatted, ${mib(lookalike.size)}, ${/reserved/i.test(lookalike.entry.name) ? 'named so' : 'right after the ESP'}) but is typed ${typeText(lookalike.entry)}: Windows may assign it a letter or format it, and Setup's layout checks fail`,
      ...setFix(fix, lookalike.entry.index, { type: 'msr' }),
    });
  } else {
    out.push({ code: 'msr-missing', severity: 'warning', message: 'no Microsoft Reserved Partition: Windows expects a 16 MiB MSR on every GPT disk and uses it for later conversions' });
  }
  return out;
}

function recoveryFindings(facts: readonly PartitionFacts[], fix: FixCommand): Finding[] {
  return facts
    .filter((f) => f.entry.typeGuid === TYPE_GUIDS.WINDOWS_RECOVERY && (f.entry.attributes & RECOVERY_ATTRIBUTES) !== RECOVERY_ATTRIBUTES)
    .map((f) => ({
      code: 'recovery-attributes' as const,
      severity: 'warning' as const,
      partition: f.entry.index,
      message: `${label(f)} is a Recovery partition with attributes ${formatAttributes(f.entry.attributes)}; Windows expects 0x8000000000000001 (required + no drive letter), or Disk Management shows it as a normal volume and WinRE servicing may not find it`,
      ...setFix(fix, f.entry.index, { attributes: '+required,+no-drive-letter' }),
    }));
}
