import { ATTR, formatAttributes } from '../gpt/attributes.js';
import { TYPE_GUIDS } from '../gpt/partition-types.js';
import type { FilesystemKind } from '../fs/sniff.js';
import { setFix, type FixCommand, type Finding } from './finding.js';
import type { PartitionFacts } from './partition-facts.js';
import { isFat } from '../fs/sniff.js';
import { partitionLabel, typeText } from './partition-words.js';

/**
 * UEFI rules (the `uefi` and `windows` profiles): the ESP by type and by content, what it holds,
 * and the attribute that hides it from firmware. `windows` changes only the wording, to name the
 * Windows failure a wrong ESP causes. Each finding a `set` can fix carries its command line.
 */

const label = (f: PartitionFacts): string => partitionLabel(f.entry);

/** Does the disk show UEFI boot evidence (an ESP by type, or EFI boot files on a FAT volume)? */
export function hasUefiEvidence(facts: readonly PartitionFacts[]): boolean {
  return facts.some((f) => f.entry.typeGuid === TYPE_GUIDS.ESP || f.efiFiles.length > 0);
}

/** The ESPs as firmware finds them: the FAT ones typed ESP; else FAT volumes holding EFI boot files; else whatever is typed ESP. */
export function espsOf(facts: readonly PartitionFacts[]): { typed: PartitionFacts[]; byContent: PartitionFacts[]; working: PartitionFacts[] } {
  const typed = facts.filter((f) => f.entry.typeGuid === TYPE_GUIDS.ESP);
  const byContent = facts.filter((f) => isFat(f.filesystem) && f.efiFiles.length > 0 && f.entry.typeGuid !== TYPE_GUIDS.ESP);
  // A partition typed ESP that holds NTFS or ext4 is no ESP: the FAT volume with the boot files is.
  const fat = typed.filter((f) => isFat(f.filesystem));
  return { typed, byContent, working: fat.length ? fat : byContent.length ? byContent : typed };
}

export function uefiFindings(facts: readonly PartitionFacts[], fix: FixCommand, windows: boolean): Finding[] {
  const out: Finding[] = [];
  const { typed: typedEsps, byContent: contentEsps } = espsOf(facts);
  const workingEsps = typedEsps.filter((f) => isFat(f.filesystem));

  for (const f of contentEsps) {
    const files = f.efiFiles.slice(0, 2).join(', ') + (f.efiFiles.length > 2 ? ', …' : '');
    const alone = workingEsps.length === 0;
    const swapped = typedEsps.length > 0 ? `; partition ${typedEsps[0]!.entry.index}, typed ESP, holds ${typedEsps[0]!.filesystem ? (FS_NAMES[typedEsps[0]!.filesystem] ?? typedEsps[0]!.filesystem) : 'nothing readable'} (the types look swapped: fix both)` : '';
    out.push({
      code: 'esp-type',
      severity: alone ? 'error' : 'warning',
      partition: f.entry.index,
      message: alone
        ? `${label(f)} is the EFI System Partition (FAT with ${files}) but is typed ${typeText(f.entry)}: firmware may not boot from it${windows ? ' and Windows feature updates roll back with 0x80070003-0x40008' : ', and OS installers that look for the ESP by type will not find it'}${swapped}`
        : `${label(f)} holds EFI boot files (${files}) but is typed ${typeText(f.entry)}; partition ${workingEsps[0]!.entry.index} is the ESP`,
      ...(alone ? setFix(fix, f.entry.index, { type: 'esp' }) : {}),
    });
  }
  if (typedEsps.length > 1) {
    out.push({ code: 'esp-multiple', severity: 'warning', message: `${typedEsps.length} partitions are typed as ESP (${typedEsps.map((f) => f.entry.index).join(', ')}): Windows Setup and some firmware use only the first` });
  }
  for (const f of typedEsps) if (!isFat(f.filesystem) && !f.outsideImage) out.push(espNotFat(f, fix, contentEsps, windows));
  for (const f of espsOf(facts).working) out.push(...noBlockIo(f, fix), ...fat32ClusterCount(f));
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


/**
 * A volume laid out as FAT32 with fewer than 65,525 clusters (mkfs.fat -F 32 on a small volume, or
 * large clusters). The FAT specification types a volume by cluster count alone, so EDK2's FAT
 * driver (and with it most UEFI firmware) takes it for FAT16 and cannot read it.
 */
function fat32ClusterCount(f: PartitionFacts): Finding[] {
  const fat = f.fat;
  if (!fat || fat.kind !== 'fat32' || fat.clusterKind === 'fat32') return [];
  const sectorSize = fat.bytesPerSector;
  const smallest = mibText(65525 * sectorSize);
  return [{
    code: 'esp-fat-clusters',
    severity: 'error',
    partition: f.entry.index,
    message: `${label(f)} says FAT32 in its boot sector but has only ${fat.clusterCount} clusters of ${fat.clusterSize} bytes; by the FAT specification fewer than 65,525 clusters make it ${fat.clusterKind.toUpperCase()}, and EDK2-based firmware then cannot read it, so nothing on it boots. Copy its files off, format it FAT32 with one sector per cluster (mkfs.fat -F 32 -s 1, or diskpart format fs=fat32 unit=${sectorSize}; at ${sectorSize}-byte sectors FAT32 needs at least ${smallest}), and copy them back; gptdoctor does not write filesystems`,
  }];
}

const mibText = (bytes: number): string => `${Math.ceil(bytes / (1024 * 1024))} MiB`;

function noBlockIo(f: PartitionFacts, fix: FixCommand): Finding[] {
  const a = f.entry.attributes;
  if (!(a & ATTR.NO_BLOCK_IO)) return [];
  return [{
    code: 'esp-attributes',
    severity: 'error',
    partition: f.entry.index,
    message: `${label(f)} has attribute bit 1 "no block IO" set (${formatAttributes(a)}): UEFI firmware will not expose its filesystem, so nothing on it can boot`,
    ...setFix(fix, f.entry.index, { attributes: '-no-block-io' }),
  }];
}
