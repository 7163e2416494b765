import { u16, u32 } from '../gpt/le.js';

/**
 * The FAT boot sector (BIOS parameter block), decoded and classified per Microsoft's
 * "FAT: General Overview of On-Disk Format". By that specification the FAT type follows from the
 * cluster count alone; a volume can still be laid out as another type (mkfs.fat -F 32 on a small
 * volume), so both are kept: `kind` says how its structures are laid out and read, `clusterKind`
 * what a reader that follows the specification (EDK2's FAT driver, Windows) takes it for.
 */
export type FatKind = 'fat12' | 'fat16' | 'fat32';

export interface Bpb {
  ok: boolean;
  /** Why this is not a usable FAT volume, when `ok` is false. */
  reason?: string;
  /** The layout: FAT32 when the 16-bit FAT size is 0 (the FAT32 BPB), else FAT12/16 by cluster count. */
  kind: FatKind;
  /** The type by cluster count alone: under 4,085 FAT12, under 65,525 FAT16, else FAT32. */
  clusterKind: FatKind;
  bytesPerSector: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  fatCount: number;
  rootEntryCount: number;
  totalSectors: number;
  fatSectors: number;
  rootCluster: number;
  fsInfoSector: number;
  clusterCount: number;
  /** Byte offsets inside the volume. */
  fatOffset: number;
  rootDirOffset: number;
  dataOffset: number;
  label: string;
  volumeId: string;
  problems: string[];
}

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

export function decodeBpb(b: Uint8Array): Bpb {
  const bytesPerSector = u16(b, 11);
  const sectorsPerCluster = b[13] ?? 0;
  const reservedSectors = u16(b, 14);
  const fatCount = b[16] ?? 0;
  const rootEntryCount = u16(b, 17);
  const totalSectors = u16(b, 19) || u32(b, 32);
  const fat32Layout = u16(b, 22) === 0;
  const fatSectors = u16(b, 22) || u32(b, 36);
  const rootDirSectors = bytesPerSector ? Math.ceil((rootEntryCount * 32) / bytesPerSector) : 0;
  const metaSectors = reservedSectors + fatCount * fatSectors + rootDirSectors;
  const clusterCount = sectorsPerCluster ? Math.floor(Math.max(0, totalSectors - metaSectors) / sectorsPerCluster) : 0;
  const clusterKind: FatKind = clusterCount < 4085 ? 'fat12' : clusterCount < 65525 ? 'fat16' : 'fat32';
  const kind: FatKind = fat32Layout ? 'fat32' : clusterKind === 'fat12' ? 'fat12' : 'fat16';
  const ext = kind === 'fat32' ? 64 : 36; // extended boot record: drive number, signature, id, label
  const hasExt = b[ext + 2] === 0x29;
  const bpb: Bpb = {
    ok: true,
    kind,
    clusterKind,
    bytesPerSector,
    sectorsPerCluster,
    reservedSectors,
    fatCount,
    rootEntryCount,
    totalSectors,
    fatSectors,
    rootCluster: kind === 'fat32' ? u32(b, 44) : 0,
    fsInfoSector: kind === 'fat32' ? u16(b, 48) : 0,
    clusterCount,
    fatOffset: reservedSectors * bytesPerSector,
    rootDirOffset: (reservedSectors + fatCount * fatSectors) * bytesPerSector,
    dataOffset: metaSectors * bytesPerSector,
    label: hasExt ? String.fromCharCode(...b.subarray(ext + 7, ext + 18)).trim() : '',
    volumeId: hasExt ? u32(b, ext + 3).toString(16).toUpperCase().padStart(8, '0') : '',
    problems: [],
  };
  const fail = (reason: string): Bpb => ({ ...bpb, ok: false, reason });
  if (b.length < 512) return fail('boot sector is missing or short');
  if (b[0] !== 0xeb && b[0] !== 0xe9) return fail('no x86 jump instruction at byte 0');
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) return fail(`bytes per sector ${bytesPerSector} is not 512..4096`);
  if (!isPow2(sectorsPerCluster) || sectorsPerCluster > 128) return fail(`sectors per cluster ${sectorsPerCluster} is not a power of two up to 128`);
  if (reservedSectors < 1) return fail('no reserved sectors');
  if (fatCount < 1) return fail('no FAT copies');
  if (totalSectors === 0 || fatSectors === 0) return fail('total sectors or FAT size is zero');
  if (metaSectors >= totalSectors || clusterCount === 0) return fail('the FATs and root directory leave no data area');
  if (kind !== clusterKind) {
    bpb.problems.push(`the boot sector is laid out as ${kind.toUpperCase()} but the volume has ${clusterCount} clusters, which by the FAT specification make it ${clusterKind.toUpperCase()}`);
  }
  if (u16(b, 510) !== 0xaa55) bpb.problems.push('boot sector lacks the 0x55AA signature');
  if (kind === 'fat32' && rootEntryCount !== 0) bpb.problems.push('FAT32 volume declares a fixed root directory');
  if (kind !== 'fat32' && rootEntryCount === 0) return fail('FAT12/16 volume with no root directory entries');
  if (kind === 'fat32' && (bpb.rootCluster < 2 || bpb.rootCluster > clusterCount + 1)) return fail(`root directory cluster ${bpb.rootCluster} is out of range`);
  const entryBits = kind === 'fat12' ? 1.5 : kind === 'fat16' ? 2 : 4;
  if (fatSectors * bytesPerSector < Math.ceil((clusterCount + 2) * entryBits)) bpb.problems.push('the FAT is too small for the cluster count');
  return bpb;
}
