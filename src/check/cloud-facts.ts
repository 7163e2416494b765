import type { FilesystemKind } from '../fs/sniff.js';
import { isFat } from '../fs/sniff.js';
import { VolumeUnreadable } from '../fs/unreadable.js';
import { TYPE_GUIDS, typeByGuid } from '../gpt/partition-types.js';
import { readContainerFacts } from '../read/container-facts.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import { isMbrOnlyDisk } from '../read/mbr-layout.js';
import type { MbrSystem } from '../read/mbr-system.js';
import type { CloudFacts, CloudPartition, InstalledSystem } from './cloud-rules.js';
import type { Finding } from './finding.js';
import type { PartitionFacts } from './partition-facts.js';
import { mbrPartitionLabel, partitionLabel } from './partition-words.js';
import { espsOf } from './uefi-rules.js';

/**
 * Gathers what the cloud rules judge (cloud-rules.ts) from what the checker already read: the
 * container, the partitions' filesystems, the ESPs and, on an MBR disk, its partitions. The only
 * reads of its own are the footer probe of a raw image and one directory lookup
 * (\Windows\System32) on each NTFS volume the Windows rules did not already look into.
 */
export async function readCloudFacts(g: LoadedGpt, facts: readonly PartitionFacts[], mbr: MbrSystem | undefined, findings: readonly Finding[]): Promise<CloudFacts> {
  const container = await readContainerFacts(g);
  const grubBootCode = hasGrubBootCode(g.mbr.raw);
  const mbr2gptReady = findings.some((f) => f.code === 'mbr2gpt-ready');
  const base = { container, grubBootCode, mbr2gptReady, hybridMbr: g.mbr.kind === 'hybrid', esps: [], systems: [], encrypted: [] };
  if (g.table !== 'none') return { ...base, ...(await gptLayout(facts, grubBootCode)), table: 'gpt' };
  if (mbr && isMbrOnlyDisk(g)) return { ...base, ...mbrLayout(mbr, grubBootCode), table: 'mbr' };
  return { ...base, table: 'none' };
}

/** Filesystems a Linux root can have (VM Import/Export's list: ext2, ext3, ext4, Btrfs, JFS, XFS; JFS is not sniffed). */
const LINUX_FILESYSTEMS: ReadonlySet<FilesystemKind> = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs']);
/** ESP directories of firmware's fallback loader and of Windows: any other \EFI\X\*.efi is another OS's loader. */
const NOT_LINUX_LOADERS: ReadonlySet<string> = new Set(['BOOT', 'MICROSOFT']);

type Layout = Omit<CloudFacts, 'container' | 'grubBootCode' | 'mbr2gptReady' | 'hybridMbr' | 'table'>;

async function gptLayout(facts: readonly PartitionFacts[], grubBootCode: boolean): Promise<Layout> {
  const at = (f: PartitionFacts): CloudPartition => ({ partition: f.entry.index, label: partitionLabel(f.entry) });
  const onDisk = facts.filter((f) => !f.outsideImage);
  const esps = espsOf(onDisk).working.filter((f) => isFat(f.filesystem));
  const biosBoot = onDisk.find((f) => f.entry.typeGuid === TYPE_GUIDS.BIOS_BOOT);
  const systems: InstalledSystem[] = [];
  for (const f of onDisk) if (await holdsWindows(f)) systems.push({ ...at(f), os: 'Windows', evidence: '\\Windows\\System32 on NTFS' });
  const roots = onDisk.filter((f) => isLinuxRootType(f.entry.typeGuid));
  for (const f of roots) systems.push({ ...at(f), os: 'Linux', evidence: `typed ${typeByGuid(f.entry.typeGuid)!.name}` });
  if (!roots.length) {
    // Without a root type, an ext4 or XFS volume is a Linux system only beside a Linux boot loader.
    const loader = esps.flatMap((f) => f.efiFiles).find((path) => !NOT_LINUX_LOADERS.has(path.split('\\')[2]?.toUpperCase() ?? 'BOOT'));
    const linux = onDisk.find((f) => f.filesystem !== undefined && LINUX_FILESYSTEMS.has(f.filesystem));
    const bootedBy = loader ?? (biosBoot ? 'a BIOS boot partition' : grubBootCode ? "GRUB's boot code in LBA 0" : undefined);
    if (linux && bootedBy) systems.push({ ...at(linux), os: 'Linux', evidence: `${linux.filesystem} beside ${bootedBy}` });
  }
  const encrypted = onDisk.flatMap((f) => (f.filesystem === 'bitlocker' || f.filesystem === 'luks' ? [{ ...at(f), kind: f.filesystem }] : []));
  return { esps: esps.map(at), ...(biosBoot ? { biosBoot: at(biosBoot) } : {}), systems: systems.sort((a, b) => a.partition - b.partition), encrypted };
}

function mbrLayout(mbr: MbrSystem, grubBootCode: boolean): Layout {
  const at = (number: number): CloudPartition => ({ partition: number, label: mbrPartitionLabel(mbr, number) });
  const volumes = mbr.volumes.filter((v) => !v.outsideImage);
  const active = mbr.layout.partitions.find((p) => p.active && p.kind !== 'extended');
  const systems: InstalledSystem[] = volumes.filter((v) => v.windowsSystem).map((v) => ({ ...at(v.partition.number), os: 'Windows', evidence: '\\Windows\\System32 on NTFS' }));
  // An ext4 or XFS volume is a Linux system when BIOS would reach it: GRUB in LBA 0, or the active
  // partition; on a disk with no Windows there is nothing else it could be.
  const linuxFs = volumes.filter((v) => v.filesystem !== undefined && LINUX_FILESYSTEMS.has(v.filesystem));
  const linux = linuxFs.find((v) => v.partition.active) ?? (grubBootCode || !systems.length ? linuxFs[0] : undefined);
  if (linux) systems.push({ ...at(linux.partition.number), os: 'Linux', evidence: `${linux.filesystem}${grubBootCode ? " beside GRUB's boot code in LBA 0" : linux.partition.active ? ', active' : ''}` });
  const encrypted = volumes.flatMap((v) => (v.filesystem === 'bitlocker' || v.filesystem === 'luks' ? [{ ...at(v.partition.number), kind: v.filesystem }] : []));
  return { esps: [], ...(active ? { active: at(active.number) } : {}), systems: systems.sort((a, b) => a.partition - b.partition), encrypted };
}

/** An NTFS volume holding \Windows\System32; the Windows rules may have looked already. */
async function holdsWindows(f: PartitionFacts): Promise<boolean> {
  if (f.windowsSystem) return true;
  if (!f.ntfs) return false;
  try {
    return (await f.ntfs.stat('\\Windows\\System32'))?.isDirectory === true;
  } catch (err) {
    if (err instanceof VolumeUnreadable) return false; // a damaged directory shows no system
    throw err;
  }
}

/** The Discoverable Partitions root types (Linux x86-64 root (/), …), not their verity partitions. */
function isLinuxRootType(typeGuid: string): boolean {
  return /^Linux .* root \(\/\)$/.test(typeByGuid(typeGuid)?.name ?? '');
}

/** GRUB's boot.img (and GRUB Legacy's stage1) carry the text "GRUB " in LBA 0's boot code. */
export function hasGrubBootCode(sector0: Uint8Array): boolean {
  const code = sector0.subarray(0, 440);
  const magic = [0x47, 0x52, 0x55, 0x42, 0x20];
  for (let i = 0; i + magic.length <= code.length; i++) if (magic.every((b, k) => code[i + k] === b)) return true;
  return false;
}
