import { ATTR, formatAttributes } from '../gpt/attributes.js';
import { TYPE_GUIDS, typeByGuid } from '../gpt/partition-types.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import { setFix, type FixCommand, type Finding } from './finding.js';
import type { FilesystemKind } from '../fs/sniff.js';
import { ESP_FREE_NEEDED, type PartitionFacts } from './partition-facts.js';

const MIB = 1024 * 1024;
/** Sizes Windows has used for the MSR: 16 MiB since Windows 10, 32/128 MiB before. */
const MSR_SIZES = [16 * MIB, 32 * MIB, 128 * MIB];
/** What Windows Setup writes on the ESP and MSR (bit 63, no drive letter): a habit, not a rule. */
const SETUP_ESP_ATTRIBUTES = ATTR.NO_DRIVE_LETTER;
/** Recovery: platform-required + no drive letter, per mbr2gpt and Microsoft's sample scripts. */
const RECOVERY_ATTRIBUTES = ATTR.NO_DRIVE_LETTER | ATTR.REQUIRED;

const isFat = (f: PartitionFacts): boolean => f.filesystem === 'fat12' || f.filesystem === 'fat16' || f.filesystem === 'fat32';
const noFilesystem = (f: PartitionFacts): boolean => f.filesystem === 'zeroed' || f.filesystem === 'unknown' || f.filesystem === undefined;
const label = (f: PartitionFacts): string => `partition ${f.entry.index}${f.entry.name ? ` ("${f.entry.name}")` : ''}`;
const mib = (bytes: number): string => `${(bytes / MIB).toFixed(bytes % MIB === 0 ? 0 : 1)} MiB`;

/** Does the disk show Windows boot evidence (a Windows ESP by content, or a Recovery partition)? */
export function hasWindowsEvidence(facts: readonly PartitionFacts[]): boolean {
  return facts.some((f) => f.windowsBoot || f.entry.typeGuid === TYPE_GUIDS.WINDOWS_RECOVERY);
}

/** Does the disk show UEFI boot evidence (an ESP by type, or EFI boot files on a FAT volume)? */
export function hasUefiEvidence(facts: readonly PartitionFacts[]): boolean {
  return facts.some((f) => f.entry.typeGuid === TYPE_GUIDS.ESP || f.efiFiles.length > 0);
}

/**
 * UEFI rules: the ESP by type and by content. `windows` adds Microsoft's layout rules
 * (sizes, free space, MSR, Recovery). Each finding a `set` can fix carries its command line.
 */
export function bootFindings(g: LoadedGpt, facts: readonly PartitionFacts[], fix: FixCommand, windows: boolean): Finding[] {
  const out: Finding[] = [];
  const typedEsps = facts.filter((f) => f.entry.typeGuid === TYPE_GUIDS.ESP);
  const contentEsps = facts.filter((f) => isFat(f) && f.efiFiles.length > 0 && f.entry.typeGuid !== TYPE_GUIDS.ESP);
  // A partition typed ESP that holds NTFS or ext4 is no ESP: the FAT volume with the boot files is.
  const workingEsps = typedEsps.filter(isFat);

  for (const f of contentEsps) {
    const files = f.efiFiles.slice(0, 2).join(', ') + (f.efiFiles.length > 2 ? ', …' : '');
    const alone = workingEsps.length === 0;
    const swapped = typedEsps.length > 0 ? `; partition ${typedEsps[0]!.entry.index}, typed ESP, holds ${typedEsps[0]!.filesystem ? (FS_NAMES[typedEsps[0]!.filesystem] ?? typedEsps[0]!.filesystem) : 'nothing readable'} (the types look swapped: fix both)` : '';
    out.push({
      code: 'esp-type',
      severity: alone ? 'error' : 'warning',
      partition: f.entry.index,
      message: alone
        ? `${label(f)} is the EFI System Partition (FAT with ${files}) but is typed ${typeText(f)}: firmware may not boot from it${windows ? ' and Windows feature updates roll back with 0x80070003-0x40008' : ', and OS installers that look for the ESP by type will not find it'}${swapped}`
        : `${label(f)} holds EFI boot files (${files}) but is typed ${typeText(f)}; partition ${workingEsps[0]!.entry.index} is the ESP`,
      ...(alone ? setFix(fix, f.entry.index, { type: 'esp' }) : {}),
    });
  }
  if (typedEsps.length === 0 && contentEsps.length === 0 && windows) {
    out.push({ code: 'esp-missing', severity: 'error', message: 'no EFI System Partition: no partition has the ESP type and no FAT volume holds \\EFI boot files; Windows Setup requires one on a UEFI boot disk' });
  }
  if (typedEsps.length > 1) {
    out.push({ code: 'esp-multiple', severity: 'warning', message: `${typedEsps.length} partitions are typed as ESP (${typedEsps.map((f) => f.entry.index).join(', ')}): Windows Setup and some firmware use only the first` });
  }
  for (const f of typedEsps) if (!isFat(f) && !f.outsideImage) out.push(espNotFat(f, fix, contentEsps, windows));
  const esps = workingEsps.length ? workingEsps : contentEsps.length ? contentEsps : typedEsps;
  for (const f of esps) out.push(...espAttributeFindings(f, fix, windows));
  if (windows) {
    for (const f of esps) out.push(...espSpaceFindings(f, g.sectorSize));
    out.push(...msrFindings(facts, esps, fix));
    out.push(...recoveryFindings(facts, fix));
  }
  return out;
}

/** The type a volume typed ESP by mistake should have, by what it holds (gdisk codes). */
const TYPE_FOR_CONTENT: Partial<Record<FilesystemKind, string>> = {
  ntfs: '0700', exfat: '0700', refs: '0700', bitlocker: '0700', iso9660: '0700',
  ext2: '8300', ext3: '8300', ext4: '8300', xfs: '8300', btrfs: '8300',
  swap: '8200', luks: '8309',
};
const FS_NAMES: Partial<Record<FilesystemKind, string>> = { ntfs: 'an NTFS', exfat: 'an exFAT', refs: 'a ReFS', bitlocker: 'a BitLocker', iso9660: 'an ISO 9660', ext2: 'an ext2', ext3: 'an ext3', ext4: 'an ext4', xfs: 'an XFS', btrfs: 'a Btrfs', swap: 'a swap', luks: 'a LUKS' };
const TYPE_WORDS: Record<string, string> = { '0700': 'Basic data', '8300': 'Linux filesystem', '8200': 'Linux swap', '8309': 'Linux LUKS' };

/**
 * A partition typed ESP that is not FAT. A volume that holds a filesystem is never told to be
 * reformatted: it holds data, so its type is what is wrong. Only an empty one is told to format.
 */
function espNotFat(f: PartitionFacts, fix: FixCommand, contentEsps: readonly PartitionFacts[], windows: boolean): Finding {
  const bootLoader = windows ? 'run bcdboot' : 'reinstall the boot loader (grub-install, bootctl install or bcdboot)';
  const base = { code: 'esp-not-fat' as const, severity: 'error' as const, partition: f.entry.index };
  if (f.fatError) {
    return { ...base, message: `${label(f)} is typed ESP and looks like FAT, but its FAT cannot be read (${f.fatError}): firmware will not boot from it. Check it with fsck.fat before changing anything; gptdoctor does not write filesystems` };
  }
  const retype = f.filesystem ? TYPE_FOR_CONTENT[f.filesystem] : undefined;
  if (retype) {
    const other = contentEsps[0] ? `partition ${contentEsps[0].entry.index} (FAT with EFI boot files) is the real ESP` : `the disk then has no ESP: create a FAT32 one and ${bootLoader}`;
    return {
      ...base,
      message: `${label(f)} is typed ESP but holds ${FS_NAMES[f.filesystem!] ?? `a ${f.filesystem}`} filesystem, which firmware cannot read: it is a data volume with the wrong type, not an ESP to reformat. Type it ${TYPE_WORDS[retype]}; ${other}`,
      ...setFix(fix, f.entry.index, { type: retype }),
    };
  }
  const what = f.filesystem === 'zeroed' || f.filesystem === undefined ? 'no filesystem' : f.filesystem === 'unknown' ? 'no filesystem gptdoctor recognises' : `a ${f.filesystem} volume`;
  return { ...base, message: `${label(f)} is typed ESP but holds ${what}: UEFI firmware reads only FAT12/16/32. If it is meant to be the ESP and holds nothing you need, format it FAT32 (mkfs.fat -F 32, or diskpart format fs=fat32) and ${bootLoader}; gptdoctor does not write filesystems` };
}

function typeText(f: PartitionFacts): string {
  const type = typeByGuid(f.entry.typeGuid);
  return type ? (f.entry.typeGuid === TYPE_GUIDS.BASIC_DATA ? 'Basic data' : type.name) : `an unknown type (${f.entry.typeGuid})`;
}

function espAttributeFindings(f: PartitionFacts, fix: FixCommand, windows: boolean): Finding[] {
  const a = f.entry.attributes;
  if (a & ATTR.NO_BLOCK_IO) {
    return [{
      code: 'esp-attributes',
      severity: 'error',
      partition: f.entry.index,
      message: `${label(f)} has attribute bit 1 "no block IO" set (${formatAttributes(a)}): UEFI firmware will not expose its filesystem, so nothing on it can boot`,
      ...setFix(fix, f.entry.index, { attributes: '-no-block-io' }),
    }];
  }
  if (windows && a !== SETUP_ESP_ATTRIBUTES) {
    return [{ code: 'esp-attributes', severity: 'info', partition: f.entry.index, message: `${label(f)} attributes are ${formatAttributes(a)}; Windows Setup writes 0x8000000000000000 (no drive letter), but other values boot fine` }];
  }
  return [];
}

function espSpaceFindings(f: PartitionFacts, sectorSize: number): Finding[] {
  const out: Finding[] = [];
  const min = sectorSize >= 4096 ? 260 * MIB : 100 * MIB;
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
      message: `${label(lookalike)} is the Microsoft Reserved Partition (unformatted, ${mib(lookalike.size)}, ${/reserved/i.test(lookalike.entry.name) ? 'named so' : 'right after the ESP'}) but is typed ${typeText(lookalike)}: Windows may assign it a letter or format it, and Setup's layout checks fail`,
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
